'use strict';
// What the bench needs to know about each message broker the services run on
// (BROKER=kafka|rabbitmq|sqs): its name in tables, where it listens, how to
// recognise its process on this machine, and which of the requests the services
// count (orderflow_broker_requests_total{client,api}) produce and acknowledge.
// Pure: strings in, values out.

const BROKERS = ['kafka', 'rabbitmq', 'sqs'];

const LABELS = { kafka: 'Kafka', rabbitmq: 'RabbitMQ', sqs: 'SQS' };
const brokerLabel = (broker) => LABELS[broker] ?? broker;

/**
 * host and port the services reach the broker at, from the same variables and
 * defaults as the services and testkit (KAFKA_BROKERS, RABBITMQ_URL, SQS_ENDPOINT).
 */
function brokerAddress(broker, env = process.env) {
  switch (broker) {
    case 'kafka': {
      const first = (env.KAFKA_BROKERS || `127.0.0.1:${env.KAFKA_PORT || 9092}`).split(',')[0].trim();
      const colon = first.lastIndexOf(':');
      return { host: first.slice(0, colon), port: Number(first.slice(colon + 1)) };
    }
    case 'rabbitmq': {
      const url = new URL(env.RABBITMQ_URL || 'amqp://127.0.0.1:5672');
      return { host: url.hostname, port: Number(url.port || (url.protocol === 'amqps:' ? 5671 : 5672)) };
    }
    case 'sqs': {
      const url = new URL(env.SQS_ENDPOINT || `http://127.0.0.1:${env.SQS_PORT || 9324}`);
      return { host: url.hostname, port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)) };
    }
    default:
      throw new Error(`unknown broker ${broker}`);
  }
}

/**
 * Whether a process command line (arguments joined by spaces) is the broker's
 * server: Kafka's JVM (kafka.Kafka), RabbitMQ's Erlang VM (beam.smp booting the
 * rabbit application, `-s rabbit boot`, which rabbitmq-server always passes, or a
 * node named `rabbit@…`), or ElasticMQ's JVM (org.elasticmq.server.Main). Other
 * Erlang VMs (epmd, erl_child_setup, rabbitmqctl's own beam.smp) and JVMs (Kafka
 * tools, Maven) on the machine do not match.
 */
function isBrokerProcess(broker, cmdline) {
  switch (broker) {
    case 'kafka':
      return /(?:^|\s)kafka\.Kafka(?:\s|$)/.test(cmdline);
    case 'rabbitmq':
      return (
        /(?:^|\/)beam(?:\.smp)?\s/.test(cmdline) &&
        /\s-s\s+rabbit\s+boot(?:\s|$)|\s-s?name\s+rabbit(?:@\S*)?(?:\s|$)/.test(cmdline)
      );
    case 'sqs':
      return /\bjava\b/.test(cmdline) && /(?:^|\s)org\.elasticmq\.server\.Main(?:\s|$)/.test(cmdline);
    default:
      return false;
  }
}

/**
 * The request kinds that stand for "a batch published" and "a batch acknowledged"
 * on each broker, as the transports name them: Kafka Produce / OffsetCommit,
 * RabbitMQ publish / ack, SQS SendMessage[Batch] / DeleteMessage[Batch].
 */
const PRODUCE = /^(?:Produce|publish|SendMessage(?:Batch)?)$/;
const ACK = /^(?:OffsetCommit|ack|DeleteMessage(?:Batch)?)$/;

/**
 * From the services' counters by api (Δ over a step, summed over services and
 * clients) and the orders accepted: requests per order, produce and ack as above,
 * all of them, and the busiest apis first (so a broker's own names show whatever
 * they are).
 */
function requestsPerOrder(byApi, orders, top = 4) {
  if (!byApi || !orders) return undefined;
  const per = Object.fromEntries(Object.entries(byApi).map(([api, n]) => [api, n / orders]));
  const sum = (re) => Object.entries(per).reduce((n, [api, v]) => n + (re.test(api) ? v : 0), 0);
  return {
    byApi: per,
    produce: sum(PRODUCE),
    ack: sum(ACK),
    total: Object.values(per).reduce((a, b) => a + b, 0),
    top: Object.entries(per)
      .filter(([, v]) => v > 0)
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .slice(0, top),
  };
}

module.exports = { BROKERS, brokerLabel, brokerAddress, isBrokerProcess, requestsPerOrder };
