import { Controller, Get, Headers, Inject, Param, Res, ServiceUnavailableException, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import { DomainError } from '@orderflow/domain';
import type { ServerResponse } from 'node:http';
import { DataSource } from 'typeorm';
import { CustomerAuthGuard, CustomerId } from '../auth/auth.guard';
import { findOwnedSummary } from '../order/order.queries';
import { OrderStreamHub } from './order-stream.hub';

/** How long a browser waits before reconnecting a stream that broke (the SSE `retry` field). */
const RECONNECT_MS = 1_000;

@ApiTags('orders')
@ApiBearerAuth()
@UseGuards(CustomerAuthGuard)
@Controller('orders')
export class OrderStreamController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(OrderStreamHub) private readonly hub: OrderStreamHub,
  ) {}

  @Get(':orderId/stream')
  @ApiOperation({
    summary: 'The order’s events as they are recorded (Server-Sent Events)',
    description:
      '`recorded` events carry {version, type, at, source} with the version as SSE id; `status` events carry {status, reason?, cancellable}. Send Last-Event-ID to resume after a version.',
  })
  @ApiProduces('text/event-stream')
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'resume after this stream version' })
  @ApiResponse({ status: 404, description: 'no such order for this customer' })
  @ApiResponse({ status: 503, description: 'this instance serves as many streams as it may' })
  async stream(
    @CustomerId() customerId: string,
    @Param('orderId') orderId: string,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Res() response: ServerResponse,
  ): Promise<void> {
    const after = lastEventId === undefined || lastEventId === '' ? 0 : /^\d{1,9}$/.test(lastEventId) ? Number(lastEventId) : NaN;
    if (Number.isNaN(after)) {
      throw new DomainError('VALIDATION', 'Last-Event-ID header must be a stream version (a non-negative integer)', [
        { field: 'Last-Event-ID', message: 'must be a non-negative integer' },
      ]);
    }
    await findOwnedSummary(this.dataSource.manager, customerId, orderId);
    if (!this.hub.hasRoom()) throw new ServiceUnavailableException('too many live streams on this instance; retry shortly');
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      // nginx and similar proxies would otherwise hold the events back in a buffer
      'x-accel-buffering': 'no',
      connection: 'keep-alive',
    });
    response.write(`retry: ${RECONNECT_MS}\n\n`);
    this.hub.open(orderId, response, after);
  }
}
