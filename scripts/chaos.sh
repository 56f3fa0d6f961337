#!/usr/bin/env bash
# npm run chaos [-- --short]: the chaos suite (e2e/chaos). Under steady open-loop order
# load it kills each service, crash-restarts PostgreSQL, SIGKILLs the broker, cuts one
# service's network to PostgreSQL and to Kafka, and rebalances a consumer group; after
# each fault every accepted order must be terminal and every invariant hold
# (docs/invariants.md).
#
# It never touches the shared PostgreSQL (5432) or broker (9092): it creates (once) and
# starts its own PostgreSQL cluster and its own broker, and stops both at the end
# (the broker's data is wiped; the cluster's databases are dropped by the suite).
#
#   --short | --full   CHAOS_MODE (default full; `npm test` runs --short: lower rate, shorter
#                      load and cuts, one scenario per kind of fault; see e2e/chaos/settings.ts)
#   CHAOS_RATE, CHAOS_LOAD_SECONDS, CHAOS_DOWN_SECONDS, CHAOS_CUT_SECONDS,
#   CHAOS_DRAIN_SECONDS, CHAOS_SCENARIOS=kill-orders,broker-kill,...   see e2e/chaos/settings.ts
#   CHAOS_PG_PORT (5433), CHAOS_KAFKA_PORT (19092) and the other ports below
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

export CHAOS_PG_PORT="${CHAOS_PG_PORT:-5433}"
export CHAOS_PG_PROXY_PORT="${CHAOS_PG_PROXY_PORT:-3460}"
export CHAOS_KAFKA_PORT="${CHAOS_KAFKA_PORT:-19092}"
export CHAOS_KAFKA_CONTROLLER_PORT="${CHAOS_KAFKA_CONTROLLER_PORT:-19093}"
export CHAOS_KAFKA_PROXIED_PORT="${CHAOS_KAFKA_PROXIED_PORT:-19094}"
export CHAOS_KAFKA_PROXY_PORT="${CHAOS_KAFKA_PROXY_PORT:-19095}"
export CHAOS_BASE_PORT="${CHAOS_BASE_PORT:-3400}"
export CHAOS_KAFKA_CACHE="$ORDERFLOW_CACHE/chaos"
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

step "Kafka on 127.0.0.1:$CHAOS_KAFKA_PORT (the suite's own, data in $CHAOS_KAFKA_CACHE/kafka)"
chaos_kafka() {
  env -u KAFKA_BROKERS ORDERFLOW_CACHE="$CHAOS_KAFKA_CACHE" KAFKA_PORT="$CHAOS_KAFKA_PORT" \
    KAFKA_CONTROLLER_PORT="$CHAOS_KAFKA_CONTROLLER_PORT" KAFKA_PROXIED_PORT="$CHAOS_KAFKA_PROXIED_PORT" \
    KAFKA_PROXIED_ADVERTISED_PORT="$CHAOS_KAFKA_PROXY_PORT" bash "$ROOT/infra/kafka/kafka.sh" "$@"
}
mkdir -p "$CHAOS_KAFKA_CACHE/kafka"
# Reuse the project broker's jars when they are there rather than fetching them again.
if [ -d "$ORDERFLOW_CACHE/kafka/libs" ] && [ ! -e "$CHAOS_KAFKA_CACHE/kafka/libs" ]; then
  ln -s ../../kafka/libs "$CHAOS_KAFKA_CACHE/kafka/libs"
fi
cleanup() {
  # reset = stop and wipe: every run makes topics of its own, nothing is worth keeping.
  chaos_kafka reset >/dev/null 2>&1 || true
  pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" "$PG_CLUSTER_NAME" stop >/dev/null 2>&1 || true
  printf 'chaos: its broker is stopped (data wiped) and its PostgreSQL cluster (%s) is stopped\n' "$CHAOS_PG_CLUSTER"
}
trap cleanup EXIT
chaos_kafka start

step "Chaos scenarios ($CHAOS_MODE)"
cd "$ROOT/e2e"
DATABASE_URL="postgres://postgres@127.0.0.1:$CHAOS_PG_PORT" KAFKA_BROKERS="127.0.0.1:$CHAOS_KAFKA_PORT" \
  npx jest --config jest.chaos.config.cjs --runInBand
