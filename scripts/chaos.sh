#!/usr/bin/env bash
# npm run chaos [-- --short]: the chaos suite (e2e/chaos). Under steady open-loop order
# load it kills each service, crash-restarts PostgreSQL, SIGKILLs the broker, cuts one
# service's network to PostgreSQL and to the broker, and rebalances a consumer group; after
# each fault every accepted order must be terminal and every invariant hold
# (docs/invariants.md). BROKER=kafka|rabbitmq|sqs (default kafka) chooses the broker.
#
# It never touches the shared PostgreSQL (5432) or brokers (9092, 5672, 9324): it creates
# (once) and starts its own PostgreSQL cluster and its own broker of the kind BROKER names
# (Kafka from infra/kafka, a second RabbitMQ node beside the machine's, ElasticMQ from
# infra/elasticmq; testkit's privateBroker), and stops both at the end (the broker's data
# is wiped; the cluster's databases are dropped by the suite).
#
#   --short | --full   CHAOS_MODE (default full; `npm test` runs --short on each broker: lower
#                      rate, shorter load and cuts, one scenario per kind of fault; see
#                      e2e/chaos/settings.ts)
#   CHAOS_RATE, CHAOS_LOAD_SECONDS, CHAOS_DOWN_SECONDS, CHAOS_CUT_SECONDS,
#   CHAOS_DRAIN_SECONDS, CHAOS_SCENARIOS=kill-orders,broker-kill,...   see e2e/chaos/settings.ts
#   CHAOS_PG_PORT (5433), CHAOS_BROKER_PORT (Kafka 19092-19094, RabbitMQ 19672 and 39672,
#   ElasticMQ 19324), CHAOS_BROKER_PROXY_PORT (the broker's port + 3 for Kafka, + 1 otherwise)
#   and the other ports below
#   CHAOS_SKIP_BUILD=1  when the caller has just built (scripts/test.sh)
# Creating the PostgreSQL cluster needs root (pg_createcluster, Debian's postgresql-common).
source "$(dirname "$0")/lib.sh"

export CHAOS_MODE="${CHAOS_MODE:-full}"
for arg in "$@"; do
  case "$arg" in
    --short) CHAOS_MODE=short ;;
    --full) CHAOS_MODE=full ;;
    *) fail "unknown argument $arg (use --short or --full)" ;;
  esac
done

export BROKER="${BROKER:-kafka}"
case "$BROKER" in
  kafka) default_broker_port=19092 default_proxy_port=19095 broker_name=Kafka ;;
  rabbitmq) default_broker_port=19672 default_proxy_port=19673 broker_name=RabbitMQ ;;
  sqs) default_broker_port=19324 default_proxy_port=19325 broker_name="SQS (ElasticMQ)" ;;
  *) fail "BROKER must be kafka, rabbitmq or sqs (got \"$BROKER\")" ;;
esac
export CHAOS_PG_PORT="${CHAOS_PG_PORT:-5433}"
export CHAOS_PG_PROXY_PORT="${CHAOS_PG_PROXY_PORT:-19460}"
export CHAOS_BROKER_PORT="${CHAOS_BROKER_PORT:-$default_broker_port}"
export CHAOS_BROKER_PROXY_PORT="${CHAOS_BROKER_PROXY_PORT:-$default_proxy_port}"
export CHAOS_BROKER_CACHE="$ORDERFLOW_CACHE/chaos"
export CHAOS_BASE_PORT="${CHAOS_BASE_PORT:-19400}"
PG_CLUSTER_NAME=orderflow_chaos

check_node
install_dependencies
[ "${CHAOS_SKIP_BUILD:-}" = 1 ] || build

step "PostgreSQL cluster $PG_CLUSTER_NAME on port $CHAOS_PG_PORT (the suite's own)"
[ -d /etc/postgresql ] || fail "the chaos suite needs Debian's PostgreSQL (postgresql-common) to run a cluster of its own"
PG_VERSION="$(ls /etc/postgresql | sort -V | tail -n 1)"
export CHAOS_PG_CLUSTER="$PG_VERSION $PG_CLUSTER_NAME"
if [ ! -d "/etc/postgresql/$PG_VERSION/$PG_CLUSTER_NAME" ]; then
  pg_createcluster "$PG_VERSION" "$PG_CLUSTER_NAME" -p "$CHAOS_PG_PORT" --start-conf=manual -- --auth=trust >/dev/null
fi
pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" "$PG_CLUSTER_NAME" status >/dev/null 2>&1 ||
  pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" "$PG_CLUSTER_NAME" start
for _ in $(seq 1 40); do pg_isready -q -h 127.0.0.1 -p "$CHAOS_PG_PORT" && break; sleep 0.5; done
pg_isready -q -h 127.0.0.1 -p "$CHAOS_PG_PORT" || fail "PostgreSQL cluster $PG_CLUSTER_NAME did not come up on port $CHAOS_PG_PORT"

step "$broker_name on 127.0.0.1:$CHAOS_BROKER_PORT (the suite's own, data in $CHAOS_BROKER_CACHE)"
# The same code the suite uses (testkit's privateBroker): a RabbitMQ node's directories
# are handed to the rabbitmq user there, and the shared broker's jars are linked, not fetched.
chaos_broker() {
  node "$ROOT/packages/testkit/dist/private-broker-cli.js" "$1" --port "$CHAOS_BROKER_PORT" \
    --proxy-port "$CHAOS_BROKER_PROXY_PORT" --cache "$CHAOS_BROKER_CACHE"
}
cleanup() {
  # remove = stop and wipe: every run makes topics and queues of its own, nothing is worth keeping.
  chaos_broker remove >/dev/null 2>&1 || true
  pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" "$PG_CLUSTER_NAME" stop >/dev/null 2>&1 || true
  printf 'chaos: its %s broker is stopped (data wiped) and its PostgreSQL cluster (%s) is stopped\n' "$broker_name" "$CHAOS_PG_CLUSTER"
}
trap cleanup EXIT
chaos_broker start

step "Chaos scenarios ($CHAOS_MODE) on $broker_name"
cd "$ROOT/e2e"
# The suite points the testkit and the services at its broker itself (settings.ts).
DATABASE_URL="postgres://postgres@127.0.0.1:$CHAOS_PG_PORT" npx jest --config jest.chaos.config.cjs --runInBand
