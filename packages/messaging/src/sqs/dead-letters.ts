import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import { dlqTopicOf } from '@orderflow/contracts';
import { matchesFilter, queuedLetter, redriveMessage, type DeadLetter, type DeadLetterQuery, type RedriveOptions, type RedriveResult } from '../dead-letters';
import { DeadLetterHeaders } from '../headers';
import type { OutgoingMessage } from '../publisher';
import type { Publisher } from '../transport';
import { changeVisibility, deleteMessages, receive } from './queue-ops';
import type { QueueUrls, SqsTopology } from './topology';
import { decodeMessage } from './wire';

/** Long enough to read a dead-letter queue whole; the letters are given back right after. */
const HOLD_SECONDS = 30;
const REDRIVE_CHUNK = 100;

interface HeldLetter {
  letter: DeadLetter;
  message: Message;
}

/**
 * SQS has no reading without taking: the letters are received (hidden for
 * HOLD_SECONDS) until the queue answers empty, each letter once; the caller gives
 * back or deletes them. Every letter is its own message group, so no FIFO group
 * lock hides one behind another. Run one listing or redrive of a topic at a time:
 * a second one meanwhile sees the letters the first one holds as missing.
 */
async function holdLetters(client: SQSClient, url: string, topic: string): Promise<HeldLetter[]> {
  const held = new Map<string, HeldLetter>();
  for (;;) {
    const messages = await receive(client, url, { waitSeconds: 1, visibilitySeconds: HOLD_SECONDS });
    const fresh = messages.filter((m) => !held.has(m.MessageId!));
    for (const message of messages) held.set(message.MessageId!, { message, letter: letterOf(topic, message) });
    // Empty, or round again to letters whose hold ran out: everything was seen.
    if (fresh.length === 0) break;
  }
  return [...held.values()].sort((a, b) => Number(BigInt(a.letter.offset) - BigInt(b.letter.offset)));
}

function letterOf(topic: string, message: Message): DeadLetter {
  const decoded = decodeMessage(message, true);
  return queuedLetter(topic, decoded.sequenceNumber, decoded);
}

const giveBack = (client: SQSClient, url: string, held: readonly HeldLetter[]): Promise<unknown> =>
  changeVisibility(client, url, held.map((h) => h.message), 0);

/** What is parked in the topics' dead-letter queues and matches the filter; every letter is left in place. */
export async function listSqsDeadLetters(client: SQSClient, urls: QueueUrls, topology: SqsTopology, query: Omit<DeadLetterQuery, 'prefix'>): Promise<DeadLetter[]> {
  const letters: DeadLetter[] = [];
  for (const topic of query.topics) {
    const url = await urls.find(topology.deadLetterQueue(topic));
    if (url === undefined) continue;
    const held = await holdLetters(client, url, topic);
    await giveBack(client, url, held);
    letters.push(...held.map((h) => h.letter).filter((l) => matchesFilter(l, query)));
  }
  return letters;
}

/**
 * Sends each matching letter not redriven before straight to the queue of the
 * group that parked it (`dlq-redrive-for`, which the publisher routes by), without
 * the `dlq-*` headers; then puts the letter back into the dead-letter queue marked
 * `dlq-redriven-at` and deletes the original. SQS cannot mark a message in place,
 * so the queue stays the whole record of what failed, as Kafka's topic does, and a
 * later redrive skips it. A crash in between redrives a letter again next time,
 * which the consumer's inbox absorbs. Every other letter is given back untouched.
 */
export async function redriveSqsDeadLetters(
  client: SQSClient,
  urls: QueueUrls,
  topology: SqsTopology,
  publisher: Publisher,
  options: Omit<RedriveOptions, 'prefix'>,
): Promise<RedriveResult> {
  topology.route(options.topic);
  const url = await urls.find(topology.deadLetterQueue(options.topic));
  if (url === undefined) throw new Error(`queue ${topology.deadLetterQueue(options.topic)} does not exist`);
  const held = await holdLetters(client, url, options.topic);
  const matching = held.filter((h) => matchesFilter(h.letter, options));
  const fresh = matching.filter((h) => !h.letter.redriven);
  const toRedrive = options.dryRun ? [] : fresh.filter((h) => h.letter.group !== undefined);
  const result: RedriveResult = {
    redriven: fresh.filter((h) => h.letter.group !== undefined).map((h) => h.letter),
    alreadyRedriven: matching.filter((h) => h.letter.redriven).map((h) => h.letter),
    withoutGroup: fresh.filter((h) => h.letter.group === undefined).map((h) => h.letter),
  };
  let done = 0;
  try {
    const redrivenAt = new Date().toISOString();
    for (; done < toRedrive.length; done += REDRIVE_CHUNK) {
      const chunk = toRedrive.slice(done, done + REDRIVE_CHUNK);
      await publisher.send(chunk.map((h) => redriveMessage(h.letter)));
      await publisher.send(chunk.map((h) => markedRedriven(h.letter, redrivenAt)));
      await deleteMessages(client, url, chunk.map((h) => h.message));
    }
  } finally {
    const replaced = new Set(toRedrive.slice(0, done));
    await giveBack(client, url, held.filter((h) => !replaced.has(h)));
  }
  return result;
}

function markedRedriven(letter: DeadLetter, at: string): OutgoingMessage {
  return { topic: dlqTopicOf(letter.topic), key: letter.key ?? '', value: letter.value ?? '', headers: { ...letter.headers, [DeadLetterHeaders.redrivenAt]: at } };
}
