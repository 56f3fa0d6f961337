import { Body, Controller, Get, Headers, HttpCode, Inject, Param, Post, Query, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiHeader, ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { inTransaction } from '@orderflow/eventstore';
import { DomainError } from '@orderflow/domain';
import { OverloadedException, activeTraceparent } from '@orderflow/service-kit';
import { CustomerAuthGuard, CustomerId } from '../auth/auth.guard';
import { SchemaPipe } from '../http/schema.pipe';
import { cancelOrder } from './cancel-order.handler';
import { OrderAdmission } from './order-admission';
import { MAX_PAGE_SIZE, listOrders, type OrderPage } from './order-list.query';
import { getOrder, type OrderView } from './order.queries';
import { PlaceOrderBatcher } from './place-order.batcher';
import { IDEMPOTENCY_KEY, PlaceOrderBody } from './place-order.request';

interface LocationResponse {
  setHeader(name: string, value: string): void;
}

@ApiTags('orders')
@ApiBearerAuth()
@UseGuards(CustomerAuthGuard)
@Controller('orders')
export class OrdersController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(PlaceOrderBatcher) private readonly placing: PlaceOrderBatcher,
    @Inject(OrderAdmission) private readonly admission: OrderAdmission,
  ) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({ summary: 'Place an order; it is processed asynchronously' })
  @ApiBody({ schema: PlaceOrderBody as object })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'same key and body return the same order' })
  @ApiResponse({ status: 202, description: '{ orderId, status: "PENDING" }, Location: /orders/{orderId}' })
  @ApiResponse({ status: 400, description: 'invalid body; names the field' })
  @ApiResponse({ status: 422, description: 'Idempotency-Key reused with a different body' })
  @ApiResponse({ status: 503, description: 'too many orders waiting (ORDER_ADMISSION_MAX_PENDING): retry after the Retry-After header' })
  async place(
    @CustomerId() customerId: string,
    @Body(new SchemaPipe(PlaceOrderBody)) body: PlaceOrderBody,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) response: LocationResponse,
  ): Promise<{ orderId: string; status: string }> {
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw new DomainError('VALIDATION', 'Idempotency-Key header must be 1-200 characters of [A-Za-z0-9._:-]', [
        { field: 'Idempotency-Key', message: 'is malformed' },
      ]);
    }
    const verdict = await this.admission.admit();
    if (!verdict.admitted) throw new OverloadedException(verdict.message, verdict.retryAfterSeconds);
    const traceparent = activeTraceparent();
    const placed = await this.placing.place({
      customerId,
      body,
      newOrderId: randomUUID(),
      now: new Date(),
      ...(idempotencyKey ? { idempotencyKey } : {}),
      ...(traceparent ? { traceparent } : {}),
    });
    response.setHeader('Location', `/orders/${placed.orderId}`);
    return placed;
  }

  @Get()
  @ApiOperation({ summary: 'The signed-in customer’s orders, newest first, a page at a time' })
  @ApiQuery({ name: 'limit', required: false, description: `orders per page, 1 to ${MAX_PAGE_SIZE} (default 20)` })
  @ApiQuery({ name: 'cursor', required: false, description: 'the `next` of the previous page' })
  @ApiResponse({ status: 200, description: '{ orders: [...], next?: cursor }' })
  list(@CustomerId() customerId: string, @Query('limit') limit?: unknown, @Query('cursor') cursor?: unknown): Promise<OrderPage> {
    return listOrders(this.dataSource.manager, customerId, { limit, cursor });
  }

  @Get(':orderId')
  @ApiOperation({ summary: 'An order with its status and event history' })
  @ApiResponse({ status: 404, description: 'no such order for this customer' })
  get(@CustomerId() customerId: string, @Param('orderId') orderId: string): Promise<OrderView> {
    return this.dataSource.transaction((tx) => getOrder(tx, customerId, orderId));
  }

  @Post(':orderId/cancel')
  @HttpCode(202)
  @ApiOperation({ summary: 'Cancel a PENDING or CONFIRMED order; compensation follows asynchronously' })
  @ApiResponse({ status: 409, description: 'the order is already COMPLETED or CANCELLED' })
  async cancel(@CustomerId() customerId: string, @Param('orderId') orderId: string): Promise<{ orderId: string; status: string }> {
    await inTransaction(this.dataSource, (tx) => cancelOrder(tx, customerId, orderId, new Date()));
    return { orderId, status: 'CANCELLED' };
  }
}
