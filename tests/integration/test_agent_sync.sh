#!/usr/bin/env bash
# `cchc-agent sync` fetches the district's data on demand, says which version
# it got and what changed, and fails (exit 1, Vietnamese first, naming the
# endpoint) when it cannot; `run --drain` with nothing queued still waits for
# one metadata sync, so a freshly installed agent has the district's data.
. "$(dirname "$0")/lib.sh"
db_start; server_setup; district_setup; server_start
jget() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
DEAD=$(free_port)   # nothing listens there
DEAD_EP="tcp://127.0.0.1:$DEAD"
agent_setup vs xa-van-son
agent vs status | grep -q 'chưa đồng bộ (never synced)' || fail "status before sync"
agent vs sync --timeout 20 >"$T/sync1.out" 2>"$T/sync1.err" || fail "sync: $(cat "$T/sync1.out" "$T/sync1.err")"
version=$(sed -n 's/.*phiên bản (version) \([0-9a-f]\{16\}\).*/\1/p' "$T/sync1.out" | head -1)
[ -n "$version" ] || fail "sync did not print the version: $(cat "$T/sync1.out")"
grep -q 'loại báo cáo (report types): 3' "$T/sync1.out" || fail "sync does not say what it got: $(cat "$T/sync1.out")"
sed 's/^/# /' "$T/sync1.out"
[ "$(agent vs status --json | jget 'd["metadata_version"]')" = "$version" ] || fail "status version"
agent vs template periodic >"$T/tpl.json" 2>/dev/null || fail "template after sync"
grep -q '"type": "CCHC_DK"' "$T/tpl.json" || fail "template lacks the synced type"
agent vs sync >"$T/sync2.out" 2>"$T/sync2.err" || fail "second sync"
grep -q "không thay đổi (unchanged), phiên bản (version) $version" "$T/sync2.out" \
  || fail "second sync: $(cat "$T/sync2.out")"
"$CCHC_BIN/cchc" inspection add xa-van-son --team "Đoàn kiểm tra" --date 2024-06-10 \
  --conclusion 15/TB-UBND/2024-06-14 --code KT-2024-09 >/dev/null
"$CCHC_BIN/cchc" finding add KT-2024-09 "Chưa cập nhật sổ theo dõi hồ sơ" >/dev/null
agent vs sync >"$T/sync3.out" 2>"$T/sync3.err" || fail "third sync"
grep -q "trước đó (was) $version" "$T/sync3.out" && grep -q 'cuộc kiểm tra (inspections): 0 → 1' "$T/sync3.out" \
  || fail "sync after a change does not say what changed: $(cat "$T/sync3.out")"
sed 's/^/# /' "$T/sync3.out"
pass "cchc-agent sync prints the version, what it got, unchanged, and what changed"

t0=$SECONDS
set +e
agent vs --set "server.endpoint=$DEAD_EP" sync --timeout 3 >"$T/syncx.out" 2>"$T/syncx.err"; rc=$?
set -e
[ $rc = 1 ] || fail "sync with no server exited $rc"
[ $((SECONDS - t0)) -le 8 ] || fail "sync --timeout 3 took $((SECONDS - t0)) s"
# The first line for the officer (the debug log of agent.ini aside).
grep -v ' cchc-agent [a-z]* event=' "$T/syncx.err" >"$T/syncx.msg" || true
head -1 "$T/syncx.msg" | grep -q "^Không đồng bộ được dữ liệu của huyện" || fail "not Vietnamese first: $(cat "$T/syncx.msg")"
grep -q "$DEAD_EP" "$T/syncx.msg" || fail "the failure does not name the endpoint: $(cat "$T/syncx.msg")"
grep -q "(could not sync" "$T/syncx.msg" || fail "no English: $(cat "$T/syncx.msg")"
sed 's/^/# /' "$T/syncx.msg"
pass "sync that cannot reach the server exits 1 in time, Vietnamese first, naming the endpoint"

agent_setup ab xa-an-ba
agent ab run --drain --timeout 20 >>"$T/agent-ab.log" 2>&1 || fail "run --drain with an empty outbox"
[ "$(agent ab status --json | jget 'd["metadata_version"]')" != None ] \
  || fail "run --drain with an empty outbox exited before the metadata sync"
pass "run --drain with nothing queued waits for one metadata sync"

