#!/usr/bin/env bash
# Runs the whole system on this machine: installs what is missing, starts
# Kafka and FerretDB, builds the release server and site, serves the
# dashboard, and streams the sample listening history into it.
#
# Environment: SAMPLE_RATE (listens per second streamed, default 1000),
# LEPTOS_SITE_ADDR (default 127.0.0.1:3000), and every variable the server
# reads (see README.md). Stop with Ctrl-C; the services keep running
# (scripts/stack.sh down stops them).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"
cd "$ROOT"

"$ROOT/scripts/setup.sh"
use_project_tools
"$ROOT/scripts/stack.sh" up

say "building the release server and site (a few minutes the first time)"
cargo leptos build --release

export LEPTOS_OUTPUT_NAME=spotify-analytics
export LEPTOS_SITE_ROOT="$ROOT/target/site"
export LEPTOS_SITE_PKG_DIR=pkg
export LEPTOS_SITE_ADDR="${LEPTOS_SITE_ADDR:-127.0.0.1:3000}"
log="$ROOT/target/server.log"
"$ROOT/target/release/server" > >(tee "$log") 2>&1 &
server_pid=$!
producer_pid=""
stop() {
  [[ -n "$producer_pid" ]] && kill "$producer_pid" 2> /dev/null
  kill "$server_pid" 2> /dev/null
  wait "$server_pid" 2> /dev/null
  return 0
}
trap stop EXIT
trap 'exit 130' INT TERM

for _ in $(seq 1 120); do
  grep -q "^listening on " "$log" 2> /dev/null && break
  kill -0 "$server_pid" 2> /dev/null || die "the server stopped during start-up; see $log"
  sleep 0.5
done
url="$(sed -n 's/^listening on //p' "$log" | head -n 1)"
[[ -n "$url" ]] || die "the server did not start listening; see $log"

events="$(curl -fsS "$url/api/summary" | sed -n 's/.*"events":\([0-9]*\).*/\1/p')"
if [[ "${events:-0}" == "0" ]]; then
  say "streaming data/spotify_history.csv at ${SAMPLE_RATE:-1000} listens/s"
  "$ROOT/target/release/producer" --file "$ROOT/data/spotify_history.csv" --rate "${SAMPLE_RATE:-1000}" &
  producer_pid=$!
else
  say "$events listens already counted; not streaming the sample again (scripts/stack.sh reset starts afresh)"
fi

say "dashboard: $url   (Ctrl-C to stop)"
wait "$server_pid"
