#!/usr/bin/env bash
# Fuzzes the readers of untrusted input with their property tests (proptest,
# arbitrary bytes), each for a given time, with fresh random seeds every round:
# the CSV reader (rows and headers), the readers of Spotify's JSON exports and
# the Kafka message decoder must never panic.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]      default 600
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"
cd "$ROOT"

seconds="${1:-600}"
targets=(
  ingest::classic_csv::tests::properties::reading_arbitrary_bytes_never_panics
  ingest::classic_csv::tests::properties::an_arbitrary_header_is_read_or_refused_without_panic
  event::tests::properties::decoding_arbitrary_bytes_never_panics
  ingest::tests::properties::reading_arbitrary_bytes_as_spotify_json_never_panics
  ingest::tests::properties::arbitrary_json_records_are_read_or_rejected_without_panic
)
export LEPTOS_OUTPUT_NAME=spotify-analytics
cargo test --release -p server --lib --no-run > /dev/null 2>&1
for target in "${targets[@]}"; do
  rounds=0
  deadline=$((SECONDS + seconds))
  while ((SECONDS < deadline)); do
    PROPTEST_CASES=20000 cargo test --release -p server --lib -q -- --exact "$target" > /dev/null 2>&1 ||
      die "$target failed; run it without -q to see the input (proptest saves it under server/proptest-regressions/)"
    rounds=$((rounds + 1))
  done
  say "$target: $((rounds * 20000)) inputs in ${seconds} s, no failure"
done
