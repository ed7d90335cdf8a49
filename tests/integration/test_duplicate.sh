#!/usr/bin/env bash
# The same message delivered twice is stored once and both copies are acked;
# a copy arriving much later (after a server restart) is acked too.
. "$(dirname "$0")/lib.sh"
db_start; server_setup; server_start
agent_setup vs xa-van-son

out=$(tclient --endpoint "$ENDPOINT" --server-key "$T/server.pub" --key "$T/vs/agent" \
  --report "$FIX/periodic.json" --epoch 77 --msg-id 5 --repeat 2)
echo "$out"
[ "$(echo "$out" | grep -c '^ACK msg_id=5 ')" = 2 ] || fail "both copies must be acked"
echo "$out" | grep -q 'duplicate=1' || fail "second copy must be flagged duplicate"
[ "$(sql "select count(*) from reports")" = 1 ] || fail "expected one row"
id=$(sql "select id from reports")

kill -TERM "$SERVER_PID"; wait "$SERVER_PID" || fail "server exit code on SIGTERM"
server_start
out=$(tclient --endpoint "$ENDPOINT" --server-key "$T/server.pub" --key "$T/vs/agent" \
  --report "$FIX/periodic.json" --epoch 77 --msg-id 5)
echo "$out" | grep -q "^ACK msg_id=5 report_id=$id duplicate=1" || fail "late copy: $out"
[ "$(sql "select count(*) from reports")" = 1 ] || fail "late copy stored again"
pass "duplicate delivery: one row, every copy acked"
