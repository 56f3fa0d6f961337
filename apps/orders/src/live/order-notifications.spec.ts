import { recordsetUpsert } from '@orderflow/eventstore';
import { ORDER_CHANNEL, announcingOrders } from './order-notifications';

describe('order change notifications', () => {
  const rows = recordsetUpsert<{ orderId: string; status: string }>('order_summaries', 'order_id', [
    { name: 'order_id', type: 'text', value: (r) => r.orderId },
    { name: 'status', type: 'text', value: (r) => r.status },
  ]);

  it('announces each order the upsert writes from the upsert itself, its channel numbered after the upsert’s parameters', () => {
    const { sql, parameters } = announcingOrders(rows).statement([{ orderId: 'o-1', status: 'PENDING' }, { orderId: 'o-2', status: 'CONFIRMED' }], 5);
    expect(sql).toContain('jsonb_to_recordset($5::jsonb) AS r(order_id text, status text)');
    expect(sql).toMatch(/ON CONFLICT \(order_id\) DO UPDATE SET status = excluded\.status RETURNING pg_notify\(\$6, order_id\)$/);
    expect(parameters).toEqual([JSON.stringify([{ order_id: 'o-1', status: 'PENDING' }, { order_id: 'o-2', status: 'CONFIRMED' }]), ORDER_CHANNEL]);
  });
});
