#!/usr/bin/env bash
# The server decides: what the agent accepted with stale metadata comes back
# as a Nack with every finding, stored as rejected, shown by `status`.
. "$(dirname "$0")/lib.sh"
db_start; server_setup; district_setup; server_start
agent_setup vs xa-van-son
agent_setup yd xa-yen-dinh
agent_sync vs; agent_sync yd

# 1. The unit is unassigned from CCHC_DK after the agent's last sync.
sed 's/"@office,@commune,@town"/"@office,@town"/' "$CCHC_SRC/deploy/data/report-types.csv" >"$T/types.csv"
"$CCHC_BIN/cchc" type import "$T/types.csv" >/dev/null
agent vs submit "$FIX/periodic.json" >/dev/null || fail "agent (stale metadata) should accept"
agent vs run --drain --timeout 30 >>"$T/agent-vs.log" 2>&1 || fail "agent did not drain"
agent vs status --json | python3 -c '
import json,sys
d=json.load(sys.stdin)
assert d["refused"]==1 and d["queued"]==0, d
r=[x for x in d["reports"] if x["state"]=="refused"][0]
assert any(f["code"]=="E003" for f in r["findings"]), r
' || fail "status does not show the refusal with E003"
agent vs status | grep -q E003 || fail "human status lacks E003"
[ "$(sql "select status||' '||(findings->0->>'code') from reports where unit_code='xa-van-son'")" = "rejected E003" ] \
  || fail "refused report not stored as rejected with its findings"
pass "unassigned after sync: Nack E003, stored as rejected, shown by status"

# 2. A finding added after the agent's sync: the server re-checks E041.
"$CCHC_BIN/cchc" finding add KT-2024-05 "Chưa bố trí công chức trực Bộ phận Một cửa" >/dev/null
agent yd submit "$FIX/remediation.json" >/dev/null || fail "agent (stale metadata) should accept"
agent yd run --drain --timeout 30 >>"$T/agent-yd.log" 2>&1 || fail "agent yd did not drain"
agent yd status --json | python3 -c '
import json,sys
d=json.load(sys.stdin)
r=[x for x in d["reports"] if x["state"]=="refused"]
assert r and any(f["code"]=="E041" for f in r[0]["findings"]), d
' || fail "remediation missing the new finding not refused with E041"
pass "finding added after sync: the server refuses E041"

# 3. After a sync the agent knows it too, offline.
agent_sync yd
set +e
agent yd submit "$FIX/remediation.json" >"$T/out.txt" 2>&1; rc=$?
set -e
[ $rc = 1 ] && grep -q E041 "$T/out.txt" || fail "agent does not refuse E041 after sync: $(cat "$T/out.txt")"
pass "after a sync the agent refuses it offline"
