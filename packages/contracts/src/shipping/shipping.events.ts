import { Type } from '@sinclair/typebox';
import { Id, Timestamp } from '../shared';

export const ShipmentPrepared = Type.Object(
  {
    orderId: Id,
    shipmentId: Id,
    carrier: Type.String({ minLength: 1 }),
    trackingNumber: Type.String({ minLength: 1 }),
    preparedAt: Timestamp,
  },
  { additionalProperties: false },
);

export const PickupScheduled = Type.Object(
  { orderId: Id, shipmentId: Id, pickupAt: Timestamp, scheduledAt: Timestamp },
  { additionalProperties: false },
);

export const ShipmentCancelled = Type.Object(
  { orderId: Id, shipmentId: Id, cancelledAt: Timestamp },
  { additionalProperties: false },
);

/**
 * Tombstone: the order was cancelled before shipping saw it placed. No label was
 * prepared, and a later OrderPlaced prepares none.
 */
export const ShipmentVoided = Type.Object({ orderId: Id, voidedAt: Timestamp }, { additionalProperties: false });
