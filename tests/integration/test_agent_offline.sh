#!/usr/bin/env bash
# Before the first sync the agent has no district data, yet every rule that
# needs none still runs offline: a malformed period id ("2024Q5") is E004
# whatever the types say, and so is a period on a remediation report.
. "$(dirname "$0")/lib.sh"
db_start; server_setup; district_setup; server_start
jget() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
agent_setup vs xa-van-son
agent_setup yd xa-yen-dinh
sed 's/"period": "2024S1"/"period": "2024Q5"/' "$FIX/periodic.json" >"$T/q5.json"
for mode in --dry-run ""; do
  set +e
  agent vs submit $mode "$T/q5.json" >"$T/q5.out" 2>&1; rc=$?
  set -e
  [ $rc = 1 ] || fail "2024Q5 ${mode:-submit} exited $rc before the first sync: $(cat "$T/q5.out")"
  grep -q 'E004 \$.period: Kỳ báo cáo "2024Q5" không đúng định dạng' "$T/q5.out" \
    || fail "2024Q5 not refused E004 offline: $(cat "$T/q5.out")"
done
python3 - "$FIX/remediation.json" "$T/rem-period.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8")); d["period"] = "2024S1"
json.dump(d, open(sys.argv[2], "w", encoding="utf-8"), ensure_ascii=False)
PY
set +e
agent yd submit "$T/rem-period.json" >"$T/rem.out" 2>&1; rc=$?
set -e
[ $rc = 1 ] && grep -q 'E004 \$.period' "$T/rem.out" \
  || fail "a remediation report with a period passed offline: $(cat "$T/rem.out")"
agent vs submit --dry-run "$FIX/periodic.json" >"$T/ok.out" 2>&1 || fail "the good report is refused offline: $(cat "$T/ok.out")"
[ "$(agent vs status --json | jget 'd["queued"]')" = 0 ] || fail "something was queued"
[ "$(agent yd status --json | jget 'd["queued"]')" = 0 ] || fail "something was queued (yd)"
pass "before the first sync: 2024Q5 and a remediation with a period are refused E004 offline"

