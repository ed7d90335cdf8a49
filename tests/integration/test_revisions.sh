#!/usr/bin/env bash
# Revisions of one report, delivered through a server that answers BUSY at
# random: 20 revisions queued at once end with only the newest accepted in
# PostgreSQL, nothing for the officer to fix, and all 20 accounted for
# (delivered or superseded, none queued). An older revision that the server
# refuses only because a newer one is stored (E007 and nothing else) is shown
# as superseded, not as something to fix; the same revision number sent again
# still is.
. "$(dirname "$0")/lib.sh"
db_start; server_setup; district_setup
# Low limits and slow batches: while a burst of other traffic holds the
# server's pending reports, the agent's are answered BUSY.
sed -i '/^\[server\]/a max_pending = 10\npeer_max_inflight = 10\nbatch_max_delay_ms = 100' \
  "$T/server.ini"
server_start
agent_setup vs xa-van-son
agent_setup ab xa-an-ba
agent_sync vs

mkdir -p "$T/rev"
python3 - "$FIX/periodic.json" "$T/rev" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1], encoding="utf-8"))
for i in range(1, 21):
    doc["revision"] = i
    json.dump(doc, open("%s/r%02d.json" % (sys.argv[2], i), "w", encoding="utf-8"),
              ensure_ascii=False)
PY
agent vs submit "$T"/rev/r*.json >"$T/submit.out" 2>&1 || fail "submit 20 revisions: $(tail -3 "$T/submit.out")"

# The noise: another unit's client sends bursts of one report (duplicates
# after the first), each filling the server's pending reports for a batch:
# two clients back to back for the first four seconds (so the agent's first
# revisions are answered BUSY), then one at random moments until the agent
# has drained. The agent starts once the noise has been answered BUSY: under
# ASan, with another test beside it, the noise once came too late and the
# agent drained untouched.
report_for xa-an-ba periodic.json "$T/noise.json"
burst() {
  tclient --endpoint "$ENDPOINT" --server-key "$T/server.pub" --key "$T/ab/agent" \
    --report "$T/noise.json" --repeat 60 --timeout 5000 >>"$T/noise.out" 2>&1 || true
}
noise() { # first | second
  local until=$((SECONDS + 4))
  while [ ! -f "$T/noise.stop" ]; do
    burst
    if [ $SECONDS -ge $until ]; then
      [ "$1" = second ] && return 0
      sleep "0.$((2 + RANDOM % 8))"
    fi
  done
}
noise first &
NOISE_PID=$!
noise second &
NOISE2_PID=$!
PIDS+=("$NOISE_PID" "$NOISE2_PID")
for _ in $(seq 1 100); do
  grep -q 'reason=BUSY' "$T/noise.out" 2>/dev/null && break
  sleep 0.05
done
t0=$SECONDS
agent vs run --drain --timeout 50 >>"$T/agent-vs.log" 2>&1 || { touch "$T/noise.stop"; fail "20 revisions not drained"; }
touch "$T/noise.stop"
wait "$NOISE_PID" "$NOISE2_PID" || true
busy=$(grep -c 'event=nack_transient.*reason=BUSY' "$T/agent-vs.log" || true)
[ "$busy" -ge 1 ] || fail "the agent was never answered BUSY: the test proves nothing"
grep -q 'reason=BUSY' "$T/noise.out" || fail "the noise was never answered BUSY"

[ "$(sql "select count(*) from reports where unit_code = 'xa-van-son'")" = 20 ] \
  || fail "stored: $(sql "select revision, status from reports where unit_code = 'xa-van-son' order by msg_id")"
[ "$(sql "select string_agg(revision::text, ',') from reports where unit_code = 'xa-van-son'
          and status = 'accepted'")" = 20 ] \
  || fail "accepted: $(sql "select revision, status from reports where unit_code = 'xa-van-son' order by msg_id")"
[ "$(sql "select count(distinct revision) from reports where unit_code = 'xa-van-son'")" = 20 ] \
  || fail "not every revision reached the server once"
agent vs status --json >"$T/status.json" || fail "status --json"
python3 - "$T/status.json" <<'PY' || fail "status does not account for all 20"
import json, sys
d = json.load(open(sys.argv[1]))
states = [r["state"] for r in d["reports"]]
assert len(states) == 20, states
summary = {k: d.get(k) for k in ("queued", "delivered", "refused", "superseded")}
assert d["queued"] == 0 and d["refused"] == 0, (summary, states)
assert all(s in ("delivered", "superseded") for s in states), states
PY
agent vs status >"$T/status.txt" || fail "status"
grep -q 'cần sửa' "$T/status.txt" && fail "status lists a report to fix: $(cat "$T/status.txt")"
pass "20 revisions through $busy BUSY answers in $((SECONDS - t0)) s: only revision 20 accepted, none to fix, none lost or queued"

# A second outbox of the same unit, never synced (so no offline E007), holds
# revisions 5 and 20 of the same report: 5 is refused by the server only
# because 20 is stored (superseded); 20 is not newer than what is stored, so
# the officer must still be told to fix it.
mkdir -p "$T/vs2"
cp "$T/server.pub" "$T/vs2/server.pub"
cp "$T/vs/agent.ini" "$T/vs2/agent.ini"
"$CCHC_BIN/cchc-agent" -c "$T/vs2/agent.ini" keygen >/dev/null
"$CCHC_BIN/cchc" key add xa-van-son "$T/vs2/agent.pub" >/dev/null || fail "second key for xa-van-son"
agent vs2 submit "$T/rev/r05.json" "$T/rev/r20.json" >/dev/null || fail "submit 5 and 20 offline"
agent vs2 run --drain --timeout 30 >>"$T/agent-vs2.log" 2>&1 || fail "vs2 did not drain"
agent vs2 status --json >"$T/status2.json"
python3 - "$T/status2.json" <<'PY' || fail "vs2 states"
import json, sys
d = json.load(open(sys.argv[1]))
by_rev = {r["revision"]: r for r in d["reports"]}
assert by_rev[5]["state"] == "superseded", by_rev[5]
assert [f["code"] for f in by_rev[5]["findings"]] == ["E007"], by_rev[5]
assert by_rev[20]["state"] == "refused", by_rev[20]
assert d["refused"] == 1 and d["superseded"] == 1, d
PY
agent vs2 status >"$T/status2.txt"
python3 - "$T/status2.txt" <<'PY' || fail "vs2 status text: $(cat "$T/status2.txt")"
import sys
t = open(sys.argv[1], encoding="utf-8").read()
fix = t.index("cần sửa")
sup = t.index("đã có bản mới hơn")
# revision 5 is listed among the superseded, not among the reports to fix
fix_part = t[fix:sup] if fix < sup else t[fix:]
sup_part = t[sup:fix] if sup < fix else t[sup:]
assert "lần 5 " in sup_part and "lần 5 " not in fix_part, (fix_part, sup_part)
assert "lần 20 " in fix_part, fix_part
PY
[ "$(sql "select string_agg(revision::text, ',') from reports where unit_code = 'xa-van-son'
          and status = 'accepted'")" = 20 ] || fail "the second outbox changed what is accepted"
pass "an older revision refused only by E007 is superseded; the same revision again is still to fix"
