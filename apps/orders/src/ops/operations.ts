import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { ALL_TOPICS } from '@orderflow/contracts';
import type { DeadLetter, DeadLetterFilter, Transport } from '@orderflow/messaging';
import { CONFIG, transportFor } from '@orderflow/service-kit';
import type { Static } from '@sinclair/typebox';
import type { OrdersConfigSchema } from '../config';

export const SERVICE_NAMES = ['orders', 'payment', 'inventory', 'shipping'] as const;

export interface ServiceHealth {
  name: string;
  /** `up` when /health/ready answers 200; `down` names what its checks say; `unreachable` when it does not answer. */
  health: 'up' | 'down' | 'unreachable';
  checks?: Record<string, string>;
  /** Events recorded but not yet published (its outbox), from its /metrics. */
  outboxPending: number | null;
  /** Events on its topics its consumer group has not committed yet, from the broker. */
  consumerLag: number | null;
}

export interface DeadLetterView {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  type: string | null;
  group: string | null;
  error: string | null;
  redriven: boolean;
}

const PROBE_TIMEOUT_MS = 2_000;

/**
 * What the operator view shows: each service's health and outbox backlog (from its
 * own health and metrics endpoints, as a monitoring system reads them), consumer lag
 * (from the broker), and the dead letters with the filtered redrive of `npm run dlq`.
 * Nothing here takes part in the order flow.
 */
@Injectable()
export class Operations implements OnApplicationShutdown {
  private readonly urls: Map<string, string>;
  /** Opened on first use and kept: the view refreshes every few seconds. */
  private transportClient: Transport | undefined;

  constructor(@Inject(CONFIG) private readonly config: Static<typeof OrdersConfigSchema>) {
    this.urls = new Map([
      ['orders', `http://127.0.0.1:${config.PORT}`],
      ...config.OPS_SERVICE_URLS.split(',').map((pair) => {
        const at = pair.indexOf('=');
        return [pair.slice(0, at), pair.slice(at + 1).replace(/\/+$/, '')] as [string, string];
      }),
    ]);
  }

  async services(): Promise<ServiceHealth[]> {
    const lag = await this.consumerLag().catch(() => undefined);
    return Promise.all(
      SERVICE_NAMES.map(async (name) => {
        const url = this.urls.get(name);
        const [ready, metrics] = url ? await Promise.all([probe(`${url}/health/ready`), probe(`${url}/metrics`)]) : [undefined, undefined];
        const checks = ready?.json as { checks?: Record<string, string> } | undefined;
        return {
          name,
          health: ready === undefined ? 'unreachable' : ready.status === 200 ? 'up' : 'down',
          ...(checks?.checks ? { checks: checks.checks } : {}),
          outboxPending: metrics?.status === 200 ? gauge(metrics.text, 'orderflow_outbox_pending') : null,
          consumerLag: lag?.get(name) ?? null,
        };
      }),
    );
  }

  async deadLetters(filter: DeadLetterFilter & { topic?: string }): Promise<DeadLetterView[]> {
    const letters = await this.transport().listDeadLetters({
      topics: filter.topic ? [filter.topic] : ALL_TOPICS,
      ...pick(filter),
    });
    return letters.map(view);
  }

  async redrive(options: DeadLetterFilter & { topic: string; dryRun: boolean }) {
    const result = await this.transport().redriveDeadLetters({
      topic: options.topic,
      dryRun: options.dryRun,
      ...pick(options),
    });
    return {
      dryRun: options.dryRun,
      redriven: result.redriven.map(view),
      alreadyRedriven: result.alreadyRedriven.length,
      withoutGroup: result.withoutGroup.length,
    };
  }

  /** Per service (its consumer group): what it has still to handle on every topic it consumes, as the broker counts it. */
  private async consumerLag(): Promise<Map<string, number>> {
    const lag = new Map<string, number>(SERVICE_NAMES.map((name) => [name, 0]));
    for (const { group, lag: n } of await this.transport().lag(ALL_TOPICS)) lag.set(group, (lag.get(group) ?? 0) + n);
    return lag;
  }

  private transport(): Transport {
    this.transportClient ??= transportFor(this.config, { clientId: 'orderflow-orders-ops' });
    return this.transportClient;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.transportClient?.close().catch(() => undefined);
  }
}

const pick = (f: DeadLetterFilter): DeadLetterFilter => ({
  ...(f.group ? { group: f.group } : {}),
  ...(f.type ? { type: f.type } : {}),
  ...(f.error ? { error: f.error } : {}),
});

/** A letter as the view shows it: where it sits, what it was and why it was parked; not its payload. */
const view = (l: DeadLetter): DeadLetterView => ({
  topic: l.topic,
  partition: l.partition,
  offset: l.offset,
  key: l.key,
  type: l.type ?? null,
  group: l.group ?? null,
  error: l.error ?? null,
  redriven: l.redriven,
});

async function probe(url: string): Promise<{ status: number; text: string; json: unknown } | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, text, json };
  } catch {
    return undefined;
  }
}

/** The value of an unlabelled gauge in Prometheus text format, or null. */
export function gauge(text: string, name: string): number | null {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  const value = line === undefined ? NaN : Number(line.slice(line.lastIndexOf(' ') + 1));
  return Number.isFinite(value) ? value : null;
}
