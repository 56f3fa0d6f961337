export { EventStoreSchema1763700000000 } from './schema.migration';
export { OutboxParkedSchema1763800000000 } from './outbox-parked.migration';
export { eventStoreMigrations } from './migrations';
export {
  openDatabase,
  ensureDatabase,
  dropDatabase,
  openScratchDatabase,
  databaseUrl,
  DATABASE_POOL_DEFAULTS,
  type DatabaseOptions,
  type ScratchDatabase,
} from './database';
export {
  readStream,
  readLastEvent,
  startStream,
  appendToStream,
  enqueueForPublishing,
  withEventBatch,
  preloadBatch,
  type BatchPreload,
  type StreamEvent,
  type LoadedStream,
} from './event-store';
export { claimInbox, claimInboxBatch } from './inbox';
export { upsertRow, settleRow, batchLocal, atBatchEnd, recordsetUpsert, type RowUpsert, type CombinableUpsert, type UpsertColumn, type RecordsetColumn, type WriteStatement } from './event-batch';
export { onOutboxCommitted, OUTBOX_CHANNEL } from './outbox-signal';
export { inTransaction, type RetryOptions } from './transaction';
export {
  OutboxRelay,
  type OutboxMessage,
  type OutboxRelayOptions,
  type PublishReport,
  type ParkedMessage,
  type RelayLogger,
} from './outbox-relay';
export {
  ConcurrencyError,
  TransientDatabaseError,
  DatabaseUnavailableError,
  isTransientDatabaseError,
  toDatabaseError,
} from './errors';
export { decideAndAppend, type DecideResult } from './decider';
export { forEachStream, rebuildProjection, type ProjectionRebuild } from './replay';
export { bigintAsNumber } from './columns';
