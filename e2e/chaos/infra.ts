import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '@orderflow/testkit';
import type { ChaosSettings } from './settings';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Crash-restarts the suite's own PostgreSQL cluster: no checkpoint, no goodbye to clients. */
export async function restartPostgresImmediately(settings: ChaosSettings): Promise<void> {
  const { version, name } = settings.postgresCluster;
  await run('pg_ctlcluster', ['--skip-systemctl-redirect', version, name, 'restart', '-m', 'immediate']);
  for (let i = 0; i < 60; i++) {
    try {
      await run('pg_isready', ['-q', '-h', '127.0.0.1', '-p', String(settings.postgresPort)]);
      return;
    } catch {
      await sleep(250);
    }
  }
  throw new Error(`PostgreSQL cluster ${version}/${name} did not come back after an immediate restart`);
}

/** Runs infra/kafka/kafka.sh for the suite's own broker (its own ports, cache and data). */
export async function suiteBroker(settings: ChaosSettings, command: 'start' | 'stop'): Promise<void> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...settings.kafkaEnv };
  // kafka.sh does nothing when KAFKA_BROKERS names a cluster: here it must manage its own.
  delete env['KAFKA_BROKERS'];
  await run('bash', [join(REPO_ROOT, 'infra/kafka/kafka.sh'), command], { env, maxBuffer: 10 * 1024 * 1024 });
}

/** SIGKILL to the suite's broker, as a machine or JVM crash would; waits until it is gone. */
export async function killBroker(settings: ChaosSettings): Promise<void> {
  const pid = Number(readFileSync(settings.kafkaPidFile, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 1) throw new Error(`no broker pid in ${settings.kafkaPidFile}`);
  const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  // Only ever the broker this suite started from its own cache directory.
  if (!cmdline.includes('kafka.Kafka') || !cmdline.includes(settings.kafkaEnv['ORDERFLOW_CACHE']!)) {
    throw new Error(`pid ${pid} is not the chaos suite's broker`);
  }
  process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(pid, 0);
      const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
      if (state === 'Z') return;
    } catch {
      return;
    }
    await sleep(100);
  }
  throw new Error(`broker pid ${pid} survived SIGKILL`);
}
