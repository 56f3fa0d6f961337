# Shared by scripts/demo.sh and scripts/test.sh: installs and starts what the
# project needs on a fresh machine, and says what it is doing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ORDERFLOW_CACHE="${ORDERFLOW_CACHE:-$ROOT/.cache}"

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
fail() { printf '\033[31merror:\033[0m %s\n' "$*" >&2; exit 1; }

check_node() {
  command -v node >/dev/null || fail "Node.js 20.19+ is required (node not found)"
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
    || fail "Node.js 20.19+ is required (found $(node --version)): NestJS 12 is loaded through require(esm)"
}

install_dependencies() {
  cd "$ROOT"
  local stamp="node_modules/.orderflow-installed"
  if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
    # `npm install`, not `npm ci`: npm 11 leaves other platforms' optional packages
    # (turbo's binaries) out of the lockfile, and `npm ci` then refuses it.
    step "Installing npm dependencies"
    npm install --no-audit --no-fund
    touch "$stamp"
  fi
}

build() {
  step "Building packages and services (turbo)"
  (cd "$ROOT" && npx turbo run build --output-logs=errors-only)
}

ensure_postgres() {
  if [ -n "${DATABASE_URL:-}" ]; then return 0; fi
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then return 0; fi
  [ -d /etc/postgresql ] || fail "PostgreSQL is not running on 127.0.0.1:5432 and no local cluster is installed; set DATABASE_URL"
  local version
  version="$(ls /etc/postgresql | head -n 1)"
  step "Starting PostgreSQL $version"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
  for _ in $(seq 1 30); do
    pg_isready -q -h 127.0.0.1 -p 5432 && return 0
    sleep 0.5
  done
  fail "PostgreSQL did not become ready on 127.0.0.1:5432"
}

# The browser tests drive Debian's Chromium (e2e/browser); installed here when missing,
# non-interactively, so a clean machine runs them too.
ensure_chromium() {
  local chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
  if [ -x "$chromium" ]; then return 0; fi
  command -v apt-get >/dev/null || fail "Chromium is missing at $chromium and there is no apt-get: install Chromium and set CHROMIUM_PATH"
  local as_root=()
  [ "$(id -u)" = 0 ] || as_root=(sudo -n)
  step "Installing Chromium (Debian package) for the browser tests"
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium \
    || { "${as_root[@]}" apt-get update -q && "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; } \
    || fail "could not install chromium with apt-get"
  [ -x "$chromium" ] || fail "apt-get installed chromium, but not at $chromium: set CHROMIUM_PATH"
}

KAFKA_STARTED_HERE=0
ensure_kafka() {
  step "Kafka"
  if [ -z "${KAFKA_BROKERS:-}" ] && ! bash "$ROOT/infra/kafka/kafka.sh" status >/dev/null 2>&1; then
    KAFKA_STARTED_HERE=1
  fi
  bash "$ROOT/infra/kafka/kafka.sh" start
}

# RabbitMQ is the machine's own server (started if stopped, left running); ElasticMQ,
# the SQS stand-in, is fetched and started like Kafka. Neither is touched when its
# address variable (RABBITMQ_URL, SQS_ENDPOINT) names an external one.
ensure_rabbitmq() {
  step "RabbitMQ"
  bash "$ROOT/infra/rabbitmq/rabbitmq.sh" start
}

ELASTICMQ_STARTED_HERE=0
ensure_elasticmq() {
  step "ElasticMQ (SQS)"
  if [ -z "${SQS_ENDPOINT:-}" ] && ! bash "$ROOT/infra/elasticmq/elasticmq.sh" status >/dev/null 2>&1; then
    ELASTICMQ_STARTED_HERE=1
  fi
  bash "$ROOT/infra/elasticmq/elasticmq.sh" start
}

# The broker BROKER names (kafka by default), for the demo.
ensure_broker() {
  case "${BROKER:-kafka}" in
    kafka) ensure_kafka ;;
    rabbitmq) ensure_rabbitmq ;;
    sqs) ensure_elasticmq ;;
    *) fail "BROKER must be kafka, rabbitmq or sqs (got \"$BROKER\")" ;;
  esac
}

# Everything a run of the system needs: Node, packages, a build, PostgreSQL, the broker.
prepare_system() {
  check_node
  install_dependencies
  build
  ensure_postgres
  ensure_broker
}
