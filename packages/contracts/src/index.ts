// The public surface of the contracts, listed by name: what a service may use and nothing it does not.
export { Topics, ALL_TOPICS, TOPIC_PARTITIONS, SUBSCRIPTIONS, dlqTopicOf, topicsOfGroup, type TopicName } from './topics';
export { EventCatalog, isEventType, jsonSchemaOf, type EventType, type EventData } from './catalog';
export { createEvent, toEnvelope, type AnyEvent, type DomainEvent, type EventEnvelope, type EnvelopeOptions } from './envelope';
export {
  encodeEvent,
  decodeEvent,
  isUnhandledEvent,
  validateEventData,
  assertValidEvent,
  InvalidEventError,
  type WireMessage,
  type IncomingMessage,
} from './codec';
export { compileValidator, type Validator, type ValidationIssue } from './validation';
export { ShippingAddress } from './orders/order.events';
export { Money, Currency, Sku, Quantity, Id } from './shared';
