#!/usr/bin/env bash
# The services the pipeline needs on a developer machine: a single-node Apache
# Kafka broker (KRaft) on 127.0.0.1:9092 and FerretDB (SQLite backend) on
# 127.0.0.1:27017. Installs them on first use and reuses them afterwards.
#
#   scripts/stack.sh up       install if missing, start, wait until both accept connections
#   scripts/stack.sh down     stop both
#   scripts/stack.sh status   say what runs
#   scripts/stack.sh running  print the names of the services this script runs (for run.sh)
#   scripts/stack.sh reset    stop both and wipe their data
#   scripts/stack.sh start|stop|kill kafka|ferretdb
#                             one service: start it, stop it, or kill it as a crash would (SIGKILL);
#                             the fault-injection suite (scripts/chaos.sh) uses these
#   scripts/stack.sh cluster up|down|reset
#                             a second Kafka: a 3-broker KRaft cluster on 127.0.0.1:19092-19094
#                             (replication 3, min.insync.replicas=2), for the suite's cluster scenario
#   scripts/stack.sh cluster start|kill N
#                             one broker of it (node 1, 2 or 3): start it, or kill it (SIGKILL)
#
# A service whose address is set elsewhere (KAFKA_BROKERS, MONGODB_URI) is left alone.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"

STATE_DIR="${STACK_DIR:-$ROOT/.stack}"
KAFKA_VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$ROOT/scripts/kafka/pom.xml")"
KAFKA_HOME="$TOOLS_DIR/kafka-$KAFKA_VERSION"
FERRETDB_VERSION="v1.24.2"
FERRETDB_BIN="$TOOLS_DIR/ferretdb-$FERRETDB_VERSION/ferretdb"

LOCAL_KAFKA="127.0.0.1:9092"
LOCAL_MONGODB="mongodb://127.0.0.1:27017"

# True when the user points the pipeline at a Kafka cluster of their own.
kafka_is_external() {
  local brokers="${KAFKA_BROKERS:-$LOCAL_KAFKA}"
  [[ "$brokers" != "$LOCAL_KAFKA" && "$brokers" != "localhost:9092" ]]
}

mongodb_is_external() {
  local uri="${MONGODB_URI:-$LOCAL_MONGODB}"
  uri="${uri%/}"
  [[ "$uri" != "$LOCAL_MONGODB" && "$uri" != "mongodb://localhost:27017" ]]
}

install_kafka() {
  if [[ -f "$KAFKA_HOME/.complete" ]]; then return; fi
  need mvn "install Maven (apt-get install -y maven)"
  need java "install a Java 17 runtime (apt-get install -y openjdk-17-jre-headless)"
  say "installing Apache Kafka $KAFKA_VERSION from Maven Central into $KAFKA_HOME"
  local staging="$KAFKA_HOME.partial"
  rm -rf "$staging"
  mkdir -p "$staging/libs"
  mvn -q -B -Dstyle.color=never -f "$ROOT/scripts/kafka/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$staging/libs" -DincludeScope=runtime
  touch "$staging/.complete"
  rm -rf "$KAFKA_HOME"
  mv "$staging" "$KAFKA_HOME"
}

# FerretDB's `go install` build refuses to start without the version file that
# its release tooling generates, so build the same module source with that file.
install_ferretdb() {
  if [[ -x "$FERRETDB_BIN" ]]; then return; fi
  need go "install Go 1.21 or newer"
  say "installing FerretDB $FERRETDB_VERSION from the Go module proxy into $(dirname "$FERRETDB_BIN")"
  local module="github.com/FerretDB/FerretDB@$FERRETDB_VERSION"
  local source_dir
  source_dir="$(go mod download -json "$module" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [[ -d "$source_dir" ]] || die "could not download $module from the Go module proxy"
  local build_dir="$TOOLS_DIR/ferretdb-build"
  rm -rf "$build_dir"
  cp -r "$source_dir" "$build_dir"
  chmod -R u+w "$build_dir"
  echo "$FERRETDB_VERSION" > "$build_dir/build/version/version.txt"
  mkdir -p "$(dirname "$FERRETDB_BIN")"
  (cd "$build_dir" && go build -o "$FERRETDB_BIN.partial" ./cmd/ferretdb)
  mv "$FERRETDB_BIN.partial" "$FERRETDB_BIN"
  rm -rf "$build_dir"
}

pid_of() { # prints the pid of a running service started by this script
  local pid_file="$STATE_DIR/$1.pid"
  [[ -f "$pid_file" ]] || return 1
  local pid
  pid="$(cat "$pid_file")"
  if kill -0 "$pid" 2>/dev/null; then echo "$pid"; else return 1; fi
}

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# Waits until `check` succeeds, failing with the log's tail if the process dies or time runs out.
wait_for() {
  local name="$1" pid="$2" log="$3" seconds="$4"
  shift 4
  local deadline=$((SECONDS + seconds))
  until "$@"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 30 "$log" >&2 || true
      die "$name exited during start-up; its log is $log (last lines above)"
    fi
    if ((SECONDS > deadline)); then
      tail -n 30 "$log" >&2 || true
      die "$name did not become ready within ${seconds}s; its log is $log (last lines above)"
    fi
    sleep 0.5
  done
}

kafka_started() { grep -q "Kafka Server started" "$STATE_DIR/kafka.log" && port_open 127.0.0.1 9092 && port_open 127.0.0.1 9094; }

start_kafka() {
  if kafka_is_external; then
    say "Kafka: using the brokers in KAFKA_BROKERS, not starting a local broker"
    return
  fi
  if pid="$(pid_of kafka)"; then
    say "Kafka: already running (pid $pid) on $LOCAL_KAFKA"
    return
  fi
  if port_open 127.0.0.1 9092; then
    die "port 9092 is taken by another process; stop it, or set KAFKA_BROKERS to the broker you want to use"
  fi
  install_kafka
  local data="$STATE_DIR/kafka"
  mkdir -p "$data"
  write_kafka_config "$data"
  if [[ ! -f "$data/logs/meta.properties" ]]; then
    local cluster_id
    cluster_id="$(java -cp "$KAFKA_HOME/libs/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)"
    java -Dlog4j2.configurationFile="$data/log4j2.properties" -cp "$KAFKA_HOME/libs/*" \
      kafka.tools.StorageTool format --standalone -t "$cluster_id" -c "$data/server.properties" \
      > "$STATE_DIR/kafka-format.log" 2>&1 ||
      { cat "$STATE_DIR/kafka-format.log" >&2; die "formatting Kafka's storage failed"; }
  fi
  : > "$STATE_DIR/kafka.log"
  nohup java -Xms256m -Xmx1g -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$data/log4j2.properties" \
    -cp "$KAFKA_HOME/libs/*" kafka.Kafka "$data/server.properties" \
    >> "$STATE_DIR/kafka.log" 2>&1 < /dev/null &
  echo $! > "$STATE_DIR/kafka.pid"
  wait_for Kafka "$!" "$STATE_DIR/kafka.log" 90 kafka_started
  say "Kafka: ready on $LOCAL_KAFKA (log: $STATE_DIR/kafka.log)"
}

# The broker also listens with SASL/PLAIN on 127.0.0.1:9094 (user
# `analytics`, password in .stack/kafka/sasl-password, made on first start and
# never printed), so the clients' security settings are proven against it.
write_kafka_config() {
  local data="$1"
  local password_file="$data/sasl-password"
  if [[ ! -s "$password_file" ]]; then
    (umask 077 && head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$password_file")
  fi
  local password
  password="$(cat "$password_file")"
  (umask 077 && cat > "$data/server.properties") <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:9093
listeners=PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093,SASL_PLAINTEXT://127.0.0.1:9094
advertised.listeners=PLAINTEXT://127.0.0.1:9092,SASL_PLAINTEXT://127.0.0.1:9094
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT
sasl.enabled.mechanisms=PLAIN
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_analytics="$password";
log.dirs=$data/logs
num.partitions=3
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
log.retention.hours=-1
EOF
  write_log4j_config "$data"
}

# Kafka's logging: what a broker says at start, warnings of its state changes.
write_log4j_config() {
  cat > "$1/log4j2.properties" <<'EOF'
status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.state.name = state.change.logger
logger.state.level = WARN
logger.controller.name = org.apache.kafka.controller
logger.controller.level = WARN
EOF
}

# The cluster's nodes: broker and controller each, three voters.
CLUSTER_NODES=(1 2 3)
cluster_port() { echo $((19091 + $1)); }            # clients: 19092, 19093, 19094
cluster_controller_port() { echo $((19191 + $1)); } # controllers: 19192, 19193, 19194

cluster_node_started() {
  grep -q "Kafka Server started" "$STATE_DIR/cluster-$1.log" && port_open 127.0.0.1 "$(cluster_port "$1")"
}

write_cluster_config() {
  local node="$1" data="$2" voters="" other
  for other in "${CLUSTER_NODES[@]}"; do
    voters+="${voters:+,}$other@127.0.0.1:$(cluster_controller_port "$other")"
  done
  cat > "$data/server.properties" <<CONFIG
process.roles=broker,controller
node.id=$node
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$(cluster_port "$node"),CONTROLLER://127.0.0.1:$(cluster_controller_port "$node")
advertised.listeners=PLAINTEXT://127.0.0.1:$(cluster_port "$node")
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$data/logs
num.partitions=3
default.replication.factor=3
min.insync.replicas=2
offsets.topic.replication.factor=3
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
share.coordinator.state.topic.replication.factor=3
share.coordinator.state.topic.min.isr=2
unclean.leader.election.enable=false
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
log.retention.hours=-1
CONFIG
  write_log4j_config "$data"
}

start_cluster_node() {
  local node="$1" name="cluster-$1"
  if pid_of "$name" > /dev/null; then
    return
  fi
  if port_open 127.0.0.1 "$(cluster_port "$node")"; then
    die "port $(cluster_port "$node") is taken by another process; stop it to run the cluster"
  fi
  local data="$STATE_DIR/cluster/node$node"
  mkdir -p "$data"
  write_cluster_config "$node" "$data"
  if [[ ! -f "$data/logs/meta.properties" ]]; then
    java -Dlog4j2.configurationFile="$data/log4j2.properties" -cp "$KAFKA_HOME/libs/*" \
      kafka.tools.StorageTool format -t "$(cat "$STATE_DIR/cluster/id")" -c "$data/server.properties" \
      > "$STATE_DIR/$name-format.log" 2>&1 ||
      { cat "$STATE_DIR/$name-format.log" >&2; die "formatting the storage of cluster node $node failed"; }
  fi
  : > "$STATE_DIR/$name.log"
  nohup java -Xms128m -Xmx384m -XX:+UseSerialGC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$data/log4j2.properties" \
    -cp "$KAFKA_HOME/libs/*" kafka.Kafka "$data/server.properties" \
    >> "$STATE_DIR/$name.log" 2>&1 < /dev/null &
  echo $! > "$STATE_DIR/$name.pid"
}

wait_for_cluster_node() {
  wait_for "cluster node $1" "$(pid_of "cluster-$1")" "$STATE_DIR/cluster-$1.log" 120 \
    cluster_node_started "$1"
}

# Starts the nodes not running, then waits for each: the voters need each
# other, so all start before any is waited for.
cluster_up() {
  install_kafka
  mkdir -p "$STATE_DIR/cluster"
  if [[ ! -s "$STATE_DIR/cluster/id" ]]; then
    java -cp "$KAFKA_HOME/libs/*" kafka.tools.StorageTool random-uuid 2> /dev/null | tail -n 1 \
      > "$STATE_DIR/cluster/id"
  fi
  local node
  for node in "${CLUSTER_NODES[@]}"; do start_cluster_node "$node"; done
  for node in "${CLUSTER_NODES[@]}"; do wait_for_cluster_node "$node"; done
  say "Kafka cluster: ready on 127.0.0.1:19092,127.0.0.1:19093,127.0.0.1:19094"
}

cluster_node() {
  case "${1:-}" in
    1 | 2 | 3) echo "$1" ;;
    *) die "name a cluster node: 1, 2 or 3" ;;
  esac
}

cluster() {
  local node
  case "${1:-}" in
    up) cluster_up ;;
    down) for node in "${CLUSTER_NODES[@]}"; do stop_service "cluster-$node"; done ;;
    reset)
      for node in "${CLUSTER_NODES[@]}"; do stop_service "cluster-$node"; done
      rm -rf "${STATE_DIR:?}/cluster"
      ;;
    start)
      node="$(cluster_node "${2:-}")"
      start_cluster_node "$node"
      wait_for_cluster_node "$node"
      ;;
    kill)
      node="$(cluster_node "${2:-}")"
      pid_of "cluster-$node" > /dev/null || die "cluster node $node is not running"
      kill_service "cluster-$node"
      ;;
    *) die "usage: scripts/stack.sh cluster up | down | reset | start N | kill N" ;;
  esac
}

start_ferretdb() {
  if mongodb_is_external; then
    say "MongoDB: using the database in MONGODB_URI, not starting FerretDB"
    return
  fi
  if pid="$(pid_of ferretdb)"; then
    say "FerretDB: already running (pid $pid) on 127.0.0.1:27017"
    return
  fi
  if port_open 127.0.0.1 27017; then
    die "port 27017 is taken by another process; stop it, or set MONGODB_URI to the database you want to use"
  fi
  install_ferretdb
  local data="$STATE_DIR/ferretdb"
  mkdir -p "$data/sqlite"
  : > "$STATE_DIR/ferretdb.log"
  nohup "$FERRETDB_BIN" --handler=sqlite --sqlite-url="file:$data/sqlite/" \
    --state-dir="$data" --listen-addr=127.0.0.1:27017 --debug-addr=127.0.0.1:0 \
    --telemetry=disable --log-level=warn \
    >> "$STATE_DIR/ferretdb.log" 2>&1 < /dev/null &
  echo $! > "$STATE_DIR/ferretdb.pid"
  wait_for FerretDB "$!" "$STATE_DIR/ferretdb.log" 60 port_open 127.0.0.1 27017
  say "FerretDB: ready on 127.0.0.1:27017 (log: $STATE_DIR/ferretdb.log)"
}

stop_service() {
  local name="$1" pid
  if ! pid="$(pid_of "$name")"; then
    rm -f "$STATE_DIR/$name.pid"
    return
  fi
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$STATE_DIR/$name.pid"
  say "$name: stopped"
}

# Kills a service at once, as a crash would.
kill_service() {
  local name="$1" pid
  pid="$(pid_of "$name")"
  kill -9 "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  rm -f "$STATE_DIR/$name.pid"
  say "$name: killed (SIGKILL)"
}

# Checks a service named on the command line for start, stop or kill: faults
# are injected only into a service this script runs, never into the user's own.
one_service() {
  case "${1:-}" in
    kafka) ! kafka_is_external || die "KAFKA_BROKERS points at $KAFKA_BROKERS, not the local broker" ;;
    ferretdb) ! mongodb_is_external || die "MONGODB_URI points at a database of your own, not the local FerretDB" ;;
    *) die "name a service: kafka or ferretdb" ;;
  esac
  echo "$1"
}

# Checks that a named service runs, started by this script, before stopping or killing it.
running_service() {
  local name
  name="$(one_service "${1:-}")" || exit 1
  pid_of "$name" > /dev/null || die "$name is not running (started by scripts/stack.sh up)"
  echo "$name"
}

status() {
  local name
  for name in kafka ferretdb; do
    if pid="$(pid_of "$name")"; then
      say "$name: running (pid $pid)"
    else
      say "$name: not running"
    fi
  done
  kafka_is_external && say "Kafka: KAFKA_BROKERS points at $KAFKA_BROKERS"
  mongodb_is_external && say "MongoDB: MONGODB_URI points at a database of your own"
  return 0
}

main() {
  mkdir -p "$STATE_DIR"
  case "${1:-}" in
    up)
      start_kafka
      start_ferretdb
      ;;
    down)
      stop_service kafka
      stop_service ferretdb
      ;;
    status) status ;;
    running)
      for service in kafka ferretdb; do
        pid_of "$service" > /dev/null && echo "$service"
      done
      return 0
      ;;
    reset)
      stop_service kafka
      stop_service ferretdb
      rm -rf "$STATE_DIR/kafka" "$STATE_DIR/ferretdb"
      say "data wiped; ./scripts/stack.sh up starts both afresh"
      ;;
    install)
      install_kafka
      install_ferretdb
      ;;
    cluster)
      shift
      cluster "$@"
      ;;
    start)
      service="$(one_service "${2:-}")"
      "start_$service"
      ;;
    stop | kill)
      service="$(running_service "${2:-}")"
      if [[ "$1" == stop ]]; then stop_service "$service"; else kill_service "$service"; fi
      ;;
    *)
      echo "usage: scripts/stack.sh up | down | status | running | reset | install | start|stop|kill kafka|ferretdb | cluster up|down|reset|start N|kill N" >&2
      exit 2
      ;;
  esac
}

main "$@"
