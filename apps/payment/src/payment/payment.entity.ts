import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintAsNumber } from '@orderflow/eventstore';

/** pg returns bigint as text; a voided payment has no amount. */
const nullableBigintAsNumber = {
  to: (value: number | null): number | null => value,
  from: (value: string | number | null): number | null => (value === null ? null : bigintAsNumber.from(value)),
};

/**
 * Read model behind GET /payments/:orderId. Status AUTHORIZED, DECLINED, REFUNDED,
 * or VOIDED (cancelled before it was placed: no amount, no charge).
 */
@Entity('payments')
export class PaymentView {
  @PrimaryColumn('text', { name: 'order_id' }) orderId!: string;
  @Column('text', { name: 'payment_id', nullable: true }) paymentId!: string | null;
  @Column('text') status!: string;
  @Column('bigint', { nullable: true, transformer: nullableBigintAsNumber }) amount!: number | null;
  @Column('text', { nullable: true }) currency!: string | null;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt!: Date;
}
