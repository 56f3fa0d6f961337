import { Column, Entity, PrimaryColumn } from 'typeorm';

const int = { to: (v: number) => v, from: (v: string | number) => Number(v) };

/** The storefront's copy of the catalog, built from `inventory.products`. */
@Entity('products')
export class Product {
  @PrimaryColumn('text') sku!: string;
  @Column('text') name!: string;
  @Column('bigint', { name: 'unit_price', transformer: int }) unitPrice!: number;
  @Column('text') currency!: string;
  @Column('integer') available!: number;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt!: Date;
}
