export { databaseSchema, main, type ServiceDescription, type TopicRebuild } from './run-service';
export { CONFIG } from './service-kit.module';
export { commonConfig, loadConfig, ConfigError } from './config';
export { EventContext, EventHandlers, OnEvent, OnEvents } from './event-transport';
export { replayCommand } from './replay-command';
export { activeTraceparent, continueOrderTrace, tracingEnabled } from './tracing';
export { Metrics } from './metrics';
export { OverloadedException } from './overloaded.exception';
export { transportFor, type BrokerConfig } from './broker';
