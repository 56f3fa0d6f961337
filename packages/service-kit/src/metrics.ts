import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { PartitionLag } from '@orderflow/messaging';

export interface OutboxBacklog {
  pending: number;
  oldestAgeSeconds: number;
}

/** What the gauges read when Prometheus scrapes. */
export interface MetricSources {
  outbox: () => Promise<OutboxBacklog>;
  /** Lag of the consumer groups on the topics this service produces. */
  consumerLag?: () => Promise<PartitionLag[]>;
}

/**
 * The phases of a consumer's unit of work: `load` claims the batch in the inbox
 * and reads the streams it needs (one statement, with BEGIN), `handle` runs the
 * handlers in memory, `write` sends what they decided and commits.
 */
export const BATCH_PHASES = ['load', 'handle', 'write'] as const;
export type BatchPhase = (typeof BATCH_PHASES)[number];

/** Prometheus metrics of one service process, served at GET /metrics. */
export class Metrics {
  readonly registry = new Registry();
  readonly eventsHandled: Counter<'type' | 'outcome'>;
  readonly handlingSeconds: Histogram<'type'>;
  readonly eventsPublished: Counter;
  readonly outboxPending: Gauge;
  readonly outboxParked: Counter;
  readonly brokerRequests: Counter<'client' | 'api'>;
  readonly batchSize: Histogram;
  readonly batchSeconds: Histogram;
  readonly batchPhaseSeconds: Counter<'phase'>;
  readonly httpSeconds: Histogram<'method' | 'route' | 'status'>;
  readonly eventRetries: Counter<'type'>;

  readonly outboxOldestAge: Gauge;
  readonly consumerLag: Gauge<'group' | 'topic' | 'partition'>;
  /** One outbox query serves both of its gauges in a scrape. */
  private outboxSample: { at: number; value: Promise<OutboxBacklog> } | undefined;

  constructor(service: string, sources: MetricSources) {
    this.registry.setDefaultLabels({ service });
    // The event-loop delay histogram samples on a libuv timer: every 10 ms by default,
    // a hundred wake-ups a second in an idle service. 100 ms still shows a stalled loop.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 100 });
    this.eventsHandled = new Counter({
      name: 'orderflow_events_consumed_total',
      help: 'Events consumed, by type and outcome (processed, ignored, dead-lettered)',
      labelNames: ['type', 'outcome'],
      registers: [this.registry],
    });
    this.handlingSeconds = new Histogram({
      name: 'orderflow_event_handling_seconds',
      help: 'Time to handle an event: its share of its batch',
      labelNames: ['type'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [this.registry],
    });
    this.brokerRequests = new Counter({
      name: 'orderflow_broker_requests_total',
      help: 'Requests made to the message broker, by client (consumer, producer, admin) and API (Kafka: Produce, Fetch, OffsetCommit; RabbitMQ: publish, ack; SQS: SendMessageBatch, ReceiveMessage, DeleteMessageBatch, …)',
      labelNames: ['client', 'api'],
      registers: [this.registry],
    });
    this.batchSize = new Histogram({
      name: 'orderflow_consumer_batch_size',
      help: 'Events handled in one unit of work (one database transaction)',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500],
      registers: [this.registry],
    });
    this.batchSeconds = new Histogram({
      name: 'orderflow_consumer_batch_seconds',
      help: 'Time to handle one batch of events, transaction included',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [this.registry],
    });
    this.batchPhaseSeconds = new Counter({
      name: 'orderflow_consumer_batch_phase_seconds_total',
      help: `Time the consumer's units of work spent in each phase (${BATCH_PHASES.join(', ')}): over a minute, how busy the consumer is and with what`,
      labelNames: ['phase'],
      registers: [this.registry],
    });
    // Every phase is exported from the start, at 0: a rate over the first minute needs a starting point.
    for (const phase of BATCH_PHASES) this.batchPhaseSeconds.inc({ phase }, 0);
    this.eventRetries = new Counter({
      name: 'orderflow_event_retries_total',
      help: 'Times a failed event (or the batch it failed in) was tried again, by event type',
      labelNames: ['type'],
      registers: [this.registry],
    });
    this.httpSeconds = new Histogram({
      name: 'orderflow_http_request_duration_seconds',
      help: 'HTTP requests served, by method, route template and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [this.registry],
    });
    this.eventsPublished = new Counter({
      name: 'orderflow_events_published_total',
      help: 'Events the outbox relay published to Kafka',
      registers: [this.registry],
    });
    this.outboxParked = new Counter({
      name: 'orderflow_outbox_parked_total',
      help: 'Outbox rows the broker refused for good (too large, unknown topic), moved to outbox_parked',
      registers: [this.registry],
    });
    const outbox = (): Promise<OutboxBacklog> => {
      const now = Date.now();
      if (!this.outboxSample || now - this.outboxSample.at > 1_000) this.outboxSample = { at: now, value: sources.outbox() };
      return this.outboxSample.value;
    };
    this.outboxPending = new Gauge({
      name: 'orderflow_outbox_pending',
      help: 'Committed events not yet published',
      registers: [this.registry],
      async collect() {
        this.set(await outbox().then((b) => b.pending, () => -1));
      },
    });
    this.outboxOldestAge = new Gauge({
      name: 'orderflow_outbox_oldest_age_seconds',
      help: 'How long the oldest committed event not yet published has waited; 0 when the outbox is empty',
      registers: [this.registry],
      async collect() {
        this.set(await outbox().then((b) => b.oldestAgeSeconds, () => -1));
      },
    });
    const lag = sources.consumerLag;
    this.consumerLag = new Gauge({
      name: 'orderflow_consumer_lag_messages',
      help: 'Messages not yet consumed, by consumer group, topic and partition, on the topics this service produces',
      labelNames: ['group', 'topic', 'partition'],
      registers: [this.registry],
      async collect() {
        // A scrape that cannot reach the broker shows no lag series rather than stale ones.
        this.reset();
        if (!lag) return;
        for (const p of await lag().catch(() => [])) this.set({ group: p.group, topic: p.topic, partition: String(p.partition) }, p.lag);
      },
    });
  }
}
