#!/usr/bin/env bash
# The engine's benchmark: measures every figure of the README's Benchmarks
# table in one run, on generated history, real Kafka and MongoDB, the release
# build, and prints figure, value, target and whether it is met.
#
#   scripts/bench.sh [ROWS]    default 1000000; BENCH_5M=1 adds the 5,000,000-listen run
#
# Needs `cargo leptos build --release --split --precompress`. Uses its own topics and
# databases on the running services (scripts/stack.sh up). No test depends on
# these figures: a slow machine prints slow figures, nothing fails.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"
cd "$ROOT"

rows="${1:-1000000}"
bin="$ROOT/target/release"
[[ -x "$bin/server" && -x "$bin/producer" ]] || die "build first: cargo leptos build --release --split --precompress"
"$ROOT/scripts/stack.sh" up > /dev/null
hey="$(hey_bin)"
out="$ROOT/target/bench"
mkdir -p "$out"

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
peak_mib() { awk '/^VmHWM:/ { printf "%d", $2 / 1024 }' "/proc/$server/status"; }
metric() { curl -fsS "$metrics/metrics" | awk -v name="$1" '$1 == name { print $2 }'; }
# The server's own request-latency histogram: "route bound count" lines.
http_buckets() {
  curl -fsS "$metrics/metrics" |
    sed -n 's/^spotify_analytics_http_request_seconds_bucket{route="\([^"]*\)",le="\([^"]*\)"} \([0-9]*\)$/\1 \2 \3/p'
}
# The worst p99, in ms, of the routes $3... between histograms $1 and $2:
# the bound of the first bucket holding 99% of each route's requests.
worst_http_p99() {
  local before="$1" after="$2"
  shift 2
  awk -v routes="$*" '
    BEGIN { n = split(routes, list, " "); for (i = 1; i <= n; i++) wanted[list[i]] = 1 }
    FILENAME == ARGV[1] { seen[$1 " " $2] = $3; next }
    ($1 in wanted) { count[$1, ++rows[$1]] = $3 - seen[$1 " " $2]; bound[$1, rows[$1]] = $2 }
    END {
      worst = 0
      for (route in rows) {
        total = count[route, rows[route]]
        if (total == 0) continue
        for (i = 1; i <= rows[route]; i++) if (count[route, i] >= 0.99 * total) break
        ms = (bound[route, i] == "+Inf") ? 99999 : bound[route, i] * 1000
        if (ms > worst) worst = ms
      }
      printf "%g", worst
    }' "$before" "$after"
}
# Asks GET $3 (curl's options after it) $WAIT_RATE times a second (50 unless
# set) until an answer has a line awk condition $2 holds for; fails after $1
# seconds. One curl process asks every time: a process per question took a
# third of a core (curl's start alone is 7 ms of CPU) from the server being
# measured. In the condition, number("key") is the answer's number after "key":.
wait_for() {
  local seconds="$1" condition="$2" url="$3" rate="${WAIT_RATE:-50}" fd asker status=0
  shift 3
  exec {fd}< <(exec timeout "$seconds" curl -sSN --max-time 5 --rate "$rate/s" --write-out '\n' \
    "$@" "$url#[1-$((seconds * rate))]" 2> /dev/null)
  asker=$!
  # shellcheck disable=SC2016 # awk's own $0
  "${line_reader[@]}" 'function number(key) { return match($0, "\"" key "\":[0-9]+") ? substr($0, RSTART + length(key) + 3) + 0 : -1 }
    '"$condition"' { found = 1; exit } END { exit !found }' <&"$fd" || status=$?
  kill "$asker" 2> /dev/null || true
  wait "$asker" 2> /dev/null || true
  exec {fd}<&-
  return "$status"
}
# Debian's awk (mawk) reads a pipe a block at a time unless interactive.
line_reader=(awk)
[[ "$(awk -W version 2>&1 < /dev/null || true)" == mawk* ]] && line_reader=(awk -W interactive)
[[ "$(curl --help all)" == *--rate* ]] || die "this curl cannot pace its requests (--rate, curl 7.84 or later); install a newer curl"
# Waits until $1 listens are counted (the totals), or the ranges have them all.
wait_counted() {
  wait_for 600 "number(\"events\") == $1" "$url/api/summary" -H "$auth" ||
    die "the server did not count $1 listens within 10 minutes; see its log in target/bench"
}
wait_in_ranges() {
  wait_for 600 "number(\"plays\") == $1" "$url/api/shares?preset=all-time" -H "$auth" ||
    die "the ranges did not hold $1 listens within 10 minutes; see the server's log in target/bench"
}
# Writes a one-listen file unique to $1.
one_listen() {
  local name file history="$ROOT/target/bench/history-$rows.csv"
  name="bench$(tr -cd 'A-Za-z0-9' <<< "$1")"
  file="$out/one-$name.csv"
  head -n 1 "$history" > "$file"
  echo "$name,2030-01-01 00:00:00,web player,1000,Bench $name,Bench Artist,Bench Album,clickrow,trackdone,FALSE,FALSE" >> "$file"
  echo "$file"
}
# Percentile $2 (0-100) of the numbers in file $1.
percentile() { sort -n "$1" | awk -v p="$2" '{ v[NR] = $1 } END { i = int((NR * p + 99) / 100); if (i < 1) i = 1; print v[i] }'; }

results=()
# figure, value, unit, target ("<= N"), recorded for the table.
record() { results+=("$1|$2|$3|$4"); }

# --- A whole history at once --------------------------------------------------
# Streams `file` for `person` into a fresh server; sets sent, totals_s, ranges_s.
ingest() {
  local file="$1" started
  started=$(now)
  sent="$(MONGODB_DB="$id" "$bin/producer" --person bench --file "$file" --topic "$id" |
    sed -n 's/^sent *\([0-9]*\).*/\1/p')"
  wait_counted "$sent"
  totals_s=$(since "$started")
  wait_in_ranges "$sent"
  ranges_s=$(since "$started")
}

file="$(bench_history "$rows")"
id="bench_$(date +%s)_$$"
start_own_server "$id" KAFKA_GROUP_INSTANCE_ID="$id"
sleep 3 # let the consumer join its group
say "streaming $rows rows"
ingest "$file"
record "$rows-row file: producer start → totals complete" "$totals_s" s "<= 10"
record "$rows-row file: producer start → every range complete" "$ranges_s" s "<= 10"
record "server peak RSS after $sent listens" "$(peak_mib)" MiB "<= 150"
total="$sent"
# What the dashboard page has the browser fetch of WebAssembly: the main
# file and any piece it preloads, as sent (the precompressed copies).
dashboard_wasm="" dashboard_wasm_gz=0 dashboard_wasm_raw=0
for wasm in $(curl -fsS -H "$auth" "$url/" | grep -o '/pkg/[^"]*\.wasm' | sort -u); do
  piece="$ROOT/target/site$wasm"
  [[ -f "$piece.br" ]] || { dashboard_wasm=""; break; }
  dashboard_wasm=$((${dashboard_wasm:-0} + $(stat -c %s "$piece.br") / 1024))
  dashboard_wasm_gz=$((dashboard_wasm_gz + $(stat -c %s "$piece.gz") / 1024))
  dashboard_wasm_raw=$((dashboard_wasm_raw + $(stat -c %s "$piece") / 1024))
done

# --- Range questions while listens stream in ----------------------------------
say "range questions, 200 requests/s in all, while listens stream in"
more="$(bench_history 100000)"
MONGODB_DB="$id" "$bin/producer" --person bench --file "$more" --topic "$id" --rate 5000 > /dev/null &
streaming=$!
questions=(
  "top-songs?preset=all-time&limit=100"
  "top-songs?from=2019-01-01&to=2020-01-01&limit=100"
  "top-songs?from=2015-03-01&to=2022-09-15&limit=100"
  "listening-clock?preset=all-time"
  "over-time?preset=all-time&bucket=week"
)
http_buckets > "$out/http-before.txt"
asking=()
for question in "${questions[@]}"; do
  "$hey" -H "$auth" -z 10s -c 2 -q 20 "$url/api/$question" > "$out/load-$(tr -c 'a-z0-9' '_' <<< "$question").txt" &
  asking+=($!)
done
wait "${asking[@]}"
worst=0
for question in "${questions[@]}"; do
  report="$out/load-$(tr -c 'a-z0-9' '_' <<< "$question").txt"
  printf '  %-52s %s\n' "/api/$question" "$(hey_figures "$report")"
  p99="$(awk '/99% in/ { printf "%.1f", $3 * 1000 }' "$report")"
  worst="$(awk -v a="$worst" -v b="${p99:-9999}" 'BEGIN { print (b > a) ? b : a }')"
done
record "range questions at 1M listens, 200 req/s while ingesting: worst p99" "$worst" ms "<= 5"
# The same requests timed inside the server (from reading a request to its
# answer): what the load generators' own waits for the two cores add, above.
http_buckets > "$out/http-after.txt"
record "  the same, time in the server: worst p99 (its histogram's bucket bound)" \
  "$(worst_http_p99 "$out/http-before.txt" "$out/http-after.txt" /api/top-songs /api/listening-clock /api/over-time)" ms "<= 5"
kill "$streaming" 2> /dev/null || true
wait "$streaming" 2> /dev/null || true

# --- One listen: broker acknowledgement → visible ---------------------------
say "one listen at a time, 50 times"
# What the stream sent before it was stopped is counted first.
settled=-1
until [[ "$settled" == "$(counted_events)" ]]; do
  settled="$(counted_events)"
  sleep 1
done
: > "$out/latency.txt"
for i in $(seq 1 50); do
  one="$(one_listen "$id-$i")"
  before="$(counted_events)"
  MONGODB_DB="$id" "$bin/producer" --person bench --file "$one" --topic "$id" > /dev/null
  # The producer ends once the broker acknowledged the listen.
  acked=$(now)
  # Asked every 4 ms: the figure is tens of milliseconds.
  WAIT_RATE=250 wait_for 60 "number(\"events\") > $before" "$url/api/summary" -H "$auth" ||
    die "a listen sent was not counted within a minute"
  awk -v a="$acked" -v b="$(now)" 'BEGIN { printf "%d\n", (b - a) * 1000 }' >> "$out/latency.txt"
done
echo "  p50 $(percentile "$out/latency.txt" 50) ms, p99 $(percentile "$out/latency.txt" 99) ms, max $(sort -n "$out/latency.txt" | tail -n 1) ms"
record "one listen, broker acknowledgement → visible: p99 of 50" "$(percentile "$out/latency.txt" 99)" ms "<= 250"

# --- The stories: reviews and discoveries ------------------------------------
# Times, as the client sees them, in ms, each year's review of `years`; prints the worst.
years="2013 2014 2015 2016 2017 2018 2019 2020 2021 2022 2023"
worst_review_ms() {
  local worst=0 ms
  for year in $1; do
    ms="$(curl -fsS -o /dev/null -w '%{time_total}' -H "$auth" "$url/api/review?period=$year" | awk '{ printf "%.1f", $1 * 1000 }')"
    worst="$(awk -v a="$worst" -v b="$ms" 'BEGIN { print (b > a) ? b : a }')"
  done
  echo "$worst"
}
request_ms() { curl -fsS -o /dev/null -w '%{time_total}' -H "$auth" "$url$1" | awk '{ printf "%.1f", $1 * 1000 }'; }
say "the stories asked first, no page open"
record "a year's review asked first, no page open: worst of 11" "$(worst_review_ms "$years")" ms "<= 5"
record "discoveries asked first, no page open" "$(request_ms /api/discoveries)" ms "<= 5"

# --- SIGKILL and back ---------------------------------------------------------
say "SIGKILL of the server, then back"
total="$(counted_events)"
kill -KILL "$server"
wait "$server" 2> /dev/null || true
restarted=$(now)
restart_own_server "$id" KAFKA_GROUP_INSTANCE_ID="$id"
MONGODB_DB="$id" "$bin/producer" --person bench --file "$(one_listen "$id-back")" --topic "$id" > /dev/null
wait_counted "$((total + 1))"
record "after SIGKILL: restart → counting again" "$(since "$restarted")" s "<= 3"
wait_in_ranges "$((total + 1))"
record "after SIGKILL: restart → every range served again" "$(since "$restarted")" s "<= 5"

# --- The stories with the dashboard open ---------------------------------------
# On the server started again after the SIGKILL: nothing is worked out yet,
# so the discoveries' counter appears once the page's run has worked them out.
say "the stories of a person whose dashboard is open"
curl -sN -H "$auth" "$url/api/live" > /dev/null &
page=$!
opened=$(now)
until [[ -n "$(metric 'spotify_analytics_stories_worked_out_total{story="discoveries"}')" ]]; do
  (($(since "$opened" | cut -d. -f1) < 60)) || die "the stories were not worked out within a minute of opening the page"
  sleep 0.05
done
echo "  worked out $(since "$opened") s after the page opened"
# The latest twelve years are worked out ahead: the one-listen files' year (2030) and 2019 on.
record "a year's review, dashboard open: worst of 5" "$(worst_review_ms "2019 2020 2021 2022 2023")" ms "<= 5"
record "discoveries, dashboard open" "$(request_ms /api/discoveries)" ms "<= 5"
kill "$page" 2> /dev/null || true
kill "$server"
wait "$server" 2> /dev/null || true

# --- 100 people at once -------------------------------------------------------
say "100 people × 10,000 listens, imported at once"
id="bench_people_$(date +%s)_$$"
start_own_server "$id"
people="$out/people"
rm -rf "$people" && mkdir -p "$people"
# Every 100th listen each: a person's history spans all the years of the
# file, as a real one does (a slice of it would be a month or two).
tail -n +2 "$(bench_history 1000000)" | split -n r/100 -d -a 2 - "$people/part-"
for part in "$people"/part-*; do
  name="p${part##*-}"
  { head -n 1 "$file"; cat "$part"; } > "$people/$name.csv"
  rm "$part"
  head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' |
    MONGODB_DB="$id" RUST_LOG=warn "$bin/server" accounts add "$name" > /dev/null
done
sleep 3
started=$(now)
importing=()
for csv in "$people"/p*.csv; do
  MONGODB_DB="$id" "$bin/producer" --person "$(basename "$csv" .csv)" --file "$csv" --topic "$id" \
    > "${csv%.csv}.out" &
  importing+=($!)
done
wait "${importing[@]}"
sent_all="$(cat "$people"/*.out | sed -n 's/^sent *\([0-9]*\).*/\1/p' | awk '{ n += $1 } END { print n }')"
wait_for 600 "\$1 == \"spotify_analytics_events_counted_total\" && \$2 == $sent_all" "$metrics/metrics" ||
  die "the 100 people's $sent_all listens were not counted within 10 minutes"
record "100 people × 10,000 listens: producers' start → all counted" "$(since "$started")" s "<= 10"
record "server peak RSS after 100 people" "$(peak_mib)" MiB "<= 150"
# Then every one of them reads: an all-time question keeps their all-time
# figures while they read (worked out of the listens at the first).
for csv in "$people"/p*.csv; do
  token="$(MONGODB_DB="$id" RUST_LOG=warn "$bin/server" accounts token "$(basename "$csv" .csv)")"
  curl -fsS -o /dev/null -H "Authorization: Bearer $token" "$url/api/top-songs?preset=all-time"
done
record "… then all 100 reading their all-time figures: server peak RSS" "$(peak_mib)" MiB "—"
kill "$server"
wait "$server" 2> /dev/null || true

# --- An export uploaded from the page -----------------------------------------
say "the $rows-row history as Spotify's export, uploaded from the page"
export_zip="$out/my_spotify_data-$rows.zip"
[[ -f "$export_zip" ]] || "$bin/generate-sample" --export --from "$file" --out "$export_zip" 2> /dev/null
id="bench_upload_$(date +%s)_$$"
start_own_server "$id" UPLOAD_DIR="$out/uploads-$id"
sleep 3
# Streamed from the file (-T), as a browser sends it.
curl -fsS -X POST -T "$export_zip" -H "$auth" -H "Origin: $url" -H "Content-Type: application/octet-stream" \
  "$url/api/imports?name=my_spotify_data.zip" > /dev/null
uploaded=$(now)
imported_sent() {
  curl -fsS -H "$auth" "$url/api/imports" | python3 -c '
import json, sys
imports = json.load(sys.stdin)
if imports["running"] is None:
    print(sum(f["sent"] for f in imports["history"][0]["files"]))'
}
until sent="$(imported_sent)" && [[ -n "$sent" ]]; do sleep 0.05; done
wait_in_ranges "$sent"
record "$rows-record export uploaded from the page: upload end → every range complete" "$(since "$uploaded")" s "<= 10"
record "server peak RSS after that import ($sent listens)" "$(peak_mib)" MiB "<= 150"
kill "$server"
wait "$server" 2> /dev/null || true
rm -rf "$out/uploads-$id"

# --- 5,000,000 listens (BENCH_5M=1) ------------------------------------------
if [[ "${BENCH_5M:-0}" == 1 ]]; then
  say "streaming 5,000,000 rows"
  id="bench_5m_$(date +%s)_$$"
  start_own_server "$id"
  sleep 3
  ingest "$(bench_history 5000000)"
  record "5,000,000-row file: producer start → every range complete" "$ranges_s" s "<= 60"
  record "server peak RSS after $sent listens" "$(peak_mib)" MiB "<= 400"
  kill "$server"
  wait "$server" 2> /dev/null || true
fi

# --- The dashboard's wasm as it travels ----------------------------------------
if [[ -n "$dashboard_wasm" ]]; then
  record "dashboard wasm, brotli (gzip $dashboard_wasm_gz KiB, raw $dashboard_wasm_raw KiB; other pages load theirs when shown)" \
    "$dashboard_wasm" KiB "<= 250"
else
  warn "no compressed wasm: build with cargo leptos build --release --split --precompress"
fi

echo
printf '%-78s %10s  %-10s %s\n' figure value target met
for result in "${results[@]}"; do
  IFS='|' read -r figure value unit target <<< "$result"
  if [[ "$target" == "—" ]]; then
    printf '%-78s %10s  %-10s %s\n' "$figure" "$value $unit" "—" "—"
    continue
  fi
  met="$(awk -v v="$value" -v t="${target#<= }" 'BEGIN { print (v + 0 <= t + 0) ? "yes" : "no" }')"
  printf '%-78s %10s  %-10s %s\n' "$figure" "$value $unit" "$target $unit" "$met"
done
