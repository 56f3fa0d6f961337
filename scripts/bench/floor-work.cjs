'use strict';
// What the framework-free floor must do per order, derived from what the real
// system was measured to do during its sweep, so the floor follows the pipeline
// as it changes (more batching in the services → fewer transactions per order →
// a cheaper floor too). Pure functions, unit-tested in bench.test.cjs.
//
// Measured over the system sweep (from just before the first rate until every
// accepted order was terminal and every consumer group had caught up):
//   - messages produced per order, per topic: Δ end offsets of the bench's topics / orders;
//   - which consumer groups read which topic, and how many messages they consumed:
//     Δ committed offsets of each bench consumer group, per topic (from the broker);
//   - rows written per order: Δ pg_stat_database tup_inserted, tup_updated,
//     tup_deleted summed over the four databases / orders;
//   - transactions per order: Δ xact_commit over the four databases / orders
//     (the bench's own queries subtracted).
// The floor then produces the same messages per order (same topics, same average
// value and header size), consumes each topic with as many groups as read it in
// the real system, and spreads the rows and transactions over the consumed
// messages: each consumer owes `transactions / deliveries` transactions and the
// matching rows per message it consumes, paid per batch. When the system commits
// less than once per message (batched consumers) the floor batches too; when it
// commits more (HTTP writes, relay deletes) the floor commits several times per message.

/**
 * @param m.orders            accepted orders of the sweep
 * @param m.producedByTopic   { topic (unprefixed): messages produced }
 * @param m.consumedByGroup   { group (unprefixed): { topic: messages consumed } }
 * @param m.rows              { inserted, updated, deleted }
 * @param m.commits           transactions committed
 * @param m.valueBytes, m.headerBytes, m.headerCount  average message shape
 */
function deriveFloorWork(m) {
  if (!(m.orders > 0)) throw new Error('no accepted orders were measured: nothing to derive the floor from');
  const producedPerOrder = {};
  for (const [topic, n] of Object.entries(m.producedByTopic)) if (n > 0) producedPerOrder[topic] = n / m.orders;
  const groups = [];
  for (const [group, byTopic] of Object.entries(m.consumedByGroup)) {
    const topics = Object.keys(byTopic).filter((t) => byTopic[t] > 0 && producedPerOrder[t] !== undefined);
    if (topics.length > 0) groups.push({ name: group, topics: topics.sort() });
  }
  groups.sort((a, b) => a.name.localeCompare(b.name));
  // The floor delivers every produced message to every group that read its topic.
  const deliveriesPerOrder = groups.reduce((n, g) => n + g.topics.reduce((k, t) => k + producedPerOrder[t], 0), 0);
  const measuredConsumedPerOrder =
    Object.values(m.consumedByGroup).reduce(
      (n, byTopic) => n + Object.values(byTopic).reduce((k, v) => k + Math.max(0, v), 0),
      0,
    ) / m.orders;
  const perOrder = {
    produced: Object.values(producedPerOrder).reduce((a, b) => a + b, 0),
    consumed: deliveriesPerOrder,
    inserted: Math.max(0, m.rows.inserted) / m.orders,
    updated: Math.max(0, m.rows.updated) / m.orders,
    deleted: Math.max(0, m.rows.deleted) / m.orders,
    transactions: Math.max(0, m.commits) / m.orders,
  };
  const per = (x) => (deliveriesPerOrder > 0 ? x / deliveriesPerOrder : 0);
  return {
    perOrder,
    producedPerOrder,
    measuredConsumedPerOrder,
    groups,
    perDelivery: {
      inserted: per(perOrder.inserted),
      updated: per(perOrder.updated),
      deleted: per(perOrder.deleted),
      transactions: per(perOrder.transactions),
    },
    valueBytes: Math.max(64, Math.round(m.valueBytes || 0)),
    headerBytes: Math.max(0, Math.round(m.headerBytes || 0)),
    headerCount: Math.max(0, Math.round(m.headerCount || 0)),
  };
}

/**
 * Messages order `n` produces on a topic that carries `perOrder` messages per
 * order on average: the difference of floors keeps the running total exact
 * (2.5 per order → 2, 3, 2, 3, …).
 */
const messagesOfOrder = (n, perOrder) => Math.floor((n + 1) * perOrder + 1e-9) - Math.floor(n * perOrder + 1e-9);

/**
 * A consumer's debt of transactions and rows, credited per message consumed and
 * paid per batch in whole transactions; rows are spread over the transactions
 * paid and a fraction left over waits for the next batch.
 */
class WorkCredit {
  constructor(perDelivery) {
    this.rate = perDelivery;
    this.owed = { transactions: 0, inserted: 0, updated: 0, deleted: 0 };
  }

  /** Returns the transactions to run for `deliveries` messages: [{ inserted, updated, deleted }]. */
  take(deliveries) {
    for (const k of Object.keys(this.owed)) this.owed[k] += deliveries * this.rate[k];
    const count = Math.floor(this.owed.transactions + 1e-9);
    if (count === 0) return [];
    this.owed.transactions -= count;
    const txs = Array.from({ length: count }, () => ({ inserted: 0, updated: 0, deleted: 0 }));
    for (const k of ['inserted', 'updated', 'deleted']) {
      const whole = Math.floor(this.owed[k] + 1e-9);
      this.owed[k] -= whole;
      for (let i = 0; i < count; i++) txs[i][k] = Math.floor(whole / count) + (i < whole % count ? 1 : 0);
    }
    return txs;
  }
}

module.exports = { deriveFloorWork, messagesOfOrder, WorkCredit };
