import { Controller, Get, Inject, NotFoundException, Param } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { StockView } from './stock.entity';

/** Read-only operator views; no service calls them. */
@Controller('stock')
export class StockController {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  @Get()
  list(): Promise<StockView[]> {
    return this.dataSource.getRepository(StockView).find({ order: { sku: 'ASC' } });
  }

  @Get(':sku')
  async get(@Param('sku') sku: string): Promise<StockView> {
    const stock = await this.dataSource.getRepository(StockView).findOneBy({ sku });
    if (!stock) throw new NotFoundException(`unknown sku ${sku}`);
    return stock;
  }
}
