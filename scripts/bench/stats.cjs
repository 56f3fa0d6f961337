'use strict';
// Pure helpers for the figures the bench prints: percentiles, sustained verdicts, per-order ratios.

/** Nearest-rank percentile of an ascending array (p in 0..100); undefined when empty. */
function percentile(sorted, p) {
  if (sorted.length === 0) return undefined;
  if (p <= 0) return sorted[0];
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, rank) - 1];
}

/** p50/p90/p99/max of unsorted samples (copied, not mutated). */
function latencySummary(samples) {
  const sorted = Float64Array.from(samples).sort();
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1] : undefined,
  };
}

/** Thresholds of the issue: what "sustained" means for one rate. */
const SUSTAINED = { drainMs: 10_000, p99Ms: 1_000 };

/**
 * A rate is sustained when every order offered was accepted, every accepted one
 * was terminal within 10 s of the last send, and p99 placed→terminal ≤ 1 s.
 * Returns the verdict and, when it fails, the reasons in words.
 */
function sustainedVerdict({ offered, accepted, pending, drainMs, p99 }) {
  const reasons = [];
  if (accepted < offered) reasons.push(`${offered - accepted} not accepted`);
  if (pending > 0) reasons.push(`${pending} not terminal`);
  else if (drainMs === undefined || drainMs > SUSTAINED.drainMs)
    reasons.push(`drain ${fmtSeconds(drainMs)} > ${SUSTAINED.drainMs / 1000} s`);
  if (p99 === undefined || p99 > SUSTAINED.p99Ms)
    reasons.push(`p99 ${p99 === undefined ? 'n/a' : `${Math.round(p99)} ms`} > ${SUSTAINED.p99Ms} ms`);
  return { sustained: reasons.length === 0, reasons };
}

/** The highest sustained rate of a sweep (undefined when none was). */
function maxSustained(steps) {
  let best;
  for (const s of steps) if (s.sustained && (best === undefined || s.rate > best)) best = s.rate;
  return best;
}

/** True once the last two steps run were both not sustained: the sweep stops there. */
function shouldStop(steps) {
  const n = steps.length;
  return n >= 2 && !steps[n - 1].sustained && !steps[n - 2].sustained;
}

/** value / orders, or undefined when either is unknown or there were no orders. */
function perOrder(value, orders) {
  if (value === undefined || value === null || !orders) return undefined;
  return value / orders;
}

function fmtSeconds(ms) {
  return ms === undefined ? 'n/a' : `${(ms / 1000).toFixed(1)} s`;
}

/** Fixed-point text, 'n/a' for unknown: tables never print NaN or undefined. */
function fmt(value, digits = 1) {
  if (value === undefined || value === null || Number.isNaN(value)) return 'n/a';
  return value.toFixed(digits);
}

/**
 * Where an order's time goes: for each event type in the orders' streams, the
 * milliseconds from its order's OrderPlaced to the event's own time (`made`) and
 * to when the orders service stored it (`stored`), summarised like the latency.
 * Events of orders placed outside the step (not in `placed`) are left out; types
 * come out in the order the orders service stored them (by p50).
 */
function hopTimes(placed, events) {
  const byType = new Map();
  for (const e of events) {
    const p = placed.get(e.orderId);
    if (p === undefined || e.type === 'OrderPlaced') continue;
    const hop = byType.get(e.type) ?? { made: [], stored: [] };
    hop.made.push(e.made - p);
    hop.stored.push(e.stored - p);
    byType.set(e.type, hop);
  }
  return [...byType]
    .map(([type, { made, stored }]) => ({ type, count: made.length, made: latencySummary(made), stored: latencySummary(stored) }))
    .sort((a, b) => a.stored.p50 - b.stored.p50 || a.type.localeCompare(b.type));
}

module.exports = {
  hopTimes,
  percentile,
  latencySummary,
  sustainedVerdict,
  maxSustained,
  shouldStop,
  perOrder,
  fmt,
  fmtSeconds,
  SUSTAINED,
};

/**
 * What a sweep says about its capacity: `max` sustained rate, and whether that is
 * only a lower bound (no higher rate was run and failed) or, with none sustained,
 * an upper bound (below the lowest rate run).
 */
function capacityOf(steps) {
  const ran = steps.filter((s) => !s.skipped);
  const max = maxSustained(ran);
  if (ran.length === 0) return { max: undefined };
  if (max === undefined) return { max: undefined, below: Math.min(...ran.map((s) => s.rate)) };
  return { max, lowerBound: !ran.some((s) => s.rate > max && !s.sustained) };
}

/**
 * Our max sustained rate over the floor's, with the relation the grid allows:
 * '=' when both failed a rate above their max, '≤' / '≥' when one side only
 * reached the top of its sweep, '<' / '>' when one side sustained nothing.
 */
function compareCapacity(systemSteps, floorSteps) {
  const sys = capacityOf(systemSteps);
  const flo = capacityOf(floorSteps);
  let relation;
  let ratio;
  if (sys.max !== undefined && flo.max !== undefined) {
    ratio = sys.max / flo.max;
    if (sys.lowerBound && flo.lowerBound)
      relation = undefined; // both at the top of their sweep: nothing to say
    else relation = sys.lowerBound ? '≥' : flo.lowerBound ? '≤' : '=';
  } else if (sys.max === undefined && sys.below !== undefined && flo.max !== undefined) {
    ratio = sys.below / flo.max;
    relation = '<';
  } else if (flo.max === undefined && flo.below !== undefined && sys.max !== undefined) {
    ratio = sys.max / flo.below;
    relation = '>';
  }
  return { system: sys, floor: flo, relation, ratio: relation ? ratio : undefined };
}

module.exports.capacityOf = capacityOf;
module.exports.compareCapacity = compareCapacity;
