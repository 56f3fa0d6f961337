export { main, runService, type ServiceDefinition } from './run-service';
export { CONFIG, ServiceKitModule, type Infrastructure } from './service-kit.module';
export { commonConfig, loadConfig, configVariables, ConfigError } from './config';
export { EventContext, EventHandlers, KafkaEventTransport, OnEvent, isRetriable } from './event-transport';
export { Metrics } from './metrics';
export { BrokerProbe } from './broker-probe';
export { replayCommand, type ReplayDefinition } from './replay-command';
