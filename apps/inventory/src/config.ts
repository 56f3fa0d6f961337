import { Type } from '@sinclair/typebox';
import { commonConfig } from '@orderflow/service-kit';

export const InventoryConfigSchema = Type.Object({
  ...commonConfig('inventory', 3002),
});
