import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';

const run = promisify(execFile);

/** The repository root, found from this package's location. */
export const REPO_ROOT = resolve(__dirname, '../../..');

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432';

export function databaseServerUrl(): string {
  return process.env['DATABASE_URL'] ?? DEFAULT_DATABASE_URL;
}

async function postgresAnswers(url: string): Promise<boolean> {
  const client = new Client({ connectionString: `${url}/postgres`, connectionTimeoutMillis: 2_000 });
  client.on('error', () => undefined); // a server going away also rejects the awaited call below
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Starts the machine's PostgreSQL cluster if it is installed but stopped (unless DATABASE_URL points elsewhere). */
export async function ensurePostgres(log: (line: string) => void = () => undefined): Promise<void> {
  const url = databaseServerUrl();
  if (await postgresAnswers(url)) return;
  if (process.env['DATABASE_URL'] || !existsSync('/etc/postgresql')) {
    throw new Error(`PostgreSQL does not answer at ${url}`);
  }
  const version = readdirSync('/etc/postgresql')[0];
  if (!version) throw new Error('PostgreSQL is installed but has no cluster in /etc/postgresql');
  log(`starting PostgreSQL ${version}`);
  await run('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start']);
  for (let i = 0; i < 30; i++) {
    if (await postgresAnswers(url)) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`PostgreSQL did not come up at ${url}`);
}

const KAFKA_SCRIPT = join(REPO_ROOT, 'infra/kafka/kafka.sh');

/** True when this project runs its own broker (KAFKA_BROKERS unset), so tests may stop and restart it. */
export const managesKafka = (): boolean => !process.env['KAFKA_BROKERS'];

export function kafkaBrokers(): string {
  return process.env['KAFKA_BROKERS'] ?? `127.0.0.1:${process.env['KAFKA_PORT'] ?? '9092'}`;
}

export async function kafka(command: 'start' | 'stop' | 'status'): Promise<string> {
  const { stdout, stderr } = await run('bash', [KAFKA_SCRIPT, command], { maxBuffer: 10 * 1024 * 1024 });
  return `${stdout}${stderr}`;
}

