#!/usr/bin/env bash
# A server down for whole working days: the notices whose day had no tick go
# out at the next tick. CCHC_DK 2024Q3 is due Tue 17/09/2024; the first
# overdue day is Wed 18/09 and the escalation day Mon 23/09 (3 working days
# overdue). Here nothing ticks on 17, 18 or 23/09: the first report.overdue
# and the digest come Thu 19/09, the escalation Tue 24/09. Notices older than
# overdue_repeat_wd working days are not caught up (the regular repeat covers
# them): the first tick does not flood anyone with 2024Q1 and 2024S1. A
# silenced unit is never told, and does not make the digest go out daily.
. "$(dirname "$0")/lib.sh"
db_start; server_setup; district_setup

tick() {
  local out
  out=$("$CCHC_BIN/cchc-server" -c "$T/server.ini" --tick-at "$1") || fail "tick $1 failed"
  echo "$out" >>"$T/ticks.log"
  echo "$out" | sed -n 's/.* inserted=\([0-9]*\) .*/\1/p'
}
q3() { # KIND [DAY]: how many KIND rows of CCHC_DK 2024Q3 (keyed on DAY)
  sql "select count(*) from notifications where kind = '$1' and facts->>'type' = 'CCHC_DK'
       and facts->>'period' = '2024Q3' ${2:+and dedup_key like '%:$2%'}"
}

# A unit silenced through the whole story: it is never told, and its missing
# notice does not make Home Affairs' digest go out every day.
"$CCHC_BIN/cchc" silence add --unit xa-van-son --until 2099-12-31 --reason "Thử im lặng" >/dev/null \
  || fail "silence add"
tick 2024-09-16T08:00:00+07:00 >/dev/null   # the first tick ever
[ "$(sql "select count(*) from notifications where kind = 'report.escalated'")" = 0 ] \
  || fail "the first tick escalated months-old periods"
[ "$(sql "select count(*) from notifications where kind = 'report.overdue'
          and facts->>'period' in ('2024Q1', '2024S1') and (facts->>'working_days_overdue')::int > 5
          and ((facts->>'working_days_overdue')::int - 1) % 5 <> 0")" = 0 ] \
  || fail "months-old overdue notices caught up off their repeat day"
pass "the first tick catches up nothing older than overdue_repeat_wd"

tick 2024-09-19T08:00:00+07:00 >/dev/null   # 17 and 18/09: down
[ "$(q3 report.overdue 2024-09-19)" = 29 ] || fail "first overdue notices on 19/09: $(q3 report.overdue)"
[ "$(q3 digest.overdue 2024-09-19)" = 1 ] || fail "digest on 19/09: $(q3 digest.overdue)"
[ "$(sql "select facts->>'working_days_overdue' from notifications
          where kind = 'report.overdue' and about = 'xa-an-ba' and facts->>'period' = '2024Q3'")" = 2 ] \
  || fail "the caught-up notice does not say 2 working days"
[ "$(tick 2024-09-19T08:00:00+07:00)" = 0 ] || fail "a repeated catch-up tick inserted rows"
tick 2024-09-20T08:00:00+07:00 >/dev/null
[ "$(q3 report.overdue)" = 29 ] || fail "told again on 20/09: $(q3 report.overdue)"
[ "$(q3 digest.overdue)" = 1 ] || fail "a digest again on 20/09 (the silenced unit)"
pass "18/09 without a tick: the 29 first overdue notices (one unit silenced) and the digest come 19/09, once"

tick 2024-09-24T08:00:00+07:00 >/dev/null   # 23/09: down
esc=$(sql "select dedup_key || ' ' || (facts->>'missing') from notifications
           where kind = 'report.escalated' and facts->>'period' = '2024Q3'")
[ "$esc" = "report.escalated:CCHC_DK:2024Q3:2024-09-24 30" ] || fail "escalation: '$esc'"
[ "$(q3 digest.overdue)" = 1 ] || fail "digests on 23-24/09: $(q3 digest.overdue)"
tick 2024-09-25T08:00:00+07:00 >/dev/null
[ "$(q3 report.escalated)" = 1 ] || fail "escalated again on 25/09"
[ "$(q3 report.overdue 2024-09-25)" = 29 ] || fail "the regular repeat on 25/09 (k=6)"
[ "$(q3 digest.overdue)" = 2 ] || fail "the digest's regular repeat on 25/09: $(q3 digest.overdue)"
[ "$(sql "select count(*) from notifications where about = 'xa-van-son' and kind like 'report.%'")" = 0 ] \
  || fail "the silenced unit was told"
pass "23/09 without a tick: the escalation comes 24/09, once; the repeat keeps its day"

[ "$(sql "select count(*) - count(distinct seq) + (max(seq) - count(*)) from notifications")" = 0 ] \
  || fail "seq has gaps or repeats"
