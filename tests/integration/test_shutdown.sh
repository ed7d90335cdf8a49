#!/usr/bin/env bash
# SIGTERM and SIGINT: the server stores and acks what is waiting (none
# abandoned), then exits 0; every report is stored once.
. "$(dirname "$0")/lib.sh"
db_start; server_setup
# Reports wait 1 s for their batch, so that SIGTERM finds one waiting.
sed -i 's|^\[server\]$|[server]\nbatch_max_delay_ms = 1000|' "$T/server.ini"
server_start
agent_setup vs xa-van-son
for i in 1 2 3 4 5; do
  sed "s/\"revision\": 1/\"revision\": $i/" "$FIX/periodic.json" >"$T/r$i.json"
  agent vs submit "$T/r$i.json" >/dev/null
done
agent vs run --drain --timeout 30 >>"$T/agent.log" 2>&1 &
APID=$!; PIDS+=("$APID")
# The agent's first message (its Hello) marks the unit's contact; its first
# report follows at once and waits in the server's batch.
for _ in $(seq 1 100); do
  [ "$(sql "select count(*) from unit_contacts where unit_code = 'xa-van-son' and last_seen is not null")" = 1 ] && break
  sleep 0.05
done
sleep 0.3
[ "$(sql "select count(*) from reports")" = 0 ] || fail "a batch went before SIGTERM: the test proves nothing"
kill -TERM "$SERVER_PID"
set +e; wait "$SERVER_PID"; rc=$?; set -e
[ $rc = 0 ] || fail "server exit code $rc on SIGTERM"
waiting=$(sed -n 's/.*event=draining pending=\([0-9]*\).*/\1/p' "$T/server.log" | tail -1)
[ "${waiting:-0}" -ge 1 ] || fail "no report was waiting at SIGTERM: the test proves nothing"
line=$(grep 'event=shutdown ' "$T/server.log" | tail -1)
echo "$line" | grep -q " drained=$waiting abandoned=0" \
  || fail "SIGTERM with $waiting waiting: expected all drained and none abandoned: $line"
[ "$(sql "select count(*) from reports")" = "$waiting" ] \
  || fail "the $waiting drained reports are not all stored: $(sql "select count(*) from reports")"
pass "SIGTERM with $waiting report(s) waiting: stored and acked before exit 0, none abandoned"

server_start
wait "$APID" || fail "agent did not drain after restart"
[ "$(sql "select count(*) from reports")" = 5 ] || fail "expected 5 rows"
[ "$(sql "select string_agg(revision || ':' || status, ',' order by revision) from reports")" \
  = "1:superseded,2:superseded,3:superseded,4:superseded,5:accepted" ] \
  || fail "revisions: $(sql "select string_agg(revision || ':' || status, ',' order by revision) from reports")"
kill -INT "$SERVER_PID"
set +e; wait "$SERVER_PID"; rc=$?; set -e
[ $rc = 0 ] || fail "server exit code $rc on SIGINT"
grep 'event=shutdown ' "$T/server.log" | tail -1 | grep -q ' abandoned=0' || fail "SIGINT abandoned reports"
pass "SIGINT exits 0; every report stored once, none abandoned"
