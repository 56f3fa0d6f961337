import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type BatchResultErrorEntry,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { MAX_BATCH_ENTRIES, RECEIVE_ATTRIBUTES } from './wire';

/** Runs a batch operation over any number of messages, ten at a time; returns the entries SQS did not take. */
async function inBatches(messages: readonly Message[], send: (entries: { Id: string; ReceiptHandle: string }[]) => Promise<{ Failed?: BatchResultErrorEntry[] | undefined }>): Promise<BatchResultErrorEntry[]> {
  const failed: BatchResultErrorEntry[] = [];
  for (let i = 0; i < messages.length; i += MAX_BATCH_ENTRIES) {
    const entries = messages.slice(i, i + MAX_BATCH_ENTRIES).map((m, j) => ({ Id: String(i + j), ReceiptHandle: m.ReceiptHandle! }));
    failed.push(...((await send(entries)).Failed ?? []));
  }
  return failed;
}

export function deleteMessages(client: SQSClient, queueUrl: string, messages: readonly Message[]): Promise<BatchResultErrorEntry[]> {
  return inBatches(messages, (Entries) => client.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries })));
}

/** 0 makes the messages visible again at once; more keeps them hidden that many seconds from now. */
export function changeVisibility(client: SQSClient, queueUrl: string, messages: readonly Message[], seconds: number): Promise<BatchResultErrorEntry[]> {
  return inBatches(messages, (entries) =>
    client.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: queueUrl, Entries: entries.map((e) => ({ ...e, VisibilityTimeout: seconds })) })),
  );
}

export async function receive(
  client: SQSClient,
  queueUrl: string,
  options: { waitSeconds: number; visibilitySeconds?: number; abortSignal?: AbortSignal },
): Promise<Message[]> {
  const out = await client.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: MAX_BATCH_ENTRIES,
      WaitTimeSeconds: options.waitSeconds,
      ...(options.visibilitySeconds !== undefined ? { VisibilityTimeout: options.visibilitySeconds } : {}),
      MessageAttributeNames: [...RECEIVE_ATTRIBUTES.MessageAttributeNames],
      MessageSystemAttributeNames: [...RECEIVE_ATTRIBUTES.MessageSystemAttributeNames],
    }),
    options.abortSignal ? { abortSignal: options.abortSignal } : {},
  );
  return out.Messages ?? [];
}
