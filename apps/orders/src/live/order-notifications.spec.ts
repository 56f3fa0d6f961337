import { unnestUpsert } from '@orderflow/eventstore';
import { ORDER_CHANNEL, announcingOrders } from './order-notifications';

describe('order change notifications', () => {
  const rows = unnestUpsert<{ orderId: string; status: string }>('order_summaries', 'order_id', [
    { name: 'order_id', type: 'text', value: (r) => r.orderId },
    { name: 'status', type: 'text', value: (r) => r.status },
  ]);

  it('announces each order the upsert writes from the upsert itself, its channel numbered after the upsert’s parameters', () => {
    const { sql, parameters } = announcingOrders(rows).statement([{ orderId: 'o-1', status: 'PENDING' }, { orderId: 'o-2', status: 'CONFIRMED' }], 5);
    expect(sql).toContain('unnest($5::text[], $6::text[])');
    expect(sql).toMatch(/ON CONFLICT \(order_id\) DO UPDATE SET status = excluded\.status RETURNING pg_notify\(\$7, order_id\)$/);
    expect(parameters).toEqual([['o-1', 'o-2'], ['PENDING', 'CONFIRMED'], ORDER_CHANNEL]);
  });
});
