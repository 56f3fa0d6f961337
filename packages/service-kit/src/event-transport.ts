import { BaseRpcContext, EventPattern, Server, type CustomTransportStrategy } from '@nestjs/microservices';
import { Controller, Logger, UseFilters, applyDecorators } from '@nestjs/common';
import { RethrowRpcErrorsFilter } from './rethrow.filter';
import { lastValueFrom } from 'rxjs';
import type { DataSource, EntityManager } from 'typeorm';
import type { AnyEvent, EventType } from '@orderflow/contracts';
import { claimInbox, inTransaction, isTransientDatabaseError, type OutboxRelay } from '@orderflow/eventstore';
import {
  EventConsumer,
  isMarkedRetriable,
  isTransientKafkaError,
  type DeliveryInfo,
  type Kafka,
  type KafkaPublisher,
} from '@orderflow/messaging';
import type { Metrics } from './metrics';

/** What an `@EventPattern` handler receives with `@Ctx()`: the transaction its effects must use. */
export class EventContext extends BaseRpcContext<[EntityManager, DeliveryInfo]> {
  get tx(): EntityManager {
    return this.getArgs()[0];
  }
  get delivery(): DeliveryInfo {
    return this.getArgs()[1];
  }
}

export interface KafkaEventTransportOptions {
  kafka: Kafka;
  dataSource: DataSource;
  deadLetters: KafkaPublisher;
  relay: OutboxRelay;
  metrics: Metrics;
  groupId: string;
  topics: readonly string[];
  topicPrefix: string;
}

/**
 * For failures that carry no `retriable` flag of their own (the consumer trusts the
 * flag where there is one): driver and library errors, classified by what they are.
 */
function isRetriable(error: unknown): boolean {
  return isMarkedRetriable(error) || isTransientDatabaseError(error) || isTransientKafkaError(error);
}

/**
 * A Nest transport strategy on our own consumer instead of Nest's stock Kafka
 * server, whose offset commit after a failed handler would lose the event. Each
 * event runs in one database transaction with its inbox row, and the offset is
 * committed only after that transaction committed.
 */
export class KafkaEventTransport extends Server implements CustomTransportStrategy {
  private consumer: EventConsumer | undefined;
  private readonly log = new Logger('EventTransport');

  constructor(private readonly options: KafkaEventTransportOptions) {
    super();
  }

  listen(callback: (error?: unknown) => void): void {
    const { options } = this;
    this.consumer = new EventConsumer(options.kafka, {
      groupId: options.groupId,
      topics: options.topics,
      topicPrefix: options.topicPrefix,
      deadLetters: options.deadLetters,
      isRetriable,
      handles: (type: EventType) => this.messageHandlers.has(type),
      handle: (event, delivery) => this.dispatch(event, delivery),
      logger: this.log,
      onOutcome: (outcome, type, ms) => {
        options.metrics.eventsHandled.inc({ type, outcome });
        options.metrics.handlingSeconds.observe({ type }, ms / 1000);
      },
    });
    this.consumer.start().then(() => callback(), callback);
  }

  async close(): Promise<void> {
    await this.consumer?.stop();
  }

  on(): never {
    throw new Error('KafkaEventTransport does not emit events');
  }

  unwrap<T>(): T {
    return this.consumer as T;
  }

  private async dispatch(event: AnyEvent, delivery: DeliveryInfo): Promise<void> {
    const handler = this.getHandlerByPattern(event.type);
    if (!handler) return;
    const { dataSource, groupId, relay } = this.options;
    const published = await inTransaction(dataSource, async (tx) => {
      if (!(await claimInbox(tx, groupId, event.id))) return false;
      const result: unknown = await handler(event, new EventContext([tx, delivery]));
      await lastValueFrom(this.transformToObservable(result), { defaultValue: undefined });
      return true;
    });
    if (published) relay.nudge();
  }
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
