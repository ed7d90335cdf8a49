#!/usr/bin/env bash
# Every entry point answers bad input with a clear message and a testable
# exit code, and writes nothing.
. "$(dirname "$0")/lib.sh"
db_start; server_setup
agent_setup vs xa-van-son

# config files: unknown key / bad value name the file and line, exit 2
printf '[server]\npublic_key = server.pub\nsecret_key = server.key\nmax_frame = lots\n' >"$T/bad.ini"
set +e
"$CCHC_BIN/cchc-server" -c "$T/bad.ini" 2>"$T/err.txt"; rc=$?
set -e
[ $rc = 2 ] || fail "server bad config exit $rc"
grep -q "bad.ini:4:.*max_frame" "$T/err.txt" || fail "server config error: $(cat "$T/err.txt")"
printf '[agent]\nunit = xa-van-son\ncolour = red\n' >"$T/bad-agent.ini"
set +e
"$CCHC_BIN/cchc-agent" -c "$T/bad-agent.ini" status 2>"$T/err.txt"; rc=$?
set -e
[ $rc = 2 ] || fail "agent bad config exit $rc"
grep -q "bad-agent.ini:3:.*colour" "$T/err.txt" || fail "agent config error: $(cat "$T/err.txt")"
printf '[database]\nconninfo = x\n[log]\nlevel = loud\n' >"$T/bad-admin.ini"
set +e
"$CCHC_BIN/cchc" -c "$T/bad-admin.ini" unit list 2>"$T/err.txt"; rc=$?
set -e
[ $rc = 2 ] || fail "cli bad config exit $rc"
grep -q "bad-admin.ini:4:.*level" "$T/err.txt" || fail "cli config error: $(cat "$T/err.txt")"
pass "config errors name file and line"

for p in cchc-server cchc-agent cchc; do
  "$CCHC_BIN/$p" --help >/dev/null || fail "$p --help"
  "$CCHC_BIN/$p" --version | grep -q "$p" || fail "$p --version"
done
pass "--help and --version"

# agent submit: broken JSON, wrong unit, missing file, empty file: exit 1, nothing queued
printf '{"type": "CCHC_DK", "unit": "xa-van-son",\n "period": 2024}\n' >"$T/broken.json"
set +e
agent vs submit "$T/broken.json" >"$T/out.txt" 2>&1; rc=$?
set -e
[ $rc = 1 ] || fail "broken report exit $rc"
grep -q 'E000 \$.period' "$T/out.txt" || fail "finding not printed: $(cat "$T/out.txt")"
printf '{"type": "CCHC_DK",' >"$T/trunc.json"
set +e
agent vs submit "$T/trunc.json" >"$T/out.txt" 2>&1; rc=$?
set -e
[ $rc = 1 ] || fail "truncated JSON exit $rc"
report_for xa-an-ba periodic.json "$T/other.json"
set +e
agent vs submit "$T/other.json" >"$T/out.txt" 2>&1; rc=$?
set -e
[ $rc = 1 ] || fail "other unit's report exit $rc"
grep -q 'xa-an-ba' "$T/out.txt" || fail "other unit not named"
set +e
agent vs submit "$T/nope.json" >"$T/out.txt" 2>&1; rc=$?
: >"$T/empty.json"
agent vs submit "$T/empty.json" >>"$T/out.txt" 2>&1; rc2=$?
set -e
[ $rc = 1 ] && [ $rc2 = 1 ] || fail "missing/empty file exit $rc/$rc2"
[ "$(agent vs status --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["queued"]+d["delivered"]+d["refused"])')" = 0 ] \
  || fail "a bad report was queued"
pass "agent submit refuses bad reports, queues nothing"

# cchc unit import: bad rows named with their line, nothing written
cat >"$T/units-bad.csv" <<'CSV'
code,name,kind,parent,valid_from,valid_to,successor
x-one,Xã Một,commune,huyen-son-dong,2020-01-01,,
x-two,Xã Hai,village,huyen-son-dong,2020-01-01,,
x-three,Xã Ba,commune,huyen-son-dong,2020-13-01,,
CSV
before=$(sql "select count(*) from units")
set +e
"$CCHC_BIN/cchc" unit import "$T/units-bad.csv" 2>"$T/err.txt"; rc=$?
set -e
[ $rc = 1 ] || fail "bad csv exit $rc"
grep -q 'units-bad.csv:3' "$T/err.txt" && grep -q 'units-bad.csv:4' "$T/err.txt" \
  || fail "bad rows not named: $(cat "$T/err.txt")"
[ "$(sql "select count(*) from units")" = "$before" ] || fail "partial import written"
set +e
"$CCHC_BIN/cchc" key add xa-van-son "$T/nope.pub" 2>"$T/err.txt"; rc=$?
"$CCHC_BIN/cchc" key add no-such-unit "$T/vs/agent.pub" 2>>"$T/err.txt"; rc2=$?
"$CCHC_BIN/cchc" frobnicate 2>>"$T/err.txt"; rc3=$?
set -e
[ $rc = 1 ] && [ $rc2 = 1 ] && [ $rc3 = 2 ] || fail "cli key add/unknown command: $rc/$rc2/$rc3"
for args in "unit" "type list extra" "plan import --json x.csv" "unit frob" "period" \
            "period list extra" "period frob"; do
  set +e; "$CCHC_BIN/cchc" $args >/dev/null 2>"$T/err.txt"; rc=$?; set -e
  [ $rc = 2 ] || fail "cchc $args exited $rc, not 2"
  grep -q '^cchc: .*\(needs a subcommand\|takes no arguments\|is for .plan list.\|unknown subcommand .\(unit\|period\) frob.\)' "$T/err.txt" \
    && grep -q '^usage: cchc' "$T/err.txt" || fail "cchc $args: $(head -2 "$T/err.txt")"
done
# cchc period lock / reopen: what needs no database is refused first (exit 2),
# the message naming the argument and the fix; nothing is written.
before=$(sql "select (select count(*) from audit_log) || ' ' || (select count(*) from period_reopenings)")
for bad in "2024X1|--until|2024-06-30|write e.g. 2024Q1" "2024S1|--until|2024-06-19|today is 2024-06-20" \
           "2024S1|--until|30/06/2024|write YYYY-MM-DD" "2024S1|--unit|xa-van-son|needs --until"; do
  IFS='|' read -r period opt val pattern <<<"$bad"
  set +e
  "$CCHC_BIN/cchc" period reopen CCHC_DK "$period" "$opt" "$val" --reason "Lý do thử" >/dev/null 2>"$T/err.txt"
  rc=$?
  set -e
  [ $rc = 2 ] || fail "period reopen $period $opt $val exited $rc, not 2"
  grep -q "^cchc: .*$pattern" "$T/err.txt" || fail "period reopen $period $opt $val: $(cat "$T/err.txt")"
done
set +e
"$CCHC_BIN/cchc" period lock CCHC_DK 2024S1 >/dev/null 2>"$T/err.txt"; rc=$?
"$CCHC_BIN/cchc" period reopen CCHC_DK 2024S1 --until 2024-06-30 --reason ab >/dev/null 2>>"$T/err.txt"; rc2=$?
set -e
[ $rc = 2 ] && [ $rc2 = 2 ] || fail "period lock without --reason / a 2-character reason: $rc/$rc2"
grep -q '^cchc: period lock needs --reason TEXT' "$T/err.txt" && grep -q 'at least 3 characters' "$T/err.txt" \
  || fail "reason messages: $(cat "$T/err.txt")"
[ "$(sql "select (select count(*) from audit_log) || ' ' || (select count(*) from period_reopenings)")" \
  = "$before" ] || fail "a refused period command wrote something"
pass "cchc refuses bad files and arguments, writes nothing"

# the server refuses a database newer than itself
sql "insert into schema_migrations (version, name) values (9999, '9999_future')"
set +e
"$CCHC_BIN/cchc-server" -c "$T/server.ini" 2>"$T/err.txt"; rc=$?
set -e
[ $rc = 1 ] || fail "server on newer schema exit $rc"
grep -q 'newer than this build' "$T/err.txt" || fail "newer schema message: $(cat "$T/err.txt")"
pass "server refuses a database newer than itself"
