#!/usr/bin/env bash
# A single-node Kafka broker (KRaft: broker and controller in one JVM) for development and CI.
#
#   kafka.sh start    fetch the jars if missing, format the storage once, start, wait until it answers
#   kafka.sh stop     stop the broker this script started
#   kafka.sh status   say whether it runs and answers (exit 0) or not (exit 3)
#   kafka.sh clean    stop it and delete its data
#
# The jars come from Maven Central through pom.xml beside this script, so a machine needs only
# Java 17+ and Maven. Jars and data live outside the repository, under KAFKA_DIR.
# Environment: KAFKA_DIR, KAFKA_RUN_DIR, KAFKA_VERSION, KAFKA_PORT, KAFKA_CONTROLLER_PORT.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
version=${KAFKA_VERSION:-$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml")}
dir=${KAFKA_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/hubbub/kafka}
libs=$dir/$version/libs
run=${KAFKA_RUN_DIR:-$dir/run}
port=${KAFKA_PORT:-19092}
controller_port=${KAFKA_CONTROLLER_PORT:-19093}
bootstrap=127.0.0.1:$port
pidfile=$run/kafka.pid
# The broker's heap stays small: a development broker holds little, and CI shares the machine
# with PostgreSQL, Redis, Chromium and the test workers.
heap_opts=(-Xms128m -Xmx512m)
tool_opts=(-Xmx128m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC)
ready_timeout=60
stop_timeout=20
daemon=kafka
address=$bootstrap
# shellcheck source=../daemon.sh source-path=SCRIPTDIR
source "$here/../daemon.sh"

check_java() {
  command -v java >/dev/null || die "Java 17 or newer is needed (apt-get install openjdk-17-jre-headless)"
  local major
  major=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1)
  [ "${major:-0}" -ge 17 ] || die "Kafka $version needs Java 17 or newer; java is version ${major:-unknown}"
}

# The jars are copied into a temporary folder and renamed into place, so that an interrupted
# download is fetched again rather than taken for a complete one.
fetch_jars() {
  [ -d "$libs" ] && return 0
  command -v mvn >/dev/null || die "Maven is needed to fetch the Kafka jars (apt-get install maven)"
  say "fetching the jars of Kafka $version into $libs"
  mkdir -p "$dir/$version"
  rm -rf "$libs.partial"
  if ! mvn -q -B -f "$here/pom.xml" -Dkafka.version="$version" \
      dependency:copy-dependencies -DoutputDirectory="$libs.partial" >"$dir/$version/mvn.log" 2>&1; then
    tail -n 30 "$dir/$version/mvn.log" >&2
    die "could not fetch the jars of Kafka $version (the whole log: $dir/$version/mvn.log)"
  fi
  mv "$libs.partial" "$libs"
}

tool() { java "${tool_opts[@]}" -cp "$libs/*" "$@"; }

# A PID file can outlive its process and the PID be reused, so the PID counts only while it is a
# live JVM running this run directory's broker (a zombie has an empty command line).
running_pid() {
  local pid
  [ -f "$pidfile" ] || return 1
  pid=$(cat "$pidfile")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF "kafka.Kafka $run/server.properties" || return 1
  echo "$pid"
}

# Listing the topics is a metadata request answered by the broker itself, not just an open port;
# without the jars (a status before the first start) there is nothing to list them with.
answers() {
  [ -d "$libs" ] && listening "$port" || return 1
  timeout 30 java "${tool_opts[@]}" -cp "$libs/*" org.apache.kafka.tools.TopicCommand \
    --bootstrap-server "$bootstrap" --command-config "$run/tool.properties" --list >/dev/null 2>&1
}

write_config() {
  mkdir -p "$run/data" "$run/logs"
  # Static voters rather than a dynamic quorum (`format --standalone`): the voter's address is then
  # read from this file at every start, not frozen into the metadata log, so a changed
  # KAFKA_CONTROLLER_PORT needs no reformat.
  cat >"$run/server.properties" <<EOF
# Written by kafka.sh at every start; edits here are lost.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$run/data

# One broker: every internal topic has one replica, and one partition where that is allowed,
# since each partition costs files, memory and start-up time.
num.partitions=1
default.replication.factor=1
auto.create.topics.enable=true
offsets.topic.num.partitions=1
offsets.topic.replication.factor=1
transaction.state.log.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Consumers that join a group start at once instead of after the default 3 s.
group.initial.rebalance.delay.ms=0
# The compaction buffer lives on the heap; the default 128 MiB would be a quarter of it.
log.cleaner.dedupe.buffer.size=8388608
EOF
  cat >"$run/tool.properties" <<EOF
request.timeout.ms=5000
default.api.timeout.ms=10000
EOF
  cat >"$run/log4j2.properties" <<EOF
status = warn
appender.file.type = RollingFile
appender.file.name = file
appender.file.fileName = $run/logs/server.log
appender.file.filePattern = $run/logs/server.log.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 10MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 3
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
# Every request and every partition state change at INFO would drown the rest.
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.state.name = state.change.logger
logger.state.level = WARN
EOF
}

format_once() {
  [ -f "$run/data/meta.properties" ] && return 0
  local cluster_id
  cluster_id=$(tool kafka.tools.StorageTool random-uuid)
  say "formatting $run/data (cluster $cluster_id)"
  tool kafka.tools.StorageTool format --cluster-id "$cluster_id" --config "$run/server.properties" \
    >>"$run/logs/format.log" 2>&1 || { cat "$run/logs/format.log" >&2; die "could not format $run/data"; }
}

start() {
  local pid
  check_java
  fetch_jars
  if pid=$(running_pid); then
    if answers; then say "already running (pid $pid) on $bootstrap"; return 0; fi
  else
    rm -f "$pidfile"
    # Another broker on these ports would answer the readiness check in this one's stead.
    local p
    for p in "$port" "$controller_port"; do
      listening "$p" && die "127.0.0.1:$p is taken by a process this script did not start"
    done
    write_config
    format_once
    # setsid: its own session, so that a Ctrl-C or a closed terminal that stops make leaves it be.
    setsid java "${heap_opts[@]}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
      -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent \
      -Djava.awt.headless=true -Dkafka.logs.dir="$run/logs" -Dlog4j2.shutdownHookEnabled=false \
      -Dlog4j2.configurationFile="$run/log4j2.properties" \
      -cp "$libs/*" kafka.Kafka "$run/server.properties" \
      </dev/null >>"$run/logs/kafka.out" 2>&1 9>&- &
    pid=$!
    echo "$pid" >"$pidfile"
    say "started (pid $pid), waiting for it to answer on $bootstrap"
  fi
  local deadline=$((SECONDS + ready_timeout))
  until answers && alive "$pid"; do
    if ! alive "$pid"; then
      rm -f "$pidfile"
      tail -n 20 "$run/logs/server.log" "$run/logs/kafka.out" >&2 2>/dev/null || true
      die "the broker exited during start-up (logs in $run/logs)"
    fi
    [ "$SECONDS" -lt "$deadline" ] || die "no answer on $bootstrap after ${ready_timeout} s (pid $pid, logs in $run/logs)"
    sleep 1
  done
  say "running (pid $pid) on $bootstrap; logs in $run/logs"
}

clean() {
  # A KAFKA_RUN_DIR set by mistake to some other folder is left alone.
  [ ! -e "$run" ] || [ -f "$run/server.properties" ] || die "$run has no server.properties; not deleting it"
  stop
  rm -rf "$run"
  say "deleted $run"
}

main "$@"
