#!/usr/bin/env bash
# submit then run: each report is stored once, acked, and shown as delivered;
# a second run sends nothing again.
. "$(dirname "$0")/lib.sh"
db_start; server_setup; district_setup; server_start
agent_setup vs xa-van-son
agent_setup tnmt p-tnmt
agent_setup yd xa-yen-dinh

out=$(agent vs submit "$FIX/periodic.json")
echo "$out" | grep -q 'id=1 ' || fail "submit did not print id=1: $out"
agent tnmt submit "$FIX/task_progress.json" >/dev/null
agent yd submit "$FIX/remediation.json" >/dev/null
[ "$(agent vs status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["queued"])')" = 1 ] \
  || fail "report not queued before run"

for a in vs tnmt yd; do
  agent $a run --drain --timeout 30 >>"$T/agent-$a.log" 2>&1 || fail "agent $a did not drain"
done
pass "three agents drained"

[ "$(sql "select count(*) from reports")" = 3 ] || fail "expected 3 rows"
[ "$(sql "select report_type||'|'||period||'|'||content_kind||'|'||(body->'dossiers'->0->>'field') from reports where unit_code='xa-van-son'")" \
  = "CCHC_DK|2024S1|periodic|HO_TICH" ] || fail "decoded fields of the periodic report"
[ "$(sql "select subject||'|'||content_kind from reports where unit_code='xa-yen-dinh'")" = "KT-2024-05|remediation" ] \
  || fail "remediation subject"
[ "$(sql "select subject from reports where unit_code='p-tnmt'")" = "KH87-07" ] || fail "task subject"
[ "$(sql "select octet_length(payload) > 100 from reports where unit_code='xa-van-son'")" = t ] || fail "payload kept"
pass "stored once each, with raw payload and decoded fields"

agent vs status --json | python3 -c '
import json,sys
d=json.load(sys.stdin)
assert d["delivered"]==1 and d["queued"]==0 and d["refused"]==0, d
r=d["reports"][0]
assert r["state"]=="delivered" and r["server_report_id"]>0, r
' || fail "status does not show the report delivered"
agent vs status | grep -qi 'delivered\|đã gửi' || fail "human status lacks delivered"
pass "status shows delivered"

agent vs run --drain --timeout 10 >>"$T/agent-vs.log" 2>&1 || fail "second run"
[ "$(sql "select count(*) from reports")" = 3 ] || fail "second run stored again"
"$CCHC_BIN/cchc" report list --json | python3 -c 'import json,sys; assert len(json.load(sys.stdin))==3' \
  || fail "cchc report list"
"$CCHC_BIN/cchc" report list --unit xa-van-son | grep -q CCHC_DK || fail "cchc report list --unit"
pass "nothing sent twice; cchc report list shows the reports"

# A daemon already running sends what is submitted meanwhile at once: it
# watches the outbox's files (it looks at the outbox every 30 s otherwise).
"$CCHC_BIN/cchc-agent" -c "$T/tnmt/agent.ini" run >>"$T/agent-tnmt.log" 2>&1 &
RUN_PID=$!
sleep 2
sed 's/"revision": 1/"revision": 2/' "$FIX/task_progress.json" >"$T/tp2.json"
agent tnmt submit "$T/tp2.json" >/dev/null
for _ in $(seq 1 50); do
  [ "$(sql "select count(*) from reports where unit_code = 'p-tnmt' and revision = 2")" = 1 ] && break
  sleep 0.1
done
[ "$(sql "select count(*) from reports where unit_code = 'p-tnmt' and revision = 2")" = 1 ] \
  || fail "the running daemon did not send a report submitted meanwhile within 5 s"
kill -TERM "$RUN_PID"; wait "$RUN_PID" || true
pass "a running daemon sends a report submitted meanwhile within 5 s"
