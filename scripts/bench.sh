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

file="$(bench_history "$rows")"
id="bench_$(date +%s)_$$"
start_own_server "$id"
events() { counted_events; }
now() { date +%s.%N; }
# Waits until the API counts $1 listens.
wait_for() { until [[ "$(events)" == "$1" ]]; do sleep 0.02; done; }
sleep 3 # let the consumer join its group

started=$(now)
report="$(MONGODB_DB="$id" "$bin/producer" --person bench --file "$file" --topic "$id")"
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
  MONGODB_DB="$id" "$bin/producer" --person bench --file "$one" --topic "$id" > /dev/null
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
