#!/usr/bin/env bash
# The fault-injection suite at full size, against the real broker, FerretDB and
# server processes (server/tests/chaos.rs): each scenario streams a generated
# file of 200,000 listens, injects its fault and compares every song's and
# artist's totals with the file's counts. Prints a table of the results.
#
#   scripts/chaos.sh        sizes: CHAOS_LISTENS (200000), CHAOS_KILLS (20), CHAOS_OUTAGE_SECS (30)
#
# It stops and starts the services of scripts/stack.sh; scripts/test.sh runs a shorter form.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"
cd "$ROOT"

"$ROOT/scripts/setup.sh"
use_project_tools
"$ROOT/scripts/stack.sh" up

mkdir -p "$ROOT/target"
report="$ROOT/target/chaos-report.tsv"
log="$ROOT/target/chaos.log"
: > "$report"
say "fault-injection suite (log: $log)"
set +e
CHAOS_LISTENS="${CHAOS_LISTENS:-200000}" CHAOS_KILLS="${CHAOS_KILLS:-20}" \
  CHAOS_OUTAGE_SECS="${CHAOS_OUTAGE_SECS:-30}" CHAOS_REPORT="$report" \
  LEPTOS_OUTPUT_NAME=spotify-analytics \
  cargo test --release -p server --test chaos -- --test-threads=1 2>&1 | tee "$log"
status="${PIPESTATUS[0]}"
set -e

echo
{
  printf 'scenario\ttrials\tlistens\ttotals\trecovery\n'
  cat "$report"
  sed -n 's/^test \(.*\) \.\.\. FAILED$/\1\t-\t-\tFAILED\tsee the log/p' "$log"
} | column -t -s $'\t' -o ' | '
[[ "$status" == 0 ]] || die "the fault-injection suite failed; see $log"
say "every scenario ended with exact totals"
