import { Controller, Get, Inject, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { CustomerAuthGuard } from '../auth/auth.guard';
import { Product } from './product.entity';

@ApiTags('products')
@ApiBearerAuth()
@UseGuards(CustomerAuthGuard)
@Controller('products')
export class ProductsController {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  @Get()
  @ApiOperation({ summary: 'The catalog with prices in minor units and available stock' })
  async list(): Promise<Pick<Product, 'sku' | 'name' | 'unitPrice' | 'currency' | 'available'>[]> {
    const products = await this.dataSource.getRepository(Product).find({ order: { sku: 'ASC' } });
    return products.map(({ sku, name, unitPrice, currency, available }) => ({ sku, name, unitPrice, currency, available }));
  }
}
