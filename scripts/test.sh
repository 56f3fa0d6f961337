#!/usr/bin/env bash
# The one test command (README, .ci/run): installs what is missing, builds,
# lints, then runs unit, integration, deployment, end-to-end and browser tests against the
# real PostgreSQL and real brokers (the end-to-end suite once on each of Kafka, RabbitMQ
# and ElasticMQ for SQS), then the short chaos suite, and prints one total.
source "$(dirname "$0")/lib.sh"

started=$SECONDS
check_node
install_dependencies
build

export ORDERFLOW_TEST_TALLY="$ORDERFLOW_CACHE/test-tally.jsonl"
mkdir -p "$ORDERFLOW_CACHE"
: > "$ORDERFLOW_TEST_TALLY"

status=0
failed_phases=()
phase() {
  local name="$1"; shift
  step "$name"
  local t=$SECONDS
  if ! (cd "$ROOT" && "$@"); then
    status=1
    failed_phases+=("$name")
    printf '\033[31m%s failed\033[0m\n' "$name"
  fi
  printf '(%s: %ss)\n' "$name" "$((SECONDS - t))"
}

phase "Lint" npx turbo run lint --output-logs=errors-only
phase "Unit tests" npx turbo run test:unit --output-logs=new-only
phase "Benchmark helpers (pure functions)" node --test scripts/bench/
ensure_postgres
ensure_kafka
ensure_rabbitmq
ensure_elasticmq
# A broker this run started is stopped at the end; one that was already running stays
# (RabbitMQ is the machine's own service: it is left running).
stop_started_brokers() {
  [ "$KAFKA_STARTED_HERE" = 1 ] && bash "$ROOT/infra/kafka/kafka.sh" stop >/dev/null 2>&1
  [ "$ELASTICMQ_STARTED_HERE" = 1 ] && bash "$ROOT/infra/elasticmq/elasticmq.sh" stop >/dev/null 2>&1
  true
}
trap stop_started_brokers EXIT
phase "kafkajs against the pinned Kafka (produce, idempotence, groups, admin)" node infra/kafka/compat-check.mjs
# The deployment files' tests need neither a database nor a broker, and mostly compile
# (tsc) while the integration tests mostly wait on their brokers: they run side by side,
# their output kept whole and printed after the integration tests (about 100 s saved).
deploy_log="$ORDERFLOW_CACHE/deploy-tests.log"
deploy_pid=
if [ -d "$ROOT/infra/deploy-tests" ]; then
  deploy_started=$SECONDS
  (cd "$ROOT" && npm run test:deploy -w @orderflow/deploy-tests) > "$deploy_log" 2>&1 &
  deploy_pid=$!
fi
phase "Integration tests (PostgreSQL, Kafka, RabbitMQ, ElasticMQ)" npx turbo run test:int --concurrency=1 --output-logs=new-only
if [ -n "$deploy_pid" ]; then
  # Waited for here, in this shell: a phase runs in a subshell, which cannot wait for it.
  deploy_status=0
  wait "$deploy_pid" || deploy_status=$?
  phase "Deployment files (Docker, Compose, Kubernetes; took $((SECONDS - deploy_started)) s beside the integration tests)" \
    bash -c 'cat "$1"; exit "$2"' _ "$deploy_log" "$deploy_status"
fi
# The suite once per broker, the three runs side by side (each on ports, topics and
# databases of its own; they mostly wait on their services): one after the other would
# add seven minutes. Each run's output is kept whole and printed once it is done.
e2e_on_every_broker() {
  local dir="$ORDERFLOW_CACHE/e2e-runs" brokers=(kafka rabbitmq sqs) pids=() failed=0 i
  mkdir -p "$dir"
  for i in "${!brokers[@]}"; do
    BROKER="${brokers[$i]}" npm run test:e2e -w @orderflow/e2e > "$dir/${brokers[$i]}.log" 2>&1 &
    pids+=($!)
  done
  for i in "${!brokers[@]}"; do
    local result=passed
    wait "${pids[$i]}" || { result=FAILED; failed=1; }
    printf '\n----- end-to-end on %s: %s (%s) -----\n' "${brokers[$i]}" "$result" "$dir/${brokers[$i]}.log"
    cat "$dir/${brokers[$i]}.log"
  done
  return "$failed"
}
phase "End-to-end tests on Kafka, RabbitMQ and SQS/ElasticMQ (four services as processes, per broker)" e2e_on_every_broker
phase "Chromium for the browser tests" ensure_chromium
phase "Browser tests (storefront and operator view in Chromium, Playwright)" npm run test:browser -w @orderflow/e2e
# On a PostgreSQL cluster and a broker of its own (it restarts and kills them), never the shared ones.
phase "Chaos, short form on Kafka (faults under order load)" env BROKER=kafka CHAOS_SKIP_BUILD=1 bash scripts/chaos.sh --short
phase "Chaos, short form on RabbitMQ" env BROKER=rabbitmq CHAOS_SKIP_BUILD=1 bash scripts/chaos.sh --short
phase "Chaos, short form on SQS (ElasticMQ)" env BROKER=sqs CHAOS_SKIP_BUILD=1 bash scripts/chaos.sh --short

step "Summary ($((SECONDS - started))s)"
for name in "${failed_phases[@]}"; do printf '\033[31mfailed phase: %s\033[0m\n' "$name"; done
node -e '
  const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").filter(Boolean).map(JSON.parse);
  const sum = (k) => lines.reduce((n, l) => n + l[k], 0);
  for (const l of lines.filter((l) => l.passed + l.failed > 0)) console.log(`  ${require("path").relative(process.cwd(), l.cwd) || "."}${l.broker ? ` on ${l.broker}` : ""}: ${l.passed} passed, ${l.failed} failed`);
  console.log(`${sum("passed")} passed, ${sum("failed") + sum("suitesFailed")} failed` + (sum("skipped") ? `, ${sum("skipped")} skipped` : ""));
' "$ORDERFLOW_TEST_TALLY"
exit $status
