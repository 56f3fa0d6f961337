#!/usr/bin/env bash
# The demo: `npm run demo` (keeps running) or `npm run demo -- --once` (one shot).
# Installs what is missing, starts PostgreSQL and the broker (BROKER: kafka by default, rabbitmq, sqs), runs the four services
# as separate processes, seeds the catalog and walks sample orders through.
source "$(dirname "$0")/lib.sh"
prepare_system
step "Orderflow"
exec node "$ROOT/scripts/demo.cjs" "$@"
