export { EventStoreSchema1763700000000 } from './schema.migration';
export { openDatabase, ensureDatabase, databaseUrl, type DatabaseOptions } from './database';
export {
  readStream,
  readLastEvent,
  appendToStream,
  enqueueForPublishing,
  type StreamEvent,
  type LoadedStream,
} from './event-store';
export { claimInbox } from './inbox';
export { inTransaction, type RetryOptions } from './transaction';
export { OutboxRelay, type OutboxMessage, type OutboxRelayOptions, type RelayLogger } from './outbox-relay';
export { ConcurrencyError, DomainError, isTransientDatabaseError, type DomainErrorCode } from './errors';
export { decideAndAppend, type Decider, type DecideResult } from './decider';
export { forEachStream, rebuildProjection, type ProjectionRebuild } from './replay';
export { bigintAsNumber } from './columns';
