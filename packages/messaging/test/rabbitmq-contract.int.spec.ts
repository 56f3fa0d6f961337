import { RabbitMqTransport } from '../src/rabbitmq/transport';
import { RABBITMQ_URL } from './rabbitmq-support';
import { describeTransportContract } from './transport-contract';

describeTransportContract({
  name: 'RabbitMQ',
  create: (prefix) => new RabbitMqTransport({ url: RABBITMQ_URL, clientId: 'it-rabbitmq-contract', topicPrefix: prefix }),
});
