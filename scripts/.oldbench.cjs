#!/usr/bin/env node
// npm run bench [-- --orders 300 --concurrency 20]
// Places orders through the storefront API against the four services running as
// processes (isolated topics and databases), and prints throughput, end-to-end
// latency to a terminal state, and each service's memory.
'use strict';
const { randomBytes } = require('node:crypto');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { Cluster, REPO_ROOT, StorefrontClient, checkInvariants, sampleAddress, signDevToken, waitForQuiet } = require('@orderflow/testkit');

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isInteger(value) || value <= 0) {
    process.stderr.write(`--${name} needs a positive integer\n`);
    process.exit(2);
  }
  return value;
}

const ORDERS = option('orders', 300);
const CONCURRENCY = option('concurrency', 20);
const out = (line = '') => process.stdout.write(`${line}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

function rssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024;
}

async function main() {
  const id = randomBytes(3).toString('hex');
  const secret = randomBytes(32).toString('hex');
  const cluster = new Cluster({
    topicPrefix: `bench-${id}.`,
    databaseSuffix: `_bench_${id}`,
    basePort: 3300,
    jwtSecret: secret,
    logDir: join(REPO_ROOT, '.cache/bench-logs', id),
  });
  try {
    out(`starting the four services (topics bench-${id}.*)`);
    await cluster.start();
    await cluster.seed(join(REPO_ROOT, 'scripts/bench-catalog.json'));
    const client = new StorefrontClient(cluster.url('orders'), signDevToken('bench-customer', secret));
    while ((await client.products()).body.length < 4) await sleep(100);

    const skus = ['BENCH-A', 'BENCH-B', 'BENCH-C', 'BENCH-D'];
    const placedAt = new Map();
    const acceptMs = [];
    let next = 0;
    const started = Date.now();
    let lastReport = started;
    const worker = async () => {
      while (next < ORDERS) {
        const i = next++;
        const body = {
          items: [{ sku: skus[i % 4], quantity: 1 }, { sku: skus[(i + 1) % 4], quantity: 2 }],
          payment: { token: i % 10 === 9 ? 'tok_declined' : 'tok_visa' },
          shippingAddress: sampleAddress,
        };
        const t = Date.now();
        const r = await client.placeOrder(body);
        if (r.status !== 202) throw new Error(`POST /orders answered ${r.status}: ${JSON.stringify(r.body)}`);
        acceptMs.push(Date.now() - t);
        placedAt.set(r.body.orderId, t);
        if (Date.now() - lastReport > 2_000) {
          lastReport = Date.now();
          out(`  placed ${placedAt.size}/${ORDERS}`);
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const placedMs = Date.now() - started;

    // Completion time of each order = recorded time of its terminal event in the orders database.
    const pending = new Set(placedAt.keys());
    const doneAt = new Map();
    const deadline = Date.now() + 300_000;
    while (pending.size > 0 && Date.now() < deadline) {
      const rows = await cluster.query(
        'orders',
        "SELECT order_id, status, updated_at FROM order_summaries WHERE status IN ('COMPLETED', 'CANCELLED')",
      );
      for (const row of rows) {
        if (pending.delete(row.order_id)) doneAt.set(row.order_id, new Date(row.updated_at).getTime());
      }
      if (pending.size > 0) {
        out(`  terminal ${doneAt.size}/${ORDERS}`);
        await sleep(1_000);
      }
    }
    if (pending.size > 0) throw new Error(`${pending.size} orders did not finish within 5 minutes`);
    const totalMs = Math.max(...doneAt.values()) - started;
    const latencies = [...doneAt].map(([orderId, t]) => t - placedAt.get(orderId)).sort((a, b) => a - b);
    acceptMs.sort((a, b) => a - b);
    await waitForQuiet(cluster, 120_000);
    const violations = await checkInvariants(cluster);

    out('');
    out(`orders                     ${ORDERS} (${CONCURRENCY} concurrent clients, 10% declined)`);
    out(`POST /orders accepted      ${(ORDERS / (placedMs / 1000)).toFixed(1)} orders/s; latency p50 ${percentile(acceptMs, 50)} ms, p95 ${percentile(acceptMs, 95)} ms, p99 ${percentile(acceptMs, 99)} ms`);
    out(`placed → terminal state    p50 ${percentile(latencies, 50)} ms, p95 ${percentile(latencies, 95)} ms, p99 ${percentile(latencies, 99)} ms, max ${latencies.at(-1)} ms`);
    out(`end-to-end throughput      ${(ORDERS / (totalMs / 1000)).toFixed(1)} orders/s (${(totalMs / 1000).toFixed(1)} s for all)`);
    out(`resident memory            ${Object.values(cluster.services).map((s) => `${s.name} ${rssMb(s.pid).toFixed(0)} MB`).join(', ')}`);
    out(`invariants                 ${violations.length ? violations.slice(0, 5).join('; ') : 'all hold'}`);
    if (violations.length) process.exitCode = 1;
  } finally {
    await cluster.stop();
    await cluster.dropDatabases();
  }
}

main().catch((error) => {
  process.stderr.write(`bench failed: ${error.stack || error.message}\n`);
  process.exit(1);
});
