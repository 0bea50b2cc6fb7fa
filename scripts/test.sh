#!/usr/bin/env bash
# Runs every test: unit tests, integration tests against the real Kafka broker
# and FerretDB, and browser tests in Chromium against the real server.
# Installs and starts what is missing first; safe to run again and again.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"
cd "$ROOT"

"$ROOT/scripts/setup.sh" --tests
use_project_tools
"$ROOT/scripts/stack.sh" up

say "building the release server and site"
cargo leptos build --release --split --precompress

say "unit and integration tests"
# The same LEPTOS_OUTPUT_NAME as cargo-leptos keeps the build artifacts shared.
cargo_log="$ROOT/target/cargo-test.log"
LEPTOS_OUTPUT_NAME=spotify-analytics cargo test --release -p app -p server -- --test-threads=2 2>&1 | tee "$cargo_log"

say "browser tests, against the release build deployed as the README says"
# Only the server binary and the site folder, run from elsewhere with only the
# documented variables: proves the deployment recipe, not just the checkout.
deploy="$(mktemp -d)"
cp "$ROOT/target/release/server" "$ROOT/target/release/hash.txt" "$deploy/"
cp -r "$ROOT/target/site" "$deploy/site"
run_id="e2e_$(date +%s)_$$"
log="$ROOT/target/e2e-server.log"
deployed_env=(LEPTOS_OUTPUT_NAME=spotify-analytics LEPTOS_SITE_ROOT="$deploy/site" LEPTOS_SITE_PKG_DIR=pkg
  LEPTOS_SITE_ADDR=127.0.0.1:0 METRICS_ADDR=127.0.0.1:0 KAFKA_TOPIC="$run_id" KAFKA_GROUP_ID="$run_id" MONGODB_DB="$run_id" RUST_LOG=warn)
[[ -n "${KAFKA_BROKERS:-}" ]] && deployed_env+=(KAFKA_BROKERS="$KAFKA_BROKERS")
[[ -n "${MONGODB_URI:-}" ]] && deployed_env+=(MONGODB_URI="$MONGODB_URI")
(cd "$deploy" && exec env -i "${deployed_env[@]}" ./server) > "$log" 2>&1 &
server_pid=$!
trap 'kill "$server_pid" 2> /dev/null || true; rm -rf "$deploy"' EXIT
for _ in $(seq 1 120); do
  grep -q "^listening on " "$log" && break
  kill -0 "$server_pid" 2> /dev/null || { cat "$log" >&2; die "the server stopped during start-up"; }
  sleep 0.5
done
base_url="$(sed -n 's/^listening on //p' "$log" | head -n 1)"
[[ -n "$base_url" ]] || { cat "$log" >&2; die "the server did not say where it listens"; }
# The person the browser signs in as, in the server's own database.
e2e_password="$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')"
printf '%s\n' "$e2e_password" | MONGODB_DB="$run_id" RUST_LOG=warn "$ROOT/target/release/server" accounts add e2e > /dev/null
printf '%s\n' "$e2e_password" | MONGODB_DB="$run_id" RUST_LOG=warn "$ROOT/target/release/server" accounts add e2e-admin --admin > /dev/null
printf '%s\n' "$e2e_password" | MONGODB_DB="$run_id" RUST_LOG=warn "$ROOT/target/release/server" accounts add e2e-importer > /dev/null

e2e_log="$ROOT/target/e2e-results.log"
(
  cd "$ROOT/end2end"
  BASE_URL="$base_url" PRODUCER_BIN="$ROOT/target/release/producer" KAFKA_TOPIC="$run_id" \
    GENERATE_BIN="$ROOT/target/release/generate-sample" E2E_IMPORTER=e2e-importer \
    SAMPLE_FILE="$ROOT/data/spotify_history.csv" MONGODB_DB="$run_id" E2E_NAME=e2e E2E_PASSWORD="$e2e_password" \
    E2E_ADMIN=e2e-admin E2E_ADMIN_PASSWORD="$e2e_password" npx playwright test
) | tee "$e2e_log"
rust_passed="$(awk '/^test result: ok\./ { sum += $4 } END { print sum + 0 }' "$cargo_log")"
browser_passed="$(sed -n 's/^ *\([0-9]*\) passed.*/\1/p' "$e2e_log" | tail -n 1)"
say "all tests passed ($rust_passed Rust, $browser_passed browser); screenshots in end2end/artifacts/"
echo "total: $((rust_passed + browser_passed)) passed, 0 failed"
