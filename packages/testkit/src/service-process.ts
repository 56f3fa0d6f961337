import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './infrastructure';

/**
 * The node flags every service runs with, read from the apps' `npm start` (`node
 * <flags> dist/main.js`), which a deploy test holds equal to the image's CMD: one
 * place to change them. Today a young generation of 32 MB semi-spaces (Node 20's
 * default is 16). Measured (README, Benchmark): at 600 orders/s, 9-12 % less CPU per
 * order and 12-16 % more orders completed. The likely reason: a batch keeps its
 * events alive across a few awaits, and a larger young generation lets more of them
 * die before a scavenge copies them.
 */
export const SERVICE_NODE_FLAGS: readonly string[] = startFlags();

function startFlags(): string[] {
  const flagsOf = (app: string): string[] => {
    const start = (JSON.parse(readFileSync(join(REPO_ROOT, 'apps', app, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
    return start.split(/\s+/).slice(1, -1);
  };
  const flags = flagsOf('orders');
  for (const app of ['payment', 'inventory', 'shipping']) {
    if (flagsOf(app).join(' ') !== flags.join(' ')) throw new Error(`apps/${app}'s npm start runs node with other flags than apps/orders': keep them the same`);
  }
  return flags;
}

export type ServiceName = 'orders' | 'payment' | 'inventory' | 'shipping';
export const SERVICES: readonly ServiceName[] = ['orders', 'payment', 'inventory', 'shipping'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One service as a real OS process, with its output in a log file. */
export class ServiceProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<number | null> | undefined;
  private logStream: WriteStream | undefined;

  constructor(
    readonly name: ServiceName,
    readonly port: number,
    private readonly env: Record<string, string>,
    readonly logFile: string,
  ) {}

  /** The environment the service runs with (on top of the caller's). */
  get environment(): Record<string, string> {
    return { ...this.env, PORT: String(this.port) };
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(): void {
    if (this.running) return;
    mkdirSync(join(this.logFile, '..'), { recursive: true });
    this.logStream = createWriteStream(this.logFile, { flags: 'a' });
    // ORDERFLOW_SERVICE_NODE_ARGS: extra node flags for the services, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile a run.
    const nodeArgs = (process.env['ORDERFLOW_SERVICE_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
    const child = spawn(process.execPath, [...SERVICE_NODE_FLAGS, ...nodeArgs, join(REPO_ROOT, 'apps', this.name, 'dist/main.js')], {
      env: { ...process.env, ...this.env, PORT: String(this.port), NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(this.logStream, { end: false });
    child.stderr?.pipe(this.logStream, { end: false });
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    this.child = child;
  }

  async waitReady(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`${this.name} exited during start-up (code ${this.child?.exitCode}); see ${this.logFile}`);
      try {
        const response = await fetch(`http://127.0.0.1:${this.port}/health/ready`);
        if (response.ok) return;
      } catch {
        // not listening yet
      }
      await sleep(250);
    }
    throw new Error(`${this.name} was not ready within ${timeoutMs} ms; see ${this.logFile}`);
  }

  /** Sends a signal and waits for the exit; returns the exit code and how long the stop took. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000): Promise<{ code: number | null; ms: number }> {
    if (!this.child || !this.running) return { code: this.child?.exitCode ?? null, ms: 0 };
    const started = Date.now();
    this.child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const code = await Promise.race([this.exited!, timeout]);
    clearTimeout(timer);
    if (code === 'timeout') {
      this.child.kill('SIGKILL');
      await this.exited;
      throw new Error(`${this.name} did not exit within ${timeoutMs} ms of ${signal}`);
    }
    this.logStream?.end();
    return { code, ms: Date.now() - started };
  }
}
