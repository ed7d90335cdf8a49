#!/usr/bin/env bash
# Operator imports are all-or-nothing: a bad row is named with its line and
# nothing is written; every change lands in the audit log with its user.
. "$(dirname "$0")/lib.sh"
db_start; server_setup; district_setup
counts() { sql "select (select count(*) from report_types)||'/'||(select count(*) from type_assignments)||'/'||(select count(*) from calendar_days)||'/'||(select count(*) from plan_tasks)"; }
before=$(counts)
[ "$before" = "3/5/37/12" ] || fail "district data not loaded as expected: $before"

bad() { # bad KIND FILE LINE...
  local kind=$1 file=$2; shift 2
  set +e
  "$CCHC_BIN/cchc" $kind import "$file" 2>"$T/err.txt"; local rc=$?
  set -e
  [ $rc = 1 ] || fail "$kind import of a bad file: exit $rc"
  for l in "$@"; do grep -q "$(basename "$file"):$l:" "$T/err.txt" || fail "$kind: line $l not named: $(cat "$T/err.txt")"; done
  [ "$(counts)" = "$before" ] || fail "$kind import wrote something"
}
{ head -n 2 "$CCHC_SRC/deploy/data/report-types.csv"
  echo 'NEW_T,Loại mới,periodic,mixed,"Q1,Q7",dec09,wd_after_cutoff:2,0,30,received,@commune'
  echo 'NEW_U,Loại mới,periodic,mixed,Q1,dec09,every_tuesday,0,30,received,@commune'; } >"$T/types.csv"
bad type "$T/types.csv" 3 4
printf 'date,kind,note\n2027-01-01,holiday,Tết\n2027-01-02,holiday,thứ Bảy\n2027-02-30,holiday,x\n' >"$T/cal.csv"
bad calendar "$T/cal.csv" 3 4
{ head -n 2 "$CCHC_SRC/deploy/data/plan-tasks.csv"
  echo 'KH87-99,Nhiệm vụ mới,PAPI,L3,maintain,p-nv,,2024-12-14'
  echo 'KH87-98,Nhiệm vụ mới,PAPI,D3,maintain,no-such-unit,,2024-12-14'; } >"$T/plan.csv"
bad plan "$T/plan.csv" 3 4
pass "bad rows named by line; nothing written"

[ "$(sql "select count(*) from audit_log where db_user='cchc' and table_name='inspection_findings' and op='INSERT'")" = 4 ] \
  || fail "finding adds not audited"
set +e
sql "delete from audit_log" 2>/dev/null; rc=$?
set -e
[ $rc != 0 ] || fail "audit_log accepted a delete"
pass "changes audited with their database user; the audit log is append-only"
