# Helpers shared by the project's scripts; sourced, not run.

# Where installed tools live: outside the checkout, so fresh clones reuse them.
TOOLS_DIR="${SPOTIFY_ANALYTICS_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/spotify-analytics}"
mkdir -p "$TOOLS_DIR"

say() { printf '\033[1;32m==>\033[0m %s\n' "$*"; }
warn() { printf '\033[1;33mwarning:\033[0m %s\n' "$*" >&2; }
die() {
  printf '\033[1;31merror:\033[0m %s\n' "$*" >&2
  exit 1
}

# Seconds as "12 min 5 s" or "40 s".
duration() {
  if (($1 >= 60)); then printf '%d min %d s' $(($1 / 60)) $(($1 % 60)); else printf '%d s' "$1"; fi
}

# need COMMAND HINT: stops with HINT when COMMAND is not installed.
need() { command -v "$1" > /dev/null 2>&1 || die "$1 is not installed: $2"; }

# Puts cargo's tools and the pinned wasm-opt first on PATH.
use_project_tools() {
  export PATH="$TOOLS_DIR/binaryen/node_modules/.bin:$HOME/.cargo/bin:$PATH"
}

# Measurement scripts: generated history of ROWS rows, cached in target/bench/; prints its path.
bench_history() {
  local rows="$1" file="$ROOT/target/bench/history-$1.csv"
  if [[ ! -f "$file" ]]; then
    mkdir -p "$(dirname "$file")"
    say "generating $rows rows" >&2
    "$ROOT/target/release/generate-sample" --rows "$rows" --seed 99 --out "$file"
  fi
  echo "$file"
}

# Measurement scripts: starts the release server on its own topic, group and
# database named ID (with any VAR=value given after it), killed when the script
# exits; sets `server` (its pid), `url`, `metrics` (the monitoring address) and
# `auth` (an Authorization header of a person made for the run).
start_own_server() {
  launch_own_server "$@"
  head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' |
    MONGODB_DB="$1" RUST_LOG=warn "$ROOT/target/release/server" accounts add bench > /dev/null
  auth="Authorization: Bearer $(MONGODB_DB="$1" RUST_LOG=warn "$ROOT/target/release/server" accounts token bench)"
}

# Starts the server of start_own_server again, on what it stored; keeps $auth.
restart_own_server() { launch_own_server "$@"; }

launch_own_server() {
  local id="$1" log="$ROOT/target/bench/server-$1.log"
  shift
  mkdir -p "$ROOT/target/bench"
  env LEPTOS_OUTPUT_NAME=spotify-analytics LEPTOS_SITE_ROOT="$ROOT/target/site" LEPTOS_SITE_ADDR=127.0.0.1:0 METRICS_ADDR=127.0.0.1:0 \
    KAFKA_TOPIC="$id" KAFKA_GROUP_ID="$id" MONGODB_DB="$id" RUST_LOG=warn "$@" \
    "$ROOT/target/release/server" > "$log" 2>&1 &
  server=$!
  trap "kill $server 2> /dev/null || true" EXIT
  for _ in $(seq 1 1200); do
    grep -q "^listening on " "$log" && break
    sleep 0.05
  done
  url="$(sed -n 's/^listening on //p' "$log" | head -n 1)"
  metrics="$(sed -n 's/^metrics on //p' "$log" | head -n 1)"
  [[ -n "$url" ]] || die "the server did not start; see $log"
}

counted_events() { curl -fsS -H "$auth" "$url/api/summary" | sed -n 's/.*"events":\([0-9]*\).*/\1/p'; }


# Measurement scripts: the hey HTTP load generator, installed with Go on first use; prints its path.
hey_bin() {
  local hey="$TOOLS_DIR/go-bin/hey"
  if [[ ! -x "$hey" ]]; then
    need go "install Go (https://go.dev/dl/)"
    say "installing hey (HTTP load generator)" >&2
    GOBIN="$TOOLS_DIR/go-bin" go install github.com/rakyll/hey@v0.1.4 >&2
  fi
  echo "$hey"
}

# Summarises a hey report: requests, failed (not 200 or no answer), p50, p99.
hey_figures() {
  local out="$1" total ok errors
  total="$(awk '/\[[0-9]+\][[:space:]]+[0-9]+ responses/ { n += $2 } END { print n + 0 }' "$out")"
  ok="$(awk '/\[200\][[:space:]]+[0-9]+ responses/ { print $2 }' "$out")"
  errors="$(awk '/Error distribution/ { e = 1; next } e && /^ *\[[0-9]+\]/ { gsub(/[][]/, "", $1); n += $1 } END { print n + 0 }' "$out")"
  printf '%9s %7s %9s %9s' "$total" "$((total - ${ok:-0} + errors))" \
    "$(awk '/50% in/ { printf "%.1f ms", $3 * 1000 }' "$out")" \
    "$(awk '/99% in/ { printf "%.1f ms", $3 * 1000 }' "$out")"
}
