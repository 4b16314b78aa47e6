# What deploy/kafka/kafka.sh and deploy/s3/s3.sh share to stop, check and lock a local daemon.
#
# Sourced, not run. The script that sources it sets, beforehand:
#   daemon        its name in messages ("kafka", "s3")
#   dir           the folder that holds the lock
#   pidfile       where start writes the daemon's PID
#   stop_timeout  seconds from TERM to KILL
#   address       where the daemon answers, for status's messages
# and defines start, clean, running_pid (the PID while it is this script's daemon, else
# nonzero) and answers (zero once the daemon serves requests). It ends with `main "$@"`.
# shellcheck shell=bash
: "${daemon:?}" "${dir:?}" "${pidfile:?}" "${stop_timeout:?}" "${address:?}"

die() { echo "$daemon: $*" >&2; exit 1; }
say() { echo "$daemon: $*"; }

# Alive and not a zombie: a zombie's PID still answers kill -0.
alive() {
  local state
  state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d ' ' -f 1) && [ -n "$state" ] && [ "$state" != Z ]
}

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

stop() {
  local pid
  if ! pid=$(running_pid); then
    rm -f "$pidfile"
    say "not running"
    return 0
  fi
  # From here on the PID is watched with alive, not running_pid: an exiting process (Kafka's JVM,
  # for one) loses its command line before it closes its sockets, and a start right after must
  # find the ports free.
  kill -TERM "$pid"
  local deadline=$((SECONDS + stop_timeout))
  while alive "$pid" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
  if alive "$pid"; then
    say "still running after ${stop_timeout} s, killing pid $pid"
    kill -KILL "$pid" 2>/dev/null || true
    while alive "$pid"; do sleep 0.2; done
  fi
  rm -f "$pidfile"
  say "stopped (pid $pid)"
}

status() {
  local pid
  if ! pid=$(running_pid); then say "not running"; return 3; fi
  if answers; then say "running (pid $pid) on $address"; return 0; fi
  say "running (pid $pid) but not answering on $address"
  return 3
}

# One at a time: two starts at once would both find no daemon and start two. The daemon itself
# must not inherit the lock (9>&- where each script starts it), or it would hold it for its
# lifetime.
main() {
  mkdir -p "$dir"
  exec 9>"$dir/.lock"
  flock 9
  case ${1:-} in
    start) start ;;
    stop) stop ;;
    status) status ;;
    clean) clean ;;
    *) echo "usage: $0 start|stop|status|clean" >&2; exit 2 ;;
  esac
}
