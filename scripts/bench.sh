#!/usr/bin/env bash
# npm run bench [-- --orders N --concurrency C]: builds, starts PostgreSQL and Kafka if needed, then measures.
source "$(dirname "$0")/lib.sh"
prepare_system
step "Benchmark"
exec node "$ROOT/scripts/bench.cjs" "$@"
