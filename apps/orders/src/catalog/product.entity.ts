import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintAsNumber } from '@orderflow/eventstore';

/** The storefront's copy of the catalog, built from `inventory.products`. */
@Entity('products')
export class Product {
  @PrimaryColumn('text') sku!: string;
  @Column('text') name!: string;
  @Column('bigint', { name: 'unit_price', transformer: bigintAsNumber }) unitPrice!: number;
  @Column('text') currency!: string;
  @Column('integer') available!: number;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt!: Date;
}
