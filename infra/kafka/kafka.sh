#!/usr/bin/env bash
# Local single-node Apache Kafka (KRaft, broker+controller) for development and CI.
# No Docker needed: the broker jars come from Maven Central (see pom.xml next to this file)
# and run on the local JDK (Java 17+).
#
# Usage: infra/kafka/kafka.sh <command>          (works from any cwd)
#   start          fetch jars if needed, format storage once, start broker, wait until ready
#   stop           SIGTERM, wait up to 30 s, then SIGKILL (no-op if not running)
#   restart        stop + start
#   status         exit 0 = running and accepting connections, 1 = process up but not
#                  answering, 3 = stopped
#   logs [-f] [N]  print the last N (default 100) lines of the broker log, -f to follow
#   reset          stop and wipe the broker's data (topics, offsets, cluster id)
#   env            print KAFKA_BROKERS=<bootstrap> for the local broker
#
# Environment:
#   KAFKA_BROKERS          if set, `start` does nothing (an external cluster is used);
#                          `status` only checks that its first broker's port answers
#   ORDERFLOW_CACHE        cache root (default <repo>/.cache); everything lives in $ORDERFLOW_CACHE/kafka
#   KAFKA_DATA_DIR         data dir (default $ORDERFLOW_CACHE/kafka/data); the broker's log dir is
#                          $KAFKA_DATA_DIR/kraft-combined-logs and `reset` deletes only that
#   KAFKA_PORT             client listener port     (default 9092)
#   KAFKA_CONTROLLER_PORT  KRaft controller port    (default 9093)
#   KAFKA_PROXIED_PORT     optional second client listener (PROXIED, plaintext) for tests that put a
#   KAFKA_PROXIED_ADVERTISED_PORT  TCP proxy between one client and the broker: the broker listens on
#                          127.0.0.1:KAFKA_PROXIED_PORT and advertises 127.0.0.1:KAFKA_PROXIED_ADVERTISED_PORT
#                          (the proxy), so a client bootstrapping through the proxy stays on it
#                          (both or neither; unset = no second listener)
#   KAFKA_HEAP_OPTS        JVM heap flags           (default "-Xms256m -Xmx1g")
#   KAFKA_START_TIMEOUT    readiness timeout, secs  (default 90)
#   KAFKA_READY_PROBE      auto|node|java|none: how the final readiness metadata request is made
#                          (auto = kafkajs via node if resolvable from the repo, otherwise the
#                          Kafka CLI's ClusterTool via java; none = port + log line only)
#   KAFKA_MVN_ARGS         extra args for the one-off `mvn` jar fetch (e.g. "-o" or "-s settings.xml")
#
# Layout of $ORDERFLOW_CACHE/kafka:
#   libs/     broker jars (+ .stamp = hash of pom.xml; changing the pom re-fetches)
#   config/   generated server.properties + log4j2 configs (rewritten on every start)
#   data/     KRaft log dir (unless KAFKA_DATA_DIR is set)
#   logs/     server.log (broker stdout+stderr, previous run in server.log.1), mvn-fetch.log
#   run/      kafka.pid, kafka.lock
#
# Kafka version: pinned ONLY in pom.xml (<kafka.version>), currently 4.3.1 — the newest
# release completely published on Maven Central (4.4.0 is missing kafka-tools-api there).
# kafkajs 2.2.4 was verified against it with infra/kafka/compat-check.mjs: all checks PASS
# (idempotent producer acks=-1/maxInFlight=1, consumer groups with manual commitOffsets +
# rejoin + 2-member rebalance, admin createTopics/fetchTopicMetadata/listTopics/
# fetchTopicOffsets/fetchOffsets/deleteGroups/deleteTopics), so no fallback to 3.9.x was needed.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd -P)"
POM="$SCRIPT_DIR/pom.xml"

abspath() { case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$PWD/${1#./}" ;; esac; }

CACHE_ROOT="$(abspath "${ORDERFLOW_CACHE:-$REPO_ROOT/.cache}")"
KAFKA_CACHE="$CACHE_ROOT/kafka"
LIBS_DIR="$KAFKA_CACHE/libs"
CONF_DIR="$KAFKA_CACHE/config"
LOG_DIR="$KAFKA_CACHE/logs"
RUN_DIR="$KAFKA_CACHE/run"
DATA_DIR="$(abspath "${KAFKA_DATA_DIR:-$KAFKA_CACHE/data}")"
KRAFT_LOG_DIR="$DATA_DIR/kraft-combined-logs"

HOST=127.0.0.1
PORT="${KAFKA_PORT:-9092}"
CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
BOOTSTRAP="$HOST:$PORT"
PROXIED_PORT="${KAFKA_PROXIED_PORT:-}"
PROXIED_ADVERTISED_PORT="${KAFKA_PROXIED_ADVERTISED_PORT:-}"

SERVER_PROPS="$CONF_DIR/server.properties"
LOG4J_BROKER="$CONF_DIR/log4j2.properties"
LOG4J_TOOLS="$CONF_DIR/tools-log4j2.properties"
PROBE_CLIENT_PROPS="$CONF_DIR/probe-client.properties"
SERVER_LOG="$LOG_DIR/server.log"
MVN_LOG="$LOG_DIR/mvn-fetch.log"
PID_FILE="$RUN_DIR/kafka.pid"
LOCK_FILE="$RUN_DIR/kafka.lock"

START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
STOP_TIMEOUT=30
READY_LINE='Kafka Server started'

KAFKA_VERSION="$(sed -n 's:.*<kafka\.version>\(.*\)</kafka\.version>.*:\1:p' "$POM" | head -n 1)"

log()  { printf '[kafka] %s\n' "$*"; }
warn() { printf '[kafka] WARNING: %s\n' "$*" >&2; }
die()  { printf '[kafka] ERROR: %s\n' "$*" >&2; exit 1; }

[[ "$PORT" =~ ^[0-9]+$ ]] || die "KAFKA_PORT must be a number (got '$PORT')"
[[ "$CONTROLLER_PORT" =~ ^[0-9]+$ ]] || die "KAFKA_CONTROLLER_PORT must be a number (got '$CONTROLLER_PORT')"
[[ "$PORT" != "$CONTROLLER_PORT" ]] || die "KAFKA_PORT and KAFKA_CONTROLLER_PORT must differ"
[[ "$START_TIMEOUT" =~ ^[0-9]+$ ]] || die "KAFKA_START_TIMEOUT must be a number of seconds"
if [[ -n "$PROXIED_PORT" || -n "$PROXIED_ADVERTISED_PORT" ]]; then
  [[ "$PROXIED_PORT" =~ ^[0-9]+$ && "$PROXIED_ADVERTISED_PORT" =~ ^[0-9]+$ ]] ||
    die "KAFKA_PROXIED_PORT and KAFKA_PROXIED_ADVERTISED_PORT must both be set to port numbers (got '$PROXIED_PORT', '$PROXIED_ADVERTISED_PORT')"
  [[ "$PROXIED_PORT" != "$PORT" && "$PROXIED_PORT" != "$CONTROLLER_PORT" ]] || die "KAFKA_PROXIED_PORT must differ from KAFKA_PORT and KAFKA_CONTROLLER_PORT"
fi

# ---------------------------------------------------------------------------------------------
# helpers
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
    echo "kafka.Kafka $SERVER_PROPS" # cannot verify; trust kill -0
  fi
}

# Prints the pid of the broker managed from this cache dir and returns 0, or returns 1.
# Guards against stale pid files / pid reuse by checking the process's command line.
running_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(tr -dc '0-9' <"$PID_FILE" 2>/dev/null || true)"
  [[ -n "$pid" ]] || return 1
  pid_alive "$pid" || return 1
  local cmd
  cmd="$(proc_cmdline "$pid")"
  [[ "$cmd" == *kafka.Kafka*"$SERVER_PROPS"* ]] || return 1
  printf '%s\n' "$pid"
}

take_lock() { # serialise start/stop/reset between concurrent invocations (if flock exists)
  mkdir -p "$RUN_DIR"
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$LOCK_FILE"
    if ! flock -w $((START_TIMEOUT + 60)) 9; then
      die "another kafka.sh invocation holds $LOCK_FILE; giving up"
    fi
  fi
}

require_java() {
  command -v java >/dev/null 2>&1 || die "java not found on PATH (Kafka $KAFKA_VERSION needs Java 17+)"
  local v major
  v="$(java -version 2>&1 | sed -n 's/.*version "\([^"]*\)".*/\1/p' | head -n 1)"
  major="${v%%.*}"
  [[ "$major" == 1 ]] && major="$(echo "$v" | cut -d. -f2)"
  if [[ "$major" =~ ^[0-9]+$ ]] && ((major < 17)); then
    die "Kafka $KAFKA_VERSION needs Java 17+, but 'java' is version $v"
  fi
}

libs_stamp() { # changes whenever pom.xml changes (version bump, deps) -> triggers a re-fetch
  printf 'kafka=%s pom=%s\n' "$KAFKA_VERSION" "$(cksum <"$POM" | awk '{print $1 "-" $2}')"
}

libs_ok() {
  [[ -f "$LIBS_DIR/.stamp" ]] && [[ "$(cat "$LIBS_DIR/.stamp")" == "$(libs_stamp)" ]] &&
    compgen -G "$LIBS_DIR/kafka_2.13-*.jar" >/dev/null
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
  command -v mvn >/dev/null 2>&1 || die "Maven (mvn) not found on PATH; it is needed once to fetch the Kafka jars into $LIBS_DIR"
  mkdir -p "$KAFKA_CACHE" "$LOG_DIR"
  log "Kafka $KAFKA_VERSION jars not cached yet: fetching them from Maven Central with mvn (one-off, ~55 MB)..."
  log "  into $LIBS_DIR (mvn output: $MVN_LOG)"
  FETCH_TMP="$(mktemp -d "$KAFKA_CACHE/libs.tmp.XXXXXX")"
  chmod 755 "$FETCH_TMP"
  local extra=()
  if [[ -n "${KAFKA_MVN_ARGS:-}" ]]; then read -r -a extra <<<"$KAFKA_MVN_ARGS"; fi
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
    die "mvn failed (exit $rc) fetching Kafka jars; full output in $MVN_LOG"
  fi
  compgen -G "$FETCH_TMP/kafka_2.13-*.jar" >/dev/null || die "mvn succeeded but no kafka_2.13 jar was copied; see $MVN_LOG"
  libs_stamp >"$FETCH_TMP/.stamp"
  rm -rf "$LIBS_DIR"
  mv "$FETCH_TMP" "$LIBS_DIR"
  FETCH_TMP=""
  log "Fetched $(find "$LIBS_DIR" -name '*.jar' | wc -l | tr -d ' ') jars ($(du -sh "$LIBS_DIR" | cut -f1)) in $((SECONDS - t0))s"
}

write_configs() {
  mkdir -p "$CONF_DIR" "$LOG_DIR" "$RUN_DIR" "$DATA_DIR"
  local listeners="PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CONTROLLER_PORT"
  local advertised="PLAINTEXT://$HOST:$PORT"
  local protocols="CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
  if [[ -n "$PROXIED_PORT" ]]; then
    listeners+=",PROXIED://$HOST:$PROXIED_PORT"
    advertised+=",PROXIED://$HOST:$PROXIED_ADVERTISED_PORT"
    protocols+=",PROXIED:PLAINTEXT"
  fi
  cat >"$SERVER_PROPS" <<EOF
# Generated by infra/kafka/kafka.sh on every start -- edits here are overwritten.
# Single-node KRaft cluster: this process is both broker and controller.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$CONTROLLER_PORT
listeners=$listeners
advertised.listeners=$advertised
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=$protocols

log.dirs=$KRAFT_LOG_DIR
num.partitions=3
auto.create.topics.enable=false
delete.topic.enable=true

# single node => replication factor 1 everywhere
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1

# fast consumer-group joins in dev/tests
group.initial.rebalance.delay.ms=0

num.network.threads=3
num.io.threads=8
log.retention.hours=168
EOF

  cat >"$LOG4J_BROKER" <<'EOF'
# Generated by infra/kafka/kafka.sh. Broker logs go to stdout, which kafka.sh redirects
# (together with stderr) into logs/server.log.
status = warn
name = kafka-local
appender.stdout.type = Console
appender.stdout.name = STDOUT
appender.stdout.layout.type = PatternLayout
appender.stdout.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.statechange.name = state.change.logger
logger.statechange.level = WARN
EOF

  cat >"$LOG4J_TOOLS" <<'EOF'
# Generated by infra/kafka/kafka.sh. For CLI tools run by kafka.sh: warnings to stderr only.
status = error
name = kafka-tools
appender.stderr.type = Console
appender.stderr.name = STDERR
appender.stderr.target = SYSTEM_ERR
appender.stderr.layout.type = PatternLayout
appender.stderr.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.stderr.ref = STDERR
EOF

  cat >"$PROBE_CLIENT_PROPS" <<'EOF'
# Generated by infra/kafka/kafka.sh: Admin client settings for the java readiness probe
# (fail fast instead of the default 60 s api timeout).
request.timeout.ms=5000
default.api.timeout.ms=8000
reconnect.backoff.max.ms=500
EOF
}

run_tool() { # run_tool MAIN_CLASS ARGS...   (Kafka CLI class on the cached classpath)
  java -Xmx256m -Djava.awt.headless=true "-Dlog4j2.configurationFile=$LOG4J_TOOLS" \
    -cp "$LIBS_DIR/*" "$@"
}

random_cluster_id() { # Kafka Uuid string: 16 random bytes, base64url without padding (22 chars)
  local id
  # Never one that starts with "-": the storage tool would read it as an option (1 run in 64
  # failed to format). Kafka's own Uuid.randomUuid() draws again for the same reason.
  while :; do
    id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
    [[ ${#id} -eq 22 ]] || die "could not generate a cluster id"
    [[ $id == -* ]] || break
  done
  printf '%s\n' "$id"
}

format_storage() {
  if [[ -f "$KRAFT_LOG_DIR/meta.properties" ]]; then
    return 0
  fi
  local cid out
  cid="$(random_cluster_id)"
  log "Formatting KRaft storage in $KRAFT_LOG_DIR (cluster id $cid)..."
  mkdir -p "$KRAFT_LOG_DIR"
  if ! out="$(run_tool kafka.tools.StorageTool format -t "$cid" -c "$SERVER_PROPS" 2>&1)"; then
    printf '%s\n' "$out" >&2
    die "kafka-storage format failed"
  fi
}

# Final readiness check: a real request (DescribeCluster/Metadata) against the broker.
probe_metadata() {
  local mode="${KAFKA_READY_PROBE:-auto}"
  case "$mode" in
    none) return 0 ;;
    node | auto)
      if command -v node >/dev/null 2>&1 &&
        node -e 'require.resolve("kafkajs",{paths:process.argv.slice(1)})' "$REPO_ROOT" "$SCRIPT_DIR" >/dev/null 2>&1; then
        node -e '
          const [root, dir, broker] = process.argv.slice(1);
          const { Kafka, logLevel } = require(require.resolve("kafkajs", { paths: [root, dir] }));
          const admin = new Kafka({ clientId: "kafka-sh-ready-probe", brokers: [broker],
            logLevel: logLevel.NOTHING, connectionTimeout: 3000, requestTimeout: 5000,
            retry: { retries: 0 } }).admin();
          admin.connect().then(() => admin.describeCluster())
            .then((c) => admin.disconnect().then(() => process.exit(c.brokers.length > 0 ? 0 : 1)))
            .catch(() => process.exit(1));
          setTimeout(() => process.exit(1), 10000).unref();
        ' "$REPO_ROOT" "$SCRIPT_DIR" "$BOOTSTRAP" >/dev/null 2>&1
        return
      fi
      [[ "$mode" == node ]] && die "KAFKA_READY_PROBE=node but kafkajs is not resolvable from $REPO_ROOT"
      ;;&
    java | auto)
      run_tool org.apache.kafka.tools.ClusterTool cluster-id --bootstrap-server "$BOOTSTRAP" \
        --command-config "$PROBE_CLIENT_PROPS" >/dev/null 2>&1
      return
      ;;
    *) die "KAFKA_READY_PROBE must be auto, node, java or none (got '$mode')" ;;
  esac
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
      warn "broker (pid $pid) did not exit within ${STOP_TIMEOUT}s after SIGTERM; sending SIGKILL"
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
  log "Waiting for the broker on $BOOTSTRAP to become ready (timeout ${START_TIMEOUT}s)..."
  while :; do
    if ! pid_alive "$pid"; then
      rm -f "$PID_FILE"
      print_log_tail
      die "the broker process (pid $pid) exited during startup; see $SERVER_LOG"
    fi
    if port_open "$HOST" "$PORT" && grep -q "$READY_LINE" "$SERVER_LOG" 2>/dev/null && probe_metadata; then
      log "Kafka $KAFKA_VERSION is ready on $BOOTSTRAP (pid $pid, ready after $((SECONDS - t0))s)"
      log "  KAFKA_BROKERS=$BOOTSTRAP   data: $KRAFT_LOG_DIR   log: $SERVER_LOG"
      return 0
    fi
    if ((SECONDS >= deadline)); then
      print_log_tail
      warn "stopping the unready broker (pid $pid)"
      kill_and_wait "$pid"
      rm -f "$PID_FILE"
      die "Kafka did not become ready on $BOOTSTRAP within ${START_TIMEOUT}s; see the broker log: $SERVER_LOG"
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
  if [[ -n "${KAFKA_BROKERS:-}" ]]; then
    log "KAFKA_BROKERS is set ($KAFKA_BROKERS): using that external Kafka cluster, not starting a local broker."
    return 0
  fi
  require_java
  take_lock

  local pid
  if pid="$(running_pid)"; then
    if port_open "$HOST" "$PORT"; then
      log "Kafka is already running on $BOOTSTRAP (pid $pid); nothing to do."
      return 0
    fi
    log "Kafka process (pid $pid) is up but not accepting connections yet."
    wait_ready "$pid"
    return 0
  fi
  rm -f "$PID_FILE"

  local p
  for p in "$PORT" "$CONTROLLER_PORT"; do
    if port_open "$HOST" "$p"; then
      die "port $HOST:$p is already in use by another process (not a broker managed from $KAFKA_CACHE). Stop it, choose other ports with KAFKA_PORT/KAFKA_CONTROLLER_PORT, or set KAFKA_BROKERS to use an existing cluster."
    fi
  done

  ensure_jars
  write_configs
  format_storage

  if [[ -s "$SERVER_LOG" ]]; then mv -f "$SERVER_LOG" "$SERVER_LOG.1"; fi
  : >"$SERVER_LOG"

  local heap=()
  read -r -a heap <<<"${KAFKA_HEAP_OPTS:--Xms256m -Xmx1g}"
  local java_cmd=(
    java "${heap[@]}"
    -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35
    -XX:+ExplicitGCInvokesConcurrent "-XX:ErrorFile=$LOG_DIR/hs_err_pid%p.log"
    -Djava.awt.headless=true
    "-Dlog4j2.configurationFile=$LOG4J_BROKER" "-Dkafka.logs.dir=$LOG_DIR"
    -cp "$LIBS_DIR/*"
    kafka.Kafka "$SERVER_PROPS"
  )
  local detach=()
  if command -v setsid >/dev/null 2>&1; then detach=(setsid); fi

  log "Starting Kafka $KAFKA_VERSION (KRaft broker+controller) on $BOOTSTRAP, controller $HOST:$CONTROLLER_PORT..."
  # The inner bash records its own pid and then execs java, so the pid file holds the JVM's pid.
  (
    exec 9>&- # do not leak the start/stop lock into the long-running broker
    cd "$KAFKA_CACHE"
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
  if [[ -n "${KAFKA_BROKERS:-}" ]]; then
    log "note: KAFKA_BROKERS is set ($KAFKA_BROKERS); that external cluster is not managed here. Checking for a local broker anyway."
  fi
  take_lock
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$PID_FILE"
    log "Kafka is not running."
    if port_open "$HOST" "$PORT"; then
      warn "port $BOOTSTRAP is open, but not by a broker started from $KAFKA_CACHE; leaving it alone."
    fi
    return 0
  fi
  log "Stopping Kafka (pid $pid)..."
  local t0=$SECONDS
  kill_and_wait "$pid"
  if pid_alive "$pid"; then
    die "could not stop pid $pid"
  fi
  rm -f "$PID_FILE"
  log "Kafka stopped ($((SECONDS - t0))s)."
}

cmd_status() {
  if [[ -n "${KAFKA_BROKERS:-}" ]]; then
    local first="${KAFKA_BROKERS%%,*}"
    first="${first#*://}"
    local h="${first%:*}" p="${first##*:}"
    if port_open "$h" "$p"; then
      log "using external cluster KAFKA_BROKERS=$KAFKA_BROKERS ($first is reachable)"
      return 0
    fi
    log "using external cluster KAFKA_BROKERS=$KAFKA_BROKERS, but $first is NOT reachable"
    return 1
  fi
  local pid
  if pid="$(running_pid)"; then
    if port_open "$HOST" "$PORT"; then
      log "running: Kafka $KAFKA_VERSION on $BOOTSTRAP (pid $pid)"
      log "  data: $KRAFT_LOG_DIR   log: $SERVER_LOG"
      return 0
    fi
    log "process up (pid $pid) but $BOOTSTRAP is not accepting connections (starting or unhealthy); see $SERVER_LOG"
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
      '' | *[!0-9]*) die "usage: kafka.sh logs [-f] [N]" ;;
      *) n="$a" ;;
    esac
  done
  [[ -f "$SERVER_LOG" ]] || die "no broker log yet at $SERVER_LOG (run: kafka.sh start)"
  if ((follow)); then
    exec tail -n "$n" -F "$SERVER_LOG"
  fi
  tail -n "$n" "$SERVER_LOG"
}

cmd_reset() {
  cmd_stop
  case "$KRAFT_LOG_DIR" in
    */kraft-combined-logs) ;;
    *) die "refusing to delete unexpected path $KRAFT_LOG_DIR" ;;
  esac
  if [[ -d "$KRAFT_LOG_DIR" ]]; then
    rm -rf "$KRAFT_LOG_DIR"
    log "Wiped Kafka data ($KRAFT_LOG_DIR). The next start formats fresh storage with a new cluster id."
  else
    log "No Kafka data at $KRAFT_LOG_DIR; nothing to wipe."
  fi
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
    env) echo "KAFKA_BROKERS=${KAFKA_BROKERS:-$BOOTSTRAP}" ;;
    -h | --help | help) usage ;;
    '')
      echo "usage: kafka.sh {start|stop|restart|status|logs [-f] [N]|reset|env|help}" >&2
      exit 2
      ;;
    *)
      printf '[kafka] unknown command: %s\n' "$cmd" >&2
      echo "usage: kafka.sh {start|stop|restart|status|logs [-f] [N]|reset|env|help}" >&2
      exit 2
      ;;
  esac
}

main "$@"
