import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintAsNumber } from '@orderflow/eventstore';

/** Read model behind GET /stock/:sku. */
@Entity('stock')
export class StockView {
  @PrimaryColumn('text') sku!: string;
  @Column('text') name!: string;
  @Column('bigint', { name: 'unit_price', transformer: bigintAsNumber }) unitPrice!: number;
  @Column('text') currency!: string;
  @Column('integer') stocked!: number;
  @Column('integer') available!: number;
  @Column('integer') reserved!: number;
  @Column('integer') committed!: number;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt!: Date;
}
