import { Module } from '@nestjs/common';
import { StockConsumer } from './stock.consumer';
import { StockController } from './stock.controller';

@Module({ controllers: [StockConsumer, StockController] })
export class StockModule {}
