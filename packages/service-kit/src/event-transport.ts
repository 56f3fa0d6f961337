import { BaseRpcContext, EventPattern, Server, type CustomTransportStrategy } from '@nestjs/microservices';
import { Controller, Logger, UseFilters, applyDecorators } from '@nestjs/common';
import { RethrowRpcErrorsFilter } from './rethrow.filter';
import { lastValueFrom } from 'rxjs';
import type { DataSource, EntityManager } from 'typeorm';
import type { AnyEvent, EventType } from '@orderflow/contracts';
import { inTransaction, isTransientDatabaseError, preloadBatch, readStream, withEventBatch } from '@orderflow/eventstore';
import {
  BatchFailure,
  isMarkedRetriable,
  isTransientKafkaError,
  type DeliveryInfo,
  type LogFields,
  type ReceivedEvent,
  type Subscriber,
  type Transport,
} from '@orderflow/messaging';
import type { BatchPhase, Metrics } from './metrics';
import { eventLogFields } from './service-logger';
import { SpanKind, contextOf, endSpan, messagingSystem, startSpan, traceparentOf, tracingEnabled, withSpan } from './tracing';
import type { Span } from '@opentelemetry/api';

/** What an `@EventPattern` handler receives with `@Ctx()`: the transaction its effects must use. */
export class EventContext extends BaseRpcContext<[EntityManager, DeliveryInfo, AnyEvent]> {
  get tx(): EntityManager {
    return this.getArgs()[0];
  }
  get delivery(): DeliveryInfo {
    return this.getArgs()[1];
  }
  /**
   * What a log line about this event says of it (order, correlation, event, trace):
   * `this.log.warn('…', ctx.logFields)`. Handed over explicitly rather than kept in
   * an AsyncLocalStorage for the batch: on Node 20 that puts a hook on every promise
   * of the process, about 5 % of the services' CPU at 400 orders/s.
   */
  get logFields(): LogFields {
    return eventLogFields(this.getArgs()[2]);
  }
}

export interface BrokerEventTransportOptions {
  transport: Transport;
  dataSource: DataSource;
  metrics: Metrics;
  groupId: string;
  topics: readonly string[];
  /** The streams handling an event reads whole; a batch reads them all in one query. */
  streamsOf?: (event: AnyEvent) => readonly string[];
  /** The streams of which handling an event reads only the newest event; read in that same query. */
  lastEventsOf?: (event: AnyEvent) => readonly string[];
  /**
   * The stream in which handling an event records that very event (same id), e.g.
   * the order saga's outcomes: such an event needs no inbox row, because it was
   * handled if and only if that stream holds it (the events table's unique event id
   * keeps a second record out even when two instances race). The stream is read
   * whole with the batch. Undefined for events that go through the inbox.
   */
  recordedIn?: (event: AnyEvent) => string | undefined;
  /** A debug line for every handled event (LOG_LEVEL=debug), with its order and trace. */
  logEvents?: boolean;
  /** Units of work the consumer runs at once, by partition number (`EventConsumerOptions.lanes`). Default 1. */
  lanes?: number;
}

/**
 * For failures that carry no `retriable` flag of their own (the consumer trusts the
 * flag where there is one): driver and library errors, classified by what they are.
 */
function isRetriable(error: unknown): boolean {
  return isMarkedRetriable(error) || isTransientDatabaseError(error) || isTransientKafkaError(error);
}

/**
 * A Nest transport strategy on our own consumer, whichever the broker, instead of
 * Nest's stock Kafka or RabbitMQ servers, whose acknowledgement after a failed
 * handler would lose the event. A batch of events runs in one database transaction
 * with their inbox rows (claimed in one statement), and the broker is told only
 * after that transaction committed. The unit of work wakes the outbox relay when
 * the transaction wrote events.
 */
export class BrokerEventTransport extends Server implements CustomTransportStrategy {
  private consumer: Subscriber | undefined;
  private readonly log = new Logger('EventTransport');
  /** Nest's lookup normalises the pattern on every call; the handlers do not change once listening. */
  private readonly handlers = new Map<string, ReturnType<Server['getHandlerByPattern']>>();

  constructor(private readonly options: BrokerEventTransportOptions) {
    super();
  }

  listen(callback: (error?: unknown) => void): void {
    const { options } = this;
    this.consumer = options.transport.subscriber({
      groupId: options.groupId,
      topics: options.topics,
      isRetriable,
      handles: (type: EventType) => this.messageHandlers.has(type),
      handleBatch: (events) => this.dispatch(events),
      ...(options.lanes !== undefined ? { lanes: options.lanes } : {}),
      logger: this.log,
      onOutcome: (outcome, type, ms) => {
        options.metrics.eventsHandled.inc({ type, outcome });
        if (outcome === 'processed') options.metrics.handlingSeconds.observe({ type }, ms / 1000);
      },
      onRetry: (type) => options.metrics.eventRetries.inc({ type }),
      onBatch: (size, ms) => {
        options.metrics.batchSize.observe(size);
        options.metrics.batchSeconds.observe(ms / 1000);
      },
    });
    this.consumer.start().then(() => callback(), callback);
  }

  async close(): Promise<void> {
    await this.consumer?.stop();
  }

  on(): never {
    throw new Error('BrokerEventTransport does not emit events');
  }

  unwrap<T>(): T {
    return this.consumer as T;
  }

  private handlerFor(type: string): ReturnType<Server['getHandlerByPattern']> {
    if (!this.handlers.has(type)) this.handlers.set(type, this.getHandlerByPattern(type));
    return this.handlers.get(type) ?? null;
  }

  /** Names the event that failed, so the consumer can cut the batch there. */
  private async dispatch(events: readonly ReceivedEvent[]): Promise<void> {
    const { dataSource, groupId } = this.options;
    let current: number | undefined;
    // One consumer span per handled event, ended once the batch's transaction has settled.
    const spans = tracingEnabled() ? new Map<number, Span>() : undefined;
    // Where the unit of work's time goes, over every attempt: loading, handlers, and the rest (writes, COMMIT).
    const started = performance.now();
    let load = 0;
    let handle = 0;
    try {
      await inTransaction(dataSource, (tx) =>
        withEventBatch(tx, async () => {
          current = undefined;
          const attempt = performance.now();
          // One statement claims the batch in the inbox and reads the streams it needs
          // (those of an event delivered again are read too, and not used).
          const { streamsOf, lastEventsOf, recordedIn } = this.options;
          const handled = events.filter(({ event }) => this.messageHandlers.has(event.type));
          const recorded = events.map(({ event }) => recordedIn?.(event));
          const unclaimed = await preloadBatch(tx, {
            claim: { consumer: groupId, eventIds: events.filter((_, i) => recorded[i] === undefined).map(({ event }) => event.id) },
            streams: [...(streamsOf ? handled.flatMap(({ event }) => streamsOf(event)) : []), ...recorded.filter((s) => s !== undefined)],
            ...(lastEventsOf ? { lastEvents: handled.flatMap(({ event }) => lastEventsOf(event)) } : {}),
          });
          const loaded = performance.now();
          load += loaded - attempt;
          for (const [index, { event, delivery }] of events.entries()) {
            const stream = recorded[index];
            const id = event.id.toLowerCase();
            // Skipped when handled before: recorded in its stream already (in this batch too), or not claimed in the
            // inbox (a claim is used once: an event delivered twice within one batch is handled once).
            if (stream !== undefined ? (await readStream(tx, stream)).events.some((e) => e.id.toLowerCase() === id) : !unclaimed.delete(id)) continue;
            const handler = this.handlerFor(event.type);
            if (!handler) continue;
            current = index;
            if (!spans) {
              await this.invoke(handler, event, new EventContext([tx, delivery, event]));
              continue;
            }
            const span = consumerSpan(event, delivery, groupId, this.options.transport.kind);
            spans.set(index, span);
            // What the handler appends inherits this span as its parent (`causedBy` carries the traceparent).
            const traced = { ...event, traceparent: traceparentOf(span) } as AnyEvent;
            await withSpan(span, () => this.invoke(handler, traced, new EventContext([tx, delivery, traced])));
          }
          // What the batch decided is written now: a failure here is the batch's, not one event's.
          current = undefined;
          handle += performance.now() - loaded;
        }),
      );
    } catch (error) {
      if (spans) for (const [index, span] of spans) endSpan(span, index === current ? error : new Error('rolled back with its batch'));
      throw new BatchFailure(current, error);
    } finally {
      this.countPhases(load, handle, performance.now() - started - load - handle);
    }
    if (spans) for (const span of spans.values()) endSpan(span);
  }

  private countPhases(loadMs: number, handleMs: number, writeMs: number): void {
    const { batchPhaseSeconds } = this.options.metrics;
    batchPhaseSeconds.inc({ phase: 'load' satisfies BatchPhase }, loadMs / 1000);
    batchPhaseSeconds.inc({ phase: 'handle' satisfies BatchPhase }, handleMs / 1000);
    batchPhaseSeconds.inc({ phase: 'write' satisfies BatchPhase }, writeMs / 1000);
  }

  private async invoke(handler: NonNullable<ReturnType<Server['getHandlerByPattern']>>, event: AnyEvent, ctx: EventContext): Promise<void> {
    if (this.options.logEvents) this.log.debug(`handling ${event.type} ${event.id} from ${ctx.delivery.topic}[${ctx.delivery.partition}]@${ctx.delivery.offset}`, ctx.logFields);
    const result: unknown = await handler(event, ctx);
    await lastValueFrom(this.transformToObservable(result), { defaultValue: undefined });
  }
}

/** The span of one consumed event: a child of the span that produced it, whatever batch it came in. */
function consumerSpan(event: AnyEvent, delivery: DeliveryInfo, groupId: string, broker: Transport['kind']): Span {
  return startSpan(`process ${event.type}`, SpanKind.CONSUMER, contextOf(event.traceparent), {
    'messaging.system': messagingSystem(broker),
    'messaging.operation.type': 'process',
    'messaging.destination.name': delivery.topic,
    'messaging.destination.partition.id': String(delivery.partition),
    ...(broker === 'kafka' ? { 'messaging.kafka.offset': Number(delivery.offset) } : { 'messaging.message.delivery_tag': delivery.offset }),
    'messaging.consumer.group.name': groupId,
    'messaging.message.id': event.id,
    'orderflow.event.type': event.type,
    'orderflow.order_id': event.subject,
    'orderflow.correlation_id': event.correlationid,
  })!;
}

/**
 * `@EventPattern` for one event type of the catalog. Handlers take
 * `(@Payload() event: EventEnvelope<T>, @Ctx() ctx: EventContext)`.
 */
export const OnEvent = (type: EventType): MethodDecorator => EventPattern<string>(type);

/**
 * One handler method for several event types:
 * `@OnEvents('PaymentAuthorized', 'PaymentDeclined') outcome(@Payload() e: EventEnvelope<'PaymentAuthorized' | 'PaymentDeclined'>, @Ctx() ctx: EventContext)`.
 * Nest stores a method's patterns as one list (`[].concat(pattern)`) and registers
 * the method once per entry, so an array pattern is the way; stacking `@OnEvent`
 * twice on a method would keep only the last one applied.
 */
export const OnEvents = (...types: [EventType, ...EventType[]]): MethodDecorator => EventPattern<EventType[]>(types);

/**
 * Marks a class of `@OnEvent` handlers. Its errors reach the transport unchanged,
 * so a transient failure is retried and only a poison event is dead-lettered.
 */
export const EventHandlers = (): ClassDecorator => applyDecorators(Controller(), UseFilters(RethrowRpcErrorsFilter));
