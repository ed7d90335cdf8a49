#!/usr/bin/env bash
# submit while the server is down queues the report; it is delivered once the
# server starts, and stored once.
. "$(dirname "$0")/lib.sh"
db_start; server_setup
agent_setup vs xa-van-son
agent vs submit "$FIX/periodic.json" >/dev/null || fail "submit with the server down"
sed 's/"revision": 1/"revision": 2/' "$FIX/periodic.json" >"$T/rev2.json"
agent vs submit "$T/rev2.json" >/dev/null || fail "second submit"
agent vs run --drain --timeout 60 >>"$T/agent.log" 2>&1 &
APID=$!; PIDS+=("$APID")
sleep 2
[ "$(sql "select count(*) from reports")" = 0 ] || fail "stored with no server?"
server_start
wait "$APID" || fail "agent did not drain after the server started"
[ "$(sql "select count(*) from reports")" = 2 ] || fail "expected 2 rows"
[ "$(sql "select string_agg(revision::text, ',' order by msg_id) from reports")" = "1,2" ] || fail "order"
pass "queued while down, delivered once after start"
