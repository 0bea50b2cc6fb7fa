#!/usr/bin/env bash
# Measures the JSON API under load while ingestion runs: RATE requests/s for
# SECONDS seconds (hey, several connections), split over /api/top-songs,
# /api/top-artists and /api/summary, while the producer streams 1,000,000
# generated listens into a server of its own. Prints, per endpoint, requests,
# failed ones (not 200, or no answer), p50 and p99, and the listens counted meanwhile.
#
#   scripts/load.sh [RATE] [SECONDS]      default 1000 requests/s for 30 s; needs `cargo leptos build --release --split`
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"
cd "$ROOT"

rate="${1:-1000}"
seconds="${2:-30}"
bin="$ROOT/target/release"
[[ -x "$bin/server" && -x "$bin/producer" ]] || die "build first: cargo leptos build --release --split"
"$ROOT/scripts/stack.sh" up > /dev/null

hey="$(hey_bin)"

file="$(bench_history 1000000)"
id="load_$(date +%s)_$$"
start_own_server "$id"
sleep 3 # let the consumer join its group
MONGODB_DB="$id" "$bin/producer" --person bench --file "$file" --topic "$id" > "$ROOT/target/bench/load-producer.log" &
until [[ "$(counted_events)" -gt 0 ]]; do sleep 0.1; done
before="$(counted_events)"

# Each endpoint's share of the rate; hey limits each of its connections to -q requests/s.
declare -A share=([top-songs?limit=100]=50 [top-artists?limit=100]=25 [summary]=25)
connections=10
pids=()
for endpoint in "${!share[@]}"; do
  per_connection=$((rate * share[$endpoint] / 100 / connections))
  out="$ROOT/target/bench/load-${endpoint%%\?*}.txt"
  "$hey" -H "$auth" -z "${seconds}s" -c "$connections" -q "$per_connection" "$url/api/$endpoint" > "$out" &
  pids+=($!)
done
wait "${pids[@]}"
after="$(counted_events)"

echo
printf '%-28s %9s %7s %9s %9s\n' endpoint requests failed p50 p99
for endpoint in "${!share[@]}"; do
  printf '%-28s %s\n' "/api/$endpoint" "$(hey_figures "$ROOT/target/bench/load-${endpoint%%\?*}.txt")"
done
echo "listens counted during the load: $((after - before)) ($(((after - before) / seconds))/s)"
