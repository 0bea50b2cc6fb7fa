#!/usr/bin/env bash
# Measures the pipeline end to end on generated history and prints the figures:
# producer throughput, time from producer start to complete aggregates,
# produce-to-visible latency of a single listen, and the server's peak memory.
#
#   scripts/bench.sh [ROWS]      default 1000000 rows; needs `cargo leptos build --release`
#
# Uses its own topic and database on the running services (scripts/stack.sh up).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"
cd "$ROOT"

rows="${1:-1000000}"
bin="$ROOT/target/release"
[[ -x "$bin/server" && -x "$bin/producer" ]] || die "build first: cargo leptos build --release"
"$ROOT/scripts/stack.sh" up > /dev/null

file="$ROOT/target/bench/history-$rows.csv"
if [[ ! -f "$file" ]]; then
  mkdir -p "$(dirname "$file")"
  say "generating $rows rows"
  "$bin/generate-sample" --rows "$rows" --seed 99 --out "$file"
fi

id="bench_$(date +%s)_$$"
log="$ROOT/target/bench/server-$id.log"
LEPTOS_OUTPUT_NAME=spotify-analytics LEPTOS_SITE_ROOT="$ROOT/target/site" LEPTOS_SITE_ADDR=127.0.0.1:0 \
  KAFKA_TOPIC="$id" KAFKA_GROUP_ID="$id" MONGODB_DB="$id" RUST_LOG=warn \
  "$bin/server" > "$log" 2>&1 &
server=$!
trap 'kill $server 2> /dev/null || true' EXIT
for _ in $(seq 1 120); do
  grep -q "^listening on " "$log" && break
  sleep 0.5
done
url="$(sed -n 's/^listening on //p' "$log" | head -n 1)"
[[ -n "$url" ]] || die "the server did not start; see $log"
events() { curl -fsS "$url/api/summary" | sed -n 's/.*"events":\([0-9]*\).*/\1/p'; }
now() { date +%s.%N; }
# Waits until the API counts $1 listens.
wait_for() { until [[ "$(events)" == "$1" ]]; do sleep 0.02; done; }
sleep 3 # let the consumer join its group

started=$(now)
report="$("$bin/producer" --file "$file" --topic "$id")"
produced=$(now)
sent="$(sed -n 's/^sent *\([0-9]*\).*/\1/p' <<< "$report")"
wait_for "$sent"
counted=$(now)

one="$ROOT/target/bench/one-listen.csv"
head -n 1 "$file" > "$one"
echo "benchOne0001,2030-01-01 00:00:00,web player,1000,Bench,Bench Artist,Bench Album,clickrow,trackdone,FALSE,FALSE" >> "$one"
latencies=()
for i in 1 2 3 4 5; do
  sed -i "2s/^bench[A-Za-z0-9]*/benchOne000$i/" "$one"
  before="$(events)"
  t0=$(now)
  "$bin/producer" --file "$one" --topic "$id" > /dev/null
  wait_for "$((before + 1))"
  latencies+=("$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%d", (b - a) * 1000 }')")
  sleep 0.5
done

peak_kb="$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$server/status")"
echo
echo "rows in file                 $rows"
echo "listens sent                 $sent"
grep -E "^(duplicates|elapsed)" <<< "$report" | sed 's/^/producer /'
awk -v a="$started" -v b="$counted" -v n="$sent" \
  'BEGIN { printf "producer start → counted     %.2f s (%.0f listens/s end to end)\n", b - a, n / (b - a) }'
echo "one listen produce → API     ${latencies[*]} ms (including the producer's start-up)"
echo "server peak memory (VmHWM)   $((peak_kb / 1024)) MiB"
