/**
 * How the instances of a consumer group share a topic's partition queues on
 * RabbitMQ without a plugin and on 3.10, where single active consumer (SAC) makes
 * the first consumer registered on a queue its active one and never moves it while
 * it lives. SAC stays what guarantees exclusivity; balancing only decides who
 * gives a partition up, and the broker decides who takes it (the consumer that has
 * waited longest).
 *
 * The live instances are the consumers of the group's presence queue (an
 * instance registers there once it waits on every partition queue; a partition
 * queue's own consumer count says 1 under SAC on 3.10). An instance knows it is active on a queue once it
 * receives a delivery there; a partition nobody publishes to is never known and
 * needs no balancing. Periodically an instance that is active on more than its fair
 * share, ceil(partitions / instances), of a topic hands one partition over (see
 * RabbitMqSubscriber.handOver) and registers again at the back of the line.
 *
 * Against flapping: only an instance strictly above its share moves anything (an
 * even split never moves), at most one partition per topic per period (a hand-over
 * re-registers at the back of the line, so the partition goes to an instance that
 * waited longer), a joining instance is counted only once it waits everywhere, and
 * an instance active on a single partition never gives it up.
 *
 * The alternative, a channel per queue with `exclusive` consumers and a claim rule
 * among the instances, would need the instances to agree on the rule's input
 * (membership) without a coordinator and would lose SAC's immediate fail-over to a
 * waiting consumer; this keeps SAC and adds only a local decision.
 */
export interface PartitionHolding {
  /** This instance received a delivery on its current consumer of the queue: it is the queue's active consumer. */
  active: boolean;
  /** It may be handed over now (see RabbitMqSubscriber: not already moving, and in delivery order). */
  movable: boolean;
}

/** The fair share of `partitions` among `instances`: no instance needs more. */
export const fairShare = (partitions: number, instances: number): number => Math.ceil(partitions / Math.max(1, instances));

/** Index of the partition to hand over, or undefined when this instance holds no more than its share. */
export function partitionToHandOver(holdings: readonly PartitionHolding[], instances: number): number | undefined {
  const active = holdings.filter((h) => h.active).length;
  if (active <= fairShare(holdings.length, instances)) return undefined;
  const index = holdings.findIndex((h) => h.active && h.movable);
  return index < 0 ? undefined : index;
}
