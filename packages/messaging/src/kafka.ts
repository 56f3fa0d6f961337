import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import { applyKafkajsIdleFix } from './kafkajs-idle-fix';

export interface KafkaConnectionOptions {
  brokers: string[];
  clientId: string;
  logger?: MessagingLogger;
}

/** What a log line may say about the event and order it concerns (service-kit's logger writes them as fields). */
export interface LogFields {
  orderId?: string;
  correlationId?: string;
  eventId?: string;
  eventType?: string;
  /** The event's stored trace, for a line written outside any span. */
  traceparent?: string;
}

export interface MessagingLogger {
  log(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

const silentLogger: MessagingLogger = { log: () => undefined, warn: () => undefined, error: () => undefined };

/** kafkajs logs to stdout as JSON by default; route its warnings and errors to ours instead. */
export function createKafka({ brokers, clientId, logger = silentLogger }: KafkaConnectionOptions): Kafka {
  applyKafkajsIdleFix();
  return new Kafka({
    clientId,
    brokers,
    connectionTimeout: 3_000,
    requestTimeout: 30_000,
    retry: { initialRetryTime: 200, retries: 8, maxRetryTime: 5_000 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log }: LogEntry) => {
        // Retries are bounded so the outbox relay can back off and report; a batch
        // sent twice after a failure is absorbed by the consumers' inboxes.
        if (log.message.startsWith('Limiting retries for the idempotent producer')) return;
        const line = `kafka: ${log.message}${log['error'] ? ` (${String(log['error'])})` : ''}`;
        if (level <= logLevel.ERROR) logger.error(line);
        else logger.warn(line);
      },
  });
}

export function parseBrokers(value: string): string[] {
  return value
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
}
