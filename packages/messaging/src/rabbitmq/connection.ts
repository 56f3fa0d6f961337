import * as amqp from 'amqplib';
import { BrokerRefusedError, BrokerUnavailableError, toBrokerError, type BrokerError } from '../errors';

export const RABBITMQ_URL_VARIABLE = 'RABBITMQ_URL';

/** How long opening a connection (TCP, AMQP handshake, vhost) may take before it counts as unreachable. */
const CONNECT_TIMEOUT_MS = 5_000;
/** A broker that vanished without closing the socket is noticed after about two heartbeats. */
const HEARTBEAT_SECONDS = 10;

/** The URL without its password, for log lines and errors: `amqp://guest@127.0.0.1:5672`. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '';
    return parsed.toString().replace(/\/$/, '').replace(/:@/, '@');
  } catch {
    return '(unparseable URL)';
  }
}

function withHeartbeat(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.searchParams.has('heartbeat')) parsed.searchParams.set('heartbeat', String(HEARTBEAT_SECONDS));
    return parsed.toString();
  } catch {
    return url;
  }
}

/** Says which of the usual set-up mistakes stopped the connection, naming the variable to fix. */
function connectError(error: unknown, url: string): BrokerUnavailableError {
  const where = `RabbitMQ at ${redactUrl(url)}`;
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    return new BrokerUnavailableError('INVALID_URL', `${RABBITMQ_URL_VARIABLE} is not a URL (amqp://user:password@host:5672/vhost)`, { cause: error });
  }
  const user = decodeURIComponent(parsed.username || 'guest');
  const vhost = parsed.pathname.length > 1 ? decodeURIComponent(parsed.pathname.slice(1)) : '/';
  const fix = `check ${RABBITMQ_URL_VARIABLE}`;
  if (code === 'ECONNREFUSED') return new BrokerUnavailableError('ECONNREFUSED', `${where} refused the connection: nothing listens there (${message}); ${fix}`, { cause: error });
  if (/ACCESS.REFUSED/.test(message)) {
    return new BrokerUnavailableError('ACCESS_REFUSED', `${where} refused the login of user '${user}' (${message}); ${fix}`, { cause: error });
  }
  // RabbitMQ answers an unknown (or forbidden) vhost by closing the connection during connection.open.
  if (/ConnectionOpenOk|NOT.ALLOWED/.test(message)) {
    return new BrokerUnavailableError('NOT_ALLOWED', `${where} closed the connection opening virtual host '${vhost}': it does not exist or user '${user}' may not use it; ${fix}`, { cause: error });
  }
  if (/ETIMEDOUT/.test(message) || code === 'ETIMEDOUT') {
    return new BrokerUnavailableError('ETIMEDOUT', `${where} did not answer within ${CONNECT_TIMEOUT_MS} ms; ${fix}`, { cause: error });
  }
  const name = typeof code === 'string' ? code : 'CONNECT_FAILED';
  return new BrokerUnavailableError(name, `could not connect to ${where}: ${message}; ${fix}`, { cause: error });
}

/** Opens a connection named `name` on the broker; rejects with a BrokerUnavailableError that says what failed. */
export async function openConnection(url: string, name: string): Promise<amqp.ChannelModel> {
  let connection: amqp.ChannelModel;
  try {
    connection = await amqp.connect(withHeartbeat(url), { timeout: CONNECT_TIMEOUT_MS, clientProperties: { connection_name: name } });
  } catch (error) {
    throw connectError(error, url);
  }
  // Without a listener an 'error' event would be thrown and take the process down; 'close' follows it.
  connection.on('error', () => undefined);
  return connection;
}

/**
 * A channel whose server-side closure (404, 406) is recorded instead of crashing
 * the connection: an 'error' without a listener is rethrown by amqplib and closes
 * the whole connection.
 */
export async function openChannel(connection: amqp.ChannelModel): Promise<amqp.Channel & { closedBy?: Error }> {
  const channel: amqp.Channel & { closedBy?: Error } = await connection.createChannel();
  channel.on('error', (error: Error) => (channel.closedBy = error));
  return channel;
}

export async function openConfirmChannel(connection: amqp.ChannelModel): Promise<amqp.ConfirmChannel & { closedBy?: Error }> {
  const channel: amqp.ConfirmChannel & { closedBy?: Error } = await connection.createConfirmChannel();
  channel.on('error', (error: Error) => (channel.closedBy = error));
  return channel;
}

/** Closes without caring whether it is still open. */
export async function closeQuietly(closable: { close(): Promise<void> } | undefined): Promise<void> {
  await closable?.close().catch(() => undefined);
}

/**
 * AMQP reply codes that say the request itself cannot succeed: a missing exchange
 * or queue (404, the topology was not set up), a declaration at odds with what
 * exists (406), a permission (403), an unroutable mandatory message (312).
 * Everything else (a closed connection or channel, a timeout) is worth retrying.
 */
const REFUSED_CODES: Record<number, string> = { 312: 'NO_ROUTE', 403: 'ACCESS_REFUSED', 404: 'NOT_FOUND', 406: 'PRECONDITION_FAILED' };

/** Classifies an amqplib failure once, where it happened; our coded errors pass unchanged. */
export function toRabbitError(error: unknown): BrokerError {
  if (error instanceof BrokerUnavailableError || error instanceof BrokerRefusedError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (typeof code === 'number' && REFUSED_CODES[code]) {
    return new BrokerRefusedError(REFUSED_CODES[code], `RabbitMQ refused: ${message}`, { cause: error });
  }
  if (typeof code === 'number' || /closed|IllegalOperation/i.test(message) || (error as Error | null)?.name === 'IllegalOperationError') {
    return new BrokerUnavailableError(typeof code === 'number' ? String(code) : 'CONNECTION_CLOSED', `RabbitMQ unavailable: ${message}`, { cause: error });
  }
  return toBrokerError(error);
}

/** Rejects with a BrokerUnavailableError when `work` takes longer than `ms`; `onTimeout` cleans up (e.g. drops the connection). */
export async function within<T>(ms: number, what: string, work: Promise<T>, onTimeout?: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout?.();
      reject(new BrokerUnavailableError('TIMEOUT', `RabbitMQ did not answer ${what} within ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
