import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { repoPath } from './support/repo';

interface Panel {
  title: string;
  datasource?: { type: string; uid: string };
  targets?: { refId: string; expr: string }[];
}

/**
 * The metric names the services declare (`name: 'orderflow_…'` next to a prom-client
 * Counter, Gauge or Histogram). The e2e metrics test holds the same dashboard against a
 * live /metrics; this check needs no running service.
 */
function declaredMetrics(): Map<string, string> {
  const sources = [repoPath('packages/service-kit/src/metrics.ts'), repoPath('apps/orders/src/order/order-lifetime.metric.ts')];
  const declared = new Map<string, string>();
  for (const file of sources) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/new (Counter|Gauge|Histogram)\(\{\s*name: '(\w+)'/g)) declared.set(m[2]!, m[1]!);
  }
  return declared;
}

/** The series names a declared metric exposes: a histogram's _bucket, _count and _sum. */
function exposedSeries(declared: Map<string, string>): Set<string> {
  const names = new Set<string>();
  for (const [name, type] of declared) {
    if (type === 'Histogram') for (const suffix of ['_bucket', '_count', '_sum']) names.add(`${name}${suffix}`);
    else names.add(name);
  }
  return names;
}

describe('Grafana dashboards (infra/observability/grafana/dashboards)', () => {
  const dir = repoPath('infra/observability/grafana/dashboards');
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  const series = exposedSeries(declaredMetrics());

  it('finds the metric declarations it checks against', () => {
    expect(series).toContain('orderflow_consumer_lag_messages');
    expect(series).toContain('orderflow_order_lifetime_seconds_bucket');
  });

  it.each(files)('%s is valid JSON with a uid, a title and panels on the provisioned Prometheus', (file) => {
    const dashboard = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as { uid: string; title: string; panels: Panel[] };
    expect(dashboard.uid).toMatch(/^[\w-]{1,40}$/);
    expect(dashboard.title).toBeTruthy();
    expect(dashboard.panels.length).toBeGreaterThan(0);
    for (const panel of dashboard.panels) {
      expect([panel.title, panel.datasource]).toEqual([panel.title, { type: 'prometheus', uid: 'prometheus' }]);
      expect(panel.targets?.length).toBeGreaterThan(0);
    }
  });

  it.each(files)('%s queries only metrics the services export', (file) => {
    const dashboard = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as { panels: Panel[] };
    for (const { title, targets } of dashboard.panels) {
      for (const { expr } of targets ?? []) {
        const used = [...expr.matchAll(/\b(orderflow_\w+)/g)].map((m) => m[1]!);
        expect([title, expr, used.length > 0]).toEqual([title, expr, true]);
        expect([title, used.filter((name) => !series.has(name))]).toEqual([title, []]);
      }
    }
  });

  it('shows what the issue asks of it: throughput, p99 placed → terminal, lag, outbox age, dead letters, errors', () => {
    const exprs = JSON.parse(readFileSync(path.join(dir, 'orderflow.json'), 'utf8')) as { panels: Panel[] };
    const all = exprs.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)).join('\n');
    expect(all).toContain('rate(orderflow_events_consumed_total{outcome="processed"}');
    expect(all).toMatch(/histogram_quantile\(0\.99, .*orderflow_order_lifetime_seconds_bucket/);
    expect(all).toContain('orderflow_consumer_lag_messages');
    expect(all).toContain('orderflow_outbox_oldest_age_seconds');
    expect(all).toContain('outcome="dead-lettered"');
    expect(all).toContain('status=~"5.."');
  });
});
