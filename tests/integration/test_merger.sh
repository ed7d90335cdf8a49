#!/usr/bin/env bash
# The 1 July 2025 merger (DOMAIN.md section 1, "Closing a unit"), over a
# simulated 2025 with the sample units of deploy/data/units.csv: Sơn Động's 17
# communes and towns close on 2025-06-30 into 8 new communes, the district and
# its 13 offices close without successor. The scheduler ticks every working day
# at 08:00 (and 07:30 on due days) through `cchc-server --tick-at`, as in
# test_sched_year; the agents run on the server's injected clock. Claims:
#   - from 1 July no notice is addressed to a closed unit (the brief measured
#     4,628 report.overdue and 2,392 task.overdue to them before this change),
#     none is pushed to its agent even if queued before, and no expectation
#     is made for it; the reminders and overdue notices about its open
#     obligations go to its successor and name it; the digests list open
#     units only, a predecessor under its successor;
#   - Xã Vân Sơn (07621) lists Xã Hữu Sản's missing 2025S1 report among its
#     deadlines and submits it through its real agent: the report names
#     xa-huu-san, records sent_by 07621, and xa-huu-san's expectation ends met
#     (late); a report of a unit it does not answer for, or of an obligation
#     met before the closure, is refused by the agent and by the server;
#   - a closed unit's key works within [units] closed_key_grace_days (30) and is
#     refused from the day after, recorded as unit_closed;
#   - `cchc exempt --unit U --all-open` settles a closed office in one audited
#     command and is refused for an open unit;
#   - --rollup shows xa-van-son's and xa-huu-san's rows under 07621;
#   - unit_contacts.last_seen is the server's clock: agent.silent of 07621
#     names its last contact on the simulated 2025-07-10.
. "$(dirname "$0")/lib.sh"
db_start; server_setup; district_setup

cchc() { "$CCHC_BIN/cchc" "$@"; }
[ "$(sql "select count(*) from units where valid_to = '2025-06-30'")" = 32 ] \
  || fail "units.csv: 32 units closing on 2025-06-30 expected"
# A scheduler notice (not a receipt) addressed to a unit closed on its day.
CLOSED_NOTICES="select count(*) from notifications n join units u on u.code = n.unit_code
                where u.valid_to < cchc_vn_date(n.created_at)"

# xa-van-son reports 2025S1 late, on 24/06 (before the merger), with figures.
S1_DUE=2025-06-17
mk_s1() { # UNIT OUT: the fixture as UNIT's 2025S1, no overdue dossier
  report_for "$1" periodic.json "$2"
  python3 - "$2" <<'PY'
import json, sys
p = sys.argv[1]; r = json.load(open(p))
r["period"] = "2025S1"; r["document"]["date"] = "2025-07-10"
r["overdue_dossiers"] = []
for d in r["dossiers"]:
    d["resolved_late"] = 0; d["pending_overdue"] = 0
    d["resolved_early"] = d["carried_over"] + d["new_online"] + d["new_direct_postal"] \
        - d["resolved_on_time"] - d["pending_in_time"]
json.dump(r, open(p, "w"), ensure_ascii=False)
PY
}
mk_s1 xa-van-son "$T/vs-s1.json"
mk_s1 xa-huu-san "$T/hs-s1.json"
psql -X -q -t -A -v ON_ERROR_STOP=1 -v body="$(cat "$T/vs-s1.json")" >/dev/null <<'SQL'
select id from cchc_store_report('xa-van-son', 1, 1, 'CCHC_DK', 'periodic', '2025S1', 1, '',
       null, null, '\x00'::bytea, :'body'::jsonb, 'accepted', '[]'::jsonb, null, null, null,
       '2025-06-24T10:00:00+07:00'::timestamptz);
SQL

# ---- the year's ticks ----------------------------------------------------------------------
sql "select cchc_ymd(d::date) from generate_series('2025-01-02'::date, '2025-12-31', '1 day') d
     where cchc_wd_is(d::date) order by d" >"$T/days"
tick() {
  "$CCHC_BIN/cchc-server" -c "$T/server.ini" --tick-at "$1" >>"$T/ticks.log" 2>>"$T/ticks.err" \
    || fail "tick $1: $(tail -3 "$T/ticks.err")"
}
ticks() { # FROM TO (inclusive): 07:30 on due days, 08:00 every working day
  local d dues
  tick "${1}T07:00:00+07:00" # makes the expectations (no rule's hour yet): their due days
  dues=" $(sql "select string_agg(distinct due::text, ' ') from expectations") "
  while read -r d; do
    [[ "$d" < "$1" || "$d" > "$2" ]] && continue
    [[ "$dues" == *" $d "* ]] && tick "${d}T07:30:00+07:00"
    tick "${d}T08:00:00+07:00"
  done <"$T/days"
}
start=$(date +%s)
ticks 2025-01-02 2025-07-09
echo "ticks to 2025-07-09: $(( $(date +%s) - start )) s"
[ "$(sql "select due from expectations where unit_code = 'xa-huu-san' and type_code = 'CCHC_DK'
          and period = '2025S1'")" = "$S1_DUE" ] || fail "xa-huu-san 2025S1 due $S1_DUE"

# Before the merger the closed-to-be units were told themselves (the test can fail).
before=$(sql "select count(*) from notifications n join units u on u.code = n.unit_code
              where u.valid_to = '2025-06-30' and n.kind in ('report.overdue', 'task.overdue')")
[ "$before" -gt 100 ] || fail "only $before overdue notices to the units before they closed"
[ "$(sql "select count(*) from notifications where kind = 'report.overdue' and unit_code = 'xa-huu-san'
          and facts->>'period' = '2025S1'")" -ge 1 ] || fail "xa-huu-san not told of its 2025S1 in June"
[ "$(sql "$CLOSED_NOTICES")" = 0 ] \
  || fail "notices to closed units after their valid_to: $(sql "select n.kind, n.unit_code, n.created_at
          from notifications n join units u on u.code = n.unit_code
          where u.valid_to < cchc_vn_date(n.created_at) limit 5")"
pass "before 1 July $before overdue notices went to the units that closed; from 1 July none"

# The 2025S1 notices about xa-huu-san go to 07621 and name it (k = 11 on 02/07, 16 on 09/07).
got=$(sql "select string_agg(split_part(dedup_key, ':', 3), ' ' order by seq) from notifications
           where kind = 'report.overdue' and unit_code = '07621' and about = 'xa-huu-san'
             and facts->>'period' = '2025S1' and facts->>'predecessor' = 'xa-huu-san'
             and facts->>'successor' = '07621'
             and text_vi like '%Xã Hữu Sản (xa-huu-san) đã sáp nhập từ ngày 01/07/2025; Xã Vân Sơn (07621) nộp thay%'")
[ "$got" = "2025-07-02 2025-07-09" ] || fail "overdue notices about xa-huu-san 2025S1 to 07621: '$got'"
[ "$(sql "select count(*) from notifications where about = 'xa-van-son' and facts->>'period' = '2025S1'
          and kind = 'report.overdue' and created_at >= '2025-06-25'")" = 0 ] \
  || fail "xa-van-son reported 2025S1 on 24/06, yet was reminded after"
pass "overdue notices about xa-huu-san's 2025S1 go to 07621 from 1 July (2025-07-02, 2025-07-09), naming it"

# Digests: open units only; xa-huu-san under 07621; the offices (no successor) gone.
sql "select n.seq, x.u from notifications n cross join lateral jsonb_array_elements_text(n.facts->'units') x(u)
     join units u on u.code = x.u
     where n.kind in ('digest.overdue', 'report.escalated')
       and not (u.valid_from <= cchc_vn_date(n.created_at)
                and (u.valid_to is null or u.valid_to >= cchc_vn_date(n.created_at)))" >"$T/bad-digest"
[ ! -s "$T/bad-digest" ] || fail "digests list units not open that day: $(head -3 "$T/bad-digest")"
dig=$(sql "select text_vi || '|' || (facts->'for'->'07621')::text from notifications
           where dedup_key = 'digest.overdue:CCHC_DK:2025S1:2025-07-02'")
echo "$dig"
case "$dig" in
  *"Xã Vân Sơn (nộp thay Xã Hữu Sản)"*'|["xa-huu-san"]') ;;
  *) fail "2025S1 digest of 02/07: $dig" ;;
esac
case "$dig" in *"Phòng"*|*"Văn phòng"*|*"Thanh tra"*) fail "an office in the digest: $dig" ;; esac
[ "$(sql "select count(*) from notifications where kind = 'digest.overdue' and created_at >= '2025-07-01'")" -ge 2 ] \
  || fail "too few digests after 1 July"
pass "digests after 1 July list open units only: Xã Vân Sơn (nộp thay Xã Hữu Sản), no office"

# ---- 10/07: the agents ------------------------------------------------------------------------
export CCHC_CLOCK=2025-07-10T09:00:00+07:00
agent_setup vs 07621
agent_setup hs xa-huu-san
queued=$(sql "select count(*) from notifications where unit_code = 'xa-huu-san'")
[ "$queued" -gt 0 ] || fail "nothing queued for xa-huu-san"
server_start
agent hs run --timeout 4 >>"$T/agent-hs.log" 2>&1 || fail "xa-huu-san's agent within the grace"
agent hs status --json | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin).get("metadata_version") else 1)' \
  || fail "xa-huu-san's agent did not sync within the grace"
n=$(agent hs notifications --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])')
[ "$n" = 0 ] || fail "$n of the $queued notices queued for closed xa-huu-san were pushed to it"
agent vs run --timeout 4 >>"$T/agent-vs.log" 2>&1 || fail "07621's agent run"
agent vs notifications --json --limit 500 | python3 -c '
import json, sys
d = json.load(sys.stdin)["notifications"]
assert any(n["kind"] == "report.overdue" and n["about"] == "xa-huu-san" for n in d), \
    [(n["kind"], n["about"]) for n in d][:10]' || fail "07621's agent did not receive the notices about xa-huu-san"
[ "$(sql "select cchc_ymd(cchc_vn_date(last_seen)) from unit_contacts where unit_code = '07621'")" = 2025-07-10 ] \
  || fail "unit_contacts.last_seen is not the server's clock: $(sql "select last_seen from unit_contacts where unit_code = '07621'")"
pass "within the grace xa-huu-san's key works, yet none of its $queued queued notices is pushed; 07621 gets its own"

agent vs deadlines --json >"$T/dl.json" || fail "deadlines"
python3 - "$T/dl.json" <<'PY' || fail "07621's deadlines: $(cat "$T/dl.json" | head -40)"
import json, sys
d = json.load(open(sys.argv[1]))["deadlines"]
s1 = [x for x in d if x["type"] == "CCHC_DK" and x["period"] == "2025S1"]
assert [(x["unit"], x["status"], (x["for"] or {}).get("name")) for x in s1] == \
    [("xa-huu-san", "overdue", "Xã Hữu Sản")], s1
PY
agent vs deadlines | grep -q "2025S1.*quá hạn.*xa-huu-san (Xã Hữu Sản)" || fail "deadlines text"
pass "07621's deadlines (offline) list xa-huu-san's 2025S1, overdue, not xa-van-son's (met before)"

# Refused offline and by the server: a unit it does not answer for, an obligation met before.
report_for xa-an-lac periodic.json "$T/al.json"
out=$(agent vs submit "$T/al.json" 2>&1) && fail "a report of xa-an-lac was queued by 07621: $out"
echo "$out" | grep -q "cũng không phải đơn vị đã sáp nhập mà \"07621\" nộp thay" || fail "al: $out"
out=$(agent vs submit "$T/vs-s1.json" 2>&1) && fail "xa-van-son's met 2025S1 was queued: $out"
echo "$out" | grep -q "E001.*không có trong số đó" || fail "vs-s1: $out"
out=$(tclient --endpoint "$ENDPOINT" --server-key "$T/server.pub" --key "$T/vs/agent" --unit 07621 \
  --report "$T/al.json" --epoch 77 --msg-id 1)
echo "$out" | grep -q '^NACK msg_id=1 reason=UNIT_MISMATCH' || fail "server, xa-an-lac from 07621: $out"
out=$(tclient --endpoint "$ENDPOINT" --server-key "$T/server.pub" --key "$T/vs/agent" --unit 07621 \
  --report "$T/vs-s1.json" --epoch 77 --msg-id 2)
echo "$out" | grep -q '^NACK msg_id=2 reason=INVALID' && echo "$out" | grep -q '^FINDING code=E001' \
  || fail "server, xa-van-son's met 2025S1 from 07621: $out"
pass "07621 may not send xa-an-lac's report nor xa-van-son's met 2025S1: refused offline and by the server"

out=$(agent vs submit "$T/hs-s1.json") || fail "submit xa-huu-san's 2025S1: $out"
echo "$out" | grep -q "của đơn vị đã sáp nhập \"xa-huu-san\", do \"07621\" nộp thay" || fail "submit: $out"
agent vs run --drain --timeout 20 >>"$T/agent-vs.log" 2>&1 || fail "07621's agent did not deliver"
RID=$(sql "select id from reports where unit_code = 'xa-huu-san' and period = '2025S1' and status = 'accepted'")
[ -n "$RID" ] || fail "no accepted 2025S1 report of xa-huu-san"
[ "$(sql "select sent_by from reports where id = $RID")" = 07621 ] || fail "sent_by"
[ "$(sql "select status || ' ' || report_id || ' ' || cchc_ymd(cchc_vn_date(met_at)) from expectations
          where unit_code = 'xa-huu-san' and type_code = 'CCHC_DK' and period = '2025S1'")" = \
  "late $RID 2025-07-10" ] || fail "xa-huu-san's expectation: $(sql "select status, report_id, met_at from expectations where unit_code = 'xa-huu-san' and period = '2025S1'")"
[ "$(sql "select unit_code || ' ' || about || ' ' || (facts->>'sent_by') from notifications
          where dedup_key = 'report.accepted:$RID'")" = "07621 xa-huu-san 07621" ] || fail "report.accepted"
[ "$(sql "select string_agg(unit_code, ' ' order by seq) from notifications
          where kind = 'report.resolved' and about = 'xa-huu-san'")" = "07621 @home_affairs" ] \
  || fail "report.resolved: $(sql "select unit_code from notifications where kind = 'report.resolved'")"
agent vs deadlines --json | python3 -c '
import json, sys
s1 = [x for x in json.load(sys.stdin)["deadlines"] if x["period"] == "2025S1"]
assert [(x["unit"], x["status"]) for x in s1] == [("xa-huu-san", "late")], s1' \
  || fail "07621's deadlines after the delivery"
pass "07621's agent delivered xa-huu-san's 2025S1: stored for xa-huu-san, sent_by 07621, expectation late, receipts to 07621"

# cchc exempt --all-open: a closed office's open obligations, at once, audited.
out=$(cchc exempt --unit 07621 --all-open --reason "Thử miễn đơn vị đang hoạt động" 2>&1) \
  && fail "--all-open accepted an open unit: $out"
echo "$out" | grep -q "07621 is not closed" || fail "open unit: $out"
out=$(CCHC_CLOCK=2025-06-20T09:00:00+07:00 cchc exempt --unit p-tp --all-open --reason "Giải thể" 2>&1) \
  && fail "--all-open accepted p-tp before its closure: $out"
open_tp=$(sql "select count(*) from expectations where unit_code = 'p-tp' and status in ('expected', 'overdue')")
[ "$open_tp" -gt 0 ] || fail "p-tp has no open obligation to settle"
audit0=$(sql "select count(*) from audit_log where table_name = 'expectations'")
out=$(cchc exempt --unit p-tp --all-open --reason "Phòng Tư pháp giải thể từ 01/07/2025") || fail "--all-open: $out"
echo "$out" | grep -q "^$open_tp open obligation(s) of p-tp (closed after 2025-06-30) are exempt" || fail "$out"
[ "$(sql "select count(*) from expectations where unit_code = 'p-tp' and status in ('expected', 'overdue')")" = 0 ] \
  || fail "p-tp still has open obligations"
[ "$(sql "select count(*) from audit_log where table_name = 'expectations' and db_user = 'cchc'
          and after->>'unit_code' = 'p-tp' and after->>'status' = 'exempt'")" = "$open_tp" ] \
  || fail "not one audit row per exempted obligation"
[ "$(( $(sql "select count(*) from audit_log where table_name = 'expectations'") - audit0 ))" = "$open_tp" ] \
  || fail "audit rows"
pass "cchc exempt --unit p-tp --all-open: $open_tp obligations exempt, $open_tp audit rows; refused for 07621 and before the closure"
kill -TERM "$SERVER_PID"; wait "$SERVER_PID" || fail "server exit"

# ---- the rest of the year -----------------------------------------------------------------------
# An inspection of a closed unit made now makes no obligation; one of an open unit does.
cchc inspection add xa-an-ba --team "Đoàn kiểm tra" --date 2025-07-08 \
  --conclusion 5/TB-UBND/2025-07-09 --code KT-2025-07 >/dev/null
cchc inspection add 07654 --team "Đoàn kiểm tra" --date 2025-07-08 \
  --conclusion 6/TB-UBND/2025-07-09 --code KT-2025-08 >/dev/null
start=$(date +%s)
ticks 2025-07-10 2025-12-31
echo "ticks to 2025-12-31: $(( $(date +%s) - start )) s"
[ "$(sql "select count(*) from expectations where subject = 'KT-2025-07'")" = 0 ] \
  || fail "an expectation for closed xa-an-ba's inspection"
[ "$(sql "select count(*) from expectations where subject = 'KT-2025-08' and unit_code = '07654'")" = 1 ] \
  || fail "no expectation for 07654's inspection"
[ "$(sql "select count(*) from expectations e join units u on u.code = e.unit_code
          where u.valid_to = '2025-06-30' and e.due > '2025-06-30' and e.period like '2025%'")" = 0 ] \
  || fail "a 2025 expectation due after the closure for a closed unit"
pass "no expectation for a closed unit after its valid_to (its inspection of 09/07 makes none; 07654's does)"

[ "$(sql "$CLOSED_NOTICES")" = 0 ] || fail "notices to closed units after their valid_to"
sql "select n.seq, x.u from notifications n cross join lateral jsonb_array_elements_text(n.facts->'units') x(u)
     join units u on u.code = x.u
     where n.kind in ('digest.overdue', 'report.escalated')
       and not (u.valid_from <= cchc_vn_date(n.created_at)
                and (u.valid_to is null or u.valid_to >= cchc_vn_date(n.created_at)))" >"$T/bad-digest"
[ ! -s "$T/bad-digest" ] || fail "digests list units not open that day: $(head -3 "$T/bad-digest")"
after=$(sql "select count(*) from notifications where kind in ('report.overdue', 'task.overdue')
             and facts ? 'predecessor' and created_at >= '2025-07-01'")
[ "$after" -gt 100 ] || fail "only $after notices about closed units' obligations went to their successors"
[ "$(sql "select count(*) from notifications where about = 'xa-huu-san' and facts->>'period' = '2025S1'
          and kind = 'report.overdue' and created_at > '2025-07-10T09:00:00+07:00'")" = 0 ] \
  || fail "xa-huu-san's 2025S1 reminded after 07621 sent it"
[ "$(sql "select count(*) from notifications where facts ? 'predecessor' and unit_code not like '@%'
          and unit_code <> facts->>'successor'")" = 0 ] \
  || fail "a notice about a predecessor not addressed to its successor"
[ "$(sql "select max(seq) = count(*) and count(*) = count(distinct dedup_key) from notifications")" = t ] \
  || fail "seq gaps or duplicate keys"
pass "2025: 0 notices to the 32 closed units after 30/06 ($before before), $after about their obligations to their successors; digests list open units only"

# agent.silent of 07621, from its last contact on the simulated 10/07 (server clock).
[ "$(sql "select facts->>'last_seen' from notifications where dedup_key = 'agent.silent:07621:2025-07-10'")" = \
  2025-07-10T02:00:00Z ] || fail "agent.silent of 07621: $(sql "select dedup_key from notifications where kind = 'agent.silent'")"
[ "$(sql "select count(*) from notifications where kind = 'agent.silent' and about = 'xa-huu-san'")" = 0 ] \
  || fail "agent.silent for closed xa-huu-san"
pass "agent.silent:07621:2025-07-10: last_seen is the server's clock (2025-07-10 09:00 +07)"

# ---- keys after the grace (30 days: to the end of 30/07) ---------------------------------------------
export CCHC_CLOCK=2025-07-30T23:00:00+07:00
server_start
agent hs sync --timeout 10 >"$T/hs-sync1.txt" 2>&1 || fail "xa-huu-san's key on the last day of the grace: $(cat "$T/hs-sync1.txt")"
kill -TERM "$SERVER_PID"; wait "$SERVER_PID" || fail "server exit"
export CCHC_CLOCK=2025-07-31T08:00:00+07:00
server_start
agent hs sync --timeout 5 >"$T/hs-sync2.txt" 2>&1 && fail "xa-huu-san's key accepted after the grace"
agent vs sync --timeout 10 >/dev/null 2>&1 || fail "07621's key refused"
kill -TERM "$SERVER_PID"; wait "$SERVER_PID" || fail "server exit"
cchc refusals --json | python3 -c '
import json, sys
r = [x for x in json.load(sys.stdin) if x["kind"] == "unit_closed"]
assert [(x["principal"], x["message"]) for x in r] == [("xa-huu-san", "handshake")], r' \
  || fail "refusals: $(cchc refusals)"
cchc refusals | grep -q "đơn vị đã giải thể, sáp nhập" || fail "refusals text: $(cchc refusals)"
pass "xa-huu-san's key works to the end of 30/07 (30 days) and is refused on 31/07, recorded as unit_closed"

# ---- --rollup --------------------------------------------------------------------------------------
export CCHC_CLOCK=2025-08-01T09:00:00+07:00
out=$(cchc status --period 2025S1 --type CCHC_DK --unit 07621 --json)
[ "$out" = "[]" ] || fail "07621 has its own 2025S1 obligation: $out"
cchc status --period 2025S1 --type CCHC_DK --unit 07621 --rollup --json | python3 -c '
import json, sys
r = json.load(sys.stdin)
assert sorted((x["unit"], x["source_unit"], x["status"]) for x in r) == \
    [("07621", "xa-huu-san", "late"), ("07621", "xa-van-son", "late")], r' \
  || fail "status --rollup: $(cchc status --period 2025S1 --unit 07621 --rollup)"
python3 - "$T/vs-s1.json" "$T/hs-s1.json" >"$T/received" <<'PY'
import json, sys
print(sum(d["carried_over"] + d["new_online"] + d["new_direct_postal"]
          for f in sys.argv[1:] for d in json.load(open(f))["dossiers"]))
PY
cchc dossiers --period 2025S1 --by unit --rollup --json | python3 -c '
import json, sys
want = int(open(sys.argv[1]).read())
r = [x for x in json.load(sys.stdin) if not x["total"] and x["unit"] == "07621"]
assert len(r) == 1 and r[0]["received"] == want, (want, r)' "$T/received" \
  || fail "dossiers --rollup: $(cchc dossiers --period 2025S1 --by unit --rollup)"
cchc dossiers --period 2025S1 --by unit --json | python3 -c '
import json, sys
r = sorted(x["unit"] for x in json.load(sys.stdin) if not x["total"])
assert r == ["xa-huu-san", "xa-van-son"], r' || fail "dossiers without --rollup"
cchc overdue --rollup --unit 07621 --period 2025S1 >/dev/null || fail "overdue --rollup"
cchc summary --period 2025S1 --rollup --out "$T/s.html" >/dev/null || fail "summary --rollup"
cchc summary --period 2025S1 --out "$T/s0.html" >/dev/null || fail "summary"
grep -q "07621" "$T/s.html" && ! grep -q "07621" "$T/s0.html" \
  || fail "summary --rollup does not show 07621 (or the plain one does)"
# The document the server reads and agents sync (034, built as json) is
# 025's, part for part, for every unit: predecessors and their
# obligations, inspections, tasks and revisions included (025's function
# kept as a reference in the fixtures).
psql -X -q -v ON_ERROR_STOP=1 -f "$FIX/metadata_025.sql" || fail "loading metadata_025.sql"
[ "$(sql "select count(*) from units where cchc_unit_metadata_doc(code)::json->'predecessors' is not null")" -ge 1 ] \
  || fail "no unit's document has predecessors"
[ -z "$(sql "select string_agg(code, ' ') from units
             where cchc_unit_metadata_doc(code)::jsonb is distinct from cchc_unit_metadata_025(code)")" ] \
  || fail "cchc_unit_metadata_doc differs from 025's cchc_unit_metadata for: $(sql "select string_agg(code, ' ')
     from units where cchc_unit_metadata_doc(code)::jsonb is distinct from cchc_unit_metadata_025(code)")"
pass "--rollup: 07621's status, dossiers ($(cat "$T/received") received) and summary include xa-van-son's and xa-huu-san's 2025S1"
