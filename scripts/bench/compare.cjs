'use strict';
// `--broker all`: one table and one plot comparing the sweeps the same run made on
// each broker (same rates, seconds and machine). Pure: figures in, strings out.
//
// A run is { broker, system: steps, idle, floor?, invariants?, error? }, the
// per-broker part of results.json.
const { brokerLabel } = require('./brokers.cjs');
const { esc, panel, textTable } = require('./report.cjs');
const { capacityOf, fmt } = require('./stats.cjs');

const ran = (steps) => (steps ?? []).filter((s) => !s.skipped);
const stepAt = (run, rate) => ran(run.system).find((s) => s.rate === rate);
const NOT_SERVICES = new Set(['postgres', 'broker', 'total', 'loadgen']);

/** Rates every broker that measured anything measured, ascending. */
function commonRates(runs) {
  const sweeps = runs.map((r) => new Set(ran(r.system).map((s) => s.rate))).filter((s) => s.size > 0);
  if (sweeps.length === 0) return [];
  return [...sweeps[0]].filter((rate) => sweeps.every((s) => s.has(rate))).sort((a, b) => a - b);
}

/**
 * The rate costs are compared at: the highest that every broker sustained (a
 * cost, not a backlog), else the lowest they all ran.
 */
function comparisonRate(runs) {
  const rates = commonRates(runs);
  const measured = runs.filter((r) => ran(r.system).length > 0);
  const byAll = rates.filter((rate) => measured.every((r) => stepAt(r, rate)?.sustained));
  if (byAll.length) return { rate: byAll[byAll.length - 1], sustainedByAll: true };
  return rates.length ? { rate: rates[0], sustainedByAll: false } : undefined;
}

/** "≥ 200" (top of the sweep, may be more), "200", "none (< 50)". */
function capacityText(steps) {
  const c = capacityOf(steps ?? []);
  if (c.max !== undefined) return `${c.lowerBound ? '≥ ' : ''}${c.max}`;
  if (c.below !== undefined) return `none (< ${c.below})`;
  return 'n/a';
}

/** CPU ms per order of the four services together (every process in the split but PostgreSQL and the broker). */
function servicesMs(step) {
  const split = step?.cpu?.perOrder;
  if (!split) return undefined;
  const own = Object.entries(split).filter(([k, v]) => !NOT_SERVICES.has(k) && v !== undefined);
  return own.length ? own.reduce((n, [, v]) => n + v, 0) : undefined;
}

/** One column per broker, one row per figure; the notes under it say what the rows are. */
function comparisonTable(runs) {
  const rows = [];
  const row = (label, cell) => rows.push([label, ...runs.map((r) => cell(r) ?? 'n/a')]);
  row('max sustained orders/s', (r) => (ran(r.system).length ? capacityText(r.system) : r.error ? 'failed' : 'n/a'));
  for (const rate of commonRates(runs)) {
    row(`p50 / p99 ms at ${rate}/s`, (r) => {
      const s = stepAt(r, rate);
      return s && `${fmt(s.latency?.p50, 0)} / ${fmt(s.latency?.p99, 0)}${s.sustained ? '' : ' NO'}`;
    });
  }
  const cmp = comparisonRate(runs);
  if (cmp) {
    const at = (r) => stepAt(r, cmp.rate);
    const cpu = (key) => (r) => fmt(at(r)?.cpu?.perOrder?.[key], 2);
    row(`CPU ms/order at ${cmp.rate}/s: services`, (r) => fmt(servicesMs(at(r)), 2));
    row('  PostgreSQL', cpu('postgres'));
    row('  broker', cpu('broker'));
    row('  total', cpu('total'));
    row('  other processes ms/s (noise)', (r) => fmt(at(r)?.cpu?.otherMsPerSec, 0));
    row(`PG commits/order at ${cmp.rate}/s`, (r) => fmt(at(r)?.pg?.commitsPerOrder, 2));
    row(`broker req/order at ${cmp.rate}/s`, (r) => {
      const q = at(r)?.requests;
      return q && `${fmt(q.produce, 2)} / ${fmt(q.ack, 2)} / ${fmt(q.total, 1)}`;
    });
    row(`broker RSS MB at ${cmp.rate}/s (max)`, (r) => {
      const s = at(r);
      const all = ran(r.system)
        .map((x) => x.brokerRssMb)
        .filter((v) => Number.isFinite(v));
      return s && `${fmt(s.brokerRssMb, 0)} (${all.length ? fmt(Math.max(...all), 0) : 'n/a'})`;
    });
  }
  row('idle CPU % of a core: services', (r) => fmt(r.idle?.percentOfOneCore?.total, 2));
  row('  broker', (r) => fmt(r.idle?.broker, 2));
  row('  PG commits/s', (r) => fmt(r.idle?.pgCommitsPerSec, 1));
  row('floor max sustained orders/s', (r) => (r.floor ? capacityText(r.floor.steps) : '—'));
  if (cmp)
    row(`floor CPU ms/order at ${cmp.rate}/s`, (r) =>
      r.floor ? fmt(ran(r.floor.steps).find((s) => s.rate === cmp.rate)?.cpu?.perOrder?.total, 2) : '—',
    );
  row('invariants', (r) =>
    r.invariants ? (r.invariants.ok ? 'hold' : `VIOLATED (${r.invariants.violations.length})`) : undefined,
  );

  const notes = [];
  if (cmp && !cmp.sustainedByAll)
    notes.push(
      `no rate was sustained by every broker: costs are at ${cmp.rate}/s, past capacity for some (read as backlog, not cost)`,
    );
  notes.push('NO: that rate was not sustained. broker req/order: produce / ack / all requests the services made to the broker');
  notes.push(
    '(Kafka Produce / OffsetCommit, RabbitMQ publish / ack, SQS SendMessage* / DeleteMessage*; all includes fetches and polls).',
  );
  notes.push(
    runs.some((r) => r.floor)
      ? 'The floor (kafkajs + pg doing the same work) is Kafka-specific: it ran once, with the Kafka sweep.'
      : 'The floor (kafkajs + pg doing the same work) is Kafka-specific and did not run (--no-floor, or no Kafka sweep).',
  );
  for (const r of runs) if (r.error) notes.push(`${brokerLabel(r.broker)}: ${r.error}`);
  const header = ['', ...runs.map((r) => brokerLabel(r.broker))];
  return `${textTable(header, rows, { labelsLeft: true })}\n${notes.map((n) => `  ${n}`).join('\n')}`;
}

const COLORS = { kafka: '#1f77b4', rabbitmq: '#d62728', sqs: '#2ca02c' };

/**
 * p99 (solid) and p50 (dashed) placed→terminal latency, and completed/s, against
 * the offered rate, one colour per broker, as one standalone SVG.
 */
function renderCompareSvg({ title, runs }) {
  const measured = runs.filter((r) => ran(r.system).length > 0);
  const all = measured.flatMap((r) => ran(r.system));
  const rates = [...new Set(all.map((s) => s.rate))].sort((a, b) => a - b);
  const lat = all.flatMap((s) => [s.latency?.p50, s.latency?.p99]).filter((v) => v > 0);
  const thr = all.map((s) => s.completedPerSec).filter((v) => v > 0);
  const xDomain = rates.length ? [rates[0] / 1.5, rates[rates.length - 1] * 1.5] : [1, 10];
  const yLat = lat.length ? [Math.max(0.1, Math.min(...lat, 1000) / 2), Math.max(...lat, 1000) * 2] : [1, 10_000];
  const yThr = [Math.min(xDomain[0], ...thr.map((v) => v / 1.5)), Math.max(xDomain[1], ...thr.map((v) => v * 1.5))];
  const color = (r, i) => COLORS[r.broker] ?? ['#9467bd', '#8c564b', '#e377c2'][i % 3];
  const latSeries = measured.flatMap((r, i) => [
    {
      label: `${brokerLabel(r.broker)} p99`,
      color: color(r, i),
      points: ran(r.system).map((s) => ({ x: s.rate, y: s.latency?.p99, sustained: s.sustained })),
    },
    {
      label: `${brokerLabel(r.broker)} p50`,
      color: color(r, i),
      dash: '6 4',
      points: ran(r.system).map((s) => ({ x: s.rate, y: s.latency?.p50, sustained: s.sustained })),
    },
  ]);
  const thrSeries = measured.map((r, i) => ({
    label: `${brokerLabel(r.broker)} completed/s`,
    color: color(r, i),
    points: ran(r.system).map((s) => ({ x: s.rate, y: s.completedPerSec, sustained: s.sustained })),
  }));
  const W = 1000;
  const H = 470;
  const legend = [...latSeries, ...thrSeries]
    .map((s, i) => {
      const x = 70 + (i % 4) * 230;
      const y = 420 + Math.floor(i / 4) * 18;
      return `<line x1="${x}" y1="${y - 4}" x2="${x + 26}" y2="${y - 4}" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/><text x="${x + 32}" y="${y}">${esc(s.label)}</text>`;
    })
    .join('\n');
  const height = H + Math.max(0, Math.ceil((latSeries.length + thrSeries.length) / 4) - 2) * 18;
  return `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="sans-serif" font-size="12">
<rect width="${W}" height="${height}" fill="#fff"/>
<text x="${W / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>
${panel({ x0: 80, y0: 60, w: 380, h: 290, title: 'placed → terminal latency (p99 solid, p50 dashed)', xLabel: 'offered orders/s (log)', yLabel: 'ms (log)', xDomain, xTicks: rates.length ? rates : undefined, yDomain: yLat, series: latSeries, hline: { y: 1000, label: 'p99 ≤ 1 s' } })}
${panel({ x0: 610, y0: 60, w: 360, h: 290, title: 'completed/s (dotted: completed = offered)', xLabel: 'offered orders/s (log)', yLabel: 'orders/s (log)', xDomain, xTicks: rates.length ? rates : undefined, yDomain: yThr, series: thrSeries, diagonal: true })}
${legend}
<text x="70" y="${height - 8}" fill="#666">one colour per broker, same rates and machine; filled marker: rate sustained (all accepted, all terminal within 10 s of the last send, p99 ≤ 1 s); hollow: not</text>
</svg>
`;
}

module.exports = { commonRates, comparisonRate, comparisonTable, renderCompareSvg, servicesMs };
