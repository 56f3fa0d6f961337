import { Type } from '@sinclair/typebox';
import { commonConfig } from '@orderflow/service-kit';

export const ShippingConfigSchema = Type.Object({
  ...commonConfig('shipping', 3003),
  SHIPPING_CARRIER: Type.String({ minLength: 1, default: 'ACME', description: 'carrier printed on labels' }),
  SHIPPING_PICKUP_LEAD_HOURS: Type.Integer({ minimum: 0, maximum: 720, default: 24, description: 'pickup is scheduled this long after confirmation' }),
});
