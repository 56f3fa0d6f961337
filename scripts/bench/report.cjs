'use strict';
// Text tables and the self-contained SVG plot. Pure: figures in, strings out.
const { fmt } = require('./stats.cjs');

// ── table ───────────────────────────────────────────────────────────────────
/** The columns of a sweep's table; the broker's own are named after it. */
function columns(brokerName) {
  return [
    ['rate', (s) => String(s.rate)],
    ['offered/s', (s) => fmt(s.offeredPerSec)],
    ['accepted/s', (s) => fmt(s.acceptedPerSec)],
    ['refused', (s) => refusedText(s)],
    ['completed/s', (s) => fmt(s.completedPerSec)],
    ['p50 ms', (s) => fmt(s.latency?.p50, 0)],
    ['p90 ms', (s) => fmt(s.latency?.p90, 0)],
    ['p99 ms', (s) => fmt(s.latency?.p99, 0)],
    ['max ms', (s) => fmt(s.latency?.max, 0)],
    ['drain', (s) => drainText(s)],
    ['CPU ms/order', (s) => fmt(s.cpu?.perOrder?.total, 2)],
    [`${brokerName} ms/order`, (s) => fmt(s.cpu?.perOrder?.broker, 2)],
    ['PG commits/order', (s) => fmt(s.pg?.commitsPerOrder, 2)],
    ['produce req/order', (s) => fmt(s.requests?.produce, 2)],
    ['ack req/order', (s) => fmt(s.requests?.ack, 2)],
    [`${brokerName} RSS MB`, (s) => fmt(s.brokerRssMb, 0)],
    ['sustained', (s) => (s.sustained ? 'yes' : 'NO')],
  ];
}

function refusedText(s) {
  const other = Object.entries(s.statusCounts ?? {}).filter(([k]) => k !== '202');
  if (other.length === 0) return '0';
  return other.map(([k, n]) => `${n}×${k}`).join(' ');
}

function drainText(s) {
  if (s.gaveUp) return `>${Math.round(s.drainTimeoutMs / 1000)} s (${s.pending} left)`;
  return s.drainMs === undefined ? 'n/a' : `${(s.drainMs / 1000).toFixed(1)} s`;
}

/** One row per rate; skipped rates say why. `broker` names the broker's columns (Kafka, RabbitMQ, …). */
function table(steps, { broker = 'broker' } = {}) {
  const COLUMNS = columns(broker);
  return textTable(
    COLUMNS.map(([h]) => h),
    steps.map((s) => (s.skipped ? [String(s.rate), `skipped: ${s.skipped}`] : COLUMNS.map(([, cell]) => cell(s)))),
  );
}

/** Right-aligned columns; a row of two cells is a note spanning the rest of the line. */
function textTable(header, rows, { labelsLeft = false } = {}) {
  const full = rows.filter((r) => r.length === header.length);
  const widths = header.map((h, i) => Math.max(h.length, ...full.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 && labelsLeft ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [
    line(header),
    ...rows.map((r) => (r.length === header.length ? line(r) : `${r[0].padStart(widths[0])}  ${r.slice(1).join('  ')}`)),
  ].join('\n');
}

/** "orders 3.1, payment 1.2, … = 12.3" from a per-order CPU split; `labels` renames keys (broker → Kafka). */
function cpuSplit(perOrder, names, labels = {}) {
  return `${names.map((n) => `${labels[n] ?? n} ${fmt(perOrder[n], 2)}`).join(', ')} = ${fmt(perOrder.total, 2)}`;
}

// ── SVG ─────────────────────────────────────────────────────────────────────
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const r1 = (x) => Math.round(x * 10) / 10;

/** 1-2-5 ticks within [lo, hi] on a log axis. */
function logTicks(lo, hi) {
  const ticks = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= lo && v <= hi) ticks.push(v);
    }
  }
  return ticks;
}

const tickLabel = (v) => (v >= 1000 ? `${v / 1000}k` : String(v));

function panel({ x0, y0, w, h, title, xLabel, yLabel, xDomain, xTicks, yDomain, series, diagonal, hline }) {
  const [xl, xh] = xDomain.map(Math.log10);
  const [yl, yh] = yDomain.map(Math.log10);
  const sx = (v) => x0 + ((Math.log10(v) - xl) / (xh - xl)) * w;
  const sy = (v) => y0 + h - ((Math.log10(Math.min(Math.max(v, yDomain[0]), yDomain[1])) - yl) / (yh - yl)) * h;
  const out = [];
  out.push(`<text x="${x0 + w / 2}" y="${y0 - 12}" text-anchor="middle" font-weight="bold">${esc(title)}</text>`);
  out.push(`<rect x="${x0}" y="${y0}" width="${w}" height="${h}" fill="none" stroke="#999"/>`);
  for (const t of xTicks ?? logTicks(...xDomain)) {
    out.push(`<line x1="${r1(sx(t))}" y1="${y0}" x2="${r1(sx(t))}" y2="${y0 + h}" stroke="#eee"/>`);
    out.push(`<text x="${r1(sx(t))}" y="${y0 + h + 16}" text-anchor="middle">${tickLabel(t)}</text>`);
  }
  for (const t of logTicks(...yDomain)) {
    out.push(`<line x1="${x0}" y1="${r1(sy(t))}" x2="${x0 + w}" y2="${r1(sy(t))}" stroke="#eee"/>`);
    out.push(`<text x="${x0 - 6}" y="${r1(sy(t)) + 4}" text-anchor="end">${tickLabel(t)}</text>`);
  }
  out.push(`<text x="${x0 + w / 2}" y="${y0 + h + 36}" text-anchor="middle">${esc(xLabel)}</text>`);
  out.push(`<text transform="translate(${x0 - 48},${y0 + h / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`);
  if (diagonal) {
    const lo = Math.max(xDomain[0], yDomain[0]);
    const hi = Math.min(xDomain[1], yDomain[1]);
    out.push(
      `<line x1="${r1(sx(lo))}" y1="${r1(sy(lo))}" x2="${r1(sx(hi))}" y2="${r1(sy(hi))}" stroke="#bbb" stroke-dasharray="2 4"/>`,
    );
  }
  if (hline && hline.y > yDomain[0] && hline.y < yDomain[1]) {
    out.push(
      `<line x1="${x0}" y1="${r1(sy(hline.y))}" x2="${x0 + w}" y2="${r1(sy(hline.y))}" stroke="#c00" stroke-dasharray="2 4"/>`,
    );
    out.push(`<text x="${x0 + w + 4}" y="${r1(sy(hline.y)) + 4}" fill="#c00">${esc(hline.label)}</text>`);
  }
  for (const s of series) {
    const pts = s.points.filter((p) => p.y > 0 && p.x > 0);
    if (pts.length === 0) continue;
    out.push(
      `<polyline fill="none" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''} points="${pts.map((p) => `${r1(sx(p.x))},${r1(sy(p.y))}`).join(' ')}"/>`,
    );
    for (const p of pts) {
      // Filled: the rate was sustained; hollow: it was not.
      out.push(
        `<circle cx="${r1(sx(p.x))}" cy="${r1(sy(p.y))}" r="3.5" stroke="${s.color}" stroke-width="1.5" fill="${p.sustained ? s.color : '#fff'}"/>`,
      );
    }
  }
  return out.join('\n');
}

/**
 * Latency percentiles and completed/s against offered rate (log-log), system
 * solid and floor dashed, as one standalone SVG (no scripts, no external fonts).
 */
function renderSvg({ title, system, floor }) {
  const ran = (steps) => (steps ?? []).filter((s) => !s.skipped);
  const sys = ran(system);
  const flo = ran(floor);
  const all = [...sys, ...flo];
  const rates = all.map((s) => s.rate);
  const lat = all.flatMap((s) => [s.latency?.p50, s.latency?.p90, s.latency?.p99]).filter((v) => v > 0);
  const thr = all.map((s) => s.completedPerSec).filter((v) => v > 0);
  const xDomain = rates.length ? [Math.min(...rates) / 1.5, Math.max(...rates) * 1.5] : [1, 10];
  // The offered rates themselves label the x axis: they are what the reader looks up.
  const xTicks = rates.length ? [...new Set(rates)].sort((a, b) => a - b) : undefined;
  const yLat = lat.length ? [Math.max(0.1, Math.min(...lat, 1000) / 2), Math.max(...lat, 1000) * 2] : [1, 10_000];
  const yThr = [Math.min(xDomain[0], ...thr.map((v) => v / 1.5)), Math.max(xDomain[1], ...thr.map((v) => v * 1.5))];
  const pct = [
    ['p50', 'p50', '#9ecae1'],
    ['p90', 'p90', '#4292c6'],
    ['p99', 'p99', '#08306b'],
  ];
  const latSeries = [];
  for (const [steps, who, dash, palette] of [
    [sys, 'system', undefined, pct],
    [flo, 'floor', '6 4', pct.map(([k, l]) => [k, l, { p50: '#fdae6b', p90: '#f16913', p99: '#7f2704' }[k]])],
  ]) {
    for (const [key, label, color] of palette) {
      latSeries.push({
        label: `${who} ${label}`,
        color,
        dash,
        points: steps.map((s) => ({ x: s.rate, y: s.latency?.[key], sustained: s.sustained })),
      });
    }
  }
  const thrSeries = [
    {
      label: 'system completed/s',
      color: '#08519c',
      points: sys.map((s) => ({ x: s.rate, y: s.completedPerSec, sustained: s.sustained })),
    },
    {
      label: 'floor completed/s',
      color: '#d94801',
      dash: '6 4',
      points: flo.map((s) => ({ x: s.rate, y: s.completedPerSec, sustained: s.sustained })),
    },
  ];
  const W = 1000;
  const H = 470;
  const legend = [...latSeries, ...thrSeries.map((s) => ({ ...s }))]
    .map((s, i) => {
      const x = 70 + (i % 4) * 230;
      const y = 420 + Math.floor(i / 4) * 18;
      return `<line x1="${x}" y1="${y - 4}" x2="${x + 26}" y2="${y - 4}" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/><text x="${x + 32}" y="${y}">${esc(s.label)}</text>`;
    })
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">
<rect width="${W}" height="${H}" fill="#fff"/>
<text x="${W / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>
${panel({ x0: 80, y0: 60, w: 380, h: 290, title: 'placed → terminal latency', xLabel: 'offered orders/s (log)', yLabel: 'ms (log)', xDomain, xTicks, yDomain: yLat, series: latSeries, hline: { y: 1000, label: 'p99 ≤ 1 s' } })}
${panel({ x0: 610, y0: 60, w: 360, h: 290, title: 'completed/s (dotted: completed = offered)', xLabel: 'offered orders/s (log)', yLabel: 'orders/s (log)', xDomain, xTicks, yDomain: yThr, series: thrSeries, diagonal: true })}
${legend}
<text x="70" y="${H - 8}" fill="#666">filled marker: rate sustained (all accepted, all terminal within 10 s of the last send, p99 ≤ 1 s); hollow: not sustained</text>
</svg>
`;
}

module.exports = { table, textTable, cpuSplit, renderSvg, panel, logTicks, esc };
