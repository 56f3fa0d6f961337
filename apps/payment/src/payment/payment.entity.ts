import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintAsNumber } from '@orderflow/eventstore';

/** Read model behind GET /payments/:orderId. */
@Entity('payments')
export class PaymentView {
  @PrimaryColumn('text', { name: 'order_id' }) orderId!: string;
  @Column('text', { name: 'payment_id', nullable: true }) paymentId!: string | null;
  @Column('text') status!: string;
  @Column('bigint', { transformer: bigintAsNumber }) amount!: number;
  @Column('text') currency!: string;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt!: Date;
}
