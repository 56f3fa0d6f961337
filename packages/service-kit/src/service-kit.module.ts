import { Global, Module, type DynamicModule } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { OutboxRelay } from '@orderflow/eventstore';
import { BrokerProbe } from './broker-probe';
import { HealthController } from './health.controller';
import { Metrics } from './metrics';
import { MetricsController } from './metrics.controller';

/** Injection token of the validated configuration object. */
export const CONFIG = Symbol('CONFIG');

export interface Infrastructure<C = unknown> {
  config: C;
  dataSource: DataSource;
  relay: OutboxRelay;
  broker: BrokerProbe;
  metrics: Metrics;
}

/** Health and metrics endpoints, plus the process-wide infrastructure as injectable providers. */
@Global()
@Module({})
export class ServiceKitModule {
  static forRoot(infra: Infrastructure): DynamicModule {
    const providers = [
      { provide: CONFIG, useValue: infra.config },
      { provide: DataSource, useValue: infra.dataSource },
      { provide: OutboxRelay, useValue: infra.relay },
      { provide: BrokerProbe, useValue: infra.broker },
      { provide: Metrics, useValue: infra.metrics },
    ];
    return {
      module: ServiceKitModule,
      controllers: [HealthController, MetricsController],
      providers,
      exports: providers.map((p) => p.provide),
    };
  }
}
