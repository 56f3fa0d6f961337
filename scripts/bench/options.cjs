'use strict';
// Command-line options of `npm run bench`: parsed strictly, so a typo names the
// option instead of silently running the defaults for six minutes.

const { BROKERS } = require('./brokers.cjs');

const USAGE = `usage: npm run bench [-- options]

Open-loop sweep of offered order rates against the four services (run as
processes on ports 3200-3203, topics bench-<id>.*, databases *_bench_<id>),
then the same sweep against a framework-free floor (kafkajs + pg doing the same
Kafka and PostgreSQL work per order). Prints a row per rate, CPU per order by
process, and writes results.json and plot.svg into .cache/bench/<timestamp>/.

options:
  --broker NAME         the broker the services run on: kafka (default), rabbitmq,
                        sqs (ElasticMQ), a comma-separated list, or all: the same
                        sweep on each in turn, then one table and one plot
                        (compare.svg) comparing them; --budget applies to each
  --rates LIST          offered rates in orders/s, comma-separated, ascending
                        (default 50,100,200,400,600,1200: steps up to about the
                        capacity of a 2-core machine, then twice it, to show
                        what happens above capacity)
  --seconds N           seconds of load per rate (default 20)
  --floor-rates LIST    rates for the floor sweep (default: the same as --rates)
  --floor-seconds N     seconds of load per floor rate (default: min(--seconds, 10))
  --idle-seconds N      idle CPU measurement before the load, 0 skips it (default 20)
  --warmup-seconds N    load at --warmup-rate before the sweep (and, shorter, before
                        the floor's), reported on its own line and left out of the
                        table: a new Node process spends its first minute compiling
                        its hot code, which is start-up, not capacity; 0 skips it
                        (default 20; the floor's is min(N, 10))
  --warmup-rate N       orders/s of the warm-up (default 200)
  --drain-timeout N     seconds to wait after the last send for the step's
                        orders to become terminal before giving up (default 30)
  --budget N            seconds the whole run may take; rates that would not fit
                        are skipped and reported (default 340)
  --sockets N           keep-alive connections of the load generator (default 256)
  --no-floor            skip the floor sweep
  --tracing             run the services with OpenTelemetry tracing on (every order
                        sampled, OTLP/HTTP protobuf to a sink in the bench process
                        that discards the spans), to compare with a run without it
  --help                this text

A rate is sustained when every order was accepted (202), every accepted order
was terminal within 10 s of the last send, and p99 placed->terminal <= 1 s.
The sweep stops after two consecutive rates that were not sustained.

environment: KAFKA_BROKERS, RABBITMQ_URL, SQS_ENDPOINT (use that broker
instead of starting one; the services get it too), DATABASE_URL (PostgreSQL server base URL, default postgres://postgres@127.0.0.1:5432).
See docs/benchmark.md for what each figure means.
`;

const DEFAULTS = {
  brokers: ['kafka'],
  rates: [50, 100, 200, 400, 600, 1200],
  seconds: 20,
  floorRates: undefined,
  floorSeconds: undefined,
  idleSeconds: 20,
  warmupSeconds: 20,
  warmupRate: 200,
  drainTimeout: 30,
  budget: 340,
  sockets: 256,
  floor: true,
  tracing: false,
  help: false,
};

class OptionError extends Error {}

function positiveNumber(name, raw, { integer = false, allowZero = false } = {}) {
  const value = Number(raw);
  const ok =
    raw !== undefined &&
    raw !== '' &&
    Number.isFinite(value) &&
    (allowZero ? value >= 0 : value > 0) &&
    (!integer || Number.isInteger(value));
  if (!ok) {
    const kind = integer ? 'integer' : 'number';
    throw new OptionError(
      `--${name} needs a ${allowZero ? 'non-negative' : 'positive'} ${kind}, got ${raw === undefined ? 'nothing' : JSON.stringify(raw)}`,
    );
  }
  return value;
}

function rateList(name, raw) {
  if (raw === undefined || raw === '')
    throw new OptionError(`--${name} needs a comma-separated list of rates, e.g. --${name} 50,100`);
  const rates = raw.split(',').map((part) => positiveNumber(name, part.trim()));
  for (let i = 1; i < rates.length; i++) {
    if (rates[i] <= rates[i - 1]) throw new OptionError(`--${name} must be strictly ascending, got ${raw}`);
  }
  return rates;
}

function brokerList(raw) {
  if (raw === undefined || raw === '') throw new OptionError(`--broker needs one of ${BROKERS.join(', ')} or all`);
  if (raw === 'all') return [...BROKERS];
  const names = raw.split(',').map((b) => b.trim());
  for (const name of names) {
    if (!BROKERS.includes(name))
      throw new OptionError(
        `--broker: unknown broker ${JSON.stringify(name)} (one of ${BROKERS.join(', ')}, a list of them, or all)`,
      );
  }
  if (new Set(names).size !== names.length) throw new OptionError(`--broker names a broker twice: ${raw}`);
  return names;
}

const VALUED = {
  broker: (raw) => ({ brokers: brokerList(raw) }),
  rates: (raw) => ({ rates: rateList('rates', raw) }),
  'floor-rates': (raw) => ({ floorRates: rateList('floor-rates', raw) }),
  seconds: (raw) => ({ seconds: positiveNumber('seconds', raw) }),
  'floor-seconds': (raw) => ({ floorSeconds: positiveNumber('floor-seconds', raw) }),
  'idle-seconds': (raw) => ({ idleSeconds: positiveNumber('idle-seconds', raw, { allowZero: true }) }),
  'warmup-seconds': (raw) => ({ warmupSeconds: positiveNumber('warmup-seconds', raw, { allowZero: true }) }),
  'warmup-rate': (raw) => ({ warmupRate: positiveNumber('warmup-rate', raw) }),
  'drain-timeout': (raw) => ({ drainTimeout: positiveNumber('drain-timeout', raw) }),
  budget: (raw) => ({ budget: positiveNumber('budget', raw) }),
  sockets: (raw) => ({ sockets: positiveNumber('sockets', raw, { integer: true }) }),
};
const FLAGS = {
  'no-floor': { floor: false },
  tracing: { tracing: true },
  help: { help: true },
};

/** Parses argv (without node and script); throws OptionError naming the bad option. */
function parseOptions(argv) {
  const options = { ...DEFAULTS };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new OptionError(`unexpected argument ${JSON.stringify(arg)} (options start with --)`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    if (FLAGS[name]) {
      if (eq >= 0) throw new OptionError(`--${name} takes no value`);
      Object.assign(options, FLAGS[name]);
    } else if (VALUED[name]) {
      const raw = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
      Object.assign(options, VALUED[name](raw));
    } else {
      throw new OptionError(`unknown option --${name} (see npm run bench -- --help)`);
    }
  }
  options.floorRates ??= options.rates;
  options.floorSeconds ??= Math.min(options.seconds, 10);
  options.floorWarmupSeconds = Math.min(options.warmupSeconds, 10);
  return options;
}

// Rough costs of a run's phases, in seconds, as measured on the 2-core machines
// the project runs on: start-up and seeding, a step's drain and statistics wait,
// quiet + invariants + cleanup, the floor's set-up.
const ESTIMATE = { start: 20, perStep: 5, quiet: 20, floorSetUp: 15, perFloorStep: 5 };

/**
 * What a run will take, in seconds, before it starts: `typical` when every
 * rate drains at once, `atMost` the budget per broker allows (plus its reserve).
 */
function expectedSeconds(options) {
  let typical = 0;
  for (const broker of options.brokers) {
    let s = ESTIMATE.start + options.idleSeconds + ESTIMATE.quiet;
    s += options.rates.length * (options.seconds + ESTIMATE.perStep);
    if (options.warmupSeconds > 0) s += options.warmupSeconds + ESTIMATE.perStep;
    if (broker === 'kafka' && options.floor) {
      s += ESTIMATE.floorSetUp + options.floorRates.length * (options.floorSeconds + ESTIMATE.perFloorStep);
      if (options.floorWarmupSeconds > 0) s += options.floorWarmupSeconds + ESTIMATE.perFloorStep;
    }
    typical += Math.min(s, options.budget);
  }
  return { typical, atMost: options.brokers.length * (options.budget + ESTIMATE.start) };
}

module.exports = { USAGE, DEFAULTS, OptionError, parseOptions, expectedSeconds };

// Run directly (scripts/bench.sh does, before installing or starting anything):
// answers --help and refuses bad options early.
if (require.main === module) {
  try {
    if (parseOptions(process.argv.slice(2)).help) process.stdout.write(USAGE);
  } catch (error) {
    if (!(error instanceof OptionError)) throw error;
    process.stderr.write(`bench: ${error.message}\n`);
    process.exit(2);
  }
}
