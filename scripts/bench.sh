#!/usr/bin/env bash
# npm run bench: builds, starts PostgreSQL and Kafka if needed, then measures.
source "$(dirname "$0")/lib.sh"
check_node
install_dependencies
build
ensure_postgres
ensure_kafka
step "Benchmark"
exec node "$ROOT/scripts/bench.cjs" "$@"
