import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { brokerEnv } from './broker';
import { REPO_ROOT, databaseServerUrl } from './infrastructure';
import { SERVICES, ServiceProcess, type ServiceName } from './service-process';

const run = promisify(execFile);

export interface ClusterOptions {
  /** Prefix of every topic and consumer group; '' for the real topics. */
  topicPrefix: string;
  /** Appended to each database name: `orderflow_orders<suffix>`. */
  databaseSuffix: string;
  /** orders gets basePort, payment +1, inventory +2, shipping +3. */
  basePort: number;
  jwtSecret: string;
  logDir: string;
  extraEnv?: Partial<Record<ServiceName, Record<string, string>>>;
}

/** The four services as separate processes sharing one broker and one PostgreSQL server. */
export class Cluster {
  readonly services: Record<ServiceName, ServiceProcess>;

  constructor(readonly options: ClusterOptions) {
    const entries = SERVICES.map((name, i) => {
      const env: Record<string, string> = {
        DATABASE_URL: databaseServerUrl(),
        DATABASE_NAME: this.databaseOf(name),
        ...brokerEnv(),
        TOPIC_PREFIX: options.topicPrefix,
        ...(name === 'orders' ? { AUTH_JWT_SECRET: options.jwtSecret } : {}),
        ...options.extraEnv?.[name],
      };
      return [name, new ServiceProcess(name, options.basePort + i, env, join(options.logDir, `${name}.log`))] as const;
    });
    this.services = Object.fromEntries(entries) as Record<ServiceName, ServiceProcess>;
  }

  databaseOf(name: ServiceName): string {
    return `orderflow_${name}${this.options.databaseSuffix}`;
  }

  url(name: ServiceName): string {
    return `http://127.0.0.1:${this.services[name].port}`;
  }

  async start(names: readonly ServiceName[] = SERVICES): Promise<void> {
    for (const name of names) this.services[name].start();
    await Promise.all(names.map((name) => this.services[name].waitReady()));
  }

  async stop(): Promise<void> {
    await Promise.all(SERVICES.map((name) => this.services[name].stop('SIGTERM').catch(() => undefined)));
  }

  /** Runs a service's replay command: rebuilds its read models from its event log. */
  async replay(name: ServiceName): Promise<string> {
    const { stdout } = await run(process.execPath, [join(REPO_ROOT, 'apps', name, 'dist/replay.js')], {
      env: { ...process.env, ...this.services[name].environment },
    });
    return stdout;
  }

  /** Runs the inventory seed command against this cluster's inventory database. */
  async seed(catalogFile?: string): Promise<string> {
    const inventory = this.services.inventory;
    const { stdout } = await run(
      process.execPath,
      [join(REPO_ROOT, 'apps/inventory/dist/seed.js'), ...(catalogFile ? [catalogFile] : [])],
      {
        env: {
          ...process.env,
          DATABASE_URL: databaseServerUrl(),
          DATABASE_NAME: this.databaseOf('inventory'),
          ...brokerEnv(),
          TOPIC_PREFIX: this.options.topicPrefix,
          PORT: String(inventory.port),
        },
      },
    );
    return stdout;
  }

  /** Direct database access, for tests and invariant checks only: services never read each other's tables. */
  async query<T>(name: ServiceName, sql: string, params: unknown[] = []): Promise<T[]> {
    const client = new Client({ connectionString: `${databaseServerUrl()}/${this.databaseOf(name)}` });
    // A server that goes away mid-query (the chaos suite restarts it) also emits 'error'
    // on the client: unheard, that crashes the test process; the awaited call rejects anyway.
    client.on('error', () => undefined);
    await client.connect();
    try {
      return (await client.query(sql, params)).rows as T[];
    } finally {
      await client.end();
    }
  }

  async dropDatabases(): Promise<void> {
    const client = new Client({ connectionString: `${databaseServerUrl()}/postgres` });
    client.on('error', () => undefined); // see query()
    await client.connect();
    try {
      for (const name of SERVICES) await client.query(`DROP DATABASE IF EXISTS "${this.databaseOf(name)}" WITH (FORCE)`);
    } finally {
      await client.end();
    }
  }
}
