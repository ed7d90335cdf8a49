#!/usr/bin/env bash
# Locking a period and reopening it (cchc period lock|reopen|list, issue 10):
# once CCHC_DK 2024S1 is locked, a revision is refused E006 offline by an
# agent that synced, and by the server for one that skipped that check; a
# reopening for one unit until a day lets that unit's revision through (and
# no other unit's), is audited under the operator's login and ends with the
# next lock; a reopening for every unit lasts to the end of its day. Bad input
# exits 2 or 1 with a message that names the fix, and changes nothing.
. "$(dirname "$0")/lib.sh"
db_start; server_setup; district_setup; server_start
agent_setup vs xa-van-son
agent_setup ab xa-an-ba
agent_sync vs; agent_sync ab

cchc() { "$CCHC_BIN/cchc" "$@"; }
# revision FILE N OUT: the report FILE (revision 1) as revision N.
revision() { sed "s/\"revision\": 1/\"revision\": $2/" "$1" >"$3"; }
# e006_offline NAME FILE: the agent refuses FILE offline with E006, queues nothing.
e006_offline() {
  local rc=0 queued
  queued=$(agent "$1" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["queued"])')
  agent "$1" submit "$2" >"$T/out.txt" 2>&1 || rc=$?
  [ "$rc" = 1 ] || fail "agent $1 submit $2: exit $rc, not 1: $(cat "$T/out.txt")"
  grep -q 'E006' "$T/out.txt" || fail "agent $1 submit $2 does not print E006: $(cat "$T/out.txt")"
  [ "$(agent "$1" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["queued"])')" \
    = "$queued" ] || fail "agent $1 queued a refused report"
}
drain() { agent "$1" run --drain --timeout 30 >>"$T/agent-$1.log" 2>&1 || fail "agent $1 did not drain"; }
revisions() {
  sql "select string_agg(revision || ':' || status, ',' order by revision, id) from reports
       where unit_code = '$1' and period = '2024S1'"
}
# The period's state and running reopenings, by cchc period list --json.
period_state() {
  cchc period list --type CCHC_DK --year 2024 --json | python3 -c '
import json, sys
p = [x for x in json.load(sys.stdin) if x["period"] == "2024S1"][0]
print(p["state"], p["due"], p["lock_reason"], ",".join("%s<=%s" % (r["unit"] or "*", r["until"]) for r in p["reopenings"]))'
}

LOCK_WHY="Đã tổng hợp báo cáo 6 tháng gửi tỉnh"
REOPEN_WHY="Xã Vân Sơn bổ sung số liệu hộ tịch"

# ---- revision 1 of two communes is accepted ----------------------------------------------
report_for xa-an-ba periodic.json "$T/ab1.json"
agent vs submit "$FIX/periodic.json" >/dev/null || fail "vs revision 1 refused"
agent ab submit "$T/ab1.json" >/dev/null || fail "ab revision 1 refused"
drain vs; drain ab
[ "$(revisions xa-van-son) $(revisions xa-an-ba)" = "1:accepted 1:accepted" ] \
  || fail "revision 1: $(revisions xa-van-son) $(revisions xa-an-ba)"
[ "$(period_state)" = "open 2024-06-18 None " ] || fail "period list before the lock: $(period_state)"
pass "revision 1 of two communes accepted; period list shows 2024S1 open, due 2024-06-18"

# ---- a revision queued before the lock and delivered after it: the server says E006 ------
kill -TERM "$SERVER_PID"; wait "$SERVER_PID" || fail "server exit on SIGTERM"
mv "$T/server.log" "$T/server-1.log"
revision "$T/ab1.json" 2 "$T/ab2.json"
agent ab submit "$T/ab2.json" >/dev/null || fail "ab revision 2 refused before the lock"
cchc period lock CCHC_DK 2024s1 --reason "$LOCK_WHY" >"$T/out.txt" || fail "period lock"
grep -q 'locked CCHC_DK 2024S1' "$T/out.txt" || fail "lock output: $(cat "$T/out.txt")"
[ "$(sql "select locked_at is not null, lock_reason from periods
          where type_code = 'CCHC_DK' and period = '2024S1'")" = "t|$LOCK_WHY" ] \
  || fail "the lock is not stored with its reason"
server_start
drain ab
[ "$(revisions xa-an-ba)" = "1:accepted,2:rejected" ] || fail "ab after the lock: $(revisions xa-an-ba)"
[ "$(sql "select count(*) from reports where unit_code = 'xa-an-ba' and revision = 2
          and findings @> '[{\"code\": \"E006\"}]'")" = 1 ] || fail "the server's refusal is not E006"
agent ab status --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
r = [x for x in d["reports"] if x["state"] == "refused"]
assert d["queued"] == 0 and len(r) == 1 and any(f["code"] == "E006" for f in r[0]["findings"]), d
' || fail "agent ab status does not show the refusal with E006"
pass "a revision queued before the lock, delivered after it, is refused E006 by the server"

# ---- after a sync the agent refuses a revision offline ---------------------------------------
agent_sync vs
revision "$FIX/periodic.json" 2 "$T/vs2.json"
e006_offline vs "$T/vs2.json"
pass "after a sync the agent refuses revision 2 of the locked period offline (E006, exit 1)"

# ---- a reopening for one unit ------------------------------------------------------------------
cchc period reopen CCHC_DK 2024S1 --unit xa-van-son --until 2024-06-30 --reason "$REOPEN_WHY" \
  >"$T/out.txt" || fail "period reopen"
grep -q 'reopened CCHC_DK 2024S1 for xa-van-son until the end of 2024-06-30' "$T/out.txt" \
  || fail "reopen output: $(cat "$T/out.txt")"
[ "$(sql "select cchc_unit_metadata('xa-van-son')->'revisions'->0->>'reopened_until'")" = 2024-06-30 ] \
  || fail "xa-van-son's metadata lacks reopened_until"
[ -z "$(sql "select cchc_unit_metadata('xa-an-ba')->'revisions'->0->>'reopened_until'")" ] \
  || fail "xa-an-ba's metadata has another unit's reopening"
# The document the server reads and agents sync (034, built as json) is
# 025's, part for part, for every unit and for one that does not exist
# (025's function kept as a reference in the fixtures).
psql -X -q -v ON_ERROR_STOP=1 -f "$FIX/metadata_025.sql" || fail "loading metadata_025.sql"
[ -z "$(sql "select string_agg(code, ' ') from (select code from units union all select 'no-such-unit') u
             where cchc_unit_metadata_doc(code)::jsonb is distinct from cchc_unit_metadata_025(code)")" ] \
  || fail "cchc_unit_metadata_doc differs from 025's cchc_unit_metadata for: $(sql "select string_agg(code, ' ')
     from units where cchc_unit_metadata_doc(code)::jsonb is distinct from cchc_unit_metadata_025(code)")"
[ "$(sql "select cchc_unit_metadata_doc('xa-van-son')::json->'revisions'->0->>'reopened_until'")" = 2024-06-30 ] \
  || fail "cchc_unit_metadata_doc lacks reopened_until"
[ "$(period_state)" = "locked 2024-06-18 $LOCK_WHY xa-van-son<=2024-06-30" ] \
  || fail "period list after the reopening: $(period_state)"
agent_sync vs; agent_sync ab
agent vs submit "$T/vs2.json" >"$T/out.txt" 2>&1 || fail "vs revision 2 refused after the reopening: $(cat "$T/out.txt")"
drain vs
[ "$(revisions xa-van-son)" = "1:superseded,2:accepted" ] || fail "vs after the reopening: $(revisions xa-van-son)"
revision "$T/ab1.json" 3 "$T/ab3.json"
e006_offline ab "$T/ab3.json"
pass "reopened for xa-van-son until 2024-06-30: its revision 2 accepted, xa-an-ba's still refused"

# ---- audited under the operator's login ------------------------------------------------------
cchc audit --table period_reopenings >"$T/audit.txt" || fail "audit --table period_reopenings"
grep -q "cchc  *period_reopenings  *INSERT  *CCHC_DK 2024S1 xa-van-son" "$T/audit.txt" \
  && grep -q "$REOPEN_WHY" "$T/audit.txt" || fail "audit does not show the reopening: $(cat "$T/audit.txt")"
[ "$(sql "select count(*) from audit_log where table_name = 'period_reopenings' and op = 'INSERT'
          and db_user = 'cchc' and after->>'reason' = '$REOPEN_WHY'
          and after->>'created_by' = 'cchc'")" = 1 ] || fail "the reopening's audit row"
[ "$(sql "select count(*) from audit_log where table_name = 'periods' and op = 'UPDATE'
          and db_user = 'cchc' and after->>'lock_reason' = '$LOCK_WHY'")" = 1 ] \
  || fail "the lock's audit row"
cchc audit --help | grep -q period_reopenings || fail "audit --help does not list period_reopenings"
pass "the lock and the reopening are in the audit log with the login and the reasons"

# ---- the next lock ends the reopening ----------------------------------------------------------
cchc period lock CCHC_DK 2024S1 --reason "Chốt lại sau khi xã bổ sung số liệu" >"$T/out.txt" \
  || fail "second lock"
grep -q '1 running reopening(s) ended' "$T/out.txt" || fail "second lock output: $(cat "$T/out.txt")"
[ "$(sql "select count(*) from period_reopenings where ended_at is null")" = 0 ] \
  || fail "the reopening was not ended"
[ "$(sql "select count(*) from audit_log where table_name = 'period_reopenings' and op = 'UPDATE'
          and db_user = 'cchc' and after->>'ended_at' is not null")" = 1 ] || fail "the end is not audited"
agent_sync vs
revision "$FIX/periodic.json" 3 "$T/vs3.json"
e006_offline vs "$T/vs3.json"
pass "locking again ends the reopening: revision 3 is refused E006"

# ---- a reopening for every unit, the id in lower case, until today (inclusive) ---------------
cchc period reopen CCHC_DK 2024s1 --until 2024-06-20 --reason "Mở lại cho mọi xã đến hết hôm nay" \
  >/dev/null || fail "reopen for every unit"
agent_sync vs; agent_sync ab
rc=0
CCHC_CLOCK=2024-06-21T07:30:00+07:00 agent vs submit --dry-run "$T/vs3.json" >"$T/out.txt" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q E006 "$T/out.txt" || fail "the day after the reopening: exit $rc, $(cat "$T/out.txt")"
agent vs submit "$T/vs3.json" >/dev/null || fail "vs revision 3 refused on the reopening's last day"
agent ab submit "$T/ab3.json" >/dev/null || fail "ab revision 3 refused on the reopening's last day"
drain vs; drain ab
[ "$(revisions xa-van-son) $(revisions xa-an-ba)" = "1:superseded,2:superseded,3:accepted 1:superseded,2:rejected,3:accepted" ] \
  || fail "after the reopening for every unit: $(revisions xa-van-son) $(revisions xa-an-ba)"
pass "reopened for every unit until today: both revisions 3 accepted; the next day is refused"

# ---- bad input: a clear message, exit 2 or 1, nothing changed --------------------------------
snapshot() {
  sql "select (select count(*) from period_reopenings) || ' ' || (select count(*) from audit_log)
       || ' ' || (select string_agg(type_code || period || coalesce(lock_reason, '-') || locked_at,
                                    ',' order by type_code, period) from periods)"
}
before=$(snapshot)
# bad EXIT PATTERN ARGS...: cchc ARGS exits EXIT, its stderr holds PATTERN, nothing changes.
bad() {
  local want=$1 pattern=$2 rc=0; shift 2
  cchc "$@" >"$T/out.txt" 2>"$T/err.txt" || rc=$?
  [ "$rc" = "$want" ] || fail "cchc $*: exit $rc, not $want: $(cat "$T/err.txt")"
  grep -q -- "$pattern" "$T/err.txt" || fail "cchc $*: no '$pattern' in: $(cat "$T/err.txt")"
  [ "$(snapshot)" = "$before" ] || fail "cchc $* changed something"
}
R=(--reason "Lý do thử")
bad 1 "unknown report type \"NOPE\": 'cchc type list'" period reopen NOPE 2024S1 --until 2024-06-30 "${R[@]}"
bad 1 "unknown unit \"xa-khong-co\": 'cchc unit list'" \
  period reopen CCHC_DK 2024S1 --unit xa-khong-co --until 2024-06-30 "${R[@]}"
bad 2 "write e.g. 2024Q1, 2024S1" period reopen CCHC_DK 2024X1 --until 2024-06-30 "${R[@]}"
bad 1 "its periods: Q1,S1,Q3,Y" period reopen CCHC_DK 2024Q2 --until 2024-06-30 "${R[@]}"
bad 2 "in the past (today is 2024-06-20): choose today or a later day" \
  period reopen CCHC_DK 2024S1 --until 2024-06-19 "${R[@]}"
bad 2 "write YYYY-MM-DD" period reopen CCHC_DK 2024S1 --until 30/06/2024 "${R[@]}"
bad 2 "needs --until YYYY-MM-DD" period reopen CCHC_DK 2024S1 "${R[@]}"
bad 2 "needs --reason TEXT" period reopen CCHC_DK 2024S1 --until 2024-06-30
bad 2 "at least 3 characters" period reopen CCHC_DK 2024S1 --until 2024-06-30 --reason " ab "
bad 1 "KHAC_PHUC has no periods" period reopen KHAC_PHUC 2024S1 --until 2024-06-30 "${R[@]}"
bad 1 "NV_KH has no periods" period lock NV_KH 2024 "${R[@]}"
bad 1 "unknown report type" period lock NOPE 2024S1 "${R[@]}"
bad 2 "needs --reason TEXT" period lock CCHC_DK 2024S1
bad 2 "use period reopen --unit" period lock CCHC_DK 2024S1 --unit xa-van-son "${R[@]}"
bad 2 "is not a year" period list --year 24
bad 1 "KHAC_PHUC has no periods" period list --type KHAC_PHUC
pass "unknown type or unit, malformed or foreign period, past or bad date, missing reason, non-periodic type: refused, nothing changed"
