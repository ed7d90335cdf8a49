#!/usr/bin/env bash
# An agent pointed at a server it cannot reach: `status` says since when it
# has been unreachable, which endpoint it tried, how many times and when last,
# not "last error: none"; the daemon records it in the outbox without a write
# per attempt, and a connection clears it.
. "$(dirname "$0")/lib.sh"
db_start; server_setup; district_setup; server_start
jget() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
DEAD=$(free_port)   # nothing listens there
DEAD_EP="tcp://127.0.0.1:$DEAD"
agent_setup dn xa-vinh-an
sed -i "s|^endpoint = .*|endpoint = $DEAD_EP|" "$T/dn/agent.ini"
agent dn run --timeout 6 >>"$T/agent-dn.log" 2>&1 || fail "run --timeout 6"
agent dn status >"$T/dn.txt" || fail "status"
grep -q 'Lỗi gần nhất (last error): không có (none)' "$T/dn.txt" && fail "status says 'last error: none': $(cat "$T/dn.txt")"
grep -q "chưa kết nối được máy chủ $DEAD_EP từ 2024-06-20 09:00:00 +07" "$T/dn.txt" \
  || fail "status does not say since when: $(cat "$T/dn.txt")"
grep -Eq 'đã thử kết nối [0-9]+ lần' "$T/dn.txt" || fail "status does not say what it tried: $(cat "$T/dn.txt")"
agent dn status --json >"$T/dn.json"
python3 - "$T/dn.json" "$DEAD_EP" <<'PY' || fail "status --json unreachable: $(cat "$T/dn.json")"
import json, sys
u = json.load(open(sys.argv[1]))["unreachable"]
assert u["endpoint"] == sys.argv[2], u
assert u["since_ms"] == 1718848800000 and u["last_attempt_ms"] == 1718848800000, u
assert u["attempts"] >= 2, u
PY
attempts=$(jget 'd["unreachable"]["attempts"]' <"$T/dn.json")
saves=$(grep -c 'event=unreachable_saved' "$T/agent-dn.log" || true)
[ "$saves" -ge 1 ] && [ "$saves" -lt "$attempts" ] \
  || fail "the outbox was written $saves times for $attempts attempts"
pass "status says since when the server is unreachable, the endpoint and $attempts attempts ($saves writes)"

# Once the server is reachable, the record goes.
sed -i "s|^endpoint = .*|endpoint = $ENDPOINT|" "$T/dn/agent.ini"
agent dn run --timeout 3 >>"$T/agent-dn.log" 2>&1 || fail "dn run against the server"
grep -q "event=connected" "$T/agent-dn.log" || fail "dn did not connect"
agent dn status >"$T/dn2.txt"
grep -q 'chưa kết nối được' "$T/dn2.txt" && fail "still unreachable after a connection: $(cat "$T/dn2.txt")"
[ "$(agent dn status --json | jget 'd["unreachable"]')" = None ] || fail "json unreachable not cleared"
pass "a connection clears it"
