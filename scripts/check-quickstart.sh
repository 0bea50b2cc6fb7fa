#!/usr/bin/env bash
# Proves the README's first command as a new user meets it: runs
# ./scripts/run.sh exactly as written, waits until the dashboard counts every
# listen the producer sent, checks that the server-rendered page shows that
# figure, stops run.sh with SIGTERM (as a service manager or `timeout` would:
# the signal reaches run.sh alone) and checks that the server and the producer
# are gone, the port is free and the services run.sh started are stopped.
#
# Needs a stack without listens in the default topic and database, as on a
# fresh clone (.ci/run runs it after the tests, which use topics of their own).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"
cd "$ROOT"

url="http://127.0.0.1:3000"
out="$ROOT/target/quickstart.log"
server_log="$ROOT/target/server.log"
server_bin="$ROOT/target/release/server"
producer_bin="$ROOT/target/release/producer"

port_open() { (exec 3<> /dev/tcp/127.0.0.1/3000) 2> /dev/null; }
# Pids of running processes of an executable.
pids_of() {
  local proc
  for proc in /proc/[0-9]*; do
    [[ "$(readlink "$proc/exe" 2> /dev/null)" == "$1" ]] && echo "${proc#/proc/}"
  done
  return 0
}

run_pid=""
fail() {
  {
    echo "--- run.sh's output, last 40 lines ($out)"
    tail -n 40 "$out" 2> /dev/null
    echo "--- the server's log, last 40 lines ($server_log)"
    tail -n 40 "$server_log" 2> /dev/null
  } >&2
  [[ -n "$run_pid" ]] && kill -TERM "$run_pid" 2> /dev/null
  die "quick start: $*"
}

port_open && die "port 3000 is taken before the check; stop what listens there"
# The tests built the producer; a fresh machine has none, so run.sh must build it.
rm -f "$producer_bin"
services_before="$("$ROOT/scripts/stack.sh" running | xargs)"

say "quick start: ./scripts/run.sh (output in $out)"
mkdir -p "$ROOT/target"
began=$SECONDS
./scripts/run.sh > "$out" 2>&1 &
run_pid=$!

until grep -q "dashboard: " "$out"; do
  kill -0 "$run_pid" 2> /dev/null || fail "run.sh exited before the dashboard was up"
  ((SECONDS - began < 2400)) || fail "the dashboard was not up within 40 minutes"
  sleep 1
done
say "dashboard up after $(duration $((SECONDS - began)))"
grep -q "listens already counted" "$out" &&
  fail "the default database already holds listens, so the sample was not streamed; run this on a fresh clone or after scripts/stack.sh reset"

began=$SECONDS
until grep -q "^sent " "$out"; do
  kill -0 "$run_pid" 2> /dev/null || fail "run.sh exited while the sample was streaming"
  ((SECONDS - began < 180)) || fail "the producer did not finish the sample within 3 minutes"
  sleep 1
done
sent="$(sed -n 's/^sent *\([0-9]*\) listens.*/\1/p' "$out" | head -n 1)"
[[ "$sent" =~ ^[1-9][0-9]*$ ]] || fail "the producer's summary has no count of listens sent"

# The sign-in link run.sh printed, used as a person would: it signs in once.
link="$(sed -n 's/.*sign in as demo, once, with: \(http[^ ]*\).*/\1/p' "$out" | head -n 1)"
[[ -n "$link" ]] || fail "run.sh printed no sign-in link"
cookies="$(umask 077 && mktemp)"
trap 'rm -f "$cookies"' EXIT
[[ "$(curl -sS -o /dev/null -w '%{http_code}' "$url/api/summary")" == 401 ]] ||
  fail "/api/summary answers without signing in"
curl -fsS -o /dev/null -c "$cookies" "$link" || fail "the sign-in link does not work"
[[ "$(curl -sS -o /dev/null -w '%{redirect_url}' "$link")" == */sign-in\?link-used ]] ||
  fail "the sign-in link works twice"

events=""
for _ in $(seq 1 60); do
  events="$(curl -fsS -b "$cookies" "$url/api/summary" 2> /dev/null | sed -n 's/.*"events":\([0-9]*\).*/\1/p')" || true
  [[ "$events" == "$sent" ]] && break
  sleep 1
done
[[ "$events" == "$sent" ]] || fail "/api/summary counts ${events:-nothing} listens, the producer sent $sent"
say "the dashboard counts the $sent listens the producer sent"

page="$(mktemp)"
status="$(curl -sS -b "$cookies" -o "$page" -w '%{http_code}' "$url/")" || fail "GET / did not answer"
[[ "$status" == 200 ]] || fail "GET / answered $status"
figure="$(echo "$sent" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta')"
grep -qE "(^|[^0-9,])$figure([^0-9,]|\$)" "$page" || fail "the server-rendered page does not show $figure listens"
rm -f "$page"
say "the printed link signs in once; GET / answers 200 with $figure listens in its HTML"

server_pids="$(pids_of "$server_bin")"
[[ -n "$server_pids" ]] || fail "no server process found"
kill -TERM "$run_pid"
began=$SECONDS
while kill -0 "$run_pid" 2> /dev/null; do
  ((SECONDS - began < 60)) || fail "run.sh did not stop within 60 s of SIGTERM"
  sleep 0.2
done
run_status=0
wait "$run_pid" || run_status=$?
run_pid=""
stopped_after=$((SECONDS - began))
((run_status == 143)) || fail "run.sh ended with status $run_status after SIGTERM, not 143"
for pid in $server_pids; do
  kill -0 "$pid" 2> /dev/null && fail "the server (pid $pid) still runs after run.sh stopped"
done
[[ -z "$(pids_of "$producer_bin")" ]] || fail "a producer still runs after run.sh stopped"
port_open && fail "port 3000 is still taken after run.sh stopped"
services_after="$("$ROOT/scripts/stack.sh" running | xargs)"
[[ "$services_after" == "$services_before" ]] ||
  fail "services running before: '$services_before', after: '$services_after'"
say "SIGTERM stopped run.sh in $(duration "$stopped_after"): server gone, port free, services as before ('$services_before')"
