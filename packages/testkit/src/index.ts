export { Cluster, type ClusterOptions } from './cluster';
export { ServiceProcess, SERVICES, type ServiceName } from './service-process';
export { StorefrontClient, signDevToken, sampleAddress, type OrderView, type PlaceOrderRequest, type HttpResult } from './storefront-client';
export { checkInvariants, checkInvariantsByRule, type InvariantOptions, type RuleResult } from './invariants';
export { backlog, waitForQuiet } from './quiescence';
export { ensurePostgres, kafka, kafkaBrokers, managesKafka, databaseServerUrl, REPO_ROOT, PrivateBroker } from './infrastructure';
export { TcpProxy } from './tcp-proxy';
export { OtlpReceiver, renderWaterfall, SPAN_KIND, type ReceivedSpan } from './otlp-receiver';
