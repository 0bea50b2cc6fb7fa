#!/usr/bin/env bash
# Runs the whole system on this machine: installs what is missing, starts
# Kafka and FerretDB, builds the release server, site and producer, serves the
# dashboard, and streams the sample listening history into it.
#
# Environment: SAMPLE_RATE (listens per second streamed, default 1000),
# LEPTOS_SITE_ADDR (default 127.0.0.1:3000), and every variable the server
# reads (see README.md).
#
# Stop it with Ctrl-C or SIGTERM: it stops the server and the producer, and
# Kafka and FerretDB if this run started them (services that were already
# running keep running; scripts/stack.sh down stops them). If it is killed
# outright, the server and the producer get SIGTERM from the kernel.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"
cd "$ROOT"

# Each step runs in a process group of its own, so that stopping this script
# stops the step and everything it spawned, and nothing else.
step_pid=""
server_pid=""
producer_pid=""
started_services=()

step() {
  setsid "$@" < /dev/null &
  step_pid=$!
  local status=0
  wait "$step_pid" || status=$?
  step_pid=""
  return "$status"
}

# Starts a long-running process in its own group; the kernel sends it SIGTERM
# if this script dies without cleaning up (SIGKILL, OOM).
spawn() { setsid setpriv --pdeathsig TERM -- "$@" < /dev/null & }

stop_group() {
  local pid="$1"
  [[ -n "$pid" ]] || return 0
  kill -TERM -- "-$pid" 2> /dev/null || return 0
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2> /dev/null || return 0
    sleep 0.1
  done
  kill -KILL -- "-$pid" 2> /dev/null || true
}

stop() {
  set +e
  trap - INT TERM
  [[ -n "${cookies:-}" ]] && rm -f "$cookies"
  stop_group "$step_pid"
  stop_group "$producer_pid"
  stop_group "$server_pid"
  [[ -n "$server_pid" ]] && wait "$server_pid" 2> /dev/null
  local service
  for service in "${started_services[@]}"; do
    "$ROOT/scripts/stack.sh" stop "$service"
  done
  return 0
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

began=$SECONDS
step "$ROOT/scripts/setup.sh"
use_project_tools
running_before="$("$ROOT/scripts/stack.sh" running | xargs)"
step "$ROOT/scripts/stack.sh" up
for service in $("$ROOT/scripts/stack.sh" running); do
  [[ " $running_before " == *" $service "* ]] || started_services+=("$service")
done
setup_seconds=$((SECONDS - began))

began=$SECONDS
say "building the release server, site and producer (a few minutes the first time)"
step cargo leptos build --release --split --precompress
# cargo-leptos builds only the server binary; the same LEPTOS_OUTPUT_NAME reuses its build of the library.
step env LEPTOS_OUTPUT_NAME=spotify-analytics cargo build --release -p server --bin producer
build_seconds=$((SECONDS - began))

export LEPTOS_OUTPUT_NAME=spotify-analytics
export LEPTOS_SITE_ROOT="$ROOT/target/site"
export LEPTOS_SITE_PKG_DIR=pkg
export LEPTOS_SITE_ADDR="${LEPTOS_SITE_ADDR:-127.0.0.1:3000}"
log="$ROOT/target/server.log"
spawn "$ROOT/target/release/server" > >(tee "$log") 2>&1
server_pid=$!

for _ in $(seq 1 120); do
  grep -q "^listening on " "$log" 2> /dev/null && break
  kill -0 "$server_pid" 2> /dev/null || die "the server stopped during start-up; see $log"
  sleep 0.5
done
url="$(sed -n 's/^listening on //p' "$log" | head -n 1)"
[[ -n "$url" ]] || die "the server did not start listening; see $log"

# A demo person holds the sample; its password is random and never shown:
# the printed link signs in once (`server accounts sign-in-link demo` makes another).
accounts() { RUST_LOG=warn "$ROOT/target/release/server" accounts "$@"; }
if ! accounts list | grep -q '^demo '; then
  head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' | accounts add demo > /dev/null
fi
# A session of the demo person for this script's own requests, in a file only it reads.
cookies="$(umask 077 && mktemp)"
curl -fsS -o /dev/null -c "$cookies" "$(accounts sign-in-link demo)" ||
  die "signing the demo person in failed; see $log"

# The figures answer once the server has read what was counted before.
events=""
for _ in $(seq 1 60); do
  events="$(curl -fsS -b "$cookies" "$url/api/summary" 2> /dev/null |
    sed -n 's/.*"events":\([0-9]*\).*/\1/p')" || true
  [[ -n "$events" ]] && break
  sleep 0.5
done
[[ -n "$events" ]] || die "the server does not answer $url/api/summary; see $log"
if [[ "$events" == "0" ]]; then
  say "streaming data/spotify_history.csv at ${SAMPLE_RATE:-1000} listens/s"
  spawn "$ROOT/target/release/producer" --person demo --file "$ROOT/data/spotify_history.csv" --rate "${SAMPLE_RATE:-1000}"
  producer_pid=$!
else
  say "$events listens already counted; not streaming the sample again (scripts/stack.sh reset starts afresh)"
fi

say "set-up took $(duration "$setup_seconds") and the build $(duration "$build_seconds"); both are reused next time"
say "dashboard: $url   (Ctrl-C to stop)"
say "sign in as demo, once, with: $(accounts sign-in-link demo)"
wait "$server_pid"
