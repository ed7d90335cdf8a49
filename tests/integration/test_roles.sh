#!/usr/bin/env bash
# Database roles (migrations 011, 012): a viewer reads and changes nothing, an
# operator keeps the district's facts (audited under its own login) and may
# not write the audit log or expectations directly, an admin also registers
# agent keys; the refusals the server records (015) are read by viewers and
# written by nobody else. Every refusal exits 1 with "permission denied"
# and leaves every table as it was.
. "$(dirname "$0")/lib.sh"
db_start; server_setup; district_setup

cchc() { "$CCHC_BIN/cchc" "$@"; }
# as ROLE CMD...: CMD with ROLE as the database login (the CLI and psql both
# read PGUSER; trust auth in the test cluster).
as() { local who=$1; shift; PGUSER=$who "$@"; }
# refused ROLE CMD...: CMD as ROLE must exit 1, saying permission denied.
refused() {
  local who=$1 rc=0; shift
  as "$who" "$@" >"$T/out" 2>"$T/err" || rc=$?
  [ "$rc" = 1 ] || fail "'$*' as $who exited $rc, not 1: $(cat "$T/err")"
  grep -qi 'permission denied' "$T/err" || fail "'$*' as $who: $(cat "$T/err")"
}
# psql_refused ROLE SQL: the statement as ROLE must fail with permission denied.
psql_refused() {
  local who=$1 rc=0
  as "$who" psql -X -q -t -A -v ON_ERROR_STOP=1 -c "$2" >"$T/out" 2>"$T/err" || rc=$?
  [ "$rc" != 0 ] || fail "'$2' as $who succeeded"
  grep -qi 'permission denied' "$T/err" || fail "'$2' as $who: $(cat "$T/err")"
}
# The row counts of every table a refused command could touch, in one line.
counts() {
  sql "select (select count(*) from units) || ' ' || (select count(*) from calendar_days)
       || ' ' || (select count(*) from inspection_findings)
       || ' ' || (select count(*) from agent_keys) || ' ' || (select count(*) from silences)
       || ' ' || (select count(*) from reports) || ' ' || (select count(*) from notifications)
       || ' ' || (select count(*) from audit_log)
       || ' ' || (select string_agg(code || name, ',' order by code) from units)"
}
unchanged() { [ "$(counts)" = "$before" ] || fail "$1 changed something: $before -> $(counts)"; }

sql "create role v login in role cchc_viewer;
     create role o login in role cchc_operator;
     create role a login in role cchc_admin"

# Every table a role may write, wholly or some of its columns, has an audit
# trigger: nothing an operator or an admin changes escapes the audit log.
unaudited=$(sql "select string_agg(c.relname, ',') from pg_class c
                 join pg_namespace s on s.oid = c.relnamespace
                 where s.nspname = 'public' and c.relkind = 'r'
                   and exists (select 1 from unnest(array['cchc_operator', 'cchc_admin']) r,
                                    unnest(array['INSERT', 'UPDATE', 'DELETE']) p
                               where case when p = 'DELETE' then has_table_privilege(r, c.oid, p)
                                          else has_any_column_privilege(r, c.oid, p) end)
                   and not exists (select 1 from pg_trigger t where t.tgrelid = c.oid
                                   and not t.tgisinternal and t.tgfoid = 'cchc_audit'::regproc)")
[ -z "$unaudited" ] || fail "tables a role may write without an audit trigger: $unaudited"
[ "$(sql "select count(*) from pg_class c join pg_namespace s on s.oid = c.relnamespace
          where s.nspname = 'public' and c.relkind = 'r'
            and has_table_privilege('cchc_operator', c.oid, 'INSERT')")" -ge 8 ] \
  || fail "the operator role writes fewer tables than expected"
pass "every table an operator or admin may write is audited by trigger"

# What the refused and allowed commands would write.
printf 'code,name,kind,parent,valid_from,valid_to,successor\nxa-thu-quyen,Xã Thử Quyền,commune,,2024-01-01,,\n' \
  >"$T/units.csv"
printf 'date,kind,note\n2024-12-31,holiday,Nghỉ thử quyền\n' >"$T/cal.csv"
"$CCHC_BIN/cchc-server" --keygen "$T/k1" >/dev/null
"$CCHC_BIN/cchc-server" --keygen "$T/k2" >/dev/null

# ---- viewer ------------------------------------------------------------------------------
as v cchc unit list | grep -q xa-yen-dinh || fail "unit list as viewer"
as v cchc calendar list >/dev/null || fail "calendar list as viewer"
[ "$(as v sql "select count(*) > 0 from units")" = t ] || fail "select as viewer"
pass "a viewer reads units with the CLI and psql"

before=$(counts)
refused v cchc unit import "$T/units.csv";             unchanged "unit import as viewer"
refused v cchc calendar import "$T/cal.csv";           unchanged "calendar import as viewer"
refused v cchc finding add KT-2024-05 "Phát hiện thử"; unchanged "finding add as viewer"
refused v cchc key add xa-yen-dinh "$T/k1.pub";        unchanged "key add as viewer"
refused v cchc silence add --unit xa-yen-dinh --until 2099-12-31 --reason "Thử quyền"
unchanged "silence add as viewer"
pass "a viewer's unit import, calendar import, finding add, key add, silence add are refused"

psql_refused v "update units set name = 'X' where code = 'xa-yen-dinh'"; unchanged "update as viewer"
psql_refused v "delete from reports";                                  unchanged "delete as viewer"
psql_refused v "insert into notifications (kind, unit_code, dedup_key, text_vi, text_en)
                values ('agent.silent', 'x', 'x', 'x', 'x')";            unchanged "insert as viewer"
psql_refused v "insert into audit_log (table_name, op) values ('units', 'INSERT')"
unchanged "audit insert as viewer"
psql_refused v "select cchc_sched_expectations('2024-01-01')";         unchanged "scheduler as viewer"
pass "a viewer's UPDATE, DELETE and INSERT in psql are refused"

# ---- operator ----------------------------------------------------------------------------
as o cchc calendar import "$T/cal.csv" >/dev/null || fail "calendar import as operator"
[ "$(sql "select count(*) from audit_log where table_name = 'calendar_days' and op = 'INSERT'
          and db_user = 'o' and after->>'day' = '2024-12-31'")" = 1 ] \
  || fail "calendar import not audited as o: $(sql "select db_user, op, after from audit_log
                                                    where table_name = 'calendar_days'
                                                    order by id desc limit 2")"
id=$(as o cchc silence add --unit xa-yen-dinh --until 2099-12-31 --reason "Thử quyền") \
  || fail "silence add as operator"
[ "$(sql "select count(*) from audit_log where table_name = 'silences' and op = 'INSERT'
          and db_user = 'o' and (after->>'id')::bigint = $id")" = 1 ] \
  || fail "silence add not audited as o"
[ "$(sql "select created_by from silences where id = $id")" = o ] || fail "silence created_by"
pass "an operator's calendar import and silence add work and are audited as o"

before=$(counts)
refused o cchc key add xa-yen-dinh "$T/k1.pub"; unchanged "key add as operator"
psql_refused o "delete from audit_log";         unchanged "audit delete as operator"
psql_refused o "insert into audit_log (table_name, op, db_user) values ('units', 'INSERT', 'someone')"
unchanged "audit insert as operator"
pass "an operator's key add, audit delete and forged audit row are refused"

# Expectations change only through cchc exempt (cchc_exempt(), migration 012),
# which writes the audit row under the operator's login.
sql "INSERT INTO expectations (type_code, unit_code, period, due)
     VALUES ('CCHC_DK', 'xa-yen-dinh', '2024Q3', '2024-09-17')"
before=$(counts)
psql_refused o "update expectations set status = 'on_time' where unit_code = 'xa-yen-dinh'"
psql_refused o "insert into expectations (type_code, unit_code, period, due, status)
                values ('CCHC_DK', 'xa-an-ba', '2024Q3', '2024-09-17', 'on_time')"
[ "$(sql "select string_agg(unit_code || ':' || status, ',') from expectations")" = "xa-yen-dinh:expected" ] \
  || fail "an operator changed expectations directly"
refused v cchc exempt xa-yen-dinh CCHC_DK 2024Q3 --reason "Thử quyền miễn nộp"
unchanged "exempt as viewer"
as o cchc exempt xa-yen-dinh CCHC_DK 2024Q3 --reason "Thử quyền miễn nộp" >/dev/null \
  || fail "exempt as operator"
[ "$(sql "select count(*) from audit_log where table_name = 'expectations' and op = 'UPDATE'
          and db_user = 'o' and after->>'status' = 'exempt'")" = 1 ] \
  || fail "the exemption is not audited as o"
pass "an operator cannot write expectations directly; cchc exempt works and is audited as o"

# Periods change through cchc period lock / reopen (migration 014): an
# operator may lock and reopen, audited as o, but may not rewrite or delete a
# reopening, nor forge who made it.
before=$(counts)
refused v cchc period lock CCHC_DK 2024S1 --reason "Thử quyền khoá kỳ"; unchanged "period lock as viewer"
refused v cchc period reopen CCHC_DK 2024S1 --until 2024-06-30 --reason "Thử quyền mở lại"
unchanged "period reopen as viewer"
as v cchc period list >/dev/null || fail "period list as viewer"
as o cchc period lock CCHC_DK 2024S1 --reason "Thử quyền khoá kỳ" >/dev/null || fail "period lock as operator"
as o cchc period reopen CCHC_DK 2024S1 --unit xa-yen-dinh --until 2024-06-30 \
  --reason "Thử quyền mở lại" >/dev/null || fail "period reopen as operator"
[ "$(sql "select count(*) from audit_log where db_user = 'o'
          and ((table_name = 'periods' and after->>'lock_reason' = 'Thử quyền khoá kỳ')
               or (table_name = 'period_reopenings' and op = 'INSERT'
                   and after->>'created_by' = 'o' and after->>'reason' = 'Thử quyền mở lại'))")" = 2 ] \
  || fail "the lock and the reopening are not audited as o"
before=$(counts)
psql_refused o "update period_reopenings set until = '2099-12-31'";      unchanged "reopening rewrite"
psql_refused o "delete from period_reopenings";                         unchanged "reopening delete"
psql_refused o "insert into period_reopenings (type_code, period, until, reason, created_by)
                values ('CCHC_DK', '2024S1', '2099-12-31', 'Giả mạo', 'someone')"
unchanged "forged reopening"
pass "an operator locks and reopens periods, audited as o; a viewer cannot; a reopening stays as written"

# ---- admin -------------------------------------------------------------------------------
as a cchc key add xa-yen-dinh "$T/k2.pub" >/dev/null || fail "key add as admin"
[ "$(sql "select count(*) from audit_log where table_name = 'agent_keys' and op = 'INSERT'
          and db_user = 'a' and after->>'public_key' = '$(cat "$T/k2.pub")'")" = 1 ] \
  || fail "key add not audited as a"
pass "an admin's key add works and is audited as a"

# ---- refusals (migration 015): the server writes them, viewers read them ------------------
sql "insert into refusals (minute, first_at, last_at, kind, principal, key_id, claimed, message, count)
     values ('2024-06-20 02:00+00', '2024-06-20 02:00:05+00', '2024-06-20 02:00:40+00',
             'unit_mismatch', 'xa-yen-dinh', 1, 'xa-an-ba', 'report', 3)"
as v cchc refusals | grep -q "xa-yen-dinh.*xa-an-ba.*report *3$" || fail "refusals as viewer: $(as v cchc refusals 2>&1)"
for who in o a; do
  psql_refused $who "insert into refusals (minute, first_at, last_at, kind, principal, count)
                     values (now(), now(), now(), 'not_allowed', 'x', 1)"
  psql_refused $who "update refusals set count = 0"
  psql_refused $who "delete from refusals"
done
[ "$(sql "select count(*) || ' ' || sum(count) from refusals")" = "1 3" ] || fail "refusals changed"
pass "a viewer lists refusals; an operator or an admin cannot write, change or delete them"
