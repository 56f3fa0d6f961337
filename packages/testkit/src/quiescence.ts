import { ALL_TOPICS } from '@orderflow/contracts';
import { testTransport } from './broker';
import type { Cluster } from './cluster';
import { SERVICES } from './service-process';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What every consumer group has still to handle, as the broker counts it, plus every outbox row still unpublished. */
export async function backlog(cluster: Cluster): Promise<{ lag: number; outbox: number }> {
  const transport = testTransport(cluster.options.topicPrefix, 'orderflow-testkit');
  try {
    const lag = (await transport.lag(ALL_TOPICS)).reduce((sum, l) => sum + l.lag, 0);
    let outbox = 0;
    for (const service of SERVICES) {
      const [row] = await cluster.query<{ n: string }>(service, 'SELECT count(*) AS n FROM outbox');
      outbox += Number(row?.n ?? 0);
    }
    return { lag, outbox };
  } finally {
    await transport.close();
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
