import { testTransport } from './broker';
import type { Cluster } from './cluster';

/**
 * Publishes an OrderPlaced that fails validation (no lines, no total) to the
 * cluster's orders.events: payment, inventory and shipping each park it in
 * orders.events.dlq, one letter per consumer group.
 */
export async function publishPoisonOrderPlaced(cluster: Cluster, orderId: string): Promise<void> {
  const transport = testTransport(cluster.options.topicPrefix, 'testkit-poison');
  const publisher = transport.publisher();
  try {
    await publisher.send([
      {
        topic: 'orders.events',
        key: orderId,
        value: JSON.stringify({ orderId, items: [] }),
        headers: {
          ce_id: '00000000-0000-4000-8000-000000000001',
          ce_source: 'e2e',
          ce_type: 'OrderPlaced',
          ce_specversion: '1.0',
          ce_time: new Date().toISOString(),
          ce_subject: orderId,
          ce_dataschema: 'urn:orderflow:schema:OrderPlaced:v1',
          ce_correlationid: 'c',
          ce_causationid: 'c',
        },
      },
    ]);
  } finally {
    await publisher.disconnect();
    await transport.close();
  }
}
