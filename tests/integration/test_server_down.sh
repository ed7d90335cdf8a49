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
# While the server is down the agent keeps both reports queued and keeps
# trying: its status says it cannot reach the endpoint and has tried.
down=""
for _ in $(seq 1 60); do
  down=$(agent vs status --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
u = d.get("unreachable") or {}
print("%s %s %s" % (d["queued"], u.get("attempts", 0), u.get("endpoint", "")))')
  set -- $down
  [ "$1" = 2 ] && [ "${2:-0}" -ge 1 ] && [ "${3:-}" = "$ENDPOINT" ] && break
  sleep 0.25
done
set -- $down
[ "$1" = 2 ] && [ "${2:-0}" -ge 1 ] && [ "${3:-}" = "$ENDPOINT" ] \
  || fail "while the server is down, status should show 2 queued and attempts at $ENDPOINT: '$down'"
kill -0 "$APID" || fail "the agent gave up while the server was down"
[ "$(sql "select count(*) from reports")" = 0 ] || fail "reports stored with no server running"
server_start
wait "$APID" || fail "agent did not drain after the server started"
[ "$(sql "select count(*) from reports")" = 2 ] || fail "expected 2 rows"
[ "$(sql "select string_agg(revision::text, ',' order by msg_id) from reports")" = "1,2" ] || fail "order"
pass "queued while down, delivered once after start"
