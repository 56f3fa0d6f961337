#!/usr/bin/env bash
# npm run bench [-- --help]: builds, starts PostgreSQL if needed, then runs the
# open-loop sweep, the framework-free floor and the plot (docs/benchmark.md). The
# bench itself starts each broker it runs on (--broker) if it does not answer.
source "$(dirname "$0")/lib.sh"
check_node
# Answer --help and refuse bad options before installing, building or starting anything.
for arg in "$@"; do
  if [ "$arg" = "--help" ] || [ "$arg" = "-h" ]; then exec node "$ROOT/scripts/bench/options.cjs" --help; fi
done
node "$ROOT/scripts/bench/options.cjs" "$@" || exit 2
install_dependencies
build
ensure_postgres
step "Benchmark"
exec node "$ROOT/scripts/bench.cjs" "$@"
