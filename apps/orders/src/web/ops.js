// The operator view: each service's health, consumer lag and outbox backlog, and
// the dead letters with the filtered redrive of `npm run dlq`. Operator role only.
import { api, clearFieldErrors, field, h, render, session, showFieldErrors, showWho, signInView, sleep } from './common.js';

const TOPICS = ['orders.events', 'payments.events', 'inventory.events', 'inventory.products', 'shipping.events'];
const REFRESH_MS = 3000;
let stop = () => {};

function start() {
  stop();
  showWho(start);
  if (!session.token) return signInView({ operator: true, onSignedIn: start });
  operatorView();
}

function operatorView() {
  const rows = h('tbody');
  const servicesStatus = h('p', { class: 'hint', role: 'status' }, 'Reading the services…');
  let stopped = false;
  stop = () => (stopped = true);

  (async () => {
    while (!stopped) {
      try {
        drawServices(await api('GET', '/ops/api/services'));
        servicesStatus.textContent = `Updated ${new Date().toLocaleTimeString()}`;
      } catch (error) {
        if (error.status === 401 || error.status === 403) return refused(error);
        servicesStatus.textContent = error.message;
      }
      await sleep(REFRESH_MS);
    }
  })();

  function drawServices(services) {
    rows.replaceChildren(
      ...services.map((s) =>
        h(
          'tr',
          { dataset: { service: s.name } },
          h('th', { scope: 'row' }, s.name),
          h('td', { class: s.health === 'up' ? '' : 'none', dataset: { health: s.health } }, s.health === 'up' ? 'up' : `${s.health}${s.checks ? ` (${Object.entries(s.checks).map(([k, v]) => `${k} ${v}`).join(', ')})` : ''}`),
          h('td', { class: 'num', dataset: { lag: '' } }, s.consumerLag === null ? '–' : String(s.consumerLag)),
          h('td', { class: 'num', dataset: { outbox: '' } }, s.outboxPending === null ? '–' : String(s.outboxPending)),
        ),
      ),
    );
  }

  render(
    h('h1', {}, 'Operations'),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'services-title' },
      h('h2', { id: 'services-title' }, 'Services'),
      servicesStatus,
      h(
        'table',
        {},
        h('caption', { class: 'hint' }, 'Health, consumer lag (events not yet consumed) and outbox backlog (events not yet published)'),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Service'), h('th', { scope: 'col' }, 'Health'), h('th', { scope: 'col', class: 'num' }, 'Consumer lag'), h('th', { scope: 'col', class: 'num' }, 'Outbox backlog'))),
        rows,
      ),
    ),
    deadLetters(),
  );
}

function deadLetters() {
  const input = (name) => h('input', { name, 'data-field': name, autocomplete: 'off' });
  const topic = h('select', { name: 'topic', 'data-field': 'topic' }, h('option', { value: '' }, 'All topics'), TOPICS.map((t) => h('option', { value: t }, t)));
  const list = h('tbody');
  const matching = h('p', { role: 'status', class: 'hint' });
  const outcome = h('p', { role: 'status' });
  const formError = h('p', { class: 'form-error', role: 'alert' });
  const filters = () => {
    const data = Object.fromEntries(new FormData(form));
    return Object.fromEntries(Object.entries(data).filter(([, v]) => v !== ''));
  };

  async function show() {
    clearFieldErrors(form);
    try {
      const letters = await api('GET', `/ops/api/dead-letters?${new URLSearchParams(filters())}`);
      list.replaceChildren(
        ...letters.map((l) =>
          h(
            'tr',
            { dataset: { letter: `${l.topic}:${l.partition}:${l.offset}` } },
            h('td', {}, `${l.topic}.dlq ${l.partition}@${l.offset}`),
            h('td', {}, l.type || '?'),
            h('td', {}, l.group || '?'),
            h('td', {}, l.error || '?'),
            h('td', {}, l.redriven ? 'redriven' : 'parked'),
          ),
        ),
      );
      matching.textContent = `${letters.length} dead letter${letters.length === 1 ? '' : 's'} match.`;
    } catch (error) {
      if (error.status === 401 || error.status === 403) return refused(error);
      if (error.status === 400) showFieldErrors(form, error.body.details);
      else formError.textContent = error.message;
    }
  }

  async function redrive(dryRun) {
    clearFieldErrors(form);
    outcome.textContent = '';
    try {
      const result = await api('POST', '/ops/api/dead-letters/redrive', { body: { ...filters(), dryRun } });
      const n = result.redriven.length;
      outcome.textContent = dryRun
        ? `Dry run: ${n} letter${n === 1 ? '' : 's'} would be redriven (${result.alreadyRedriven} already were).`
        : `Redriven ${n} letter${n === 1 ? '' : 's'} to the group that parked each (${result.alreadyRedriven} already were).`;
      if (!dryRun) await show();
    } catch (error) {
      if (error.status === 401 || error.status === 403) return refused(error);
      if (error.status === 400) {
        const rest = showFieldErrors(form, error.body.details);
        if (rest.length) formError.textContent = rest.map((d) => `${d.field} ${d.message}`).join('; ');
      } else formError.textContent = error.message;
    }
  }

  const form = h(
    'form',
    { onsubmit: (event) => (event.preventDefault(), show()) },
    h(
      'div',
      { class: 'filters' },
      field('dlq-topic', 'Topic', topic, 'Redrive needs one topic.'),
      field('dlq-group', 'Consumer group', input('group')),
      field('dlq-type', 'Event type', input('type')),
      field('dlq-error', 'Error contains', input('error')),
    ),
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'submit' }, 'Show dead letters'),
      h('button', { type: 'button', class: 'secondary', onclick: () => redrive(true) }, 'Dry run redrive'),
      h('button', { type: 'button', class: 'danger', onclick: () => redrive(false) }, 'Redrive matching letters'),
    ),
    formError,
  );
  void show();
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'dlq-title' },
    h('h2', { id: 'dlq-title' }, 'Dead letters'),
    form,
    outcome,
    matching,
    h(
      'table',
      {},
      h('caption', { class: 'hint' }, 'Dead letters matching the filters'),
      h('thead', {}, h('tr', {}, ['Where', 'Event type', 'Group', 'Error', 'State'].map((c) => h('th', { scope: 'col' }, c)))),
      list,
    ),
  );
}

function refused(error) {
  stop();
  render(
    h('h1', {}, error.status === 403 ? 'Operators only' : 'Signed out'),
    h(
      'p',
      { role: 'alert' },
      error.status === 403 ? `The server refused this view (403): ${error.message}. Sign in with a token that has the operator role.` : `The server refused the token: ${error.message}.`,
    ),
    h('button', { type: 'button', onclick: () => ((session.token = undefined), start()) }, 'Sign in as someone else'),
  );
}

start();
