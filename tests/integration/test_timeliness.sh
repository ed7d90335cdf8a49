#!/usr/bin/env bash
# The sealed-time basis (DOMAIN.md section 3). CCHC_DK 2024Q3 is due Tue
# 17/09/2024. A mountain commune's link is down on the due day: the officer
# seals (submits) the report on Mon 16/09 and the server receives it Thu
# 19/09. With CCHC_DK set to timeliness_basis=sealed and the agent's clock
# agreeing with the server's at delivery, the expectation is on_time, basis
# sealed; with the agent's clock 1 hour off (max_clock_skew_ms 5 minutes) it
# is late, basis received; under the 'received' basis it is late, basis
# received. Expectations come from one `cchc-server --tick-at`.
. "$(dirname "$0")/lib.sh"
db_start; server_setup; district_setup
cat >>"$T/server.ini" <<INI
[scheduler]
max_clock_skew_ms = 300000
INI

SEALED=2024-09-16T10:00:00+07:00      # due - 1
RECEIVED=2024-09-19T10:00:00+07:00    # due + 2, the server's clock
OFF=2024-09-19T11:00:00+07:00         # due + 2, an agent clock 1 h ahead

"$CCHC_BIN/cchc-server" -c "$T/server.ini" --tick-at 2024-09-11T08:00:00+07:00 >>"$T/ticks.log" \
  || fail "tick"
[ "$(sql "select count(*) from expectations where type_code = 'CCHC_DK' and period = '2024Q3'
          and due = '2024-09-17' and status = 'expected'")" -gt 3 ] || fail "no 2024Q3 expectations"

# The 2024Q3 report of UNIT, dated on the sealing day.
q3_for() {
  report_for "$1" periodic.json "$T/q3-$1.json"
  python3 - "$T/q3-$1.json" <<'PY'
import json, sys
p = sys.argv[1]; r = json.load(open(p))
r["period"] = "2024Q3"; r["document"]["date"] = "2024-09-16"
r["overdue_dossiers"] = []
for d in r["dossiers"]:
    d["resolved_late"] = 0; d["pending_overdue"] = 0
    d["resolved_early"] = d["carried_over"] + d["new_online"] + d["new_direct_postal"] \
        - d["resolved_on_time"] - d["pending_in_time"]
json.dump(r, open(p, "w"), ensure_ascii=False)
PY
}
# judged UNIT: "status basis" of its 2024Q3 expectation, and the sealed date
# when that is the basis.
judged() {
  sql "select e.status || ' ' || e.basis || ' ' || cchc_ymd(cchc_vn_date(e.met_at))
       from expectations e join reports r on r.id = e.report_id
       where e.type_code = 'CCHC_DK' and e.period = '2024Q3' and e.unit_code = '$1'"
}

CCHC_CLOCK=$RECEIVED server_start
for u in xa-van-son xa-huu-san xa-dai-son; do
  agent_setup "$u" "$u"
  CCHC_CLOCK=$SEALED agent_sync "$u"
  q3_for "$u"
  CCHC_CLOCK=$SEALED agent "$u" submit "$T/q3-$u.json" >>"$T/agent-$u.log" 2>&1 \
    || fail "submit of $u on the sealing day"
done
[ "$(sql "select count(*) from reports")" = 0 ] || fail "a report went out while sealing"

# Under the 'received' basis: late, whatever the agent's clock.
CCHC_CLOCK=$RECEIVED agent xa-dai-son run --drain --timeout 30 >>"$T/agent-xa-dai-son.log" 2>&1 \
  || fail "xa-dai-son did not drain"
[ "$(judged xa-dai-son)" = "late received 2024-09-19" ] \
  || fail "received type: '$(judged xa-dai-son)', want late received"
pass "type with basis received: sealed 16/09, received 19/09: late, basis received"

sed 's/^\(CCHC_DK,.*\),received,\("[^"]*"\)$/\1,sealed,\2/' \
  "$CCHC_SRC/deploy/data/report-types.csv" >"$T/report-types.csv"
grep -q '^CCHC_DK,.*,sealed,' "$T/report-types.csv" || fail "CCHC_DK not made sealed"
"$CCHC_BIN/cchc" type import "$T/report-types.csv" >/dev/null
[ "$(sql "select timeliness_basis from report_types where code = 'CCHC_DK'")" = sealed ] \
  || fail "type import did not set sealed"

CCHC_CLOCK=$RECEIVED agent xa-van-son run --drain --timeout 30 >>"$T/agent-xa-van-son.log" 2>&1 \
  || fail "xa-van-son did not drain"
[ "$(judged xa-van-son)" = "on_time sealed 2024-09-16" ] \
  || fail "sealed, clocks agree: '$(judged xa-van-son)', want on_time sealed 2024-09-16"
[ "$(sql "select clock_skew_ms || ' ' || cchc_ymd(cchc_vn_date(clock_checked_at)) from unit_contacts
          where unit_code = 'xa-van-son'")" = "0 2024-09-19" ] || fail "skew of xa-van-son"
RID=$(sql "select report_id from expectations where type_code = 'CCHC_DK' and period = '2024Q3'
           and unit_code = 'xa-van-son'")
[ "$(sql "select facts->>'status' from notifications where dedup_key = 'report.accepted:$RID'")" \
  = on_time ] || fail "report.accepted of xa-van-son not on time"
pass "basis sealed, clocks agree: sealed 16/09, received 19/09: on_time, basis sealed"

CCHC_CLOCK=$OFF agent xa-huu-san run --drain --timeout 30 >>"$T/agent-xa-huu-san.log" 2>&1 \
  || fail "xa-huu-san did not drain"
[ "$(judged xa-huu-san)" = "late received 2024-09-19" ] \
  || fail "sealed, clock 1 h off: '$(judged xa-huu-san)', want late received"
skew=$(sql "select clock_skew_ms from unit_contacts where unit_code = 'xa-huu-san'")
[ "$skew" = 3600000 ] || fail "skew of xa-huu-san: '$skew', want 3600000"
pass "basis sealed, agent clock 1 h off (bound 5 min): late, basis received"

kill -TERM "$SERVER_PID"; wait "$SERVER_PID" || fail "server exit on SIGTERM"

# A store never waits for a unit_contacts row that another transaction holds
# (the notification acks hold theirs to their commit; 033): it writes the
# skews of the units whose rows are free and leaves the held one as it was.
# Before 033 this call waited for the holder's commit (statement_timeout).
held_before=$(sql "select clock_skew_ms from unit_contacts where unit_code = 'xa-huu-san'")
[ "$(sql "select count(*) from unit_contacts where unit_code in ('xa-huu-san', 'xa-van-son')")" = 2 ] \
  || fail "the two units' contact rows are missing: the test proves nothing"
PGAPPNAME=cchc-test-holder psql -X -q -v ON_ERROR_STOP=1 >"$T/holder.log" 2>&1 <<'SQL' &
BEGIN;
SELECT 1 FROM unit_contacts WHERE unit_code = 'xa-huu-san' FOR UPDATE;
SELECT pg_sleep(30);
COMMIT;
SQL
HOLDER=$!
for _ in $(seq 1 100); do
  [ "$(sql "select count(*) from pg_stat_activity where application_name = 'cchc-test-holder'
            and query like '%pg_sleep%' and state = 'active'")" = 1 ] && break
  sleep 0.1
done
[ "$(sql "select count(*) from pg_stat_activity where application_name = 'cchc-test-holder'
          and query like '%pg_sleep%'")" = 1 ] || fail "the holder never held the row"
rep='{"epoch":91,"type":"NV_KH","kind":"task_progress","period":"","revision":1,
  "subject":"KH87-07","sent_at":1900000000000,"sealed_at":0,"payload":"CgVOVl9LSA==",
  "body":{"task":"KH87-07","status":"in_progress","percent":5},"status":"accepted",
  "findings":[],"received_at":1900000000000,"sealed_trusted_at":1900000000000}'
t0=$(date +%s%N)
got=$(PGOPTIONS='-c statement_timeout=10s' sql "select count(*) from cchc_store_batch(jsonb_build_array(
        '$rep'::jsonb || '{\"ord\":0,\"unit\":\"xa-van-son\",\"msg_id\":1,\"skew\":111}',
        '$rep'::jsonb || '{\"ord\":1,\"unit\":\"xa-huu-san\",\"msg_id\":1,\"skew\":222}'))") \
  || fail "the store did not return while another transaction held a unit_contacts row"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
sql "select pg_terminate_backend(pid) from pg_stat_activity
     where application_name = 'cchc-test-holder'" >/dev/null
wait "$HOLDER" 2>/dev/null || true # (its session ended by pg_terminate_backend)
[ "$got" = 2 ] || fail "the store answered $got reports, want 2"
[ "$(sql "select clock_skew_ms from unit_contacts where unit_code = 'xa-van-son'")" = 111 ] \
  || fail "the free row's skew was not written"
[ "$(sql "select clock_skew_ms from unit_contacts where unit_code = 'xa-huu-san'")" = "$held_before" ] \
  || fail "the held row's skew changed"
[ "$ms" -lt 5000 ] || fail "the store took $ms ms with a unit_contacts row held elsewhere"
pass "a store beside a held unit_contacts row: returned in $ms ms, the free unit's skew written, the held one's left"

# The usual batch (037: every key new and alone, nothing refused) meets its
# expectations and writes its receipts by a statement of its own, and goes the
# way of the others when an expectation it meets is overdue. Called directly,
# with the server stopped (no tick between), on NV_KH task keys of xa-an-ba:
# due 10/01/2030, no grace. KH87-01 received 09/01 (on time); KH87-02
# received 11/01 (late, still 'expected': no tick marked it); then, with
# NV_KH judged on the sealing, KH87-03 sealed 09/01 and received 11/01 (on
# time, basis sealed); then KH87-04 received 11/01 when already 'overdue'
# (late, and report.resolved to the unit and Home Affairs).
ms() { echo $(( $(date -d "$1" +%s) * 1000 )); }
ON=$(ms 2030-01-09T10:00:00+07:00); LATE=$(ms 2030-01-11T10:00:00+07:00)
sql "insert into expectations (type_code, unit_code, period, subject, due, grace_days, status)
     select 'NV_KH', 'xa-an-ba', '', s, '2030-01-10', 0, st
     from (values ('KH87-01', 'expected'), ('KH87-02', 'expected'), ('KH87-03', 'expected'),
                  ('KH87-04', 'overdue')) v(s, st)
     on conflict (type_code, unit_code, period, subject) do update
       set due = excluded.due, grace_days = 0, status = excluded.status, report_id = null,
           met_at = null, basis = null"
[ "$(sql "select count(*) from reports where unit_code = 'xa-an-ba' and report_type = 'NV_KH'")" = 0 ] \
  || fail "xa-an-ba has NV_KH reports: its keys are not new, the test proves nothing"
task() { # TASK MSG_ID RECEIVED SEALED (0: not sealed): one staged report of xa-an-ba
  local trusted=$4
  [ "$4" = 0 ] && trusted=null # (the server's clock did not vouch for a sealing)
  echo "{\"ord\":0,\"unit\":\"xa-an-ba\",\"epoch\":92,\"msg_id\":$2,\"type\":\"NV_KH\",
    \"kind\":\"task_progress\",\"period\":\"\",\"revision\":1,\"subject\":\"$1\",\"sent_at\":$3,
    \"sealed_at\":$4,\"payload\":\"CgVOVl9LSA==\",\"body\":{\"task\":\"$1\",\"status\":\"in_progress\",
    \"percent\":5},\"status\":\"accepted\",\"findings\":[],\"received_at\":$3,
    \"sealed_trusted_at\":$trusted}"
}
store() { # the staged reports, each its ord in turn
  local arr="" i=0 r
  for r in "$@"; do
    arr="$arr${arr:+, }'$r'::jsonb || '{\"ord\":$i}'"
    i=$((i + 1))
  done
  sql "select string_agg(status, ',' order by ord) from cchc_store_batch(jsonb_build_array($arr))"
}
exp_of() {
  sql "select e.status || ' ' || e.basis || ' ' || to_char(e.met_at at time zone 'UTC', 'YYYY-MM-DD HH24')
              || ' ' || (e.report_id = r.id)
       from expectations e join reports r on r.unit_code = e.unit_code and r.subject = e.subject
         and r.report_type = e.type_code
       where e.type_code = 'NV_KH' and e.unit_code = 'xa-an-ba' and e.subject = '$1'"
}
receipt_of() {
  sql "select n.facts->>'status' || ' ' || (n.facts->>'on_time') || ' ' || (n.facts->>'due')
       from notifications n join reports r on n.dedup_key = 'report.accepted:' || r.id
       where r.unit_code = 'xa-an-ba' and r.subject = '$1'"
}
[ "$(store "$(task KH87-01 1 "$ON" 0)" "$(task KH87-02 2 "$LATE" 0)")" = accepted,accepted ] \
  || fail "the usual batch was not stored"
[ "$(exp_of KH87-01)" = "on_time received 2030-01-09 03 true" ] || fail "KH87-01: $(exp_of KH87-01)"
[ "$(receipt_of KH87-01)" = "on_time true 2030-01-10" ] || fail "KH87-01 receipt: $(receipt_of KH87-01)"
[ "$(exp_of KH87-02)" = "late received 2030-01-11 03 true" ] || fail "KH87-02: $(exp_of KH87-02)"
[ "$(receipt_of KH87-02)" = "late false 2030-01-10" ] || fail "KH87-02 receipt: $(receipt_of KH87-02)"
sql "update report_types set timeliness_basis = 'sealed' where code = 'NV_KH'"
[ "$(store "$(task KH87-03 3 "$LATE" "$ON")")" = accepted ] || fail "KH87-03 not stored"
[ "$(exp_of KH87-03)" = "on_time sealed 2030-01-09 03 true" ] || fail "KH87-03: $(exp_of KH87-03)"
[ "$(receipt_of KH87-03)" = "on_time true 2030-01-10" ] || fail "KH87-03 receipt: $(receipt_of KH87-03)"
[ "$(store "$(task KH87-04 4 "$LATE" 0)")" = accepted ] || fail "KH87-04 not stored"
[ "$(exp_of KH87-04)" = "late received 2030-01-11 03 true" ] || fail "KH87-04: $(exp_of KH87-04)"
[ "$(receipt_of KH87-04)" = "late false 2030-01-10" ] || fail "KH87-04 receipt: $(receipt_of KH87-04)"
[ "$(sql "select string_agg(n.unit_code, ' ' order by n.seq) from notifications n
          join expectations e on n.dedup_key like 'report.resolved:' || e.id || ':%'
          where e.unit_code = 'xa-an-ba' and e.subject = 'KH87-04'")" = "xa-an-ba @home_affairs" ] \
  || fail "no report.resolved for the overdue KH87-04"
pass "the usual batch: on time, late while still expected, on time by its sealing; an overdue one met: report.resolved x2"
