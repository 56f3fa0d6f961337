import type { LogLevel, LoggerService } from '@nestjs/common';
import { trace } from '@opentelemetry/api';
import type { AnyEvent } from '@orderflow/contracts';
import type { LogFields } from '@orderflow/messaging';
import { tracingEnabled } from './tracing';

export type LogFormat = 'json' | 'pretty';

/** What a log line about `event` says of it: its order, correlation, id, type and trace. */
export function eventLogFields(event: Pick<AnyEvent, 'subject' | 'correlationid' | 'id' | 'type' | 'traceparent'>): LogFields {
  return { orderId: event.subject, correlationId: event.correlationid, eventId: event.id, eventType: event.type, ...(event.traceparent ? { traceparent: event.traceparent } : {}) };
}

const LEVEL_NAMES: Record<LogLevel, string> = { fatal: 'fatal', error: 'error', warn: 'warn', log: 'info', debug: 'debug', verbose: 'trace' };
const FIELD_KEYS = ['orderId', 'correlationId', 'eventId', 'eventType', 'traceparent'] as const;
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-/;

function isFields(value: unknown): value is LogFields {
  return typeof value === 'object' && value !== null && !(value instanceof Error) && FIELD_KEYS.some((k) => k in value);
}

/**
 * Nest's logger for a service: JSON lines (level, time, service, context, message,
 * trace_id, span_id, order_id, correlation_id where known) for machines, or one
 * readable line per entry in a terminal. Only the message and the named fields
 * are written: never a request body, never the configuration.
 */
export class ServiceLogger implements LoggerService {
  private levels: Set<LogLevel>;

  constructor(
    private readonly service: string,
    private readonly format: LogFormat,
    levels: LogLevel[],
    private readonly write: (line: string) => void = (line) => process.stdout.write(line),
  ) {
    this.levels = new Set(levels);
  }

  setLogLevels(levels: LogLevel[]): void {
    this.levels = new Set(levels);
  }

  isEnabled(level: LogLevel): boolean {
    return this.levels.has(level);
  }

  log(message: unknown, ...params: unknown[]): void {
    this.print('log', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.print('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.print('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.print('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.print('verbose', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.print('fatal', message, params);
  }

  private print(level: LogLevel, message: unknown, params: unknown[]): void {
    if (!this.levels.has(level)) return;
    // Nest's convention: the last string parameter is the context; for error(), a stack may come before it.
    const strings = params.filter((p): p is string => typeof p === 'string');
    const context = strings.length > 0 ? strings[strings.length - 1] : undefined;
    const stack = level === 'error' || level === 'fatal' ? strings.find((s) => s !== context && /\n\s+at /.test(s)) : undefined;
    const fields: LogFields = params.find(isFields) ?? {};
    const entry: Record<string, string> = {
      time: new Date().toISOString(),
      level: LEVEL_NAMES[level],
      service: this.service,
      ...(context ? { context } : {}),
      message: message instanceof Error ? message.message : typeof message === 'string' ? message : JSON.stringify(message),
    };
    const span = tracingEnabled() ? trace.getActiveSpan()?.spanContext() : undefined;
    const fromEvent = fields.traceparent ? TRACEPARENT.exec(fields.traceparent) : null;
    if (span) Object.assign(entry, { trace_id: span.traceId, span_id: span.spanId });
    else if (fromEvent) Object.assign(entry, { trace_id: fromEvent[1]!, span_id: fromEvent[2]! });
    if (fields.orderId) entry['order_id'] = fields.orderId;
    if (fields.correlationId) entry['correlation_id'] = fields.correlationId;
    if (fields.eventId) entry['event_id'] = fields.eventId;
    if (fields.eventType) entry['event_type'] = fields.eventType;
    const trail = stack ?? (message instanceof Error ? message.stack : undefined);
    if (trail) entry['stack'] = trail;
    this.write(this.format === 'json' ? `${JSON.stringify(entry)}\n` : pretty(entry));
  }
}

const KNOWN = new Set(['time', 'level', 'service', 'context', 'message', 'stack']);

/** `12:00:01.123 WARN  payment [EventTransport] message  order_id=… trace_id=…` */
function pretty(entry: Record<string, string>): string {
  const time = entry['time']!.slice(11, 23);
  const level = entry['level']!.toUpperCase().padEnd(5);
  const context = entry['context'] ? ` [${entry['context']}]` : '';
  const extra = Object.entries(entry)
    .filter(([k]) => !KNOWN.has(k))
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const stack = entry['stack'] ? `\n${entry['stack']}` : '';
  return `${time} ${level} ${entry['service']!.padEnd(9)}${context} ${entry['message']}${extra ? `  ${extra}` : ''}${stack}\n`;
}
