import { Controller, Get, Inject, NotFoundException, Param } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ShipmentView } from './shipment.entity';

/** Read-only operator view; no service calls it. */
@Controller('shipments')
export class ShipmentsController {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  @Get(':orderId')
  async get(@Param('orderId') orderId: string): Promise<ShipmentView> {
    const shipment = await this.dataSource.getRepository(ShipmentView).findOneBy({ orderId });
    if (!shipment) throw new NotFoundException(`no shipment for order ${orderId}`);
    return shipment;
  }
}
