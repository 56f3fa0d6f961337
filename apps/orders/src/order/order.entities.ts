import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintAsNumber } from '@orderflow/eventstore';

/** Read model of an order's current status, updated in the transaction that appends to its stream. */
@Entity('order_summaries')
export class OrderSummary {
  @PrimaryColumn('text', { name: 'order_id' }) orderId!: string;
  @Column('text', { name: 'customer_id' }) customerId!: string;
  @Column('text') status!: string;
  @Column('text', { nullable: true }) reason!: string | null;
  @Column('jsonb') items!: { sku: string; quantity: number; unitPrice: number }[];
  @Column('bigint', { transformer: bigintAsNumber }) total!: number;
  @Column('text') currency!: string;
  @Column('timestamptz', { name: 'placed_at' }) placedAt!: Date;
  /** When the current CONFIRMED status began (OrderConfirmed's time); null in every other status. */
  @Column('timestamptz', { name: 'confirmed_at', nullable: true }) confirmedAt!: Date | null;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt!: Date;
}

/** `Idempotency-Key` of POST /orders: the same key and body give back the same order. */
@Entity('idempotency_keys')
export class IdempotencyKey {
  @PrimaryColumn('text', { name: 'customer_id' }) customerId!: string;
  @PrimaryColumn('text') key!: string;
  @Column('text', { name: 'request_hash' }) requestHash!: string;
  @Column('text', { name: 'order_id' }) orderId!: string;
  @Column('timestamptz', { name: 'created_at' }) createdAt!: Date;
}
