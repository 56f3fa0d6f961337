import { Module } from '@nestjs/common';
import { ShipmentConsumer } from './shipment.consumer';
import { ShipmentsController } from './shipments.controller';

@Module({ controllers: [ShipmentConsumer, ShipmentsController] })
export class ShipmentModule {}
