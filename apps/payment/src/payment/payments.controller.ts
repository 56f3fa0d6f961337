import { Controller, Get, Inject, NotFoundException, Param } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PaymentView } from './payment.entity';

/** Read-only operator view; no service calls it. */
@Controller('payments')
export class PaymentsController {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  @Get(':orderId')
  async get(@Param('orderId') orderId: string): Promise<PaymentView> {
    const payment = await this.dataSource.getRepository(PaymentView).findOneBy({ orderId });
    if (!payment) throw new NotFoundException(`no payment for order ${orderId}`);
    return payment;
  }
}
