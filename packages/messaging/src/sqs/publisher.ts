import { ListQueuesCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { BrokerUnavailableError, type BrokerError } from '../errors';
import { DeadLetterHeaders } from '../headers';
import type { OutgoingMessage, PartitionedSendReport } from '../publisher';
import type { Publisher } from '../transport';
import { batchEntryError, isMissingQueue, toSqsBrokerError } from './errors';
import type { QueueUrls, SqsTopology } from './topology';
import { MAX_BATCH_ENTRIES, MAX_MESSAGE_BYTES, encodeMessage, type EncodedMessage } from './wire';

interface Pending<M> {
  message: M;
  /** Its place in the call: a key's messages after one that failed are held back, those before it are not. */
  index: number;
  /** The message's (topic, key): SQS's stand-in for a Kafka partition. */
  keyId: string;
  encoded: EncodedMessage;
}

const keyIdOf = (message: OutgoingMessage): string => `${message.topic}\u0000${message.key}`;

/** The first message of a key that some queue did not take, and why. */
interface KeyFailure {
  index: number;
  error: BrokerError;
}

function keyFailed(failedKeys: Map<string, KeyFailure>, keyId: string, index: number, error: BrokerError): void {
  const known = failedKeys.get(keyId);
  if (!known || index < known.index) failedKeys.set(keyId, { index, error });
}

/**
 * Publishes to SQS FIFO queues, doing the fan-out itself: a message to a topic goes
 * to the queue of every consumer group that reads it (`SUBSCRIPTIONS`), and counts
 * as acknowledged only once every one of those queues took it. Each queue gets
 * SendMessageBatch requests one after the other, queues in parallel, and a key at
 * most once per request: if SQS refuses an entry, no later entry of its key can
 * already be stored behind it, and the key's later messages of the call are not
 * sent at all. The event id is the deduplication id, so sending a failed group
 * again does not duplicate what some queues already took.
 */
export class SqsPublisher implements Publisher {
  constructor(
    private readonly client: SQSClient,
    private readonly urls: QueueUrls,
    private readonly topology: SqsTopology,
  ) {}

  async connect(): Promise<void> {
    try {
      await this.client.send(new ListQueuesCommand({ MaxResults: 1, ...(this.topology.namePrefix ? { QueueNamePrefix: this.topology.namePrefix } : {}) }));
    } catch (error) {
      throw toSqsBrokerError(error);
    }
  }

  async send(messages: readonly OutgoingMessage[]): Promise<void> {
    const failures = await this.deliver(messages);
    const first = messages.find((m) => failures.has(m));
    if (first) throw failures.get(first)!;
  }

  /**
   * Reports per (topic, key): the messages up to the first one some queue did not
   * take are acknowledged; that one and the key's later ones fail together with
   * its error.
   */
  async sendByPartition<M extends OutgoingMessage>(messages: readonly M[]): Promise<PartitionedSendReport<M>> {
    const report: PartitionedSendReport<M> = { acked: [], failed: [] };
    const failures = await this.deliver(messages);
    const byKey = new Map<string, M[]>();
    for (const message of messages) {
      const list = byKey.get(keyIdOf(message)) ?? [];
      list.push(message);
      byKey.set(keyIdOf(message), list);
    }
    for (const list of byKey.values()) {
      const failed = list.findIndex((m) => failures.has(m));
      if (failed < 0) {
        report.acked.push(...list);
        continue;
      }
      report.acked.push(...list.slice(0, failed));
      report.failed.push({ topic: list[0]!.topic, partition: undefined, messages: list.slice(failed), error: failures.get(list[failed]!)! });
    }
    return report;
  }

  async disconnect(): Promise<void> {
    // The client belongs to the transport, which destroys it on close().
  }

  /** Sends everything it can; returns the error of each message some queue did not take. */
  private async deliver<M extends OutgoingMessage>(messages: readonly M[]): Promise<Map<M, BrokerError>> {
    const failures = new Map<M, BrokerError>();
    const failedKeys = new Map<string, KeyFailure>();
    const byQueue = new Map<string, Pending<M>[]>();
    // Redrives are deduplicated per send: the same letter redriven again later is a new message.
    const stamp = new Date().toISOString();
    messages.forEach((message, index) => {
      const keyId = keyIdOf(message);
      try {
        const route = this.topology.route(message.topic, message.headers[DeadLetterHeaders.redriveFor]);
        const encoded = encodeMessage(message, route.deadLetter, `${stamp}#${index}`);
        for (const queue of route.queues) {
          const list = byQueue.get(queue) ?? [];
          list.push({ message, index, keyId, encoded });
          byQueue.set(queue, list);
        }
      } catch (error) {
        failures.set(message, toSqsBrokerError(error));
        keyFailed(failedKeys, keyId, index, failures.get(message)!);
      }
    });
    const fail = (pending: Pending<M>, error: BrokerError) => {
      if (!failures.has(pending.message)) failures.set(pending.message, error);
      keyFailed(failedKeys, pending.keyId, pending.index, error);
    };
    await Promise.all([...byQueue].map(([queue, pending]) => this.sendToQueue(queue, pending, failedKeys, fail)));
    return failures;
  }

  private async sendToQueue<M>(queue: string, pending: Pending<M>[], failedKeys: ReadonlyMap<string, KeyFailure>, fail: (p: Pending<M>, error: BrokerError) => void): Promise<void> {
    let url: string;
    try {
      url = await this.urls.get(queue);
    } catch (error) {
      for (const p of pending) fail(p, toSqsBrokerError(error, `queue ${queue}`));
      return;
    }
    let rest = pending;
    while (rest.length > 0) {
      const chunk: Pending<M>[] = [];
      const later: Pending<M>[] = [];
      const keysTaken = new Set<string>();
      let bytes = 0;
      for (const p of rest) {
        const keyFailure = failedKeys.get(p.keyId);
        if (keyFailure && keyFailure.index < p.index) {
          fail(p, keyFailure.error);
          continue;
        }
        // A key's next message waits for the request that carries the one before it.
        if (!keysTaken.has(p.keyId) && chunk.length < MAX_BATCH_ENTRIES && bytes + p.encoded.bytes <= MAX_MESSAGE_BYTES) {
          chunk.push(p);
          bytes += p.encoded.bytes;
        } else {
          later.push(p);
        }
        keysTaken.add(p.keyId);
      }
      rest = later;
      if (chunk.length === 0) continue;
      try {
        const out = await this.client.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: chunk.map((p, i) => ({ Id: String(i), ...p.encoded.entry })) }));
        const answered = new Set<string>();
        for (const entry of out.Failed ?? []) {
          answered.add(entry.Id ?? '');
          const p = chunk[Number(entry.Id)];
          if (p) fail(p, batchEntryError(entry, `queue ${queue}`));
        }
        for (const entry of out.Successful ?? []) answered.add(entry.Id ?? '');
        chunk.forEach((p, i) => {
          if (!answered.has(String(i))) fail(p, new BrokerUnavailableError('NoAnswer', `broker unavailable: queue ${queue} did not answer for a message`));
        });
      } catch (error) {
        // The queue is unreachable or gone: the rest of its messages would fail the same way.
        const failure = toSqsBrokerError(error, `queue ${queue}`);
        if (isMissingQueue(failure)) this.urls.forget(queue);
        for (const p of [...chunk, ...rest]) fail(p, failure);
        return;
      }
    }
  }
}
