import type { BrokerKind } from '@orderflow/messaging';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';

/**
 * OpenTelemetry for one service process. Off unless OTEL_TRACES_EXPORTER names an
 * exporter: then nothing of the SDK is even loaded, and every helper here returns
 * at its first line, so the hot paths allocate nothing for tracing.
 *
 * The trace context of an order travels in the events themselves (`traceparent`,
 * stored with each event and its outbox row, sent as `ce_traceparent`), not in
 * the async context of the process: a batch handles many orders at once, and the
 * relay publishes long after (or a restart after) the transaction that wrote them.
 */
let tracer: ReturnType<typeof trace.getTracer> | undefined;
let shutdown: (() => Promise<void>) | undefined;

export interface TracingConfig {
  OTEL_TRACES_EXPORTER: string;
  OTEL_SERVICE_NAME: string;
}

/** Starts the SDK when tracing is on; configured by the standard OTEL_* variables, already validated. */
export async function startTracing(config: TracingConfig): Promise<void> {
  if (config.OTEL_TRACES_EXPORTER === 'none' || tracer) return;
  // The SDK reads the variables itself: it sees the validated values, defaults included.
  for (const [name, value] of Object.entries(config)) if (name.startsWith('OTEL_')) process.env[name] = String(value);
  const [{ NodeSDK }, { PgInstrumentation }] = await Promise.all([import('@opentelemetry/sdk-node'), import('@opentelemetry/instrumentation-pg')]);
  const sdk = new NodeSDK({
    serviceName: config.OTEL_SERVICE_NAME,
    // Metrics are Prometheus's (GET /metrics) and logs go to stdout: traces only.
    logRecordProcessors: [],
    // A query span only inside a span of ours: the batch's own writes belong to no one order.
    instrumentations: [new PgInstrumentation({ requireParentSpan: true })],
  });
  sdk.start();
  tracer = trace.getTracer('orderflow');
  shutdown = () => sdk.shutdown();
}

/** Exports what is still buffered; part of a clean stop. */
export async function stopTracing(): Promise<void> {
  await shutdown?.();
}

export function tracingEnabled(): boolean {
  return tracer !== undefined;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The context a W3C traceparent names, as the remote parent of the spans started in it. */
export function contextOf(traceparent: string | undefined): Context {
  const match = traceparent ? TRACEPARENT.exec(traceparent) : null;
  if (!match) return ROOT_CONTEXT;
  return trace.setSpanContext(ROOT_CONTEXT, { traceId: match[1]!, spanId: match[2]!, traceFlags: parseInt(match[3]!, 16), isRemote: true });
}

/** The W3C traceparent of a span, to store with the events it causes. */
export function traceparentOf(span: Span): string {
  const { traceId, spanId, traceFlags } = span.spanContext();
  // Bit 0 of the flags is "sampled", the only one W3C defines.
  return `00-${traceId}-${spanId}-${traceFlags & 1 ? '01' : '00'}`;
}

/** The traceparent of the span active here (e.g. an HTTP request's), or undefined with tracing off. */
export function activeTraceparent(): string | undefined {
  if (!tracer) return undefined;
  const span = trace.getActiveSpan();
  return span ? traceparentOf(span) : undefined;
}

/**
 * For a command that no request or event of the order caused directly (a customer's
 * cancel, a deadline): a span in the order's own trace, under the span stored with
 * its first event, linked to the span active here (the cancel request's), so what
 * follows stays in the order's trace. Returns its traceparent; undefined with tracing off.
 */
export function continueOrderTrace(name: string, orderTraceparent: string | undefined, orderId: string): string | undefined {
  if (!tracer) return undefined;
  const active = trace.getActiveSpan();
  const span = tracer.startSpan(
    name,
    { kind: SpanKind.INTERNAL, attributes: { 'orderflow.order_id': orderId }, links: active ? [{ context: active.spanContext() }] : [] },
    contextOf(orderTraceparent),
  );
  span.end();
  return traceparentOf(span);
}

/** Starts a span under `parent`; undefined with tracing off. */
export function startSpan(name: string, kind: SpanKind, parent: Context, attributes: Attributes): Span | undefined {
  return tracer?.startSpan(name, { kind, attributes }, parent);
}

/** Ends a span, marking it failed when `error` is given. */
export function endSpan(span: Span, error?: unknown): void {
  if (error !== undefined) {
    const failure = error instanceof Error ? error : new Error(JSON.stringify(error));
    span.recordException(failure);
    span.setStatus({ code: SpanStatusCode.ERROR, message: failure.message });
  }
  span.end();
}

/** Runs `work` with `span` active, so the spans it starts (database queries) and its log lines belong to it. */
export function withSpan<T>(span: Span, work: () => T): T {
  return context.with(trace.setSpan(context.active(), span), work);
}

export { SpanKind };

/** `messaging.system` of the OpenTelemetry semantic conventions for a broker. */
export const messagingSystem = (broker: BrokerKind): string => (broker === 'sqs' ? 'aws_sqs' : broker);
