import type { TObject } from '@sinclair/typebox';
import { EventStoreSchema1763700000000, openDatabase, rebuildProjection, type ProjectionRebuild } from '@orderflow/eventstore';
import { loadConfig, type commonConfig } from './config';

export interface ReplayDefinition {
  name: string;
  configSchema: TObject;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  migrations: Function[];
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  entities: Function[];
  projections: ProjectionRebuild[];
}

type Connection = Pick<ReturnType<typeof commonConfig>, 'DATABASE_URL' | 'DATABASE_NAME'>;

/**
 * `node dist/replay.js`: rebuilds every read model of a service from its own event
 * log, with the same configuration as the service. Safe while the service runs.
 */
export function replayCommand(definition: ReplayDefinition): void {
  const run = async () => {
    const config = loadConfig(definition.configSchema) as { [K in keyof Connection]: string };
    const dataSource = await openDatabase({
      url: config.DATABASE_URL,
      database: config.DATABASE_NAME,
      migrations: [EventStoreSchema1763700000000, ...definition.migrations],
      entities: definition.entities,
    });
    try {
      for (const projection of definition.projections) {
        const started = Date.now();
        const streams = await rebuildProjection(dataSource, projection);
        process.stdout.write(`${definition.name}: rebuilt ${projection.table} from ${streams} stream(s) in ${Date.now() - started} ms\n`);
      }
    } finally {
      await dataSource.destroy();
    }
  };
  run().catch((error: Error) => {
    process.stderr.write(`${definition.name}: replay failed: ${error.message}\n`);
    process.exit(1);
  });
}
