#!/usr/bin/env bash
# Key lifecycle: `cchc key issue` makes a bundle an agent uses at once; a
# revoked key is refused on a connection that is already open; `key revoke`
# takes the id `key list` prints, or the prefix as printed; `key rotate`
# keeps the old key working for the overlap, and with 0 hours refuses it.
. "$(dirname "$0")/lib.sh"
db_start; server_setup; server_start

count() { sql "select count(*) from reports where unit_code = '$1'"; }
# bundle_log NAME: debug logging for an issued bundle's agent.
bundle_log() { printf '[log]\nlevel = debug\n' >>"$T/$1/agent.ini"; }
kagent() {
  local name=$1; shift
  timeout -k 5 90 "$CCHC_BIN/cchc-agent" -c "$T/$name/agent.ini" "$@"
}

# ---- issue: a ready bundle -----------------------------------------------------
out=$("$CCHC_BIN/cchc" key issue xa-van-son --out "$T/b1" --endpoint "$ENDPOINT" \
  --server-key "$T/server.pub")
echo "$out" | grep -q "issued for xa-van-son" || fail "key issue: $out"
for f in agent.ini agent.pub agent.key server.pub; do
  [ -f "$T/b1/$f" ] || fail "bundle lacks $f"
done
[ "$(stat -c %a "$T/b1/agent.key")" = 600 ] || fail "agent.key is not 0600"
cmp -s <(head -c 40 "$T/b1/server.pub") <(head -c 40 "$T/server.pub") || fail "server.pub differs"
grep -q "^unit = xa-van-son" "$T/b1/agent.ini" || fail "agent.ini lacks the unit"
bundle_log b1
kagent b1 submit "$FIX/periodic.json" >/dev/null || fail "submit with the issued bundle"
kagent b1 run --drain --timeout 20 >>"$T/agent-b1.log" 2>&1 || fail "issued bundle not served"
[ "$(count xa-van-son)" = 1 ] || fail "report of the issued bundle not stored once"
pass "key issue makes a bundle an agent can use at once"

"$CCHC_BIN/cchc" key list | grep "xa-van-son" | grep -q "active" || fail "key list: not active"
"$CCHC_BIN/cchc" key list --unit xa-van-son --json | python3 -c '
import json,sys; d=json.load(sys.stdin); assert len(d)==1 and d[0]["state"]=="active", d' \
  || fail "key list --json"
"$CCHC_BIN/cchc" key issue xa-khong-co --out "$T/bx" --server-key "$T/server.pub" 2>/dev/null \
  && fail "key issue for an unknown unit succeeded"
"$CCHC_BIN/cchc" key issue xa-van-son --out "$T/by" 2>/dev/null && fail "issue without server key"
pass "key list shows it active; unknown unit and missing server key refused"

# admin.ini [server] public_key / endpoint stand in for the options.
cat >"$T/admin.ini" <<INI
[database]
conninfo = host=$T/pg user=cchc dbname=postgres
[server]
public_key = server.pub
endpoint = $ENDPOINT
INI
"$CCHC_BIN/cchc" -c "$T/admin.ini" key issue xa-an-ba --out "$T/bz" >/dev/null \
  || fail "key issue with admin.ini [server]"
cmp -s <(head -c 40 "$T/bz/server.pub") <(head -c 40 "$T/server.pub") || fail "bz server.pub differs"
grep -q "^endpoint = $ENDPOINT\$" "$T/bz/agent.ini" || fail "bz endpoint: $(grep endpoint "$T/bz/agent.ini")"
"$CCHC_BIN/cchc" key revoke xa-an-ba >/dev/null || fail "revoke bz"
pass "key issue takes the server key and endpoint from admin.ini [server]"

# ---- revoke: refused on the open connection ----------------------------------------
kagent b1 run >>"$T/agent-b1-daemon.log" 2>&1 &
AGENT_PID=$!
PIDS+=("$AGENT_PID")
sleep 2
kill -0 "$AGENT_PID" || fail "agent daemon exited"
before=$(count xa-van-son)
# The id is what `key list` prints first; the Z85 prefix may hold < * { and the like.
id=$("$CCHC_BIN/cchc" key list --unit xa-van-son | awk 'NR == 2 { print $1 }')
[[ "$id" =~ ^[0-9]+$ ]] || fail "key list's first column is '$id', not an id"
out=$("$CCHC_BIN/cchc" key revoke "$id") || fail "key revoke $id (the id key list printed) failed"
echo "$out" | grep -qxF "key $(head -c 8 "$T/b1/agent.pub")... of xa-van-son revoked" \
  || fail "key revoke $id: $out"
for _ in $(seq 1 50); do
  grep -q 'event=keys_loaded count=0' "$T/server.log" && break
  sleep 0.1
done
sed 's/"revision": 1/"revision": 2/' "$FIX/periodic.json" >"$T/vs2.json"
kagent b1 submit "$T/vs2.json" >"$T/submit2.log" 2>&1 \
  || fail "submit after revoke: $(cat "$T/submit2.log")"
for _ in $(seq 1 50); do
  grep -q 'event=key_refused' "$T/server.log" && break
  sleep 0.1
done
sleep 2
[ "$(count xa-van-son)" = "$before" ] || fail "a report on a revoked key was stored"
grep -q 'event=key_refused' "$T/server.log" || fail "server did not log the refusal"
kill "$AGENT_PID" 2>/dev/null || true
wait "$AGENT_PID" 2>/dev/null || true
kagent b1 status >"$T/status-b1.txt" 2>&1 || true
grep -q "key revoked" "$T/status-b1.txt" \
  || fail "agent status lacks 'key revoked': $(cat "$T/status-b1.txt")"
"$CCHC_BIN/cchc" key list --unit xa-van-son | grep -q "revoked at" || fail "list: not revoked"
"$CCHC_BIN/cchc" key revoke ZZZZZZZZZZ 2>/dev/null && fail "revoking an unknown key succeeded"
pass "a revoked key is refused on its open connection; nothing stored"

# ---- revoke takes what key list prints: the id, or the prefix with its "..." -------------
set +e
"$CCHC_BIN/cchc" key revoke "$id" >/dev/null 2>"$T/err"; rc=$?
set -e
[ $rc = 1 ] && grep -q "^cchc: key $id (.*) is already revoked" "$T/err" \
  || fail "revoking id $id twice: rc=$rc $(cat "$T/err")"
set +e
"$CCHC_BIN/cchc" key revoke 999999 >/dev/null 2>"$T/err"; rc=$?
"$CCHC_BIN/cchc" key revoke --id 12x >/dev/null 2>>"$T/err"; rc2=$?
set -e
[ $rc = 1 ] && grep -q "give the id in the first column of 'cchc key list'" "$T/err" \
  || fail "unknown id: rc=$rc $(cat "$T/err")"
[ $rc2 = 2 ] && grep -q "^cchc: --id '12x' is not a key id" "$T/err" || fail "--id 12x: rc=$rc2"
"$CCHC_BIN/cchc" key issue xa-an-ba --out "$T/p1" --endpoint "$ENDPOINT" \
  --server-key "$T/server.pub" >/dev/null
printed=$("$CCHC_BIN/cchc" key list --unit xa-an-ba --json | python3 -c '
import json,sys; print([k["key"] for k in json.load(sys.stdin) if k["state"] == "active"][0])')
[ "$printed" = "$(head -c 8 "$T/p1/agent.pub")..." ] || fail "key list prints '$printed'"
"$CCHC_BIN/cchc" key revoke -- "$printed" | grep -q "of xa-an-ba revoked" \
  || fail "key revoke of the prefix as key list prints it ($printed)"
"$CCHC_BIN/cchc" key issue xa-an-ba --out "$T/p2" --endpoint "$ENDPOINT" \
  --server-key "$T/server.pub" >/dev/null
"$CCHC_BIN/cchc" key revoke --unit xa-an-ba | grep -q "of xa-an-ba revoked" || fail "--unit"
# Digits that are a key's id and a unit's code too: which one is meant is asked.
"$CCHC_BIN/cchc" key issue xa-an-ba --out "$T/p3" --endpoint "$ENDPOINT" \
  --server-key "$T/server.pub" >/dev/null
id3=$(sql "select id from agent_keys where public_key = '$(cat "$T/p3/agent.pub")'")
sql "insert into units (code, name, kind, valid_from) values ('$id3', 'Đơn vị số', 'other', '2020-01-01')"
set +e
"$CCHC_BIN/cchc" key revoke "$id3" >/dev/null 2>"$T/err"; rc=$?
set -e
[ $rc = 2 ] && grep -q "is both the id of key .* say 'cchc key revoke --id $id3'" "$T/err" \
  || fail "ambiguous id/unit: rc=$rc $(cat "$T/err")"
"$CCHC_BIN/cchc" key revoke --id "$id3" | grep -q "of xa-an-ba revoked" || fail "--id $id3"
"$CCHC_BIN/cchc" key revoke --help | grep -q "ID    the number in the first column of 'cchc key list'" \
  || fail "key --help does not say that revoke takes the id"
pass "key revoke takes the id key list prints ($id), the prefix as printed, --unit; says what it takes"

# ---- rotate: overlap keeps the old key; 0 hours refuses it -------------------------------
"$CCHC_BIN/cchc" key issue xa-an-ba --out "$T/o1" --endpoint "$ENDPOINT" \
  --server-key "$T/server.pub" >/dev/null
bundle_log o1
out=$("$CCHC_BIN/cchc" key rotate xa-an-ba --out "$T/o2" --endpoint "$ENDPOINT" \
  --server-key "$T/server.pub")
echo "$out" | grep -q "expires in 72 hours" || fail "key rotate: $out"
bundle_log o2
"$CCHC_BIN/cchc" key list --unit xa-an-ba | grep -q "expiring at" || fail "list: old not expiring"
report_for xa-an-ba periodic.json "$T/ab.json"
kagent o1 submit "$T/ab.json" >/dev/null
kagent o1 run --drain --timeout 20 >>"$T/agent-o1.log" 2>&1 || fail "old key not served in overlap"
[ "$(count xa-an-ba)" = 1 ] || fail "old key's report not stored"
sed 's/"revision": 1/"revision": 2/' "$T/ab.json" >"$T/ab2.json"
kagent o2 submit "$T/ab2.json" >/dev/null
kagent o2 run --drain --timeout 20 >>"$T/agent-o2.log" 2>&1 || fail "new key not served"
[ "$(count xa-an-ba)" = 2 ] || fail "new key's report not stored"
pass "rotate: the old bundle works during the overlap, the new one works"

"$CCHC_BIN/cchc" key rotate xa-an-ba --overlap-hours 0 --out "$T/o3" --endpoint "$ENDPOINT" \
  --server-key "$T/server.pub" >/dev/null || fail "rotate with overlap 0"
"$CCHC_BIN/cchc" key list --unit xa-an-ba | grep -q "expired" || fail "list: old not expired"
sleep 1
sed 's/"revision": 1/"revision": 3/' "$T/ab.json" >"$T/ab3.json"
kagent o1 submit "$T/ab3.json" >/dev/null 2>&1 || true
kagent o1 run --drain --timeout 4 >>"$T/agent-o1.log" 2>&1 && fail "expired key was served"
[ "$(count xa-an-ba)" = 2 ] || fail "a report on an expired key was stored"
grep -q 'reason=expired' "$T/server.log" || fail "server did not log the expired key"
# Its handshakes (retried for 4 s) are one row of cchc refusals for the minute.
"$CCHC_BIN/cchc" refusals --json | python3 -c '
import json, sys
rows = [r for r in json.load(sys.stdin) if r["kind"] == "key_expired"]
assert len(rows) == 1 and rows[0]["principal"] == "xa-an-ba" and rows[0]["message"] == "handshake" \
    and rows[0]["count"] >= 1, rows' || fail "cchc refusals: $("$CCHC_BIN/cchc" refusals)"
pass "rotate with 0 hours overlap: the old key is refused, and listed by cchc refusals"
kill -0 "$SERVER_PID" || fail "server died"
