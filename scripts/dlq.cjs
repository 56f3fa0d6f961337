#!/usr/bin/env node
// Inspect and redrive dead letters:
//   npm run dlq -- list <topic>       e.g. npm run dlq -- list orders.events
//   npm run dlq -- redrive <topic>    republish parked events to <topic>, each once
// Honours KAFKA_BROKERS (default 127.0.0.1:9092) and KAFKA_TOPIC_PREFIX.
'use strict';
const { ALL_TOPICS } = require('@orderflow/contracts');
const { KafkaPublisher, createKafka, listDeadLetters, parseBrokers, redriveDeadLetters } = require('@orderflow/messaging');

async function main() {
  const [command, topic] = process.argv.slice(2);
  if (!['list', 'redrive'].includes(command) || !ALL_TOPICS.includes(topic)) {
    process.stderr.write(`usage: npm run dlq -- list|redrive <topic>\n  topics: ${ALL_TOPICS.join(', ')}\n`);
    process.exit(2);
  }
  const prefix = process.env.KAFKA_TOPIC_PREFIX || '';
  const kafka = createKafka({ brokers: parseBrokers(process.env.KAFKA_BROKERS || '127.0.0.1:9092'), clientId: 'orderflow-dlq' });
  if (command === 'list') {
    const letters = await listDeadLetters(kafka, topic, prefix);
    for (const l of letters) {
      process.stdout.write(
        `${l.partition}@${l.offset} ${l.headers.ce_type ?? '?'} key=${l.key} from ${l.headers['dlq-original-topic']}@${l.headers['dlq-original-offset']} ` +
          `group=${l.headers['dlq-consumer-group']}\n  error: ${l.headers['dlq-error']}\n`,
      );
    }
    process.stdout.write(`${letters.length} dead letter(s) in ${prefix}${topic}.dlq\n`);
    return;
  }
  const publisher = new KafkaPublisher(kafka, prefix);
  try {
    const n = await redriveDeadLetters(kafka, publisher, topic, prefix);
    process.stdout.write(`redrove ${n} dead letter(s) from ${prefix}${topic}.dlq to ${prefix}${topic}\n`);
  } finally {
    await publisher.disconnect();
  }
}

main().catch((error) => {
  process.stderr.write(`dlq: ${error.message}\n`);
  process.exit(1);
});
