#!/usr/bin/env bash
# Operator commands on deadlines: silences (audited by trigger), exemptions of
# expectations (audited by the CLI in the same transaction), the expectations
# view, and subscribers with their keys. Refusals exit 1 or 2 and write nothing.
. "$(dirname "$0")/lib.sh"
db_start; server_setup; district_setup

cchc() { "$CCHC_BIN/cchc" "$@"; }
# expect_rc RC CMD...: runs CMD, fails unless it exits RC; stderr kept in $T/err.
expect_rc() {
  local want=$1 rc=0; shift
  "$@" >"$T/out" 2>"$T/err" || rc=$?
  [ "$rc" = "$want" ] || fail "'$*' exited $rc, not $want: $(cat "$T/err")"
  if [ "$want" != 0 ]; then
    grep -q '^cchc: ' "$T/err" || fail "'$*' said nothing on stderr"
  fi
}
audits() { sql "select count(*) from audit_log where table_name = '$1'"; }

for c in silence subscriber exempt expectations; do
  cchc "$c" --help | grep -q "usage: cchc" || fail "$c --help"
done
pass "--help of every new command"

# ---- silences -----------------------------------------------------------------------
a0=$(audits silences)
id=$(cchc silence add --unit xa-van-son --kind report.overdue --until 2099-12-31 \
  --reason "Trụ sở xã đang sửa chữa")
[[ "$id" =~ ^[0-9]+$ ]] || fail "silence add printed '$id', not an id"
cchc silence list | grep -q "xa-van-son.*report.overdue.*2099-12-31.*active" \
  || fail "silence not listed: $(cchc silence list)"
[ "$(cchc silence list --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 1 ] \
  || fail "silence list --json"
[ "$(sql "select count(*) from audit_log where table_name = 'silences' and op = 'INSERT'
          and db_user = 'cchc' and after->>'reason' = 'Trụ sở xã đang sửa chữa'")" = 1 ] \
  || fail "no audit row for the silence"
pass "silence add prints its id, is listed and audited"

kid=$(cchc silence add --kind deadline.approaching --until 2099-01-01 --reason "Nghỉ Tết")
[ "$(sql "select unit_code is null and kind = 'deadline.approaching' from silences where id = $kid")" = t ] \
  || fail "kind-only silence"
pass "a kind alone can be silenced"

n0=$(sql "select count(*) from silences"); a1=$(audits silences)
expect_rc 1 cchc silence add --unit khong-co --until 2099-12-31 --reason "lý do bất kỳ"
grep -q "unknown unit 'khong-co'" "$T/err" || fail "unknown unit message: $(cat "$T/err")"
expect_rc 2 cchc silence add --unit xa-van-son --kind report.bogus --until 2099-12-31 --reason "abc"
grep -q "not a notification kind" "$T/err" || fail "bad kind message"
expect_rc 2 cchc silence add --unit xa-van-son --until 2099-12-31
grep -q "needs --reason" "$T/err" || fail "missing reason message"
expect_rc 2 cchc silence add --unit xa-van-son --until 2099-12-31 --reason "ab"
expect_rc 2 cchc silence add --until 2099-12-31 --reason "không có đối tượng"
expect_rc 2 cchc silence add --unit xa-van-son --until 2099-02-30 --reason "ngày sai"
expect_rc 1 cchc silence add --unit xa-van-son --until 2000-01-01 --reason "đã qua"
grep -q "in the past" "$T/err" || fail "past date message"
expect_rc 2 cchc silence remove abc
expect_rc 1 cchc silence remove 999999
grep -q "unknown silence" "$T/err" || fail "unknown silence message"
[ "$(sql "select count(*) from silences")" = "$n0" ] || fail "a refused silence was stored"
[ "$(audits silences)" = "$a1" ] || fail "a refusal wrote audit rows"
pass "silence refusals (unknown unit 1, bad kind 2, no reason 2, past 1) write nothing"

cchc silence remove "$id" | grep -q "silence $id removed" || fail "silence remove"
[ "$(sql "select removed_at is not null from silences where id = $id")" = t ] || fail "removed_at"
[ "$(sql "select count(*) from audit_log where table_name = 'silences' and op = 'UPDATE'
          and db_user = 'cchc' and after->>'id' = '$id' and after->>'removed_at' is not null")" = 1 ] \
  || fail "no audit row for the removal"
! cchc silence list | grep -q "xa-van-son" || fail "removed silence still active"
cchc silence list --all | grep -q "xa-van-son.*removed" || fail "list --all lacks the removed one"
a2=$(audits silences)
expect_rc 1 cchc silence remove "$id"
grep -q "already removed" "$T/err" || fail "remove twice message"
[ "$(audits silences)" = "$a2" ] || fail "removing twice wrote an audit row"
[ "$a2" = $((a0 + 3)) ] || fail "expected 3 audit rows for silences, got $((a2 - a0))"
pass "silence remove sets removed_at (audited); removing twice is refused"

# ---- exempt ---------------------------------------------------------------------------
sql "INSERT INTO expectations (type_code, unit_code, period, due)
     VALUES ('CCHC_DK', 'xa-van-son', '2024Q3', '2024-09-17')"
sql "INSERT INTO expectations (type_code, unit_code, period, due, status, met_at)
     VALUES ('CCHC_DK', 'xa-an-ba', '2024Q3', '2024-09-17', 'on_time', now())"
e0=$(audits expectations)
expect_rc 2 cchc exempt xa-van-son CCHC_DK 2024Q3
grep -q "needs --reason" "$T/err" || fail "exempt without reason message"
expect_rc 1 cchc exempt khong-co CCHC_DK 2024Q3 --reason "sáp nhập xã"
expect_rc 1 cchc exempt xa-van-son KHONG_CO 2024Q3 --reason "sáp nhập xã"
grep -q "unknown report type" "$T/err" || fail "unknown type message"
expect_rc 2 cchc exempt xa-van-son CCHC_DK 2024X9 --reason "sáp nhập xã"
expect_rc 1 cchc exempt xa-an-ba CCHC_DK 2024Q3 --reason "sáp nhập xã"
grep -q "already met" "$T/err" || fail "met expectation message: $(cat "$T/err")"
expect_rc 1 cchc exempt xa-an-ba CCHC_DK 2024S1 --reason "sáp nhập xã"
grep -q "periods table has no due date for CCHC_DK 2024S1" "$T/err" || fail "missing due message"
[ "$(audits expectations)" = "$e0" ] || fail "a refused exemption wrote audit rows"
[ "$(sql "select string_agg(status, ',' order by unit_code) from expectations")" = "on_time,expected" ] \
  || fail "a refused exemption changed expectations"
pass "exempt refusals (no reason 2, unknown unit/type 1, bad period 2, met 1, no due 1)"

cchc exempt xa-van-son CCHC_DK 2024Q3 --reason "Xã sáp nhập, báo cáo chung với xã An Bá" \
  | grep -q "CCHC_DK 2024Q3 of xa-van-son (due 2024-09-17) is exempt" || fail "exempt output"
[ "$(sql "select status || '|' || exempt_reason from expectations where unit_code = 'xa-van-son'")" \
  = "exempt|Xã sáp nhập, báo cáo chung với xã An Bá" ] || fail "expectation not exempt"
[ "$(sql "select count(*) from audit_log where table_name = 'expectations' and op = 'UPDATE'
          and db_user = 'cchc' and before->>'status' = 'expected' and after->>'status' = 'exempt'
          and after->>'unit_code' = 'xa-van-son'")" = 1 ] || fail "no audit row for the exemption"
expect_rc 1 cchc exempt xa-van-son CCHC_DK 2024Q3 --reason "lần nữa"
grep -q "already exempt" "$T/err" || fail "exempt twice message"
pass "exempt marks the expectation exempt with one audit row (UPDATE, before/after)"

sql "INSERT INTO periods (type_code, period, cutoff_start, cutoff_end, due)
     VALUES ('CCHC_DK', '2024Q1', '2023-12-15', '2024-03-14', '2024-03-18')"
cchc exempt xa-an-ba CCHC_DK 2024Q1 --reason "Cán bộ mới nhận việc" >/dev/null \
  || fail "exempt of a not yet computed expectation"
[ "$(sql "select status || '|' || due from expectations where unit_code = 'xa-an-ba' and period = '2024Q1'")" \
  = "exempt|2024-03-18" ] || fail "created expectation"
cchc exempt xa-yen-dinh KHAC_PHUC KT-2024-05 --reason "Đã khắc phục trực tiếp tại buổi kiểm tra" \
  >/dev/null || fail "exempt of a remediation report"
[ "$(sql "select e.period = '' and e.status = 'exempt' and e.due = i.remediation_due
          from expectations e join inspections i on i.code = e.subject
          where e.type_code = 'KHAC_PHUC'")" = t ] || fail "remediation expectation"
[ "$(sql "select count(*) from audit_log where table_name = 'expectations' and op = 'INSERT'
          and before is null and after->>'status' = 'exempt'")" = 2 ] || fail "audit of created ones"
pass "exempt creates a missing expectation with the period's or inspection's due date"

cchc exempt --list | grep -q "xa-van-son.*CCHC_DK.*2024Q3.*2024-09-17.*Xã sáp nhập.*cchc" \
  || fail "exempt --list: $(cchc exempt --list)"
[ "$(cchc exempt --list --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 3 ] \
  || fail "exempt --list --json"
expect_rc 2 cchc exempt --list xa-van-son
pass "exempt --list shows the exemptions and who made them"

# ---- expectations ---------------------------------------------------------------------
out=$(cchc expectations)
[ "$(echo "$out" | sed -n 2p | awk '{print $1, $3, $4}')" = "xa-an-ba 2024Q1 2024-03-18" ] \
  || fail "expectations not ordered by due: $out"
cchc expectations --unit xa-yen-dinh | grep -q "KHAC_PHUC.*KT-2024-05.*exempt" \
  || fail "expectations --unit"
[ "$(cchc expectations --status exempt --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 3 ] \
  || fail "expectations --status exempt --json"
[ "$(cchc expectations --period 2024Q3 --type CCHC_DK --status on_time --json \
     | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d[0]["unit"], len(d))')" = "xa-an-ba 1" ] \
  || fail "expectations filters"
cchc expectations --period 2030Q1 | grep -q "no expectations match" || fail "empty expectations"
expect_rc 2 cchc expectations --status pending
expect_rc 1 cchc expectations --unit khong-co
pass "expectations lists and filters (unit, type, period, status)"

# ---- subscribers ----------------------------------------------------------------------
mkdir -p "$T/keys"
s0=$(audits subscribers)
out=$(cchc subscriber add zalo-bot --topics report.overdue.,deadline.,@home_affairs --out "$T/keys")
echo "$out" | grep -q "$T/keys/zalo-bot.key" || fail "subscriber add --out paths: $out"
[ -s "$T/keys/zalo-bot.pub" ] && [ "$(stat -c %a "$T/keys/zalo-bot.key")" = 600 ] \
  || fail "key pair files"
[ "$(sql "select public_key = '$(cat "$T/keys/zalo-bot.pub")' and
          topics = '{report.overdue.,deadline.,@home_affairs}' from subscribers where name = 'zalo-bot'")" = t ] \
  || fail "subscriber row"
"$CCHC_BIN/cchc-server" --keygen "$T/dash" >/dev/null
cchc subscriber add dashboard --topics digest. --key "$T/dash.pub" >/dev/null || fail "add --key"
expect_rc 1 cchc subscriber add zalo-bot --topics x. --key "$T/dash.pub"
grep -q "already exists" "$T/err" || fail "duplicate name message"
expect_rc 1 cchc subscriber add other --topics x. --key "$T/dash.pub"
grep -q "already registered for subscriber 'dashboard'" "$T/err" || fail "duplicate key message"
expect_rc 1 cchc subscriber add zalo-bot --topics x. --out "$T/keys"
[ "$(ls "$T/keys" | wc -l)" = 2 ] || fail "a refused add left key files"
expect_rc 2 cchc subscriber add Bad_Name --topics x. --out "$T/keys"
expect_rc 2 cchc subscriber add ok --topics "report.overdue.,Bad" --out "$T/keys"
expect_rc 2 cchc subscriber add ok --topics "a,,b" --out "$T/keys"
expect_rc 2 cchc subscriber add ok --topics x.
expect_rc 1 cchc subscriber add ok --topics x. --key "$T/missing.pub"
[ "$(sql "select count(*) from subscribers")" = 2 ] || fail "a refused subscriber was stored"
cchc subscriber list | grep -q "zalo-bot.*report.overdue.,deadline.,@home_affairs.*active" \
  || fail "subscriber list: $(cchc subscriber list)"
[ "$(cchc subscriber list --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 2 ] \
  || fail "subscriber list --json"
cchc subscriber revoke zalo-bot | grep -q "revoked" || fail "revoke"
cchc subscriber list | grep -q "zalo-bot.*revoked" || fail "revoked not listed"
expect_rc 1 cchc subscriber revoke zalo-bot
grep -q "already revoked" "$T/err" || fail "revoke twice message"
expect_rc 1 cchc subscriber revoke khong-co
[ "$(audits subscribers)" = $((s0 + 3)) ] || fail "subscribers audit rows: $(($(audits subscribers) - s0))"
pass "subscriber add (--out, --key), list, revoke; refusals write nothing"

# --out DIR need not exist: subscriber add makes it as key issue makes its bundle's.
out=$(cchc subscriber add sms-gw --topics deadline. --out "$T/new-keys" 2>"$T/err") \
  || fail "subscriber add --out a directory that does not exist: $(cat "$T/err")"
echo "$out" | grep -q "$T/new-keys/sms-gw.key" || fail "subscriber add --out new dir: $out"
[ -s "$T/new-keys/sms-gw.pub" ] && [ "$(stat -c %a "$T/new-keys/sms-gw.key")" = 600 ] \
  || fail "key pair files in the new directory"
cchc key issue xa-van-son --out "$T/new-bundle" --server-key "$T/server.pub" >/dev/null \
  || fail "key issue --out a new directory"
[ "$(stat -c %a "$T/new-keys")" = "$(stat -c %a "$T/new-bundle")" ] \
  || fail "directory modes differ: $(stat -c %a "$T/new-keys") vs $(stat -c %a "$T/new-bundle")"
n=$(sql "select count(*) from subscribers")
expect_rc 1 cchc subscriber add sms-gw2 --topics deadline. --out "$T/missing/keys"
sed 's/sms-gw2/X/' "$T/err" >"$T/err-sub"
expect_rc 1 cchc key issue xa-van-son --out "$T/missing/keys" --server-key "$T/server.pub"
cmp -s "$T/err-sub" "$T/err" || fail "messages differ: $(cat "$T/err-sub") / $(cat "$T/err")"
grep -q "^cchc: could not create $T/missing/keys: No such file or directory$" "$T/err" \
  || fail "missing parent message: $(cat "$T/err")"
[ "$(sql "select count(*) from subscribers")" = "$n" ] || fail "a refused subscriber was stored"
pass "subscriber add --out makes its directory as key issue does (mode $(stat -c %a "$T/new-keys"), same message)"
