#!/usr/bin/env bash
# PostgreSQL stops answering without closing the connections (the server's store
# backends are SIGSTOPped): after [database] query_timeout_ms the server drops the
# connections it sent statements to, connects again and resends what was in
# flight; every report is stored once and acked. Without the timeout it would
# wait forever.
. "$(dirname "$0")/lib.sh"
db_start; server_setup; district_setup
sed -i 's|^\[database\]$|[database]\nquery_timeout_ms = 2000|' "$T/server.ini"
server_start
agent_setup vs xa-van-son
agent_setup ab xa-an-ba
report_for xa-an-ba periodic.json "$T/ab.json"

# The backends that store reports (the loop's own is cchc-server, the
# scheduler's cchc-server-scheduler): [database] store_connections of them.
pids=$(sql "select pid from pg_stat_activity where application_name = 'cchc-server-store'")
[ "$(echo "$pids" | grep -c .)" = 2 ] || fail "the server's store backends: '$pids'"
[ "$(sql "select count(*) from pg_stat_activity where application_name = 'cchc-server'")" = 1 ] \
  || fail "the loop's connection is not named"
[ "$(sql "select count(*) from pg_stat_activity where application_name = 'cchc-server-scheduler'")" = 1 ] \
  || fail "the scheduler's connection is not named"
for pid in $pids; do kill -STOP "$pid"; done
agent vs submit "$FIX/periodic.json" >/dev/null
agent ab submit "$T/ab.json" >/dev/null
agent vs run --drain --timeout 40 >>"$T/agent-vs.log" 2>&1 || fail "vs not drained past a hung backend"
agent ab run --drain --timeout 40 >>"$T/agent-ab.log" 2>&1 || fail "ab not drained past a hung backend"
# One store connection dropped or both: at light load every report goes
# through the first (srv_batch.c), and the other is dropped only if it was
# sent a statement (a unit's metadata document) while hung.
lost=$(grep -c 'event=db_lost db=cchc-server-store .*no answer from PostgreSQL for 2000 ms (query_timeout_ms)' "$T/server.log")
[ "$lost" -ge 1 ] && [ "$lost" -le 2 ] \
  || fail "the hung connection was not dropped ($lost): $(grep db_ "$T/server.log" | tail -3)"
for pid in $pids; do kill -CONT "$pid"; done
[ "$(sql "select count(*) from reports where status = 'accepted'")" = 2 ] \
  || fail "reports: $(sql "select unit_code, status from reports")"
# The continued backends notice their closed sockets and exit: wait for them.
for _ in $(seq 50); do
  n=$(sql "select count(*) from pg_stat_activity where application_name = 'cchc-server-store'")
  [ "$n" = 2 ] && break
  sleep 0.1
done
[ "$n" = 2 ] || fail "no new connections: $n store backends"
kill -0 "$SERVER_PID" || fail "server died"
pass "backends that stop answering are dropped after query_timeout_ms; both reports stored once"

# The stopped backends the server dropped, continued, find their connections
# gone and end (one it never sent a statement to stays, idle); the server's
# new connections keep working.
gone="select count(*) from pg_stat_activity where pid in ($(echo $pids | tr ' ' ,))"
for _ in $(seq 1 50); do
  [ "$(sql "$gone")" = $((2 - lost)) ] && break
  sleep 0.1
done
[ "$(sql "$gone")" = $((2 - lost)) ] || fail "the old backends linger: $(sql "$gone") of 2, $lost dropped"
report_for xa-an-ba periodic.json "$T/ab2.json"
sed -i 's/"revision": 1/"revision": 2/' "$T/ab2.json"
agent ab submit "$T/ab2.json" >/dev/null
agent ab run --drain --timeout 20 >>"$T/agent-ab.log" 2>&1 || fail "ab revision 2 not delivered"
[ "$(sql "select string_agg(revision || ':' || status, ',' order by revision) from reports
          where unit_code = 'xa-an-ba'")" = "1:superseded,2:accepted" ] || fail "after recovery"
pass "after they are continued, the old backends end and the new connections serve on"
