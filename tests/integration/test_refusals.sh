#!/usr/bin/env bash
# Refused at the door: unknown key, no CURVE, a wrong server key, another
# unit's report, garbage, an unknown body, oversized frames. Nothing is stored
# and a good agent is still served. What known principals were refused (another
# unit's reports, a revoked key sending, a subscriber outside its topics or
# sending a report) is listed by `cchc refusals`, one row a minute however many.
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

# ---- refused principals are listed for operators: cchc refusals ----------------------------
# On the server's clock (2024-06-20 09:00): xa-van-son's key sent reports for
# xa-an-ba, twice above and 200 times now: one row for the minute, counted.
cchc() { "$CCHC_BIN/cchc" "$@"; }
# refusals_until PY: polls `cchc refusals --json` (as r) until PY is true,
# for up to 30 s (50 tries, about 10 s, were not enough under ASan with a
# second suite running beside it).
refusals_until() {
  local end=$((SECONDS + 30))
  while [ "$SECONDS" -lt "$end" ]; do
    cchc refusals --json | python3 -c "import json, sys; r = json.load(sys.stdin); sys.exit(0 if ($1) else 1)" \
      && return 0
    sleep 0.1
  done
  fail "cchc refusals never showed $1: $(cchc refusals)"
}
out=$(tclient --endpoint "$ENDPOINT" --server-key "$T/server.pub" --key "$T/vs/agent" \
  --report "$T/other.json" --unit xa-an-ba --msg-id 11 --repeat 200)
[ "$(echo "$out" | grep -c 'reason=UNIT_MISMATCH')" = 200 ] || fail "the flood: $(echo "$out" | sort | uniq -c)"
refusals_until 'len(r) == 1 and r[0]["count"] == 202'
pass "202 reports for another unit in one minute are one row, counted 202"

# The next refusals happen on 2024-06-21, for --since to tell them apart.
kill -TERM "$SERVER_PID"; wait "$SERVER_PID" || fail "server did not stop cleanly"
CCHC_CLOCK=2024-06-21T10:00:00+07:00 server_start

# A revoked key sending, on the connection it opened before the revocation.
agent_setup rv xa-an-ba
agent rv run >>"$T/agent-rv.log" 2>&1 &
RV_PID=$!; PIDS+=("$RV_PID")
for _ in $(seq 1 50); do grep -q 'event=hello unit=xa-an-ba' "$T/server.log" && break; sleep 0.1; done
rv_id=$(cchc key list --unit xa-an-ba | awk 'NR == 2 { print $1 }')
loads=$(grep -c 'event=keys_loaded' "$T/server.log")
cchc key revoke "$rv_id" >/dev/null || fail "key revoke $rv_id"
for _ in $(seq 1 50); do [ "$(grep -c 'event=keys_loaded' "$T/server.log")" -gt "$loads" ] && break; sleep 0.1; done
agent rv submit "$T/other.json" >/dev/null || fail "submit on the revoked key"
for _ in $(seq 1 100); do agent rv status 2>/dev/null | grep -q "key revoked" && break; sleep 0.1; done
agent rv status | grep -q "key revoked" || fail "the report on the revoked key was not refused"
kill "$RV_PID" 2>/dev/null || true; wait "$RV_PID" 2>/dev/null || true

# A subscriber asking outside its topics (deadline. only), and sending a report.
cchc subscriber add narrow --topics deadline. --out "$T/subs" >/dev/null || fail "subscriber add"
cat >"$T/narrow.ini" <<INI
[database]
conninfo = host=$T/pg user=cchc dbname=postgres
[watch]
endpoint = $ENDPOINT
server_key = $T/server.pub
public_key = $T/subs/narrow.pub
secret_key = $T/subs/narrow.key
INI
for _ in $(seq 1 50); do [ "$(grep -c 'event=keys_loaded' "$T/server.log")" -gt "$((loads + 1))" ] && break; sleep 0.1; done
rc=0; timeout 30 "$CCHC_BIN/cchc" -c "$T/narrow.ini" watch --json --topic report.overdue.xa-an-ba \
  >/dev/null 2>"$T/watch.err" || rc=$?
[ $rc = 1 ] && grep -q 'a topic outside this subscriber' "$T/watch.err" || fail "watch outside: $rc $(cat "$T/watch.err")"
out=$(tclient --endpoint "$ENDPOINT" --server-key "$T/server.pub" --key "$T/subs/narrow" \
  --report "$FIX/periodic.json" --msg-id 12)
echo "$out" | grep -q 'reason=UNSUPPORTED' || fail "a subscriber's report: $out"

vs_id=$(sql "select id from agent_keys where unit_code = 'xa-van-son'")
sub_id=$(sql "select id from subscribers where name = 'narrow'")
refusals_until 'len(r) == 4 and sum(x["count"] for x in r if x["kind"] == "key_revoked") >= 1'
cchc refusals --json >"$T/refusals.json"
python3 - "$T/refusals.json" "$vs_id" "$rv_id" "$sub_id" <<'PY' || fail "cchc refusals --json: $(cat "$T/refusals.json")"
import json, sys
rows = {r["kind"]: r for r in json.load(open(sys.argv[1]))}
vs, rv, sub = (int(a) for a in sys.argv[2:5])
def has(kind, **want):
    r = rows[kind]
    for k, v in want.items():
        assert r[k] == v, (kind, k, r[k], v)
has("unit_mismatch", principal="xa-van-son", key_id=vs, claimed="xa-an-ba", message="report",
    count=202, minute="2024-06-20T02:00:00.000Z")
has("key_revoked", principal="xa-an-ba", key_id=rv, claimed=None, minute="2024-06-21T03:00:00.000Z")
has("topic_outside", principal="sub:narrow", key_id=sub, claimed="report.overdue.xa-an-ba",
    message="replay")
has("not_allowed", principal="sub:narrow", key_id=sub, message="report", count=1)
# Its report at least (a key's change changes no unit's metadata: no
# MetaChanged, so no sync of the agent's to refuse too).
assert rows["key_revoked"]["count"] >= 1
assert sorted(rows) == ["key_revoked", "not_allowed", "topic_outside", "unit_mismatch"], sorted(rows)
PY
cchc refusals >"$T/refusals.txt"
grep -q '^Phút  *Lý do từ chối  *Bên gửi  *Mã khoá  *Khai là  *Loại tin  *Số lần$' "$T/refusals.txt" \
  || fail "cchc refusals header: $(head -1 "$T/refusals.txt")"
grep -q "^2024-06-20 09:00  *báo cáo cho đơn vị khác  *xa-van-son  *$vs_id  *xa-an-ba  *report  *202$" \
  "$T/refusals.txt" || fail "cchc refusals: $(cat "$T/refusals.txt")"
grep -q "^2024-06-21 10:00  *khoá đã thu hồi  *xa-an-ba  *$rv_id  " "$T/refusals.txt" \
  || fail "no revoked key row: $(cat "$T/refusals.txt")"
grep -q "^2024-06-21 10:00  *chủ đề ngoài phạm vi được cấp  *sub:narrow  *$sub_id  *report.overdue.xa-an-ba  *replay  *[0-9]*$" \
  "$T/refusals.txt" || fail "no topic row: $(cat "$T/refusals.txt")"
pass "cchc refusals lists another unit's reports, a revoked key sending, a subscriber outside its topics"

[ "$(cchc refusals --since 2024-06-21 --json | python3 -c 'import json,sys; print(" ".join(sorted(r["kind"] for r in json.load(sys.stdin))))')" \
  = "key_revoked not_allowed topic_outside" ] || fail "--since 2024-06-21: $(cchc refusals --since 2024-06-21)"
[ "$(cchc refusals --since 2024-06-20 --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 4 ] \
  || fail "--since 2024-06-20"
cchc refusals --since 2024-06-22 | grep -qx "no refusals recorded since that day" || fail "--since 2024-06-22"
cchc refusals --since 2024-06-21 --csv | head -1 | grep -q $'^\xef\xbb\xbfPhút,Lý do từ chối,Bên gửi,Mã khoá,Khai là,Loại tin,Số lần\r$' \
  || fail "--csv header: $(cchc refusals --csv | head -1 | od -c | head -2)"
rc=0; cchc refusals --since 2024-13-01 >/dev/null 2>"$T/err" || rc=$?
[ $rc = 2 ] && grep -q "^cchc: --since '2024-13-01' is not a valid date" "$T/err" || fail "bad --since: $rc"
pass "--since keeps the refusals from that day on (Vietnam time); --csv; a bad day exits 2"
kill -0 "$SERVER_PID" || fail "server died"
