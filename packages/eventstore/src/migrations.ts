import { OutboxParkedSchema1763800000000 } from './outbox-parked.migration';
import { EventStoreSchema1763700000000 } from './schema.migration';

/** Every migration of the event store's own tables, in order: services list these before their own. */
export const eventStoreMigrations = [EventStoreSchema1763700000000, OutboxParkedSchema1763800000000];
