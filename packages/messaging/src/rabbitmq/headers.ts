/**
 * The message key (order id, or sku) travels as this AMQP header: RabbitMQ has no
 * key of its own, and the routing key carries the partition. The consumer takes it
 * off again, so handlers and dead letters see the same headers as on Kafka.
 */
export const KEY_HEADER = 'key';

/** AMQP header values as strings (the publisher sends strings; RabbitMQ's own, like `x-death`, are tables and left out). */
export function amqpHeaderStrings(headers: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (typeof value === 'string') out[name] = value;
    else if (Buffer.isBuffer(value)) out[name] = value.toString('utf8');
    else if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') out[name] = String(value);
  }
  return out;
}

/** The key and the event's headers of a received message; RabbitMQ's own `x-` headers (x-delivery-count, x-death) are not part of the event. */
export function fromAmqp(properties: { headers?: unknown }): { key: string | null; headers: Record<string, string> } {
  const headers = amqpHeaderStrings(properties.headers as Record<string, unknown> | undefined);
  const key = headers[KEY_HEADER] ?? null;
  delete headers[KEY_HEADER];
  for (const name of Object.keys(headers)) if (name.startsWith('x-')) delete headers[name];
  return { key, headers };
}
