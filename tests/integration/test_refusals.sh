#!/usr/bin/env bash
# Refused at the door: unknown key, no CURVE, a wrong server key, another
# unit's report, garbage, an unknown body, oversized frames. Nothing is stored
# and a good agent is still served.
. "$(dirname "$0")/lib.sh"
db_start; server_setup; server_start
agent_setup vs xa-van-son

mkdir -p "$T/stranger"
"$CCHC_BIN/cchc-agent" -c "$T/vs/agent.ini" keygen --out "$T/stranger/agent" >/dev/null
out=$(tclient --endpoint "$ENDPOINT" --server-key "$T/server.pub" --key "$T/stranger/agent" \
  --report "$FIX/periodic.json")
echo "$out" | grep -q '^HANDSHAKE_FAILED' || fail "unknown key not refused at handshake: $out"
grep -q 'event=zap_refused' "$T/server.log" || fail "server did not log the refusal"
pass "unknown key refused at the handshake"

out=$(tclient --plain --endpoint "$ENDPOINT" --unit xa-van-son --timeout 2000 || true)
echo "$out" | grep -q 'HANDSHAKE_FAILED\|TIMEOUT' || fail "client without CURVE was served: $out"
pass "client without CURVE refused"

# The client holds the wrong server key: the server cannot read its HELLO, so
# no handshake completes and nothing it sends is read.
"$CCHC_BIN/cchc-server" --keygen "$T/impostor" >/dev/null
out=$(tclient --endpoint "$ENDPOINT" --server-key "$T/impostor.pub" --key "$T/vs/agent" \
  --report "$FIX/periodic.json" --timeout 3000 || true)
echo "$out" | grep -q 'HANDSHAKE_FAILED\|TIMEOUT' || fail "wrong server key was served: $out"
! echo "$out" | grep -q '^ACK' || fail "wrong server key got an ACK: $out"
pass "a client with a wrong server key gets no handshake"

report_for xa-an-ba periodic.json "$T/other.json"
out=$(tclient --endpoint "$ENDPOINT" --server-key "$T/server.pub" --key "$T/vs/agent" \
  --report "$T/other.json" --unit xa-an-ba --msg-id 9)
echo "$out" | grep -q '^NACK msg_id=9 reason=UNIT_MISMATCH' || fail "unit mismatch: $out"
out=$(tclient --endpoint "$ENDPOINT" --server-key "$T/server.pub" --key "$T/vs/agent" \
  --report "$T/other.json" --unit xa-van-son --msg-id 10)
echo "$out" | grep -q '^NACK msg_id=10 reason=UNIT_MISMATCH' || fail "report.unit mismatch: $out"
pass "report for another unit gets UNIT_MISMATCH"

out=$(tclient --endpoint "$ENDPOINT" --server-key "$T/server.pub" --key "$T/vs/agent" --garbage 300)
echo "$out" | grep -q '^NACK msg_id=0 reason=MALFORMED' || fail "garbage: $out"
out=$(tclient --endpoint "$ENDPOINT" --server-key "$T/server.pub" --key "$T/vs/agent" --unknown-body)
echo "$out" | grep -q '^NACK msg_id=7 reason=UNSUPPORTED' || fail "unknown body: $out"
pass "garbage gets MALFORMED, unknown body gets UNSUPPORTED"

# Oversized: just over max_frame is read, refused and counted; far over it,
# libzmq drops the connection before reading (ZMQ_MAXMSGSIZE).
out=$(tclient --endpoint "$ENDPOINT" --server-key "$T/server.pub" --key "$T/vs/agent" \
  --garbage $((1048576 + 1000)))
echo "$out" | grep -q '^NACK msg_id=0 reason=MALFORMED detail=frame of 1049576 bytes is over the limit of 1048576' \
  || fail "oversized frame: $out"
out=$(tclient --endpoint "$ENDPOINT" --server-key "$T/server.pub" --key "$T/vs/agent" \
  --garbage $((8 * 1048576)) --timeout 3000 || true)
! echo "$out" | grep -q '^ACK' || fail "a huge frame got an ACK: $out"
kill -0 "$SERVER_PID" || fail "server died on a huge frame"
pass "oversized frames: refused MALFORMED just over max_frame, connection dropped far over"

[ "$(sql "select count(*) from reports")" = 0 ] || fail "something was stored"
kill -0 "$SERVER_PID" || fail "server died"
agent vs submit "$FIX/periodic.json" >/dev/null
agent vs run --drain --timeout 20 >>"$T/agent.log" 2>&1 || fail "good agent not served"
[ "$(sql "select count(*) from reports")" = 1 ] || fail "good report not stored"
pass "server unaffected: a good agent is served"
