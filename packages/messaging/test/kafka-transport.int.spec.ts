import { KafkaTransport } from '../src';
import { KAFKA_BROKERS } from './support';
import { describeTransportContract } from './transport-contract';

describeTransportContract({
  name: 'Kafka',
  create: (prefix) => new KafkaTransport({ brokers: KAFKA_BROKERS.join(','), topicPrefix: prefix, clientId: 'it-kafka-transport' }),
});
