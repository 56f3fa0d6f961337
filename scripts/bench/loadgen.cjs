'use strict';
// The open-loop load generator, forked by bench.cjs into its own process so its
// CPU is measured apart and the bench's own work (queries, /proc reads, printing)
// cannot delay the schedule. Order n is sent at start + n/rate whatever happened
// to the earlier ones; nothing waits for an answer before sending the next.
//
// request: { cmd: 'run', url, tokens, rate, seconds, firstNumber, sockets, timeoutMs }
// progress messages every second while it runs; the reply is the step's result.
const http = require('node:http');
const { performance } = require('node:perf_hooks');
const { serve } = require('./child.cjs');
const { orderNumber } = require('./workload.cjs');
const { latencySummary } = require('./stats.cjs');

const epochNow = () => performance.timeOrigin + performance.now();

function post(agent, url, path, token, body, timeoutMs) {
  return new Promise((resolve) => {
    const data = Buffer.from(JSON.stringify(body));
    const req = http.request({
      agent,
      host: url.hostname,
      port: url.port,
      path,
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': data.length, authorization: `Bearer ${token}` },
    });
    req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (error) => resolve({ error: error.code || error.message }));
    req.on('response', (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', (error) => resolve({ error: error.code || error.message }));
      res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.end(data);
  });
}

async function run({ url: base, tokens, rate, seconds, firstNumber, sockets, timeoutMs }) {
  const url = new URL(base);
  const agent = new http.Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets, scheduling: 'fifo' });
  const total = Math.max(1, Math.round(rate * seconds));
  const interval = 1000 / rate;
  const accepted = [];
  const statusCounts = {};
  const answerMs = [];
  const lateMs = [];
  const inFlight = new Set();
  let sent = 0;
  let maxQueued = 0;
  let maxInFlight = 0;
  let firstSendAt;
  let lastSendAt;

  const count = (key) => (statusCounts[key] = (statusCounts[key] ?? 0) + 1);
  const queued = () => Object.values(agent.requests).reduce((n, q) => n + q.length, 0);
  const progress = () =>
    process.send({
      type: 'progress',
      sent,
      total,
      accepted: accepted.length,
      refused: sent - accepted.length - inFlight.size,
      inFlight: inFlight.size,
      queued: queued(),
    });
  const timer = setInterval(progress, 1000);

  const fire = (n, due) => {
    const sentAt = epochNow();
    lateMs.push(sentAt - due);
    firstSendAt ??= sentAt;
    lastSendAt = sentAt;
    const token = tokens[n % tokens.length];
    const p = post(agent, url, '/orders', token, orderNumber(n), timeoutMs).then((r) => {
      answerMs.push(epochNow() - sentAt);
      if (r.status === 202) {
        try {
          accepted.push(JSON.parse(r.text).orderId);
          count('202');
        } catch {
          count('202-unreadable');
        }
      } else count(r.status !== undefined ? String(r.status) : r.error);
    });
    inFlight.add(p);
    maxInFlight = Math.max(maxInFlight, inFlight.size);
    void p.finally(() => inFlight.delete(p));
  };

  const start = epochNow() + 5;
  await new Promise((resolve) => {
    const tick = () => {
      const now = epochNow();
      while (sent < total && start + sent * interval <= now) {
        fire(firstNumber + sent, start + sent * interval);
        sent++;
      }
      maxQueued = Math.max(maxQueued, queued());
      if (sent >= total) return resolve();
      // Wake up at the next due time (timers have ~1 ms resolution; a late wake-up
      // sends everything due at once, and the lateness is recorded).
      setTimeout(tick, Math.max(0, start + sent * interval - epochNow()));
    };
    setTimeout(tick, 5);
  });
  while (inFlight.size > 0) await Promise.all([...inFlight]);
  clearInterval(timer);
  progress();
  agent.destroy();
  return {
    offered: total,
    sent,
    accepted,
    statusCounts,
    firstSendAt,
    lastSendAt,
    answerMs: latencySummary(answerMs),
    lateMs: latencySummary(lateMs),
    maxQueued,
    maxInFlight,
  };
}

serve({ run });
