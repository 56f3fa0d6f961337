#!/usr/bin/env node
// Inspect and redrive dead letters; `npm run dlq` without arguments prints the usage.
//   npm run dlq -- list [--topic orders.events] [--group payment] [--type OrderPlaced] [--error text] [--json]
//   npm run dlq -- redrive --topic orders.events [--group payment] [...] [--dry-run]
// Honours KAFKA_BROKERS (default 127.0.0.1:9092) and KAFKA_TOPIC_PREFIX.
'use strict';
const { createKafka, parseBrokers, runDlqCommand } = require('@orderflow/messaging');

runDlqCommand(process.argv.slice(2), {
  kafka: () => createKafka({ brokers: parseBrokers(process.env.KAFKA_BROKERS || '127.0.0.1:9092'), clientId: 'orderflow-dlq' }),
  prefix: process.env.KAFKA_TOPIC_PREFIX || '',
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`dlq: ${error.stack || error.message}\n`);
    process.exitCode = 1;
  },
);
