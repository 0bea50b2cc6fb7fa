#!/usr/bin/env bash
# Measures time-range queries on a large history: streams ROWS generated
# listens (default 1,000,000, about eleven years) into a server of its own,
# waits until every listen is counted, then asks each range endpoint for
# SECONDS seconds at RATE requests/s (hey) and prints requests, failures, p50
# and p99 per question, and the server's memory.
#
#   scripts/bench-ranges.sh [ROWS] [RATE] [SECONDS]    default 1000000 50 10; needs `cargo leptos build --release --split`
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"
cd "$ROOT"

rows="${1:-1000000}"
rate="${2:-50}"
seconds="${3:-10}"
bin="$ROOT/target/release"
[[ -x "$bin/server" && -x "$bin/producer" ]] || die "build first: cargo leptos build --release --split"
"$ROOT/scripts/stack.sh" up > /dev/null
hey="$(hey_bin)"

file="$(bench_history "$rows")"
id="ranges_$(date +%s)_$$"
start_own_server "$id"
sleep 3 # let the consumer join its group
sent="$(MONGODB_DB="$id" "$bin/producer" --person bench --file "$file" --topic "$id" | sed -n 's/^sent *\([0-9]*\).*/\1/p')"
say "waiting until all $sent listens are counted"
until [[ "$(counted_events)" -ge "$sent" ]]; do sleep 1; done
# The rollups follow the journal a refresh behind the totals.
until curl -fsS -H "$auth" "$url/api/shares" | grep -q "\"plays\":$sent,"; do sleep 0.5; done

questions=(
  "top-songs?preset=all-time&limit=100"
  "top-songs?preset=latest-year&limit=10"
  "top-songs?preset=last-30-days&by=time&limit=10"
  "top-songs?from=2015-03-01&to=2022-09-15&limit=100"
  "top-artists?from=2014-01-01&to=2024-01-01&by=time&limit=100"
  "top-albums?preset=all-time&limit=100"
  "most-skipped?preset=all-time&min_plays=20&limit=50"
  "listening-clock?preset=all-time"
  "over-time?preset=all-time&bucket=week"
  "shares?from=2016-01-01&to=2020-01-01"
)
echo
printf '%-58s %9s %7s %9s %9s\n' question requests failed p50 p99
for question in "${questions[@]}"; do
  out="$ROOT/target/bench/ranges-$(tr -c 'a-z0-9' '_' <<< "$question").txt"
  "$hey" -H "$auth" -z "${seconds}s" -c 2 -q "$((rate / 2))" "$url/api/$question" > "$out"
  printf '%-58s %s\n' "/api/$question" "$(hey_figures "$out")"
done
rss_kb="$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$server/status")"
echo "listens: $sent; server memory (RSS) $((rss_kb / 1024)) MiB"
