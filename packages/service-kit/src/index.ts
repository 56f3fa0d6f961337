export { main, type ServiceDefinition } from './run-service';
export { CONFIG } from './service-kit.module';
export { commonConfig, loadConfig, ConfigError } from './config';
export { EventContext, EventHandlers, OnEvent, OnEvents } from './event-transport';
export { replayCommand, type ReplayDefinition, type TopicRebuild } from './replay-command';
