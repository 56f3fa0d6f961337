import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * Read model behind GET /shipments/:orderId; rebuilt from the shipment streams. Status
 * PREPARED, PICKUP_SCHEDULED, CANCELLED, or VOIDED (cancelled before it was placed:
 * no shipment id, no label).
 */
@Entity('shipments')
export class ShipmentView {
  @PrimaryColumn('text', { name: 'order_id' }) orderId!: string;
  @Column('text', { name: 'shipment_id', nullable: true }) shipmentId!: string | null;
  @Column('text') status!: string;
  @Column('text', { name: 'tracking_number', nullable: true }) trackingNumber!: string | null;
  @Column('text', { nullable: true }) carrier!: string | null;
  @Column('timestamptz', { name: 'pickup_at', nullable: true }) pickupAt!: Date | null;
  @Column('timestamptz', { name: 'updated_at' }) updatedAt!: Date;
}
