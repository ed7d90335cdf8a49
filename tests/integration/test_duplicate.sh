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
# Both copies (most often in one batch) are answered with the stored row's id.
[ "$(echo "$out" | grep -c "^ACK msg_id=5 report_id=$id ")" = 2 ] ||
  fail "both copies must be acked with report_id=$id"

kill -TERM "$SERVER_PID"; wait "$SERVER_PID" || fail "server exit code on SIGTERM"
server_start
out=$(tclient --endpoint "$ENDPOINT" --server-key "$T/server.pub" --key "$T/vs/agent" \
  --report "$FIX/periodic.json" --epoch 77 --msg-id 5)
echo "$out" | grep -q "^ACK msg_id=5 report_id=$id duplicate=1" || fail "late copy: $out"
[ "$(sql "select count(*) from reports")" = 1 ] || fail "late copy stored again"

# Two copies of one message in one batch (the store's statement itself): the
# second is answered with the first's row, which is stored once.
copy='{"unit":"xa-van-son","epoch":78,"msg_id":9,"type":"NV_KH","kind":"task_progress",
  "period":"","revision":1,"subject":"KH87-07","sent_at":1700000000000,"sealed_at":0,
  "payload":"CgVOVl9LSA==","body":{"task":"KH87-07","status":"in_progress","percent":5},
  "status":"accepted","findings":[],"received_at":1700000000000,
  "sealed_trusted_at":1700000000000,"skew":0}'
got=$(sql "select string_agg(ord || ':' || id || ':' || duplicate, ' ' order by ord)
           from cchc_store_batch(jsonb_build_array(
             '$copy'::jsonb || '{\"ord\":0}', '$copy'::jsonb || '{\"ord\":1}'))")
row=$(sql "select id from reports where agent_epoch = 78 and msg_id = 9")
[ -n "$row" ] && [ "$got" = "0:$row:false 1:$row:true" ] ||
  fail "two copies in one batch: got '$got', stored row '$row'"
# The server's own call (028): the payloads apart, in binary; two copies of
# one message whose bytes differ are answered as one, the second saying so,
# and the row keeps the first's bytes and its body.
got=$(sql "select string_agg(ord || ':' || id || ':' || duplicate || ':' || same_payload, ' '
                             order by ord)
           from cchc_store_batch(jsonb_build_array(
             '$copy'::jsonb - 'payload' || '{\"ord\":0,\"epoch\":79}',
             '$copy'::jsonb - 'payload' || '{\"ord\":1,\"epoch\":79}'),
             array['\\x0102'::bytea, '\\x0103'::bytea])")
row=$(sql "select id from reports where agent_epoch = 79 and msg_id = 9")
[ -n "$row" ] && [ "$got" = "0:$row:false:true 1:$row:true:false" ] ||
  fail "two copies of different bytes in one batch: got '$got'"
[ "$(sql "select encode(payload, 'hex') || ' ' || (body->>'percent')
          from reports where agent_epoch = 79 and msg_id = 9")" = "0102 5" ] ||
  fail "the stored row is not the first copy: $(sql "select payload, body from reports
                                                    where agent_epoch = 79")"

# Two messages of one key with the same revision in one batch: the second is
# refused E007 by the store itself (no stored revision, so only its check
# against the batch's earlier one finds it), and each gets its receipt, in
# the batch's order (035 runs that check, and the refused receipts, only
# when the batch needs them).
seq0=$(sql "select coalesce(max(seq), 0) from notifications")
got=$(sql "select string_agg(ord || ':' || status, ' ' order by ord)
           from cchc_store_batch(jsonb_build_array(
             '$copy'::jsonb || '{\"ord\":0,\"epoch\":80,\"msg_id\":1,\"subject\":\"KH87-08\"}',
             '$copy'::jsonb || '{\"ord\":1,\"epoch\":80,\"msg_id\":2,\"subject\":\"KH87-08\"}'))")
[ "$got" = "0:accepted 1:rejected" ] || fail "same revision twice in one batch: got '$got'"
got=$(sql "select string_agg(n.kind || ':' || r.msg_id, ' ' order by n.seq)
           from notifications n join reports r on n.dedup_key = n.kind || ':' || r.id
           where n.seq > $seq0")
[ "$got" = "report.accepted:1 report.rejected:2" ] ||
  fail "receipts of a batch with a revision refused in the store: got '$got'"
[ "$(sql "select count(*) from reports r where r.agent_epoch = 80 and r.msg_id = 2
            and r.findings @> '[{\"code\": \"E007\"}]'")" = 1 ] ||
  fail "the refused revision is not stored with E007"
pass "duplicate delivery: one row, every copy acked"
