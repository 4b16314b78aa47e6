#!/usr/bin/env bash
# A local S3-compatible server, Versity Gateway on its POSIX backend, for development and CI.
#
#   s3.sh start    build versitygw if missing, start it, wait until it answers
#   s3.sh stop     stop the server this script started
#   s3.sh status   say whether it runs and answers (exit 0) or not (exit 3)
#   s3.sh clean    stop it and delete its buckets
#
# versitygw is built from source through the Go module proxy, so a machine needs only Go. The
# binary, the buckets (folders of S3_DIR/data), the PID file and the log live outside the
# repository, under S3_DIR; the build leaves Go's module and build caches where Go keeps them.
# Environment: S3_DIR, S3_VERSION, S3_PORT, S3_ACCESS_KEY, S3_SECRET_KEY.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
module=github.com/versity/versitygw
version=${S3_VERSION:-v1.8.0}
dir=${S3_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/hubbub/s3}
# The version is in the file's name because the binary does not know it (`--version` says "git").
exe=$dir/bin/versitygw-$version
data=$dir/data
pidfile=$dir/versitygw.pid
logfile=$dir/versitygw.log
port=${S3_PORT:-19000}
endpoint=http://127.0.0.1:$port
# Development keys, the same on every machine; tests/support/objects.py has them too.
access_key=${S3_ACCESS_KEY:-hubbub}
secret_key=${S3_SECRET_KEY:-hubbub-secret-key}
ready_timeout=30
stop_timeout=10
daemon=s3
address=$endpoint
# shellcheck source=../daemon.sh source-path=SCRIPTDIR
source "$here/../daemon.sh"

# Go 1.21 and newer fetch the toolchain that a module's go line asks for, itself a module, through
# the module proxy (GOTOOLCHAIN=auto, set where the build runs: some installs default to local).
# Older ones, such as Debian 12's 1.19, can neither read versitygw's go line nor switch, so for
# them the same toolchain module is downloaded here and the build runs on it. Sets go_command.
choose_go() {
  command -v go >/dev/null ||
    die "Go is needed to build versitygw $version (apt-get install golang-go, or go.dev/doc/install)"
  local minor
  minor=$(go env GOVERSION | sed -n 's/^go1\.\([0-9]*\).*/\1/p')
  if [ "${minor:-99}" -ge 21 ]; then go_command=(go); return 0; fi
  local mod want toolchain root
  mod=$(go mod download -json "$module@$version" | sed -n 's/^\t"GoMod": "\(.*\)",$/\1/p')
  want=$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$mod")
  toolchain=golang.org/toolchain@v0.0.1-go$want.$(go env GOOS)-$(go env GOARCH)
  say "$(go env GOVERSION) cannot build versitygw $version, which needs go $want; fetching $toolchain"
  root=$(go mod download -json "$toolchain" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  [ -n "$root" ] || die "could not fetch $toolchain"
  # The module cache keeps no executable bits; the go command puts them back for toolchains.
  chmod a+x "$root"/bin/* "$root"/pkg/tool/*/*
  # GOROOT too, or one set for the old go would lead the new one to the old standard library.
  go_command=(env GOROOT="$root" "$root/bin/go")
}

# Built into a temporary folder and moved into place, so that an interrupted build is built again
# rather than taken for a complete one.
build() {
  [ -x "$exe" ] && return 0
  choose_go
  say "building versitygw $version into $dir/bin (one to three minutes)"
  mkdir -p "$dir/bin"
  rm -rf "$dir/bin.partial"
  if ! GOBIN="$dir/bin.partial" GOTOOLCHAIN=auto \
      "${go_command[@]}" install "$module/cmd/versitygw@$version" >"$dir/build.log" 2>&1; then
    tail -n 30 "$dir/build.log" >&2
    die "could not build versitygw $version (the whole log: $dir/build.log)"
  fi
  mv "$dir/bin.partial/versitygw" "$exe"
  rm -rf "$dir/bin.partial"
}

# A PID file can outlive its process and the PID be reused, so the PID counts only while it is a
# versitygw serving this data folder (a zombie has an empty command line).
running_pid() {
  local pid cmdline
  [ -f "$pidfile" ] || return 1
  pid=$(cat "$pidfile")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  cmdline=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || return 1
  [[ $cmdline == */versitygw-*" posix $data " ]] || return 1
  echo "$pid"
}

# The health path (--health below) answers 200 without a signature once the gateway serves
# requests; plain bash, since a bare machine may have no curl.
answers() {
  local status
  status=$( (exec 3<>"/dev/tcp/127.0.0.1/$port" && printf 'GET /health HTTP/1.0\r\n\r\n' >&3 &&
    read -r -t 5 line <&3 && echo "$line") 2>/dev/null) || return 1
  [[ $status == "HTTP/1."?" 200 "* ]]
}

start() {
  local pid
  build
  if pid=$(running_pid); then
    if answers; then say "already running (pid $pid) on $endpoint"; return 0; fi
  else
    rm -f "$pidfile"
    # Another server on this port would answer the readiness check in this one's stead.
    listening "$port" && die "127.0.0.1:$port is taken by a process this script did not start"
    mkdir -p "$data"
    # versitygw reads settings from many variables (VGW_*, ROOT_*, LOGFILE, WEBHOOK); only this
    # script's reach it. The keys go by environment, not the command line, which ps shows.
    local scrub=() name
    for name in $(compgen -e); do
      case $name in VGW_* | ROOT_* | LOGFILE | WEBHOOK) scrub+=(-u "$name") ;; esac
    done
    # setsid: its own session, so that a Ctrl-C or a closed terminal that stops make leaves it be.
    # --quiet: no line per request, since nothing rotates the log; errors are still written.
    setsid env "${scrub[@]}" ROOT_ACCESS_KEY="$access_key" ROOT_SECRET_KEY="$secret_key" \
      "$exe" --port "127.0.0.1:$port" --health /health --quiet posix "$data" \
      </dev/null >>"$logfile" 2>&1 9>&- &
    pid=$!
    echo "$pid" >"$pidfile"
    say "started (pid $pid), waiting for it to answer on $endpoint"
  fi
  local deadline=$((SECONDS + ready_timeout))
  until answers && alive "$pid"; do
    if ! alive "$pid"; then
      rm -f "$pidfile"
      tail -n 20 "$logfile" >&2 || true
      die "versitygw exited during start-up (the log: $logfile)"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      tail -n 20 "$logfile" >&2 || true
      die "no answer on $endpoint after ${ready_timeout} s (pid $pid, the log: $logfile)"
    fi
    sleep 0.5
  done
  say "running (pid $pid) on $endpoint; buckets in $data, the log in $logfile"
}

clean() {
  # An S3_DIR set by mistake to some other folder is left alone: this script's log marks its own.
  [ ! -e "$data" ] || [ -f "$logfile" ] || die "$dir has no versitygw.log; not deleting $data"
  stop
  rm -rf "$data" "$logfile"
  say "deleted $data"
}

main "$@"
