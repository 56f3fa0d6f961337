import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { Metrics } from '@orderflow/service-kit';
import { orderLifetime } from './order-lifetime.metric';

/** The orders service's own metrics, on the same /metrics as the service kit's. */
@Injectable()
export class OrderMetrics implements OnModuleInit {
  constructor(@Inject(Metrics) private readonly metrics: Metrics) {}

  onModuleInit(): void {
    this.metrics.registry.registerMetric(orderLifetime);
  }
}
