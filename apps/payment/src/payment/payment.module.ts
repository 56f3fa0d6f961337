import { Module } from '@nestjs/common';
import { PaymentConsumer } from './payment.consumer';
import { PaymentsController } from './payments.controller';

@Module({ controllers: [PaymentConsumer, PaymentsController] })
export class PaymentModule {}
