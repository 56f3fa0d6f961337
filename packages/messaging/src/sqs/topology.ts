import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  SetQueueAttributesCommand,
  type QueueAttributeName,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { ALL_TOPICS, SUBSCRIPTIONS, dlqTopicOf, type TopicName } from '@orderflow/contracts';
import { BrokerRefusedError } from '../errors';
import { isMissingQueue, toSqsBrokerError } from './errors';

const MAX_QUEUE_NAME = 80;
/** SQS's backstop for a consumer that dies on a message again and again; the consumer parks poison itself, with the error. */
export const MAX_RECEIVE_COUNT = 10;

/** SQS queue names allow letters, digits, `-` and `_` only. */
const sanitized = (name: string): string => name.replace(/[^A-Za-z0-9_-]/g, '-');
const hyphenated = (topic: string): string => topic.replace(/\./g, '-');

export function isTopic(topic: string): topic is TopicName {
  return (ALL_TOPICS as readonly string[]).includes(topic);
}

/** Where a message to one topic goes: every subscribed group's queue, or a topic's dead-letter queue. */
export interface Route {
  /** The topic the queues belong to (for a dead letter, the original topic). */
  topic: TopicName;
  deadLetter: boolean;
  queues: string[];
}

/**
 * The queues that stand for Kafka's topics and consumer groups: a FIFO queue per
 * (group, topic) of `SUBSCRIPTIONS`, `<prefix><group>--<topic>.fifo`, and a FIFO
 * dead-letter queue per topic, `<prefix><topic>--dlq.fifo`. SQS has no fan-out of
 * its own (that would be SNS), so the publisher sends a topic's message to each
 * of its groups' queues.
 */
export class SqsTopology {
  /** The environment's prefix as it stands in queue names. */
  readonly namePrefix: string;

  constructor(readonly topicPrefix: string) {
    this.namePrefix = sanitized(topicPrefix);
  }

  groupQueue(group: string, topic: string): string {
    return `${this.namePrefix}${sanitized(group)}--${sanitized(hyphenated(topic))}.fifo`;
  }

  deadLetterQueue(topic: string): string {
    return `${this.namePrefix}${sanitized(hyphenated(topic))}--dlq.fifo`;
  }

  groupsOf(topic: TopicName): readonly string[] {
    return SUBSCRIPTIONS[topic];
  }

  /** Unprefixed topic as the consumer delivers it: with the environment's prefix. */
  prefixed(topic: string): string {
    return `${this.topicPrefix}${topic}`;
  }

  /** `redriveFor` narrows a topic's fan-out to one group's queue: a redriven event is that group's alone. */
  route(topic: string, redriveFor?: string): Route {
    if (isTopic(topic)) {
      const groups = redriveFor === undefined ? this.groupsOf(topic) : this.groupsOf(topic).filter((g) => g === redriveFor);
      if (groups.length === 0) {
        throw new BrokerRefusedError('NoSubscription', `broker refused: no consumer group ${redriveFor === undefined ? 'reads' : `${redriveFor} reads`} ${topic} (SUBSCRIPTIONS)`);
      }
      return { topic, deadLetter: false, queues: groups.map((g) => this.groupQueue(g, topic)) };
    }
    const original = topic.endsWith('.dlq') ? topic.slice(0, -'.dlq'.length) : undefined;
    if (original !== undefined && isTopic(original) && dlqTopicOf(original) === topic) {
      return { topic: original, deadLetter: true, queues: [this.deadLetterQueue(original)] };
    }
    throw new BrokerRefusedError('UnknownTopic', `broker refused: ${topic} is not a topic of the contracts`);
  }

  /** Every queue of the environment, dead-letter queues first (the others' redrive policies name them). */
  queues(): { name: string; deadLetterQueue?: string }[] {
    const all = [
      ...ALL_TOPICS.map((topic) => ({ name: this.deadLetterQueue(topic) })),
      ...ALL_TOPICS.flatMap((topic) => this.groupsOf(topic).map((group) => ({ name: this.groupQueue(group, topic), deadLetterQueue: this.deadLetterQueue(topic) }))),
    ];
    const tooLong = all.filter((q) => q.name.length > MAX_QUEUE_NAME).map((q) => q.name);
    if (tooLong.length > 0) {
      throw new RangeError(`SQS queue names are at most ${MAX_QUEUE_NAME} characters; shorten the topic prefix "${this.topicPrefix}": ${tooLong.join(', ')}`);
    }
    return all;
  }
}

/** Queue URLs by name, asked once (GetQueueUrl); a missing queue is a BrokerRefusedError and is asked again next time. */
export class QueueUrls {
  private readonly urls = new Map<string, Promise<string>>();

  constructor(private readonly client: SQSClient) {}

  get(name: string): Promise<string> {
    let url = this.urls.get(name);
    if (!url) {
      url = this.client.send(new GetQueueUrlCommand({ QueueName: name })).then(
        (out) => out.QueueUrl ?? Promise.reject(new Error(`no URL for queue ${name}`)),
        (error: unknown) => Promise.reject(toSqsBrokerError(error, `queue ${name}`)),
      );
      url.catch(() => this.urls.delete(name));
      this.urls.set(name, url);
    }
    return url;
  }

  /** The URL, or undefined when the queue does not exist; other failures throw. */
  async find(name: string): Promise<string | undefined> {
    try {
      return await this.get(name);
    } catch (error) {
      if (isMissingQueue(error)) return undefined;
      throw error;
    }
  }

  forget(name: string): void {
    this.urls.delete(name);
  }
}

function desiredAttributes(visibilityTimeoutSeconds: number, deadLetterArn?: string): Partial<Record<QueueAttributeName, string>> {
  return {
    FifoQueue: 'true',
    ContentBasedDeduplication: 'false',
    VisibilityTimeout: String(visibilityTimeoutSeconds),
    ...(deadLetterArn ? { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: deadLetterArn, maxReceiveCount: MAX_RECEIVE_COUNT }) } : {}),
  };
}

/** The attributes of `current` that differ from `desired`; a redrive policy is compared by meaning, not text. */
function differing(desired: Partial<Record<QueueAttributeName, string>>, current: Partial<Record<string, string>>): Partial<Record<QueueAttributeName, string>> {
  const changes: Partial<Record<QueueAttributeName, string>> = {};
  for (const [name, value] of Object.entries(desired) as [QueueAttributeName, string][]) {
    if (name === 'FifoQueue') continue; // fixed at creation, and implied by the .fifo name
    const now = current[name];
    if (name === 'RedrivePolicy' && now !== undefined) {
      const a = JSON.parse(value) as { deadLetterTargetArn: string; maxReceiveCount: number };
      const b = JSON.parse(now) as { deadLetterTargetArn?: string; maxReceiveCount?: number | string };
      if (a.deadLetterTargetArn === b.deadLetterTargetArn && String(a.maxReceiveCount) === String(b.maxReceiveCount)) continue;
    } else if (now === value) continue;
    changes[name] = value;
  }
  return changes;
}

/**
 * Creates the environment's queues that are missing and brings the attributes of
 * existing ones in line. CreateQueue is idempotent for identical attributes, so
 * instances booting together do no harm. Returns the names it created.
 */
export async function ensureQueues(client: SQSClient, urls: QueueUrls, topology: SqsTopology, visibilityTimeoutSeconds: number): Promise<string[]> {
  const created: string[] = [];
  const arns = new Map<string, string>();
  for (const queue of topology.queues()) {
    const deadLetterArn = queue.deadLetterQueue === undefined ? undefined : arns.get(queue.deadLetterQueue);
    const desired = desiredAttributes(visibilityTimeoutSeconds, deadLetterArn);
    try {
      let url = await urls.find(queue.name);
      if (url === undefined) {
        url = (await client.send(new CreateQueueCommand({ QueueName: queue.name, Attributes: desired }))).QueueUrl!;
        created.push(queue.name);
      } else {
        const { Attributes: current = {} } = await client.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }));
        const changes = differing(desired, current);
        if (Object.keys(changes).length > 0) await client.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: changes }));
      }
      if (queue.deadLetterQueue === undefined) {
        const { Attributes } = await client.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
        arns.set(queue.name, Attributes?.QueueArn ?? '');
      }
    } catch (error) {
      throw toSqsBrokerError(error, `setting up queue ${queue.name}`);
    }
  }
  return created;
}

/** Every queue whose name starts with the prefix, following ListQueues' pages. */
export async function listQueueUrls(client: SQSClient, namePrefix: string): Promise<string[]> {
  const urls: string[] = [];
  let NextToken: string | undefined;
  do {
    const out = await client.send(new ListQueuesCommand({ MaxResults: 1000, ...(namePrefix ? { QueueNamePrefix: namePrefix } : {}), ...(NextToken ? { NextToken } : {}) }));
    urls.push(...(out.QueueUrls ?? []));
    NextToken = out.NextToken;
  } while (NextToken);
  return urls;
}
