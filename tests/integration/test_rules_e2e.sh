#!/usr/bin/env bash
# The district's rules end to end: the example reports are accepted; a broken
# one is refused offline by the agent, with every finding, and nothing queued.
. "$(dirname "$0")/lib.sh"
db_start; server_setup; district_setup; server_start
agent_setup vs xa-van-son
agent_setup yd xa-yen-dinh
agent_setup tnmt p-tnmt
for a in vs yd tnmt; do agent_sync $a; done
pass "agents synced their unit's metadata"

agent vs submit "$FIX/periodic.json" >/dev/null || fail "periodic example refused by the agent"
agent yd submit "$FIX/remediation.json" >/dev/null || fail "remediation example refused by the agent"
agent tnmt submit "$FIX/task_progress.json" >/dev/null || fail "task example refused by the agent"
for a in vs yd tnmt; do
  agent $a run --drain --timeout 30 >>"$T/agent-$a.log" 2>&1 || fail "agent $a did not drain"
done
[ "$(sql "select count(*) from reports where status='accepted'")" = 3 ] \
  || fail "examples not all accepted: $(sql "select unit_code||' '||status||' '||findings::text from reports")"
[ "$(sql "select count(*) from dossier_rows")" = 2 ] || fail "dossier rows not stored"
[ "$(sql "select count(*) from overdue_dossiers where length(cause) >= 10")" = 4 ] || fail "overdue dossiers"
[ "$(sql "select count(*) from remediation_items")" = 4 ] || fail "remediation items"
# Every column of the parts as the example has it (the store reads them from
# the body the server wrote: 028 reads each array in one pass).
want=$(python3 - "$FIX/periodic.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
v = lambda x: "-" if x is None or x == "" else str(x)
print(";".join("|".join(v(d.get(k)) for k in
      ("field", "carried_over", "new_online", "new_direct_postal", "resolved_early",
       "resolved_on_time", "resolved_late", "pending_in_time", "pending_overdue", "comment"))
      for d in sorted(r["dossiers"], key=lambda d: d["field"])))
print(";".join("|".join([str(i + 1)] + [v(d.get(k)) for k in
      ("code", "field", "procedure", "received", "due", "resolved", "cause", "remedy")]
      + [v((d.get("apology") or {}).get(k)) for k in ("number", "date", "new_due")])
      for i, d in enumerate(r["overdue_dossiers"])))
PY
)
got=$(sql "select string_agg(concat_ws('|', field, carried_over, new_online, new_direct_postal,
             resolved_early, resolved_on_time, resolved_late, pending_in_time, pending_overdue,
             coalesce(nullif(comment, ''), '-')), ';' order by field) from dossier_rows"
      sql "select string_agg(concat_ws('|', seq, code, field, coalesce(nullif(procedure, ''), '-'),
             coalesce(received::text, '-'), coalesce(due::text, '-'),
             coalesce(resolved::text, '-'), cause, remedy, coalesce(apology_number, '-'),
             coalesce(apology_date::text, '-'), coalesce(apology_new_due::text, '-')), ';'
             order by seq) from overdue_dossiers")
[ "$got" = "$want" ] || fail "the parts stored differ from the example's: got
$got
want
$want"
[ "$(sql "select string_agg(status, ',' order by no) from inspection_findings")" \
  = "remedied,remedied,in_progress,not_remedied" ] || fail "finding status does not follow the report"
[ "$(sql "select percent from task_progress")" = 60 ] || fail "task progress"
pass "the three example reports accepted and stored with their parts"

# E016: 3 of the 4 overdue dossiers listed: the agent refuses it offline.
python3 - "$FIX/periodic.json" "$T/e016.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); r["overdue_dossiers"].pop(); r["revision"] = 2
json.dump(r, open(sys.argv[2], "w"), ensure_ascii=False)
PY
set +e
agent vs submit "$T/e016.json" >"$T/out.txt" 2>&1; rc=$?
set -e
[ $rc = 1 ] || fail "E016 report: exit $rc"
grep -q 'E016' "$T/out.txt" || fail "E016 not printed: $(cat "$T/out.txt")"
grep -q 'E017' "$T/out.txt" && fail "unexpected E017"
[ "$(agent vs status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["queued"])')" = 0 ] \
  || fail "refused report was queued"
pass "E016 refused offline, nothing queued"

# A later revision supersedes the earlier one and keeps its receipt time.
sed 's/"revision": 1/"revision": 2/' "$FIX/periodic.json" >"$T/rev2.json"
agent vs submit "$T/rev2.json" >/dev/null
agent vs run --drain --timeout 30 >>"$T/agent-vs.log" 2>&1 || fail "revision 2 not delivered"
[ "$(sql "select string_agg(revision||':'||status, ',' order by revision) from reports where unit_code='xa-van-son'")" \
  = "1:superseded,2:accepted" ] || fail "supersede: $(sql "select revision, status from reports where unit_code='xa-van-son'")"
[ "$(sql "select count(distinct first_received_at) from reports where unit_code='xa-van-son'")" = 1 ] \
  || fail "the first receipt time is not kept"
pass "revision 2 supersedes revision 1 and keeps its receipt time"

# Revisions 3, 2, 1 queued offline: the agent sends them in revision order,
# one at a time, so each is accepted and superseded by the next, and 3 stands.
agent_setup ab xa-an-ba
agent_sync ab
report_for xa-an-ba periodic.json "$T/ab1.json"
sed 's/"revision": 1/"revision": 3/' "$T/ab1.json" >"$T/ab3.json"
sed 's/"revision": 1/"revision": 2/' "$T/ab1.json" >"$T/ab2.json"
agent ab submit "$T/ab3.json" "$T/ab2.json" "$T/ab1.json" >/dev/null || fail "submit 3 2 1"
agent ab run --drain --timeout 30 >>"$T/agent-ab.log" 2>&1 || fail "3 2 1 not delivered"
[ "$(sql "select string_agg(revision || ':' || status, ',' order by id) from reports
          where unit_code = 'xa-an-ba'")" = "1:superseded,2:superseded,3:accepted" ] \
  || fail "queued 3 2 1: $(sql "select revision, status from reports where unit_code = 'xa-an-ba' order by id")"
pass "revisions queued out of order are delivered in revision order; the newest stands"

# An older revision that reaches the server in the same batch as a newer one
# (another client, all on one connection) is refused E007, by the context or
# by the store under its lock.
for r in 6 5 4; do sed "s/\"revision\": 1/\"revision\": $r/" "$T/ab1.json" >"$T/ab$r.json"; done
out=$(tclient --endpoint "$ENDPOINT" --server-key "$T/server.pub" --key "$T/ab/agent" \
  --report "$T/ab6.json" --report "$T/ab5.json" --report "$T/ab4.json" --msg-id 101) \
  || fail "tclient 6 5 4: $out"
[ "$(sql "select string_agg(revision || ':' || status, ',' order by msg_id) from reports
          where unit_code = 'xa-an-ba' and msg_id > 100")" = "6:accepted,5:rejected,4:rejected" ] \
  || fail "out-of-order revisions: $(sql "select revision, status from reports where unit_code = 'xa-an-ba' order by msg_id")"
[ "$(sql "select count(*) from reports where unit_code = 'xa-an-ba' and status = 'rejected'
          and findings @> '[{\"code\": \"E007\"}]'")" = 2 ] || fail "the refusals do not say E007"
pass "an older revision delivered in the same batch as a newer one is refused E007"

# Metadata is versioned: a second sync with nothing changed sends nothing new.
agent_sync vs
grep -q 'event=metadata_unchanged' "$T/agent-vs.log" || fail "unchanged metadata was sent again"
pass "an unchanged metadata set is not sent again"

# The template is a report to fill in: valid JSON, refused until filled.
agent yd template remediation >"$T/tpl.json" 2>"$T/tpl.err" || fail "template remediation"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["inspection"]=="KT-2024-05" and len(d["items"])==4, d' \
  "$T/tpl.json" || fail "template does not list the inspection's four findings"
set +e
agent yd submit --dry-run "$T/tpl.json" >"$T/out.txt" 2>&1; rc=$?
set -e
[ $rc = 1 ] && grep -q 'E000' "$T/out.txt" || fail "unfilled template not refused: $(head -5 "$T/out.txt")"
agent yd inspections | grep -q 'KT-2024-05' || fail "inspections does not list KT-2024-05"
agent tnmt tasks | grep -q 'KH87-07' || fail "tasks does not list KH87-07"
pass "template, inspections and tasks work from synced metadata"
