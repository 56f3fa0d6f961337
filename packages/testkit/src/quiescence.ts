import { Topics } from '@orderflow/contracts';
import { createKafka, parseBrokers } from '@orderflow/messaging';
import type { Cluster } from './cluster';
import { kafkaBrokers } from './infrastructure';
import { SERVICES, type ServiceName } from './service-process';

const CONSUMES: Record<ServiceName, string[]> = {
  orders: [Topics.payments, Topics.inventory, Topics.products, Topics.shipping],
  payment: [Topics.orders],
  inventory: [Topics.orders],
  shipping: [Topics.orders],
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sum over every consumer group of (end offset − committed offset), plus every outbox row still unpublished. */
export async function backlog(cluster: Cluster): Promise<{ lag: number; outbox: number }> {
  const kafka = createKafka({ brokers: parseBrokers(kafkaBrokers()), clientId: 'orderflow-testkit' });
  const admin = kafka.admin();
  await admin.connect();
  try {
    let lag = 0;
    for (const service of SERVICES) {
      const topics = CONSUMES[service].map((t) => `${cluster.options.topicPrefix}${t}`);
      const committed = await admin.fetchOffsets({ groupId: `${cluster.options.topicPrefix}${service}`, topics });
      for (const topic of topics) {
        const ends = await admin.fetchTopicOffsets(topic);
        const group = committed.find((c) => c.topic === topic);
        for (const end of ends) {
          const done = Number(group?.partitions.find((p) => p.partition === end.partition)?.offset ?? -1);
          lag += Number(end.high) - Math.max(done, Number(end.low), 0);
        }
      }
    }
    let outbox = 0;
    for (const service of SERVICES) {
      const [row] = await cluster.query<{ n: string }>(service, 'SELECT count(*) AS n FROM outbox');
      outbox += Number(row?.n ?? 0);
    }
    return { lag, outbox };
  } finally {
    await admin.disconnect();
  }
}

/** Waits until nothing is in flight anywhere: every event published and consumed. */
export async function waitForQuiet(cluster: Cluster, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = { lag: -1, outbox: -1 };
  let quietChecks = 0;
  while (Date.now() < deadline) {
    last = await backlog(cluster).catch(() => ({ lag: -1, outbox: -1 }));
    quietChecks = last.lag === 0 && last.outbox === 0 ? quietChecks + 1 : 0;
    // Twice in a row: a handler that just committed may have appended a new event.
    if (quietChecks >= 2) return;
    await sleep(300);
  }
  throw new Error(`system not quiet after ${timeoutMs} ms: consumer lag ${last.lag}, unpublished ${last.outbox}`);
}
