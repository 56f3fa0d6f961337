// Shared by the storefront (storefront.js) and the operator view (ops.js): the
// signed-in token, calls to the API on this origin, the connection banner, and a
// tiny DOM builder (text is always set as text, never parsed as HTML).

const TOKEN_KEY = 'orderflow.token';

export const session = {
  get token() {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  set token(value) {
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
  },
  /** The token's claims, decoded for display only (the server verifies it). */
  get claims() {
    const token = this.token;
    if (!token) return undefined;
    try {
      return JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
    } catch {
      return undefined;
    }
  },
};

/** h('button', { class: 'x', onclick }, 'text', child): an element with attributes, listeners and children. */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else if (name === 'dataset') Object.assign(element.dataset, value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) if (child !== undefined && child !== null && child !== false) element.append(child);
  return element;
}

/** The banner under the header: a lost connection is shown until a request or stream gets through again. */
export const connection = {
  lostSince: undefined,
  timer: undefined,
  lost() {
    if (this.lostSince !== undefined) return;
    this.lostSince = Date.now();
    clearTimeout(this.timer);
    show('lost', 'Connection to Orderflow lost. Retrying…');
  },
  ok() {
    if (this.lostSince === undefined) return;
    this.lostSince = undefined;
    show('ok', 'Connection restored.');
    this.timer = setTimeout(() => show('', ''), 4000);
  },
};

function show(kind, text) {
  const banner = document.getElementById('connection');
  banner.className = `banner ${kind}`;
  banner.textContent = text;
}

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }
}

/** Calls the API with the signed-in token; a network failure shows the banner and is retried by the caller. */
export async function api(method, path, { body, headers = {}, signal } = {}) {
  let response;
  try {
    response = await fetch(path, {
      method,
      signal,
      headers: {
        accept: 'application/json',
        ...(session.token ? { authorization: `Bearer ${session.token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    connection.lost();
    throw new ApiError(0, { message: 'Orderflow cannot be reached right now. Check your connection; we keep retrying.' });
  }
  connection.ok();
  const text = await response.text();
  let parsed;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = { message: text };
  }
  if (!response.ok) throw new ApiError(response.status, parsed);
  return parsed;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export const money = (minor, currency) =>
  new Intl.NumberFormat(undefined, { style: 'currency', currency: currency || 'EUR' }).format(minor / 100);

export const clock = (iso) => new Date(iso).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });

/** Puts a view in <main> and moves focus to its heading, so keyboard and screen-reader users land on it. */
export function render(...children) {
  const main = document.getElementById('main');
  main.replaceChildren(...children);
  const heading = main.querySelector('h1');
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    heading.focus();
  }
}

/** A labelled control with the place where a 400 naming it is shown. */
export function field(id, label, control, hint) {
  control.id = id;
  const error = h('p', { class: 'field-error', id: `${id}-error` });
  control.setAttribute('aria-describedby', `${id}-error`);
  return h('div', { class: 'field' }, h('label', { for: id }, label), hint ? h('p', { class: 'hint' }, hint) : null, control, error);
}

/** Shows each field a 400 names next to it; returns what named no field on the form. */
export function showFieldErrors(form, details) {
  const unplaced = [];
  let first;
  for (const detail of details || []) {
    const control = form.querySelector(`[data-field="${CSS.escape(detail.field)}"]`);
    if (!control) {
      unplaced.push(detail);
      continue;
    }
    control.setAttribute('aria-invalid', 'true');
    document.getElementById(`${control.id}-error`).textContent = `${control.labels[0]?.textContent || detail.field} ${detail.message}.`;
    first ??= control;
  }
  first?.focus();
  return unplaced;
}

export function clearFieldErrors(form) {
  for (const control of form.querySelectorAll('[aria-invalid]')) control.removeAttribute('aria-invalid');
  for (const error of form.querySelectorAll('.field-error, .form-error')) error.textContent = '';
}

/**
 * Sign-in: a demo customer through the development endpoint (only where the
 * server enables it), or a token pasted from `npm run token` or an identity provider.
 */
export function signInView({ operator, onSignedIn }) {
  const customer = h('input', { name: 'customerId', autocomplete: 'username', value: operator ? 'operator' : 'alice', 'data-field': 'customerId' });
  const devError = h('p', { class: 'form-error', role: 'alert' });
  const devForm = h(
    'form',
    {
      novalidate: true,
      onsubmit: async (event) => {
        event.preventDefault();
        clearFieldErrors(devForm);
        try {
          const { token } = await api('POST', '/auth/dev-token', { body: { customerId: customer.value.trim(), ...(operator ? { operator: true } : {}) } });
          session.token = token;
          onSignedIn();
        } catch (error) {
          if (error.status === 404) devError.textContent = 'Demo sign-in is switched off on this server (AUTH_DEV_TOKENS). Paste a token below.';
          else if (error.status === 400) showFieldErrors(devForm, error.body.details);
          else devError.textContent = error.message;
        }
      },
    },
    h('h2', {}, operator ? 'Demo operator' : 'Demo customer'),
    field('customer-id', operator ? 'Operator id' : 'Customer id', customer),
    h('button', { type: 'submit' }, operator ? 'Sign in as demo operator' : 'Sign in as demo customer'),
    devError,
  );
  const pasted = h('textarea', { rows: 3, name: 'token', spellcheck: 'false', autocomplete: 'off' });
  const pasteError = h('p', { class: 'form-error', role: 'alert' });
  const pasteForm = h(
    'form',
    {
      onsubmit: async (event) => {
        event.preventDefault();
        pasteError.textContent = '';
        const token = pasted.value.trim();
        if (!token) {
          pasteError.textContent = 'Paste a token first.';
          return;
        }
        session.token = token;
        try {
          // Checked against the server now, so a bad token is said here and not on the next page.
          await api('GET', '/products');
          onSignedIn();
        } catch (error) {
          session.token = undefined;
          pasteError.textContent = error.status === 401 ? `The server refused this token: ${error.message}.` : error.message;
        }
      },
    },
    h('h2', {}, 'Or use a token'),
    field('token', 'Bearer token', pasted, operator ? 'A token with the operator role: npm run token -- ops --operator' : 'From npm run token -- <customer-id>, or your identity provider.'),
    h('button', { type: 'submit' }, 'Sign in with this token'),
    pasteError,
  );
  render(h('h1', {}, operator ? 'Sign in to the operator view' : 'Sign in to the storefront'), h('section', { class: 'card' }, devForm), h('section', { class: 'card' }, pasteForm));
}

/** "Signed in as …" and a sign-out button in the header. */
export function showWho(onSignOut) {
  const who = document.getElementById('who');
  const claims = session.claims;
  if (!claims) {
    who.replaceChildren();
    return;
  }
  who.replaceChildren(
    h('span', {}, `Signed in as ${claims.sub}`),
    h('button', { type: 'button', class: 'secondary', onclick: () => ((session.token = undefined), onSignOut()) }, 'Sign out'),
  );
}
