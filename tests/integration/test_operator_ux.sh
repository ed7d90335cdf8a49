#!/usr/bin/env bash
# What operators type, read as they mean it: `inspection add` takes the
# conclusion notice in the forms officers write (12/TB-UBND/2024-06-05,
# "12/TB-UBND ngày 05/6/2024", ngày 05/06/2024, ngày 2024-06-05, or
# --conclusion-number with --conclusion-date) and stores the number whole;
# anything else exits 2 naming the accepted forms, and nothing is stored.
# `audit --help` lists, and `audit --table` takes, every audited table.
. "$(dirname "$0")/lib.sh"
db_start; server_setup

cchc() { "$CCHC_BIN/cchc" "$@"; }
inspections() { sql "select count(*) from inspections"; }

# ---- the conclusion notice --------------------------------------------------------------
n=0
# good EXPECTED_DATE ARGS...: inspection add with ARGS stores 12/TB-UBND (or the
# --conclusion-number given) and EXPECTED_DATE.
good() {
  local want=$1; shift
  n=$((n + 1))
  cchc inspection add xa-van-son --team "Đoàn kiểm tra CCHC huyện" --date 2024-06-03 \
    --code "UX-$n" "$@" >"$T/out" 2>"$T/err" || fail "inspection add $*: $(cat "$T/err")"
  got=$(sql "select conclusion_number || '|' || conclusion_date from inspections where code = 'UX-$n'")
  [ "$got" = "$want" ] || fail "inspection add $*: stored '$got', not '$want'"
}
good "12/TB-UBND|2024-06-05" --conclusion "12/TB-UBND/2024-06-05"
good "12/TB-UBND|2024-06-05" --conclusion "12/TB-UBND ngày 05/6/2024"
good "12/TB-UBND|2024-06-05" --conclusion "12/TB-UBND ngày 05/06/2024"
good "12/TB-UBND|2024-06-05" --conclusion "12/TB-UBND ngày 2024-06-05"
good "12/TB-UBND|2024-06-05" --conclusion "12/TB-UBND Ngày 5/6/2024"
good "12/TB-UBND|2024-06-05" --conclusion "12/TB-UBND  ngay 05/06/2024 "
good "12/TB-UBND|2024-06-05" --conclusion "12/TB-UBND 2024-06-05"
# "ngày" typed decomposed (NFD, as some keyboards send it) is the same word.
good "12/TB-UBND|2024-06-05" --conclusion \
  "$(python3 -c 'import unicodedata; print(unicodedata.normalize("NFD", "12/TB-UBND ngày 05/6/2024"))')"
good "12/TB-UBND|2024-06-05" --conclusion-number 12/TB-UBND --conclusion-date 2024-06-05
good "15/KL-ĐKT|2024-06-05" --conclusion-number 15/KL-ĐKT --conclusion-date 5/6/2024
cchc inspection show UX-4 | grep -q "^conclusion   12/TB-UBND of 2024-06-05$" \
  || fail "inspection show UX-4: $(cchc inspection show UX-4 | grep conclusion)"
pass "the conclusion's number is stored whole in every form officers write ($n forms)"

# bad PATTERN ARGS...: inspection add with ARGS exits 2, says PATTERN, stores nothing.
bad() {
  local pattern=$1 before rc=0; shift
  before=$(inspections)
  cchc inspection add xa-van-son --team "Đoàn kiểm tra" --date 2024-06-03 "$@" \
    >"$T/out" 2>"$T/err" || rc=$?
  [ "$rc" = 2 ] || fail "inspection add $* exited $rc, not 2: $(cat "$T/err")"
  grep -q "^cchc: .*$pattern" "$T/err" || fail "inspection add $*: $(cat "$T/err")"
  [ "$(inspections)" = "$before" ] || fail "inspection add $* stored something"
}
forms='12/TB-UBND/2024-06-05 or 12/TB-UBND ngày 05/6/2024 (also ngày 05/06/2024, ngày 2024-06-05), or give --conclusion-number 12/TB-UBND --conclusion-date 2024-06-05'
bad "date '31/06/2024' in .* does not exist" --conclusion "12/TB-UBND ngày 31/06/2024"
bad "date '2024-02-30' in .* does not exist" --conclusion "12/TB-UBND/2024-02-30"
bad "--conclusion-date '2023-02-29' does not exist" --conclusion-number 12/TB-UBND \
  --conclusion-date 2023-02-29
bad "number in '12/TB-UBND ngày' must not contain 'ngày'.*$forms" \
  --conclusion-number "12/TB-UBND ngày" --conclusion-date 2024-06-05
bad "must not contain 'ngày'" --conclusion "12/TB-UBNDngày/2024-06-05"
bad "number in 'ngày 05/06/2024' is empty" --conclusion "ngày 05/06/2024"
bad "number in '/2024-06-05' is empty" --conclusion "/2024-06-05"
bad "number in '' is empty" --conclusion-number "" --conclusion-date 2024-06-05
bad "must not contain a space" --conclusion "Số 12/TB-UBND ngày 05/06/2024"
bad "must not begin or end with" --conclusion "12/TB-UBND//2024-06-05"
bad "is a date, not a number" --conclusion "2024-06-05 ngày 2024-06-05"
bad "'12/TB-UBND' is not a conclusion cchc can read: write $forms" --conclusion "12/TB-UBND"
bad "is not a conclusion cchc can read" --conclusion "12/TB-UBND/05/06/2024"
bad "is not a conclusion cchc can read" --conclusion "12/TB-UBND ngày 5 tháng 6 năm 2024"
bad "is not a conclusion cchc can read" --conclusion "12/TB-UBND 05/06/2024"
bad "go together" --conclusion-number 12/TB-UBND
bad "either --conclusion or --conclusion-number" --conclusion "12/TB-UBND/2024-06-05" \
  --conclusion-number 12/TB-UBND --conclusion-date 2024-06-05
cchc inspection --help | grep -q -- "--conclusion '12/TB-UBND ngày 05/6/2024'" \
  || fail "inspection --help does not show the forms"
pass "a conclusion in no accepted form, a day that does not exist, an empty number or one holding 'ngày' exit 2 naming the forms"

# ---- audit: --help and --table come from one list, every audited table -----------------
# Audited: the tables with the cchc_audit trigger, and expectations, whose rows
# cchc_exempt() writes itself (migration 012).
audited=$(sql "select string_agg(distinct c.relname, ' ' order by c.relname) from pg_trigger t
               join pg_class c on c.oid = t.tgrelid
               where not t.tgisinternal and t.tgfoid = 'cchc_audit'::regproc")
audited="$audited expectations"
cchc silence add --unit xa-van-son --until 2099-12-31 --reason "Thử nhật ký" >/dev/null
"$CCHC_BIN/cchc-server" --keygen "$T/sub" >/dev/null
cchc subscriber add ux-bot --topics deadline. --key "$T/sub.pub" >/dev/null
helped=$(cchc audit --help | sed -n '/only that table:/,/--json/p' | sed 's/.*only that table://; /--json/d' \
         | tr ',\n' '  ' | tr -s ' ')
[ -n "$helped" ] || fail "audit --help lists no table"
for t in $audited $(sql "select distinct table_name from audit_log"); do
  echo " $helped " | grep -q " $t " || fail "audit --help leaves out $t: $helped"
  cchc audit --table "$t" >/dev/null 2>"$T/err" || fail "audit --table $t refused: $(cat "$T/err")"
done
for t in $helped; do
  echo " $audited " | grep -q " $t " || fail "audit --help lists $t, which is not audited"
done
cchc audit --table silences | grep -q "silences.*INSERT" || fail "audit --table silences shows no row"
rc=0; cchc audit --table reports >/dev/null 2>"$T/err" || rc=$?
[ $rc = 2 ] || fail "audit --table reports exited $rc, not 2"
grep -q "^cchc: --table 'reports' is not an audited table; the audited tables: units, agent_keys, .*period_reopenings, expectations$" \
  "$T/err" || fail "audit --table reports: $(head -1 "$T/err")"
pass "audit --help lists, and --table takes, every audited table ($(echo $audited | wc -w)); another is refused naming them"
