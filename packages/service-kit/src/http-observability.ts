import type { IncomingMessage, ServerResponse } from 'node:http';
import { SpanStatusCode } from '@opentelemetry/api';
import type { Metrics } from './metrics';
import { SpanKind, contextOf, startSpan, tracingEnabled, withSpan } from './tracing';

type Request = IncomingMessage & { route?: { path?: unknown } };

/** Probes and scrapes would be most of the traces and say nothing about orders. */
const UNTRACED = /^\/(health|metrics)(\/|\?|$)/;

/**
 * Every HTTP request: its duration by route template and status for /metrics, and,
 * with tracing on, a server span that continues an incoming `traceparent` and is
 * active while the request is handled, so what it records (OrderPlaced) stores it.
 */
export function httpObservability(metrics: Metrics) {
  return (req: Request, res: ServerResponse, next: () => void): void => {
    const started = performance.now();
    const span = tracingEnabled() && !UNTRACED.test(req.url ?? '') ? startSpan(req.method ?? 'HTTP', SpanKind.SERVER, contextOf(header(req, 'traceparent')), {
      'http.request.method': req.method ?? '',
      'url.path': (req.url ?? '').split('?')[0] ?? '',
    }) : undefined;
    res.once('finish', () => {
      // The route template (`/orders/:orderId`), never the path: one series per route, not per order.
      const route = typeof req.route?.path === 'string' ? req.route.path : 'unmatched';
      const status = res.statusCode;
      metrics.httpSeconds.observe({ method: req.method ?? '', route, status: String(status) }, (performance.now() - started) / 1000);
      if (!span) return;
      span.updateName(`${req.method} ${route}`);
      span.setAttributes({ 'http.route': route, 'http.response.status_code': status });
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    if (span) withSpan(span, next);
    else next();
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
