#!/usr/bin/env bash
# PostgreSQL stops answering without closing the connection (its backend is
# SIGSTOPped): after [database] query_timeout_ms the server drops that
# connection, connects again and resends what was in flight; every report is
# stored once and acked. Without the timeout it would wait forever.
. "$(dirname "$0")/lib.sh"
db_start; server_setup; district_setup
sed -i 's|^\[database\]$|[database]\nquery_timeout_ms = 2000|' "$T/server.ini"
server_start
agent_setup vs xa-van-son
agent_setup ab xa-an-ba
report_for xa-an-ba periodic.json "$T/ab.json"

# The loop's backend (the scheduler's is named cchc-server-scheduler).
pid=$(sql "select pid from pg_stat_activity where application_name = 'cchc-server'")
[ -n "$pid" ] && [ "$(echo "$pid" | wc -l)" = 1 ] || fail "the server's backend: '$pid'"
[ "$(sql "select count(*) from pg_stat_activity where application_name = 'cchc-server-scheduler'")" = 1 ] \
  || fail "the scheduler's connection is not named"
kill -STOP "$pid"
agent vs submit "$FIX/periodic.json" >/dev/null
agent ab submit "$T/ab.json" >/dev/null
agent vs run --drain --timeout 40 >>"$T/agent-vs.log" 2>&1 || fail "vs not drained past a hung backend"
agent ab run --drain --timeout 40 >>"$T/agent-ab.log" 2>&1 || fail "ab not drained past a hung backend"
grep -q 'event=db_lost .*no answer from PostgreSQL for 2000 ms (query_timeout_ms)' "$T/server.log" \
  || fail "the hung connection was not dropped: $(grep db_ "$T/server.log" | tail -3)"
kill -CONT "$pid"
[ "$(sql "select count(*) from reports where status = 'accepted'")" = 2 ] \
  || fail "reports: $(sql "select unit_code, status from reports")"
[ "$(sql "select count(*) from pg_stat_activity where application_name = 'cchc-server'")" -ge 1 ] \
  || fail "no new connection"
kill -0 "$SERVER_PID" || fail "server died"
pass "a backend that stops answering is dropped after query_timeout_ms; both reports stored once"

# The stopped backend, continued, finds its connection gone and ends; the
# server's new connection keeps working.
for _ in $(seq 1 50); do
  [ "$(sql "select count(*) from pg_stat_activity where pid = $pid")" = 0 ] && break
  sleep 0.1
done
[ "$(sql "select count(*) from pg_stat_activity where pid = $pid")" = 0 ] || fail "the old backend lingers"
report_for xa-an-ba periodic.json "$T/ab2.json"
sed -i 's/"revision": 1/"revision": 2/' "$T/ab2.json"
agent ab submit "$T/ab2.json" >/dev/null
agent ab run --drain --timeout 20 >>"$T/agent-ab.log" 2>&1 || fail "ab revision 2 not delivered"
[ "$(sql "select string_agg(revision || ':' || status, ',' order by revision) from reports
          where unit_code = 'xa-an-ba'")" = "1:superseded,2:accepted" ] || fail "after recovery"
pass "after it is continued, the old backend ends and the new connection serves on"
