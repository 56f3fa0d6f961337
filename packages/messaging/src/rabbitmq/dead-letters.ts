import { createHash } from 'node:crypto';
import { dlqTopicOf } from '@orderflow/contracts';
import type * as amqp from 'amqplib';
import { matchesFilter, queuedLetter, redriveMessage, type DeadLetter, type DeadLetterQuery, type RedriveOptions, type RedriveResult } from '../dead-letters';
import { DeadLetterHeaders } from '../headers';
import type { OutgoingMessage } from '../publisher';
import type { Publisher } from '../transport';
import { closeQuietly, openChannel } from './connection';
import { fromAmqp } from './headers';
import { dlqQueueOf, exchangeOf, type Naming } from './topology';

const REDRIVE_CHUNK = 100;

interface Taken {
  letter: DeadLetter;
  message: amqp.GetMessage;
}

/**
 * A letter's place: RabbitMQ has no offsets, and a delivery tag changes with every
 * read, so the id is a digest of the letter itself (its headers, which include the
 * event id, the group and when it was parked, and its value). It stays the same
 * for as long as the letter sits in the queue.
 */
function letterId(headers: Record<string, string>, value: string): string {
  const hash = createHash('sha256');
  for (const name of Object.keys(headers).sort()) hash.update(`${name}\u0000${headers[name]}\u0000`);
  return hash.update(value).digest('hex').slice(0, 16);
}

/**
 * Takes every letter of `<topic>.dlq` off the queue without acknowledging it
 * (`basic.get`, no-ack off), in queue order, on `channel`: closing the channel
 * gives back all that were not acknowledged, in order. A missing queue reads as empty.
 */
async function takeAll(connection: amqp.ChannelModel, naming: Naming, topic: string): Promise<{ channel: amqp.Channel; taken: Taken[] }> {
  const channel = await openChannel(connection);
  const taken: Taken[] = [];
  try {
    for (;;) {
      const message = await channel.get(dlqQueueOf(naming, topic), { noAck: false });
      if (message === false) break;
      const { key, headers } = fromAmqp(message.properties);
      const value = message.content.toString('utf8');
      taken.push({ message, letter: queuedLetter(topic, letterId(headers, value), { key, value, headers }) });
    }
  } catch (error) {
    await closeQuietly(channel);
    if ((error as { code?: unknown }).code === 404) return { channel: await openChannel(connection), taken: [] };
    throw error;
  }
  return { channel, taken };
}

/** What is parked in each topic's `.dlq` queue, matching the filter; every letter stays where it was. */
export async function listRabbitDeadLetters(connection: amqp.ChannelModel, naming: Naming, query: Omit<DeadLetterQuery, 'prefix'>): Promise<DeadLetter[]> {
  const letters: DeadLetter[] = [];
  for (const topic of query.topics) {
    const { channel, taken } = await takeAll(connection, naming, topic);
    await closeQuietly(channel);
    letters.push(...taken.map((t) => t.letter));
  }
  return letters.filter((l) => matchesFilter(l, query));
}

/**
 * Republishes the matching letters of `<topic>.dlq` not redriven before to
 * `<topic>`, each addressed to the group that parked it (`dlq-redrive-for`; the
 * other groups' queues receive it too and skip it), routed to the partition of its
 * key. Once the broker confirmed it, a copy of the letter marked `dlq-redriven-at`
 * is parked again and the original acknowledged, so the letter stays listed and a
 * second redrive counts it as already redriven; the rest goes back to the queue in
 * order. A crash between the confirms and the acknowledgement leaves the original
 * unmarked, to be redriven again next time, which the consumers' inboxes absorb.
 */
export async function redriveRabbitDeadLetters(
  connection: amqp.ChannelModel,
  publisher: Publisher,
  naming: Naming,
  options: Omit<RedriveOptions, 'prefix'>,
): Promise<RedriveResult> {
  const check = await openChannel(connection);
  try {
    await check.checkExchange(exchangeOf(naming, options.topic));
    await check.checkQueue(dlqQueueOf(naming, options.topic));
  } catch (error) {
    throw new Error(`RabbitMQ has no exchange ${exchangeOf(naming, options.topic)} or queue ${dlqQueueOf(naming, options.topic)}: ${(error as Error).message}`, { cause: error });
  } finally {
    await closeQuietly(check);
  }

  const { channel, taken } = await takeAll(connection, naming, options.topic);
  try {
    const matching = taken.filter((t) => matchesFilter(t.letter, options));
    const fresh = matching.filter((t) => !t.letter.redriven);
    const toRedrive = fresh.filter((t) => t.letter.group !== undefined);
    const result: RedriveResult = {
      redriven: toRedrive.map((t) => t.letter),
      alreadyRedriven: matching.filter((t) => t.letter.redriven).map((t) => t.letter),
      withoutGroup: fresh.filter((t) => t.letter.group === undefined).map((t) => t.letter),
    };
    if (options.dryRun) return result;
    const redrivenAt = new Date().toISOString();
    for (let i = 0; i < toRedrive.length; i += REDRIVE_CHUNK) {
      const chunk = toRedrive.slice(i, i + REDRIVE_CHUNK);
      await publisher.send(chunk.map((t) => redriveMessage(t.letter)));
      // The letter stays on record, marked, as Kafka keeps it: its marked copy replaces it at the end of the queue.
      await publisher.send(chunk.map((t) => markedRedriven(t.letter, redrivenAt)));
      for (const t of chunk) channel.ack(t.message);
    }
    return result;
  } finally {
    // Gives back, in order, every letter not acknowledged above.
    await closeQuietly(channel);
  }
}

function markedRedriven(letter: DeadLetter, at: string): OutgoingMessage {
  return { topic: dlqTopicOf(letter.topic), key: letter.key ?? '', value: letter.value ?? '', headers: { ...letter.headers, [DeadLetterHeaders.redrivenAt]: at } };
}
