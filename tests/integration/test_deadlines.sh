#!/usr/bin/env bash
# Deadlines and reminders, the 2024 story of DOMAIN.md: CCHC_DK 2024Q3
# (cut-off 15/06-14/09) is due Tue 17/09/2024, 2 working days after Sat 14/09.
# A commune that has not reported is reminded Thu 12/09 and Mon 16/09 08:00
# (3 and 1 working days before), on the day at 07:30, and told it is overdue
# Wed 18/09 08:00; Home Affairs gets one digest that day; leadership is told
# Mon 23/09, after 3 full working days overdue (18, 19, 20/09). xa-van-son
# reports on 19/09: late, accepted as late, resolved. Ticks run through
# `cchc-server --tick-at`; repeating one inserts nothing.
. "$(dirname "$0")/lib.sh"
db_start; server_setup; district_setup

tick() {
  local out
  out=$("$CCHC_BIN/cchc-server" -c "$T/server.ini" --tick-at "$1") || fail "tick $1 failed"
  echo "$out" >>"$T/ticks.log"
  echo "$out" | sed -n 's/.* inserted=\([0-9]*\) .*/\1/p'
}
n_key() { sql "select count(*) from notifications where dedup_key = '$1'"; }
U=xa-an-lac

tick 2024-09-11T08:00:00+07:00 >/dev/null
exp=$(sql "select id || ' ' || due from expectations
           where type_code = 'CCHC_DK' and period = '2024Q3' and unit_code = '$U'")
EID=${exp%% *}
[ "${exp#* }" = 2024-09-17 ] || fail "2024Q3 expectation of $U: '$exp', want due 2024-09-17"
total=$(sql "select count(*) from expectations where type_code = 'CCHC_DK' and period = '2024Q3'")
[ "$total" = 30 ] || fail "2024Q3 expectations: $total, want 30 (13 offices, 2 towns, 15 communes)"
[ "$(sql "select count(*) from periods where type_code = 'CCHC_DK' and period = '2024Q3'
          and cutoff_start = '2024-06-15' and cutoff_end = '2024-09-14' and due = '2024-09-17'")" = 1 ] \
  || fail "periods row of 2024Q3"
pass "2024Q3 due 2024-09-17, 30 expectations"

tick 2024-09-12T07:59:00+07:00 >/dev/null
[ "$(n_key "deadline.approaching:$EID:3")" = 0 ] || fail "approaching fired before 08:00"
tick 2024-09-12T08:00:00+07:00 >/dev/null
tick 2024-09-13T08:00:00+07:00 >/dev/null
tick 2024-09-14T08:00:00+07:00 >/dev/null   # Saturday: nothing fires
tick 2024-09-16T08:00:00+07:00 >/dev/null
[ "$(sql "select string_agg(dedup_key || '@' || (facts->>'due'), ' ' order by seq) from notifications
          where kind = 'deadline.approaching' and unit_code = '$U'
            and facts->>'period' = '2024Q3'")" = \
  "deadline.approaching:$EID:3@2024-09-17 deadline.approaching:$EID:1@2024-09-17" ] \
  || fail "approaching of $U: $(sql "select string_agg(dedup_key, ' ') from notifications where unit_code = '$U'")"
[ "$(sql "select count(*) from notifications where kind = 'deadline.approaching'
          and facts->>'period' = '2024Q3'")" = 60 ] || fail "approaching: 2 x 30 rows expected"
pass "deadline.approaching on 12/09 and 16/09 08:00 (2 rows for $U, 60 in all)"

tick 2024-09-17T07:30:00+07:00 >/dev/null
[ "$(n_key "deadline.today:$EID")" = 1 ] || fail "deadline.today on 17/09 07:30"
[ "$(sql "select count(*) from notifications where kind = 'report.overdue'
          and facts->>'period' = '2024Q3'")" = 0 ] || fail "overdue before 18/09"
tick 2024-09-17T08:00:00+07:00 >/dev/null
tick 2024-09-18T07:30:00+07:00 >/dev/null
[ "$(n_key "report.overdue:$EID:2024-09-18")" = 0 ] || fail "overdue before 08:00"
[ "$(sql "select status from expectations where id = $EID")" = overdue ] || fail "not marked overdue"
n=$(tick 2024-09-18T08:00:00+07:00)
[ "$(n_key "report.overdue:$EID:2024-09-18")" = 1 ] || fail "report.overdue on 18/09 08:00"
[ "$(sql "select created_at = '2024-09-18T08:00:00+07:00' from notifications
          where dedup_key = 'report.overdue:$EID:2024-09-18'")" = t ] \
  || fail "created_at is not the tick's instant: $(sql "select created_at from notifications where dedup_key = 'report.overdue:$EID:2024-09-18'")"
[ "$(sql "select count(*) from notifications where kind = 'digest.overdue'
          and facts->>'period' = '2024Q3'")" = 1 ] || fail "one digest to Home Affairs on 18/09"
dig=$(sql "select unit_code || '|' || dedup_key || '|' || text_vi from notifications
           where kind = 'digest.overdue' and facts->>'period' = '2024Q3'")
echo "$dig"
case "$dig" in
  "@home_affairs|digest.overdue:CCHC_DK:2024Q3:2024-09-18|30/30 đơn vị chưa báo cáo"*"Xã An Lạc"*) ;;
  *) fail "digest: $dig" ;;
esac
[ "$(tick 2024-09-18T08:00:00+07:00)" = 0 ] || fail "a repeated tick inserted rows"
[ "$(tick 2024-09-18T08:05:00+07:00)" = 0 ] || fail "a later tick the same day inserted rows"
pass "deadline.today 17/09 07:30, report.overdue + one digest 18/09 08:00 ($n rows); repeats insert 0"

# xa-van-son reports on 19/09 10:00 through the server, whose clock says so.
report_for xa-van-son periodic.json "$T/q3.json"
python3 - "$T/q3.json" <<'PY'
import json, sys
p = sys.argv[1]; r = json.load(open(p))
r["period"] = "2024Q3"; r["document"]["date"] = "2024-09-19"
r["overdue_dossiers"] = []
for d in r["dossiers"]:
    d["resolved_late"] = 0; d["pending_overdue"] = 0
    d["resolved_early"] = d["carried_over"] + d["new_online"] + d["new_direct_postal"] \
        - d["resolved_on_time"] - d["pending_in_time"]
json.dump(r, open(p, "w"), ensure_ascii=False)
PY
CCHC_CLOCK=2024-09-19T10:00:00+07:00 server_start
agent_setup vs xa-van-son
out=$(tclient --endpoint "$ENDPOINT" --server-key "$T/server.pub" --key "$T/vs/agent" \
  --report "$T/q3.json" --epoch 9 --msg-id 1)
echo "$out"
echo "$out" | grep -q '^ACK msg_id=1 ' || fail "Q3 report not accepted: $out"
VS=$(sql "select id from expectations where type_code = 'CCHC_DK' and period = '2024Q3'
          and unit_code = 'xa-van-son'")
RID=$(sql "select id from reports where unit_code = 'xa-van-son' and period = '2024Q3'")
[ "$(sql "select status || ' ' || report_id || ' ' || basis || ' ' || cchc_ymd(cchc_vn_date(met_at))
          from expectations where id = $VS")" = "late $RID received 2024-09-19" ] \
  || fail "expectation after the report: $(sql "select status, met_at from expectations where id = $VS")"
[ "$(sql "select facts->>'status' || ' ' || (facts->>'on_time') from notifications
          where dedup_key = 'report.accepted:$RID'")" = "late false" ] || fail "report.accepted late"
[ "$(sql "select string_agg(unit_code, ' ' order by seq) from notifications
          where kind = 'report.resolved' and dedup_key like 'report.resolved:$VS:%'")" = \
  "xa-van-son @home_affairs" ] || fail "report.resolved to the unit and Home Affairs"
[ "$(sql "select cchc_ymd(cchc_vn_date(created_at)) from notifications
          where dedup_key = 'report.accepted:$RID'")" = 2024-09-19 ] \
  || fail "report.accepted created_at is not the server's (injected) clock"
pass "xa-van-son reports 19/09: late, report.accepted (late), report.resolved x2"
kill -TERM "$SERVER_PID"; wait "$SERVER_PID" || fail "server exit on SIGTERM"
grep -q 'event=tick ' "$T/server.log" || fail "the daemon did not tick"

for d in 19 20; do tick 2024-09-${d}T08:00:00+07:00 >/dev/null; done
[ "$(sql "select count(*) from notifications where kind = 'report.escalated'
          and facts->>'period' = '2024Q3'")" = 0 ] \
  || fail "escalated before 23/09"
tick 2024-09-23T08:00:00+07:00 >/dev/null
esc=$(sql "select dedup_key || ' ' || (facts->>'missing') from notifications
           where kind = 'report.escalated' and facts->>'period' = '2024Q3'")
[ "$esc" = "report.escalated:CCHC_DK:2024Q3:2024-09-23 29" ] || fail "escalation: '$esc'"
[ "$(sql "select count(*) from notifications where kind = 'report.escalated' and unit_code = '@leadership'
          and facts->'units' ? 'xa-van-son'")" = 0 ] || fail "xa-van-son in the escalation"
[ "$(sql "select count(*) from notifications where facts->>'period' = '2024Q3'
          and (dedup_key like 'report.overdue:%:2024-09-19'
               or dedup_key like 'report.overdue:%:2024-09-23')")" = 0 ] || fail "overdue repeated too soon"
tick 2024-09-25T08:00:00+07:00 >/dev/null
[ "$(n_key "report.overdue:$EID:2024-09-25")" = 1 ] || fail "overdue repeat after 5 working days (25/09)"
[ "$(n_key "report.overdue:$VS:2024-09-25")" = 0 ] || fail "overdue repeat for a unit that reported"
[ "$(sql "select max(seq) = count(*) from notifications")" = t ] || fail "seq has gaps"
pass "report.escalated 23/09 (29 units), overdue repeated 25/09; seq without gaps ($(sql "select count(*) from notifications") rows)"

# expected -> cancelled when the type is unassigned from a kind of unit; back
# to expected when assigned again.
sed 's/"@office,@commune,@town"/"@commune,@town"/' "$CCHC_SRC/deploy/data/report-types.csv" >"$T/types.csv"
"$CCHC_BIN/cchc" type import "$T/types.csv" >/dev/null
tick 2024-09-26T08:00:00+07:00 >/dev/null
[ "$(sql "select count(*) from expectations e join units u on u.code = e.unit_code
          where u.kind = 'office' and e.period = '2024Q3' and e.status = 'cancelled'")" = 13 ] \
  || fail "offices' 2024Q3 expectations not cancelled: $(sql "select status, count(*) from expectations e join units u on u.code=e.unit_code where u.kind='office' and e.period='2024Q3' group by 1")"
[ "$(n_key "report.overdue:$(sql "select id from expectations where unit_code='p-tp' and period='2024Q3'"):2024-09-26")" = 0 ] \
  || fail "a cancelled expectation was reminded"
"$CCHC_BIN/cchc" type import "$CCHC_SRC/deploy/data/report-types.csv" >/dev/null
tick 2024-09-27T08:00:00+07:00 >/dev/null
[ "$(sql "select count(*) from expectations e join units u on u.code = e.unit_code
          where u.kind = 'office' and e.period = '2024Q3' and e.status = 'cancelled'")" = 0 ] \
  || fail "offices' expectations not restored"
pass "unassigned: cancelled and not reminded; assigned again: expected"

# Remediation notices go to the unit, the inspection team and Home Affairs.
rem_unit=$(sql "select count(*) from notifications where kind like 'remediation.%' and unit_code = 'xa-yen-dinh'")
[ "$rem_unit" -ge 1 ] || fail "no remediation notice for xa-yen-dinh (KT-2024-05 due 2024-06-05)"
[ "$(sql "select count(*) from notifications where kind like 'remediation.%' and unit_code = '@inspection_team'")" = "$rem_unit" ] \
  || fail "remediation notices not copied to the inspection team"
[ "$(sql "select count(*) from notifications where kind like 'remediation.%' and unit_code = '@home_affairs'")" = "$rem_unit" ] \
  || fail "remediation notices not copied to Home Affairs"
[ "$(sql "select max(seq) = count(*) from notifications")" = t ] || fail "seq has gaps"
pass "remediation notices: the unit, the inspection team and Home Affairs ($rem_unit each)"
