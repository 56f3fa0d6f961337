import type { Static, TSchema } from '@sinclair/typebox';
import { Topics, type TopicName } from './topics';
import { OrderCancelled, OrderCompleted, OrderConfirmed, OrderPlaced } from './orders/order.events';
import { PaymentAuthorized, PaymentDeclined, PaymentRefunded, PaymentVoided } from './payments/payment.events';
import {
  ProductCatalogued,
  StockLevelChanged,
  StockReleased,
  StockCommitted,
  StockReserved,
  StockUnavailable,
  ReservationVoided,
} from './inventory/inventory.events';
import { PickupScheduled, ShipmentCancelled, ShipmentPrepared, ShipmentVoided } from './shipping/shipping.events';

interface EventDefinition {
  topic: TopicName;
  version: number;
  schema: TSchema;
  /** The data field that is the Kafka key and the CloudEvents subject. */
  keyField: 'orderId' | 'sku';
}

/** The v1 event catalog: one entry per event type, the single source of truth. */
export const EventCatalog = {
  OrderPlaced: { topic: Topics.orders, version: 1, schema: OrderPlaced, keyField: 'orderId' },
  OrderConfirmed: { topic: Topics.orders, version: 1, schema: OrderConfirmed, keyField: 'orderId' },
  OrderCancelled: { topic: Topics.orders, version: 1, schema: OrderCancelled, keyField: 'orderId' },
  OrderCompleted: { topic: Topics.orders, version: 1, schema: OrderCompleted, keyField: 'orderId' },
  PaymentAuthorized: { topic: Topics.payments, version: 1, schema: PaymentAuthorized, keyField: 'orderId' },
  PaymentDeclined: { topic: Topics.payments, version: 1, schema: PaymentDeclined, keyField: 'orderId' },
  PaymentRefunded: { topic: Topics.payments, version: 1, schema: PaymentRefunded, keyField: 'orderId' },
  PaymentVoided: { topic: Topics.payments, version: 1, schema: PaymentVoided, keyField: 'orderId' },
  StockReserved: { topic: Topics.inventory, version: 1, schema: StockReserved, keyField: 'orderId' },
  StockUnavailable: { topic: Topics.inventory, version: 1, schema: StockUnavailable, keyField: 'orderId' },
  StockReleased: { topic: Topics.inventory, version: 1, schema: StockReleased, keyField: 'orderId' },
  StockCommitted: { topic: Topics.inventory, version: 1, schema: StockCommitted, keyField: 'orderId' },
  ReservationVoided: { topic: Topics.inventory, version: 1, schema: ReservationVoided, keyField: 'orderId' },
  ProductCatalogued: { topic: Topics.products, version: 1, schema: ProductCatalogued, keyField: 'sku' },
  StockLevelChanged: { topic: Topics.products, version: 1, schema: StockLevelChanged, keyField: 'sku' },
  ShipmentPrepared: { topic: Topics.shipping, version: 1, schema: ShipmentPrepared, keyField: 'orderId' },
  PickupScheduled: { topic: Topics.shipping, version: 1, schema: PickupScheduled, keyField: 'orderId' },
  ShipmentCancelled: { topic: Topics.shipping, version: 1, schema: ShipmentCancelled, keyField: 'orderId' },
  ShipmentVoided: { topic: Topics.shipping, version: 1, schema: ShipmentVoided, keyField: 'orderId' },
} as const satisfies Record<string, EventDefinition>;

export type EventType = keyof typeof EventCatalog;
export type EventData<T extends EventType> = Static<(typeof EventCatalog)[T]['schema']>;

export function isEventType(value: string): value is EventType {
  return Object.prototype.hasOwnProperty.call(EventCatalog, value);
}

export function dataSchemaUri(type: EventType): string {
  return `urn:orderflow:schema:${type}:v${EventCatalog[type].version}`;
}

/**
 * The JSON Schema (draft 2020-12) of an event's data as plain JSON, as committed in
 * `schemas/` and as a schema registry or docs would serve it: `$id` is the event's
 * `dataschema`, and keys are sorted so the text depends on the schema alone.
 */
export function jsonSchemaOf(type: EventType): { readonly [keyword: string]: unknown } {
  const plain = JSON.parse(JSON.stringify(EventCatalog[type].schema)) as Record<string, unknown>;
  return sortKeys({ $schema: 'https://json-schema.org/draft/2020-12/schema', $id: dataSchemaUri(type), title: type, ...plain });
}

function sortKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map(sortKeys) as T;
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(entries.map(([key, inner]) => [key, sortKeys(inner)])) as T;
}
