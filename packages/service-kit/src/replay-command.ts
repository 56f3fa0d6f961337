import { openDatabase, rebuildProjection } from '@orderflow/eventstore';
import { transportFor } from './broker';
import type { Static } from '@sinclair/typebox';
import { loadConfig, type commonConfig } from './config';
import { databaseSchema, type ServiceDescription } from './run-service';

type Connection = { [K in keyof ReturnType<typeof commonConfig>]: Static<ReturnType<typeof commonConfig>[K]> };

/**
 * `node dist/replay.js`: rebuilds every read model of a service from scratch, with
 * the same configuration as the service: those of its own event log, then those
 * built from other services' topics. Safe while the service runs. The HTTP and
 * Nest parts of the description play no part here.
 */
export function replayCommand(definition: ServiceDescription): void {
  const run = async () => {
    const config = loadConfig(definition.configSchema) as Connection;
    const dataSource = await openDatabase({
      url: config.DATABASE_URL,
      database: config.DATABASE_NAME,
      ...databaseSchema(definition),
    });
    try {
      for (const projection of definition.projections) {
        const started = Date.now();
        const streams = await rebuildProjection(dataSource, projection);
        process.stdout.write(`${definition.name}: rebuilt ${projection.table} from ${streams} stream(s) in ${Date.now() - started} ms\n`);
      }
      if (definition.topicRebuilds?.length) {
        const transport = transportFor(config, { clientId: `orderflow-${definition.name}-replay` });
        try {
          for (const topicRebuild of definition.topicRebuilds) {
            if (topicRebuild.rebuildableOn && !topicRebuild.rebuildableOn.includes(transport.kind)) {
              process.stdout.write(
                `${definition.name}: left ${topicRebuild.table} as it is: it is rebuilt from a topic's history, which ${transport.kind} does not keep (only ${topicRebuild.rebuildableOn.join(', ')})\n`,
              );
              continue;
            }
            const started = Date.now();
            const report = await topicRebuild.rebuild(dataSource, transport, config.TOPIC_PREFIX);
            process.stdout.write(`${definition.name}: rebuilt ${topicRebuild.table} ${report} in ${Date.now() - started} ms\n`);
          }
        } finally {
          await transport.close();
        }
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
