#!/usr/bin/env bash
# A report refused because the agent's key was revoked is not something the
# officer must fix and retype: the server says KEY_REVOKED (its own reason,
# Vietnamese and English), the agent holds the report in a state of its own
# and says plainly what to do, and once the district's new key is installed
# and the agent restarted, the report goes out again by itself.
. "$(dirname "$0")/lib.sh"
db_start; server_setup; district_setup; server_start
jget() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }

"$CCHC_BIN/cchc" key issue xa-van-son --out "$T/vs" --endpoint "$ENDPOINT" \
  --server-key "$T/server.pub" >/dev/null || fail "key issue"
printf '[log]\nlevel = debug\n' >>"$T/vs/agent.ini"
timeout -k 5 90 "$CCHC_BIN/cchc-agent" -c "$T/vs/agent.ini" run >>"$T/agent-vs.log" 2>&1 &
AGENT_PID=$!
PIDS+=("$AGENT_PID")
for _ in $(seq 1 100); do grep -q 'event=connected' "$T/agent-vs.log" && break; sleep 0.1; done
grep -q 'event=connected' "$T/agent-vs.log" || fail "the agent did not connect"

loads=$(grep -c 'event=keys_loaded' "$T/server.log" || true)
"$CCHC_BIN/cchc" key revoke xa-van-son >/dev/null || fail "key revoke"
for _ in $(seq 1 50); do [ "$(grep -c 'event=keys_loaded' "$T/server.log")" -gt "$loads" ] && break; sleep 0.1; done
agent vs submit "$FIX/periodic.json" >/dev/null || fail "submit after the revocation"
for _ in $(seq 1 100); do
  [ "$(agent vs status --json | jget 'd["queued"]')" = 0 ] && break
  sleep 0.1
done
kill "$AGENT_PID"; wait "$AGENT_PID" || fail "the daemon did not stop cleanly"
grep -q 'event=key_refused' "$T/server.log" || fail "the server did not refuse the key"
grep -q 'reason=KEY_REVOKED' "$T/agent-vs.log" || fail "the agent was not told KEY_REVOKED"
[ "$(sql "select count(*) from reports")" = 0 ] || fail "a report on a revoked key was stored"

agent vs status --json >"$T/st1.json"
python3 - "$T/st1.json" <<'PY' || fail "status --json after the revocation: $(cat "$T/st1.json")"
import json, sys
d = json.load(open(sys.argv[1]))
r = d["reports"][0]
assert d["refused"] == 0 and d["held"] == 1 and d["queued"] == 0, d
assert r["state"] == "held" and r["reason"].startswith("KEY_REVOKED"), r
PY
agent vs status >"$T/st1.txt"
grep -q 'cần sửa' "$T/st1.txt" && fail "a held report is listed to fix: $(cat "$T/st1.txt")"
grep -q '^Báo cáo chờ khoá mới' "$T/st1.txt" || fail "no held section: $(cat "$T/st1.txt")"
grep -q 'khoá của máy trạm đã bị thu hồi hoặc hết hạn' "$T/st1.txt" \
  || fail "status does not say the key was revoked, in Vietnamese: $(cat "$T/st1.txt")"
grep -q 'tự gửi lại, không cần nhập lại' "$T/st1.txt" || fail "status does not say it goes out again"
grep -q 'key revoked' "$T/st1.txt" || fail "status has no English: $(cat "$T/st1.txt")"
pass "a report refused for a revoked key is held, not to fix, and status says why and what to do"

# Restarting with the same (revoked) key changes nothing.
agent vs run --timeout 3 >>"$T/agent-vs.log" 2>&1 || true
[ "$(agent vs status --json | jget 'd["held"]')" = 1 ] || fail "a restart with the same key released it"

# The district issues a new key; the officer installs its agent.key and
# agent.pub and restarts the agent.
"$CCHC_BIN/cchc" key issue xa-van-son --out "$T/nb" --endpoint "$ENDPOINT" \
  --server-key "$T/server.pub" >/dev/null || fail "key issue (new)"
cp "$T/nb/agent.key" "$T/nb/agent.pub" "$T/vs/"
agent vs run --drain --timeout 20 >>"$T/agent-vs.log" 2>&1 || fail "not delivered with the new key"
grep -q 'event=key_changed.*requeued=1' "$T/agent-vs.log" || fail "the agent did not say it requeued"
[ "$(sql "select count(*) from reports where unit_code = 'xa-van-son' and status = 'accepted'")" = 1 ] \
  || fail "the held report was not stored"
agent vs status --json | python3 -c '
import json,sys; d=json.load(sys.stdin)
assert d["held"] == 0 and d["delivered"] == 1 and d["refused"] == 0, d' || fail "status after the new key"
agent vs status | grep -q 'chờ khoá mới' && fail "still shown as held"
pass "with the new key installed and the agent restarted, the held report goes out without retyping"
