import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as amqp from 'amqplib';
import { RabbitMqTransport, type RabbitMqTransportOptions } from '../src/rabbitmq/transport';
import { randomSuffix } from './support';

export const RABBITMQ_URL = process.env['RABBITMQ_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672';

const run = promisify(execFile);

/**
 * One test's private corner of the shared broker: every exchange and queue under a
 * random prefix, deleted by `cleanup()` after what was registered with `onCleanup`
 * was closed.
 */
export class RabbitSandbox {
  readonly prefix = `it-${randomSuffix()}.`;
  private readonly closers: (() => Promise<unknown>)[] = [];

  constructor(readonly partitions = 2) {}

  /** A transport of this sandbox (closed at cleanup). */
  transport(options: Partial<RabbitMqTransportOptions> = {}): RabbitMqTransport {
    const transport = new RabbitMqTransport({ url: RABBITMQ_URL, clientId: 'it-rabbitmq', topicPrefix: this.prefix, partitions: this.partitions, ...options });
    this.onCleanup(() => transport.close());
    return transport;
  }

  /** Runs `close` during cleanup (last registered, first closed). */
  onCleanup(close: () => Promise<unknown>): void {
    this.closers.push(close);
  }

  /** A raw connection for what the transport does not do (declaring odd shapes, inspecting queues); closed at cleanup. */
  async connection(): Promise<amqp.ChannelModel> {
    const connection = await amqp.connect(RABBITMQ_URL);
    connection.on('error', () => undefined);
    this.onCleanup(() => connection.close());
    return connection;
  }

  /** Closes what was registered, then deletes the sandbox's topology. */
  async cleanup(): Promise<void> {
    for (const close of this.closers.splice(0).reverse()) await close().catch(() => undefined);
    const transport = new RabbitMqTransport({ url: RABBITMQ_URL, clientId: 'it-rabbitmq-cleanup', topicPrefix: this.prefix, partitions: this.partitions });
    await transport.tearDown();
    await transport.close();
  }
}

/** Closes the broker side of every connection whose name starts with `namePrefix`, as a crash or a network cut would look to the client. */
export async function killConnections(namePrefix: string): Promise<number> {
  const { stdout } = await run('rabbitmqctl', ['list_connections', 'pid', 'client_properties', '-q', '--no-table-headers']);
  const pids = stdout
    .split('\n')
    .filter((line) => line.includes(`{"connection_name","${namePrefix}`))
    .map((line) => line.split('\t')[0]!);
  for (const pid of pids) await run('rabbitmqctl', ['close_connection', pid, 'killed by a test']);
  return pids.length;
}
