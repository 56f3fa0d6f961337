#!/usr/bin/env bash
# Local ElasticMQ (SQS-compatible server, durable in an H2 file) for development and CI.
# No Docker needed: the server jars come from Maven Central (see pom.xml next to this file)
# and run on the local JDK (Java 8+; used with the repo's Java 17).
#
# Usage: infra/elasticmq/elasticmq.sh <command>  (works from any cwd)
#   start          fetch jars if needed, start the server, wait until it answers SQS requests
#   stop           SIGTERM, wait up to 30 s, then SIGKILL (no-op if not running)
#   restart        stop + start
#   status         exit 0 = running and answering HTTP, 1 = process up but not answering,
#                  3 = stopped
#   logs [-f] [N]  print the last N (default 100) lines of the server log, -f to follow
#   reset          stop and delete every queue and message (the jars stay)
#   env            print SQS_ENDPOINT=<url> for the local server
#
# Environment:
#   SQS_ENDPOINT            if set, `start` does nothing (an external SQS is used); `status` only
#                           checks that it answers HTTP, `env` echoes it
#   ORDERFLOW_CACHE         cache root (default <repo>/.cache); everything lives in $ORDERFLOW_CACHE/elasticmq
#   SQS_PORT                SQS REST/JSON port on 127.0.0.1 (default 9324)
#   ELASTICMQ_DATA_DIR      queues and messages (default $ORDERFLOW_CACHE/elasticmq/data)
#   ELASTICMQ_HEAP_OPTS     JVM heap flags           (default "-Xms64m -Xmx256m")
#   ELASTICMQ_START_TIMEOUT readiness timeout, secs  (default 60)
#   ELASTICMQ_MVN_ARGS      extra args for the one-off `mvn` jar fetch (e.g. "-o" or "-s settings.xml")
#
# Layout of $ORDERFLOW_CACHE/elasticmq:
#   libs/     server jars (+ .stamp = hash of pom.xml; changing the pom re-fetches)
#   config/   generated elasticmq.conf (rewritten on every start)
#   logs/     server.log (server stdout+stderr, previous run in server.log.1), mvn-fetch.log
#   run/      elasticmq.pid, elasticmq.lock
#
# Clients: any region and credentials work (not checked), e.g. region us-east-1, key 'x'/'x'.
# Queues are not predeclared: the services create them with the AWS SDK. Queue URLs are
# http://127.0.0.1:<port>/000000000000/<name>, ARNs arn:aws:sqs:us-east-1:000000000000:<name>.
#
# ElasticMQ version: pinned ONLY in pom.xml (<elasticmq.version>), currently 1.7.1 — the newest
# release on Maven Central (all its deps resolve there; Java 8 bytecode). Checked by hand with
# @aws-sdk/client-sqs 3.x (JSON protocol) on FIFO queues; like SQS: CreateQueue FIFO, group +
# dedup ids (a duplicate is dropped for 5 min after the first send, even once deleted), long polls
# that return as soon as a message arrives, system + message attributes, per-group order and group
# locking, Change/DeleteMessageBatch, RedrivePolicy to a FIFO DLQ, ApproximateNumberOfMessages(
# NotVisible), QueueDoesNotExist, max 10 attributes, 1 MiB bodies. Unlike SQS:
#   - SequenceNumber is a small server-wide counter ("193"): compare as BigInt, never as strings;
#     SendMessageBatch entries carry none (SendMessage does)
#   - a stale / already-used receipt handle fails its batch entry with ReceiptHandleIsInvalid
#   - error Code is "com.amazonaws.sqs#QueueDoesNotExist" (not AWS.SimpleQueueService.*): match on name
#   - accepts a standard DLQ for a FIFO queue and attribute names SQS rejects ("AWS.x", "a b!");
#     attributes do not count toward the 1 MiB; a too-big batch fails as InvalidAttributeValue
# Also: a long poll the client aborted still takes a message that arrives (hidden until its
# visibility timeout expires; SQS may do the same), and `stop` waits for in-flight long polls
# (up to ~21 s) before the JVM exits.
# Idle cost (flags below): ~0.1-0.2 % of one core, ~0.35 % with a client long-polling, ~130 MB RSS.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd -P)"
POM="$SCRIPT_DIR/pom.xml"

abspath() { case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$PWD/${1#./}" ;; esac; }

CACHE_ROOT="$(abspath "${ORDERFLOW_CACHE:-$REPO_ROOT/.cache}")"
EMQ_CACHE="$CACHE_ROOT/elasticmq"
LIBS_DIR="$EMQ_CACHE/libs"
CONF_DIR="$EMQ_CACHE/config"
LOG_DIR="$EMQ_CACHE/logs"
RUN_DIR="$EMQ_CACHE/run"
DATA_DIR="$(abspath "${ELASTICMQ_DATA_DIR:-$EMQ_CACHE/data}")"

HOST=127.0.0.1
PORT="${SQS_PORT:-9324}"
ENDPOINT="http://$HOST:$PORT"

SERVER_CONF="$CONF_DIR/elasticmq.conf"
SERVER_LOG="$LOG_DIR/server.log"
MVN_LOG="$LOG_DIR/mvn-fetch.log"
PID_FILE="$RUN_DIR/elasticmq.pid"
LOCK_FILE="$RUN_DIR/elasticmq.lock"

START_TIMEOUT="${ELASTICMQ_START_TIMEOUT:-60}"
STOP_TIMEOUT=30
MAIN_CLASS=org.elasticmq.server.Main

EMQ_VERSION="$(sed -n 's:.*<elasticmq\.version>\(.*\)</elasticmq\.version>.*:\1:p' "$POM" | head -n 1)"

log()  { printf '[elasticmq] %s\n' "$*"; }
warn() { printf '[elasticmq] WARNING: %s\n' "$*" >&2; }
die()  { printf '[elasticmq] ERROR: %s\n' "$*" >&2; exit 1; }

if ! [[ "$PORT" =~ ^[1-9][0-9]{0,4}$ ]] || ((PORT > 65535)); then die "SQS_PORT must be a port number (got '$PORT')"; fi
[[ "$START_TIMEOUT" =~ ^[0-9]+$ ]] || die "ELASTICMQ_START_TIMEOUT must be a number of seconds"

# ---------------------------------------------------------------------------------------------
# helpers (port_open, pid_alive, kill_and_wait: same as infra/kafka/kafka.sh)
# ---------------------------------------------------------------------------------------------

port_open() { # port_open HOST PORT -> 0 if something accepts TCP connections there
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

pid_alive() { # signalable and not a zombie (zombies linger where PID 1 does not reap)
  kill -0 "$1" 2>/dev/null || return 1
  if [[ -r "/proc/$1/stat" ]]; then
    local st
    st="$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)"
    [[ "$st" != Z ]] || return 1
  fi
  return 0
}

proc_cmdline() {
  if [[ -r "/proc/$1/cmdline" ]]; then
    tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null || true
  elif command -v ps >/dev/null 2>&1; then
    ps -p "$1" -o args= 2>/dev/null || true
  else
    echo "-Dconfig.file=$SERVER_CONF $MAIN_CLASS" # cannot verify; trust kill -0
  fi
}

# Prints the pid of the server managed from this cache dir and returns 0, or returns 1.
# Guards against stale pid files / pid reuse by checking the process's command line.
running_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(tr -dc '0-9' <"$PID_FILE" 2>/dev/null || true)"
  [[ -n "$pid" ]] || return 1
  pid_alive "$pid" || return 1
  local cmd
  cmd="$(proc_cmdline "$pid")"
  [[ "$cmd" == *"-Dconfig.file=$SERVER_CONF"*"$MAIN_CLASS"* ]] || return 1
  printf '%s\n' "$pid"
}

take_lock() { # serialise start/stop/reset between concurrent invocations (if flock exists)
  mkdir -p "$RUN_DIR"
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$LOCK_FILE"
    if ! flock -w $((START_TIMEOUT + 60)) 9; then
      die "another elasticmq.sh invocation holds $LOCK_FILE; giving up"
    fi
  fi
}

require_java() {
  command -v java >/dev/null 2>&1 || die "java not found on PATH (ElasticMQ $EMQ_VERSION needs Java 8+)"
  local v major
  v="$(java -version 2>&1 | sed -n 's/.*version "\([^"]*\)".*/\1/p' | head -n 1)"
  major="${v%%.*}"
  [[ "$major" == 1 ]] && major="$(echo "$v" | cut -d. -f2)"
  if [[ "$major" =~ ^[0-9]+$ ]] && ((major < 8)); then
    die "ElasticMQ $EMQ_VERSION needs Java 8+, but 'java' is version $v"
  fi
}

# http_answers URL -> 0 if an SQS ListQueues POST to URL gets any HTTP response (even an error:
# the server is up). With curl if installed, otherwise raw HTTP/1.0 over bash's /dev/tcp
# (http:// only; for https:// without curl only the TCP port is checked).
http_answers() {
  local url="$1" body='Action=ListQueues'
  if command -v curl >/dev/null 2>&1; then
    local code
    code="$(curl -s -o /dev/null -m 5 -w '%{http_code}' -X POST -d "$body" "$url" 2>/dev/null || true)"
    [[ "$code" =~ ^[1-5][0-9][0-9]$ ]]
    return
  fi
  local hp="${url#*://}" port
  hp="${hp%%/*}"
  port=80
  [[ "$url" == https://* ]] && port=443
  [[ "$hp" == *:* ]] && port="${hp##*:}"
  [[ "$url" == https://* ]] && { port_open "${hp%:*}" "$port"; return; }
  local line=''
  line="$(
    exec 2>/dev/null 3<>"/dev/tcp/${hp%:*}/$port" || exit 1
    printf 'POST / HTTP/1.0\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s' \
      "$hp" "${#body}" "$body" >&3
    read -r -t 5 line <&3 && printf '%s' "$line"
  )" || true
  [[ "$line" == HTTP/* ]]
}

libs_stamp() { # changes whenever pom.xml changes (version bump, deps) -> triggers a re-fetch
  printf 'elasticmq=%s pom=%s\n' "$EMQ_VERSION" "$(cksum <"$POM" | awk '{print $1 "-" $2}')"
}

libs_ok() {
  [[ -f "$LIBS_DIR/.stamp" ]] && [[ "$(cat "$LIBS_DIR/.stamp")" == "$(libs_stamp)" ]] &&
    compgen -G "$LIBS_DIR/elasticmq-server_2.13-*.jar" >/dev/null
}

FETCH_TMP=""
MVN_PID=""
cleanup_fetch() { # on exit/interrupt: stop a running mvn fetch and drop its partial output
  if [[ -n "$MVN_PID" ]]; then kill "$MVN_PID" 2>/dev/null || true; fi
  if [[ -n "$FETCH_TMP" ]]; then rm -rf "$FETCH_TMP"; fi
}
trap cleanup_fetch EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ensure_jars() {
  libs_ok && return 0
  command -v mvn >/dev/null 2>&1 || die "Maven (mvn) not found on PATH; it is needed once to fetch the ElasticMQ jars into $LIBS_DIR"
  mkdir -p "$EMQ_CACHE" "$LOG_DIR"
  log "ElasticMQ $EMQ_VERSION jars not cached yet: fetching them from Maven Central with mvn (one-off, ~37 MB)..."
  log "  into $LIBS_DIR (mvn output: $MVN_LOG)"
  FETCH_TMP="$(mktemp -d "$EMQ_CACHE/libs.tmp.XXXXXX")"
  chmod 755 "$FETCH_TMP"
  local extra=()
  if [[ -n "${ELASTICMQ_MVN_ARGS:-}" ]]; then read -r -a extra <<<"$ELASTICMQ_MVN_ARGS"; fi
  local t0=$SECONDS rc=0
  mvn -B -f "$POM" ${extra[@]+"${extra[@]}"} dependency:copy-dependencies \
    -DoutputDirectory="$FETCH_TMP" >"$MVN_LOG" 2>&1 &
  MVN_PID=$!
  local last=0
  while kill -0 "$MVN_PID" 2>/dev/null; do
    sleep 1
    if ((SECONDS - last >= 5)); then
      last=$SECONDS
      local n
      n="$(grep -c 'Downloaded from' "$MVN_LOG" 2>/dev/null || true)"
      log "  ...still fetching ($((SECONDS - t0))s, ${n:-0} files downloaded so far)"
    fi
  done
  wait "$MVN_PID" || rc=$?
  MVN_PID=""
  if ((rc != 0)); then
    tail -n 40 "$MVN_LOG" >&2 || true
    die "mvn failed (exit $rc) fetching ElasticMQ jars; full output in $MVN_LOG"
  fi
  compgen -G "$FETCH_TMP/elasticmq-server_2.13-*.jar" >/dev/null || die "mvn succeeded but no elasticmq-server_2.13 jar was copied; see $MVN_LOG"
  libs_stamp >"$FETCH_TMP/.stamp"
  rm -rf "$LIBS_DIR"
  mv "$FETCH_TMP" "$LIBS_DIR"
  FETCH_TMP=""
  log "Fetched $(find "$LIBS_DIR" -name '*.jar' | wc -l | tr -d ' ') jars ($(du -sh "$LIBS_DIR" | cut -f1)) in $((SECONDS - t0))s"
}

write_config() {
  mkdir -p "$CONF_DIR" "$LOG_DIR" "$RUN_DIR" "$DATA_DIR"
  cat >"$SERVER_CONF" <<EOF
# Generated by infra/elasticmq/elasticmq.sh on every start -- edits here are overwritten.
# HOCON, read by org.elasticmq.server.Main via -Dconfig.file; unset keys come from the
# reference.conf in elasticmq-rest-sqs. (ElasticMQ 1.7 has no rest-stats / UI server to disable.)

# ElasticMQ's own pekko settings: 21 s HTTP request timeout (20 s long polls), 256 KB bodies.
# -Dconfig.file replaces the classpath application.conf, so it is included explicitly.
include classpath("application.conf")

# Address put into queue URLs (= where clients reach us) and the socket we bind.
node-address {
  protocol = "http"
  host = "$HOST"
  port = $PORT
  context-path = ""
}
generate-node-address = false
rest-sqs {
  enabled = true
  bind-hostname = "$HOST"
  bind-port = $PORT
  # reject what real SQS rejects (attribute counts, body size, batch sizes, names)
  sqs-limits = strict
}

# No predeclared queues: the services create theirs with the AWS SDK at runtime.
queues {}
# Durable like SQS: queues (with their attributes) and messages outlive a restart, so a
# test that stops the server and starts it again loses nothing. WRITE_DELAY=0: H2 writes a
# commit to disk before answering, not up to 500 ms later, so a SIGKILL (the chaos suite's
# broker-kill) cannot lose a message the server already acknowledged. \`reset\` wipes them.
queues-storage {
  enabled = true
  path = "$DATA_DIR/queues.conf"
}
messages-storage {
  enabled = true
  uri = "jdbc:h2:file:$DATA_DIR/messages;WRITE_DELAY=0"
}

# Appears in queue ARNs (RedrivePolicy deadLetterTargetArn); matches the clients' region.
aws {
  region = "us-east-1"
  accountId = "000000000000"
}

# Low idle cost for a dev/CI server: few dispatcher threads, and the scheduler wakes up every
# 50 ms instead of 10 ms (timers, e.g. long-poll timeouts, are at most 50 ms late).
pekko.actor.default-dispatcher.fork-join-executor {
  parallelism-min = 2
  parallelism-max = 4
}
pekko.scheduler.tick-duration = 50ms
EOF
}

print_log_tail() {
  if [[ -f "$SERVER_LOG" ]]; then
    echo "----- last 30 lines of $SERVER_LOG -----" >&2
    tail -n 30 "$SERVER_LOG" >&2 || true
    echo "-----" >&2
  fi
}

kill_and_wait() { # kill_and_wait PID -> SIGTERM, wait STOP_TIMEOUT, then SIGKILL
  local pid="$1" waited=0
  kill -TERM "$pid" 2>/dev/null || true
  while pid_alive "$pid"; do
    if ((waited >= STOP_TIMEOUT * 2)); then
      warn "server (pid $pid) did not exit within ${STOP_TIMEOUT}s after SIGTERM; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      local _
      for _ in 1 2 3 4 5 6 7 8 9 10; do pid_alive "$pid" || break; sleep 0.5; done
      break
    fi
    sleep 0.5
    waited=$((waited + 1))
  done
}

wait_ready() { # wait_ready PID
  local pid="$1" t0=$SECONDS deadline=$((SECONDS + START_TIMEOUT)) last=$SECONDS
  log "Waiting for ElasticMQ on $ENDPOINT to answer (timeout ${START_TIMEOUT}s)..."
  while :; do
    if ! pid_alive "$pid"; then
      rm -f "$PID_FILE"
      print_log_tail
      die "the ElasticMQ process (pid $pid) exited during startup; see $SERVER_LOG"
    fi
    if port_open "$HOST" "$PORT" && http_answers "$ENDPOINT"; then
      log "ElasticMQ $EMQ_VERSION is ready on $ENDPOINT (pid $pid, ready after $((SECONDS - t0))s)"
      log "  SQS_ENDPOINT=$ENDPOINT   data: $DATA_DIR   log: $SERVER_LOG"
      return 0
    fi
    if ((SECONDS >= deadline)); then
      print_log_tail
      warn "stopping the unready server (pid $pid)"
      kill_and_wait "$pid"
      rm -f "$PID_FILE"
      die "ElasticMQ did not answer on $ENDPOINT within ${START_TIMEOUT}s; see the server log: $SERVER_LOG"
    fi
    if ((SECONDS - last >= 10)); then
      last=$SECONDS
      log "  ...still starting ($((SECONDS - t0))s)"
    fi
    sleep 0.5
  done
}

# ---------------------------------------------------------------------------------------------
# commands
# ---------------------------------------------------------------------------------------------

cmd_start() {
  if [[ -n "${SQS_ENDPOINT:-}" ]]; then
    log "SQS_ENDPOINT is set ($SQS_ENDPOINT): using that external SQS, not starting a local ElasticMQ."
    return 0
  fi
  require_java
  take_lock

  local pid
  if pid="$(running_pid)"; then
    if http_answers "$ENDPOINT"; then
      log "ElasticMQ is already running on $ENDPOINT (pid $pid); nothing to do."
      return 0
    fi
    log "ElasticMQ process (pid $pid) is up but not answering yet."
    wait_ready "$pid"
    return 0
  fi
  rm -f "$PID_FILE"

  if port_open "$HOST" "$PORT"; then
    die "port $HOST:$PORT is already in use by another process (not an ElasticMQ managed from $EMQ_CACHE). Stop it, choose another port with SQS_PORT, or set SQS_ENDPOINT to use an existing SQS."
  fi

  ensure_jars
  write_config

  if [[ -s "$SERVER_LOG" ]]; then mv -f "$SERVER_LOG" "$SERVER_LOG.1"; fi
  : >"$SERVER_LOG"

  local heap=()
  read -r -a heap <<<"${ELASTICMQ_HEAP_OPTS:--Xms64m -Xmx256m}"
  # Serial GC + C1-only JIT: fewer threads and little background CPU; plenty for a dev server.
  local java_cmd=(
    java "${heap[@]}"
    -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=32m -Xss512k
    -XX:-UsePerfData "-XX:ErrorFile=$LOG_DIR/hs_err_pid%p.log"
    -Djava.awt.headless=true
    "-Dconfig.file=$SERVER_CONF"
    -cp "$LIBS_DIR/*"
    "$MAIN_CLASS"
  )
  local detach=()
  if command -v setsid >/dev/null 2>&1; then detach=(setsid); fi

  log "Starting ElasticMQ $EMQ_VERSION (SQS) on $ENDPOINT..."
  # The inner bash records its own pid and then execs java, so the pid file holds the JVM's pid.
  (
    exec 9>&- # do not leak the start/stop lock into the long-running server
    cd "$EMQ_CACHE"
    # shellcheck disable=SC2016 # $$/$0/$@ are meant for the inner bash
    nohup ${detach[@]+"${detach[@]}"} bash -c 'echo $$ >"$0"; exec "$@"' "$PID_FILE" "${java_cmd[@]}" \
      >>"$SERVER_LOG" 2>&1 </dev/null &
  )
  local _
  for _ in $(seq 1 50); do
    [[ -s "$PID_FILE" ]] && break
    sleep 0.1
  done
  [[ -s "$PID_FILE" ]] || die "failed to launch java; see $SERVER_LOG"
  pid="$(tr -dc '0-9' <"$PID_FILE")"
  wait_ready "$pid"
}

cmd_stop() {
  if [[ -n "${SQS_ENDPOINT:-}" ]]; then
    log "note: SQS_ENDPOINT is set ($SQS_ENDPOINT); that external SQS is not managed here. Checking for a local ElasticMQ anyway."
  fi
  take_lock
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$PID_FILE"
    log "ElasticMQ is not running."
    if port_open "$HOST" "$PORT"; then
      warn "port $HOST:$PORT is open, but not by an ElasticMQ started from $EMQ_CACHE; leaving it alone."
    fi
    return 0
  fi
  log "Stopping ElasticMQ (pid $pid)..."
  local t0=$SECONDS
  kill_and_wait "$pid"
  if pid_alive "$pid"; then
    die "could not stop pid $pid"
  fi
  rm -f "$PID_FILE"
  log "ElasticMQ stopped ($((SECONDS - t0))s)."
}

cmd_status() {
  if [[ -n "${SQS_ENDPOINT:-}" ]]; then
    if http_answers "$SQS_ENDPOINT"; then
      log "using external SQS SQS_ENDPOINT=$SQS_ENDPOINT (it answers)"
      return 0
    fi
    log "using external SQS SQS_ENDPOINT=$SQS_ENDPOINT, but it does NOT answer"
    return 1
  fi
  local pid
  if pid="$(running_pid)"; then
    if http_answers "$ENDPOINT"; then
      log "running: ElasticMQ $EMQ_VERSION on $ENDPOINT (pid $pid)"
      log "  data: $DATA_DIR   log: $SERVER_LOG"
      return 0
    fi
    log "process up (pid $pid) but $ENDPOINT is not answering (starting or unhealthy); see $SERVER_LOG"
    return 1
  fi
  log "stopped"
  return 3
}

cmd_logs() {
  local follow=0 n=100 a
  for a in "$@"; do
    case "$a" in
      -f | --follow) follow=1 ;;
      '' | *[!0-9]*) die "usage: elasticmq.sh logs [-f] [N]" ;;
      *) n="$a" ;;
    esac
  done
  [[ -f "$SERVER_LOG" ]] || die "no server log yet at $SERVER_LOG (run: elasticmq.sh start)"
  if ((follow)); then
    exec tail -n "$n" -F "$SERVER_LOG"
  fi
  tail -n "$n" "$SERVER_LOG"
}

cmd_reset() { # stop and wipe the queues and messages (not the jars); like kafka.sh reset, nothing is started
  cmd_stop
  [[ -n "${SQS_ENDPOINT:-}" ]] && return 0
  rm -rf "$DATA_DIR"
  log "Reset: queues and messages deleted ($DATA_DIR)."
}

usage() {
  sed -n '2,/^set -euo pipefail/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}

main() {
  local cmd="${1:-}"
  [[ $# -gt 0 ]] && shift
  case "$cmd" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    restart) cmd_stop && cmd_start ;;
    status) cmd_status ;;
    logs) cmd_logs "$@" ;;
    reset) cmd_reset ;;
    env) echo "SQS_ENDPOINT=${SQS_ENDPOINT:-$ENDPOINT}" ;;
    -h | --help | help) usage ;;
    '')
      echo "usage: elasticmq.sh {start|stop|restart|status|logs [-f] [N]|reset|env|help}" >&2
      exit 2
      ;;
    *)
      printf '[elasticmq] unknown command: %s\n' "$cmd" >&2
      echo "usage: elasticmq.sh {start|stop|restart|status|logs [-f] [N]|reset|env|help}" >&2
      exit 2
      ;;
  esac
}

main "$@"
