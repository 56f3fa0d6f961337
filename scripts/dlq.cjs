#!/usr/bin/env node
// Inspect and redrive dead letters; `npm run dlq` without arguments prints the usage.
//   npm run dlq -- list [--topic orders.events] [--group payment] [--type OrderPlaced] [--error text] [--json]
//   npm run dlq -- redrive --topic orders.events [--group payment] [...] [--dry-run]
// Honours BROKER (kafka, rabbitmq, sqs) with its address variable, and TOPIC_PREFIX.
'use strict';
const { brokerSettingsFromEnv, createTransport, runDlqCommand } = require('@orderflow/messaging');

runDlqCommand(process.argv.slice(2), {
  transport: () => createTransport(brokerSettingsFromEnv(process.env, { clientId: 'orderflow-dlq', topicPrefix: process.env.TOPIC_PREFIX || '' })),
  prefix: process.env.TOPIC_PREFIX || '',
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
