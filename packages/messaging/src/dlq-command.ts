import { ALL_TOPICS } from '@orderflow/contracts';
import type { DeadLetter, DeadLetterFilter } from './dead-letters';
import { DeadLetterHeaders } from './headers';
import type { Transport } from './transport';

export interface DlqCommandContext {
  /** Called only once the arguments are valid: a usage error never needs a broker. Closed by the command. */
  transport: () => Transport;
  /** The environment's prefix, for the report. */
  prefix: string;
  out: (text: string) => void;
  err: (text: string) => void;
}

export const DLQ_USAGE = `usage: npm run dlq -- list    [--topic <topic>] [filters] [--json]
       npm run dlq -- redrive --topic <topic> [filters] [--dry-run] [--json]
filters (all given must match):
  --group <group>      the consumer group that parked the letter, e.g. payment
  --type <EventType>   the event type, e.g. OrderPlaced
  --error <text>       a case-insensitive substring of the error
list without --topic reads every topic's .dlq. redrive republishes each matching
letter not redriven before to its topic, for the consumer group that parked it only.
topics: ${ALL_TOPICS.join(', ')}
environment: BROKER (kafka, rabbitmq or sqs; default kafka) and its address (KAFKA_BROKERS,
RABBITMQ_URL or SQS_ENDPOINT and AWS_REGION), TOPIC_PREFIX`;

interface Parsed extends DeadLetterFilter {
  command: 'list' | 'redrive';
  topic?: string;
  json: boolean;
  dryRun: boolean;
}

class UsageError extends Error {}

const VALUE_FLAGS = { '--topic': 'topic', '--group': 'group', '--type': 'type', '--error': 'error' } as const;

function parse(argv: readonly string[]): Parsed {
  const [command, ...rest] = argv;
  if (command !== 'list' && command !== 'redrive') {
    throw new UsageError(command === undefined ? 'missing command (list or redrive)' : `unknown command "${command}"`);
  }
  const parsed: Parsed = { command, json: false, dryRun: false };
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (flag === '--json' && inline === undefined) parsed.json = true;
    else if (flag === '--dry-run' && inline === undefined && command === 'redrive') parsed.dryRun = true;
    else if (flag in VALUE_FLAGS) {
      const value = inline ?? rest[++i];
      if (value === undefined || value === '' || value.startsWith('--')) throw new UsageError(`${flag} needs a value`);
      parsed[VALUE_FLAGS[flag as keyof typeof VALUE_FLAGS]] = value;
    } else throw new UsageError(`unexpected argument "${arg}"${flag === '--dry-run' ? ' (only redrive has a dry run)' : ''}`);
  }
  if (parsed.topic !== undefined && !(ALL_TOPICS as readonly string[]).includes(parsed.topic)) {
    throw new UsageError(`unknown topic "${parsed.topic}"`);
  }
  if (command === 'redrive' && parsed.topic === undefined) throw new UsageError('redrive needs --topic');
  return parsed;
}

const line = (l: DeadLetter): string =>
  `${l.topic}.dlq ${l.partition}@${l.offset} ${l.type ?? '?'} key=${l.key} group=${l.group ?? '?'}` +
  ` from ${l.headers[DeadLetterHeaders.originalTopic] ?? '?'}[${l.headers[DeadLetterHeaders.originalPartition] ?? '?'}]@${l.headers[DeadLetterHeaders.originalOffset] ?? '?'}` +
  `${l.redriven ? ' (redriven)' : ''}\n  error: ${l.error ?? '?'}`;

const asJson = (l: DeadLetter) => ({
  topic: l.topic,
  partition: l.partition,
  offset: l.offset,
  type: l.type ?? null,
  key: l.key,
  group: l.group ?? null,
  error: l.error ?? null,
  redriven: l.redriven,
  headers: l.headers,
  value: l.value,
});

/**
 * `npm run dlq`: lists and redrives dead letters. Returns the exit code: 0 done,
 * 2 usage error (the message names the bad argument), 1 failure.
 */
export async function runDlqCommand(argv: readonly string[], context: DlqCommandContext): Promise<number> {
  let parsed: Parsed;
  try {
    parsed = parse(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    context.err(`dlq: ${error.message}\n${DLQ_USAGE}\n`);
    return 2;
  }
  const { prefix } = context;
  const filter: DeadLetterFilter = { group: parsed.group, type: parsed.type, error: parsed.error };
  const transport = context.transport();
  try {
    if (parsed.command === 'list') {
      const letters = await transport.listDeadLetters({ topics: parsed.topic ? [parsed.topic] : ALL_TOPICS, ...filter });
      if (parsed.json) context.out(`${JSON.stringify(letters.map(asJson), null, 2)}\n`);
      else {
        for (const l of letters) context.out(`${line(l)}\n`);
        const pending = letters.filter((l) => !l.redriven).length;
        context.out(`${letters.length} dead letter(s), ${pending} not redriven${prefix ? ` (prefix ${prefix})` : ''}\n`);
      }
      return 0;
    }
    const topic = parsed.topic!;
    const result = await transport.redriveDeadLetters({ topic, dryRun: parsed.dryRun, ...filter });
    if (parsed.json) {
      context.out(
        `${JSON.stringify(
          {
            dryRun: parsed.dryRun,
            redriven: result.redriven.map(asJson),
            alreadyRedriven: result.alreadyRedriven.map(asJson),
            withoutGroup: result.withoutGroup.map(asJson),
          },
          null,
          2,
        )}\n`,
      );
      return 0;
    }
    const verb = parsed.dryRun ? 'would redrive' : 'redrove';
    for (const l of result.redriven) context.out(`${verb} ${line(l)}\n`);
    for (const l of result.withoutGroup) context.out(`skipped (no ${DeadLetterHeaders.consumerGroup} header) ${line(l)}\n`);
    context.out(
      `${verb} ${result.redriven.length} dead letter(s) from ${prefix}${topic}.dlq to ${prefix}${topic}` +
        `${result.alreadyRedriven.length ? `; ${result.alreadyRedriven.length} matching letter(s) were redriven before` : ''}` +
        `${parsed.dryRun ? ' (dry run: nothing published)' : ''}\n`,
    );
    return 0;
  } catch (error) {
    context.err(`dlq: ${(error as Error).message}\n`);
    return 1;
  } finally {
    await transport.close();
  }
}
