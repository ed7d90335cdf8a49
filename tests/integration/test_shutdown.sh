#!/usr/bin/env bash
# SIGTERM and SIGINT: the server finishes what is in flight and exits 0.
. "$(dirname "$0")/lib.sh"
db_start; server_setup; server_start
agent_setup vs xa-van-son
for i in 1 2 3 4 5; do agent vs submit "$FIX/periodic.json" >/dev/null; done
agent vs run --drain --timeout 30 >>"$T/agent.log" 2>&1 &
APID=$!; PIDS+=("$APID")
for _ in $(seq 1 100); do
  [ "$(sql "select count(*) from reports")" -ge 1 ] && break; sleep 0.05
done
kill -TERM "$SERVER_PID"
set +e; wait "$SERVER_PID"; rc=$?; set -e
[ $rc = 0 ] || fail "server exit code $rc on SIGTERM"
grep -q 'event=shutdown' "$T/server.log" || fail "no shutdown log line"
server_start
wait "$APID" || fail "agent did not drain after restart"
[ "$(sql "select count(*) from reports")" = 5 ] || fail "expected 5 rows"
kill -INT "$SERVER_PID"
set +e; wait "$SERVER_PID"; rc=$?; set -e
[ $rc = 0 ] || fail "server exit code $rc on SIGINT"
pass "SIGTERM/SIGINT exit 0; every report stored once"
