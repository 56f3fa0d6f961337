import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
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
