#!/usr/bin/env bash
# The machine's RabbitMQ (Debian's rabbitmq-server package) for development and CI, for
# BROKER=rabbitmq. No plugins are needed: the transport declares plain exchanges and quorum
# queues over AMQP 0-9-1.
#
# Usage: infra/rabbitmq/rabbitmq.sh <command>          (works from any cwd)
#   start    start the local broker if nothing answers on 127.0.0.1:5672, wait until ready
#   stop     stop the local broker (rabbitmqctl stop) and wait until its port is closed; for
#            tests that take the broker down (e2e faults). Refused when RABBITMQ_URL is set
#   status   exit 0 = accepting connections, 1 = not reachable
#   env      print RABBITMQ_URL=<url> for the local broker
#
# Environment:
#   RABBITMQ_URL             if set, `start` does nothing (an external broker is used) and
#                            `status` only checks that its host and port answer
#   RABBITMQ_START_TIMEOUT   readiness timeout, secs (default 60)
set -euo pipefail

HOST=127.0.0.1
PORT=5672
LOCAL_URL="amqp://guest:guest@$HOST:$PORT"
START_TIMEOUT="${RABBITMQ_START_TIMEOUT:-60}"
LOG_DIR="${RABBITMQ_LOG_BASE:-/var/log/rabbitmq}"

log()  { printf '[rabbitmq] %s\n' "$*"; }
die()  { printf '[rabbitmq] ERROR: %s\n' "$*" >&2; exit 1; }

[[ "$START_TIMEOUT" =~ ^[0-9]+$ ]] || die "RABBITMQ_START_TIMEOUT must be a number of seconds"

port_open() { # port_open HOST PORT -> 0 if something accepts TCP connections there
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

redacted() { sed -E 's#(amqps?://[^:@/]*):[^@]*@#\1@#' <<<"$1"; }

print_log_tail() {
  local f
  for f in "$LOG_DIR"/*.log; do
    [[ -f "$f" ]] || continue
    echo "----- last 30 lines of $f -----" >&2
    tail -n 30 "$f" >&2 || true
  done
  echo "-----" >&2
}

cmd_start() {
  if [[ -n "${RABBITMQ_URL:-}" ]]; then
    log "RABBITMQ_URL is set ($(redacted "$RABBITMQ_URL")): using that external broker, not starting a local one."
    return 0
  fi
  if port_open "$HOST" "$PORT"; then
    log "RabbitMQ already answers on $HOST:$PORT; nothing to do."
    return 0
  fi
  command -v rabbitmq-server >/dev/null 2>&1 || die "rabbitmq-server not found (apt-get install rabbitmq-server), or set RABBITMQ_URL to an external broker"
  log "Starting RabbitMQ (rabbitmq-server -detached)..."
  rabbitmq-server -detached
  local t0=$SECONDS
  log "Waiting for RabbitMQ on $HOST:$PORT (timeout ${START_TIMEOUT}s)..."
  while :; do
    if port_open "$HOST" "$PORT" && rabbitmqctl await_startup --timeout 5 >/dev/null 2>&1; then
      log "RabbitMQ is ready on $HOST:$PORT (after $((SECONDS - t0))s)   RABBITMQ_URL=$LOCAL_URL"
      return 0
    fi
    if ((SECONDS - t0 >= START_TIMEOUT)); then
      print_log_tail
      die "RabbitMQ did not become ready on $HOST:$PORT within ${START_TIMEOUT}s; see $LOG_DIR"
    fi
    sleep 1
  done
}

cmd_stop() {
  [[ -z "${RABBITMQ_URL:-}" ]] || die "RABBITMQ_URL is set ($(redacted "$RABBITMQ_URL")): an external broker is not this script's to stop"
  if ! port_open "$HOST" "$PORT"; then
    log "RabbitMQ is not running on $HOST:$PORT; nothing to do."
    return 0
  fi
  log "Stopping RabbitMQ (rabbitmqctl stop)..."
  # Stops the machine's node (rabbit@localhost), the one listening on $PORT; data stays.
  rabbitmqctl stop >/dev/null 2>&1 || die "rabbitmqctl stop failed"
  local t0=$SECONDS
  while port_open "$HOST" "$PORT"; do
    ((SECONDS - t0 < 30)) || die "RabbitMQ still answers on $HOST:$PORT 30 s after rabbitmqctl stop"
    sleep 0.5
  done
  log "RabbitMQ stopped ($((SECONDS - t0))s)."
}

cmd_status() {
  local url="${RABBITMQ_URL:-$LOCAL_URL}" hostport h p
  hostport="${url#*://}"
  hostport="${hostport#*@}"
  hostport="${hostport%%/*}"
  hostport="${hostport%%\?*}"
  h="${hostport%:*}"
  p="${hostport##*:}"
  [[ "$p" == "$hostport" || -z "$p" ]] && p=5672
  if port_open "$h" "$p"; then
    log "running: RabbitMQ answers at $(redacted "$url")"
    return 0
  fi
  log "not reachable: nothing answers at $(redacted "$url")"
  return 1
}

usage() {
  sed -n '2,/^set -euo pipefail/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}

main() {
  local cmd="${1:-}"
  case "$cmd" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    env) echo "RABBITMQ_URL=${RABBITMQ_URL:-$LOCAL_URL}" ;;
    -h | --help | help) usage ;;
    *)
      [[ -n "$cmd" ]] && printf '[rabbitmq] unknown command: %s\n' "$cmd" >&2
      echo "usage: rabbitmq.sh {start|stop|status|env|help}" >&2
      exit 2
      ;;
  esac
}

main "$@"
