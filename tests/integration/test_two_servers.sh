#!/usr/bin/env bash
# Two servers on one database, and the agents and `cchc watch` that list both.
# Servers A and B share one PostgreSQL, both with the scheduler on and the
# same injected clock, Wed 18/09/2024 09:00 (2024Q3 is overdue since 08:00:
# the ticks have notices to send). Five agents, bundles from `cchc key issue`
# (admin.ini [server] endpoints = A, B; or --endpoint B --endpoint A), list
# both servers, three A first and two B first, so both get traffic; each
# sends 1000 task_progress reports (10 tasks x 100 revisions). A `cchc watch`
# listing A, B follows every notification. Mid-stream A is killed with
# kill -9; an operator adds a task already overdue, which only B's scheduler
# can notice. Then: every report is stored exactly once (5000 rows, none
# twice by message id or by content), the revisions of each report arrived
# in order (none refused for an older revision), nothing is left queued; the
# agents that were on A moved to B, and status says so; B's scheduler went on
# ticking and sending (the new task's notices reached the agents and the
# watch) and no notice is doubled; the watch moved from A to B and printed
# every notification of the table exactly once, in order.
export CCHC_CLOCK=2024-09-18T09:00:00+07:00
. "$(dirname "$0")/lib.sh"

# ---- configuration: endpoint and endpoints ---------------------------------
mkdir -p "$T/cfg"
printf '[agent]\nunit = xa-van-son\n[server]\nendpoint = tcp://127.0.0.1:1\nendpoints = tcp://127.0.0.1:1, tcp://127.0.0.1:2\n' \
  >"$T/cfg/both.ini"
set +e; "$CCHC_BIN/cchc-agent" -c "$T/cfg/both.ini" status >/dev/null 2>"$T/cfg/both.err"; rc=$?; set -e
[ $rc = 2 ] || fail "an agent.ini with endpoint and endpoints: exit $rc, not 2"
grep -q '\[server\] endpoint and \[server\] endpoints are both set' "$T/cfg/both.err" \
  || fail "the error does not name both keys: $(cat "$T/cfg/both.err")"
printf '[agent]\nunit = xa-van-son\n[server]\nendpoints = tcp://127.0.0.1:1, 127.0.0.1:2\n' >"$T/cfg/bad.ini"
set +e; "$CCHC_BIN/cchc-agent" -c "$T/cfg/bad.ini" status >/dev/null 2>"$T/cfg/bad.err"; rc=$?; set -e
[ $rc = 2 ] && grep -q '"127.0.0.1:2" does not begin with tcp://: write tcp://HOST:PORT' "$T/cfg/bad.err" \
  || fail "a bad item of endpoints: exit $rc: $(cat "$T/cfg/bad.err")"
pass "agent.ini: endpoint and endpoints together, or a bad item, stop the agent naming the key and the fix"

# ---- two servers, one database ----------------------------------------------
db_start; server_setup; district_setup
EP_A=$ENDPOINT
PORT_B=$(free_port)
EP_B="tcp://127.0.0.1:$PORT_B"
server_ini() { # NAME PORT
  sed -e "s|^endpoint = .*|endpoint = tcp://127.0.0.1:$2|" -e 's/^level = debug/level = info/' \
    "$T/server.ini" >"$T/$1.ini"
  printf '[scheduler]\nenabled = true\ntick_interval_ms = 1000\n' >>"$T/$1.ini"
}
server_ini srv-a "$PORT"
server_ini srv-b "$PORT_B"
srv_start() { # NAME -> SRV_PID
  "$CCHC_BIN/cchc-server" -c "$T/$1.ini" >>"$T/$1.log" 2>&1 &
  SRV_PID=$!
  PIDS+=("$SRV_PID")
  for _ in $(seq 1 100); do
    grep -q 'event=listening' "$T/$1.log" 2>/dev/null && return 0
    kill -0 "$SRV_PID" 2>/dev/null || fail "cchc-server $1 exited at start"
    sleep 0.1
  done
  fail "cchc-server $1 did not start listening"
}
srv_start srv-a; PID_A=$SRV_PID
srv_start srv-b; PID_B=$SRV_PID
# wait_for SECONDS COMMAND...: until COMMAND succeeds (tried every 0.1 s;
# wait_slow: every 0.5 s, for commands that start programs).
wait_for() {
  local n=$(($1 * 10)) i; shift
  for i in $(seq 1 $n); do "$@" && return 0; sleep 0.1; done
  return 1
}
wait_slow() {
  local n=$(($1 * 2)) i; shift
  for i in $(seq 1 $n); do "$@" && return 0; sleep 0.5; done
  return 1
}
count() { sql "select count(*) from $1"; }                  # count FROM-AND-WHERE
more_than() { [ "$(count "$1")" -gt "$2" ]; }               # more_than FROM-AND-WHERE N
in_log() { grep -q -- "$2" "$1" 2>/dev/null; }              # in_log FILE PATTERN
# loads: how many times A and B loaded the keys; keys_reloaded "A B": both
# did again since loads said "A B" (the CLI's NOTIFY cchc_keys).
loads() { echo "$(grep -c 'event=keys_loaded' "$T/srv-a.log" || true) $(grep -c 'event=keys_loaded' "$T/srv-b.log" || true)"; }
keys_reloaded() { local now; now=($(loads)); set -- $1; [ "${now[0]}" -gt "$1" ] && [ "${now[1]}" -gt "$2" ]; }
wait_for 20 more_than "notifications where kind = 'report.overdue'" 0 \
  || fail "no report.overdue notice after the first ticks"
pass "servers A ($EP_A) and B ($EP_B) on one database; the scheduler sent $(sql "select count(*) from notifications") notices"

# ---- the operator: admin.ini lists both -------------------------------------
cat >"$T/admin.ini" <<INI
[database]
conninfo = host=$T/pg user=cchc dbname=postgres
[log]
level = info
[server]
public_key = server.pub
endpoints = $EP_A, $EP_B
[watch]
endpoints = $EP_A, $EP_B
server_key = server.pub
public_key = ops/ops.pub
secret_key = ops/ops.key
INI
cchc_admin() { timeout -k 5 60 "$CCHC_BIN/cchc" -c "$T/admin.ini" "$@"; }
k=$(loads)
cchc_admin subscriber add ops --topics deadline.,report.,remediation.,task.,agent.,digest. \
  --out "$T/ops" >/dev/null || fail "subscriber add"
wait_for 20 keys_reloaded "$k" || fail "the servers did not load the subscriber's key"
"$CCHC_BIN/cchc" -c "$T/admin.ini" watch --json >"$T/watch.out" 2>"$T/watch.log" &
WATCH_PID=$!
PIDS+=("$WATCH_PID")
wait_for 20 in_log "$T/watch.log" "event=connected endpoint=$EP_A " \
  || fail "cchc watch did not connect to A: $(tail -3 "$T/watch.log")"

# ---- five agents, bundles from key issue ------------------------------------
NAMES=(vs ab va hs ds)
UNITS=(xa-van-son xa-an-ba xa-vinh-an xa-huu-san xa-dai-son)
TASKS=(KH87-01 KH87-02 KH87-03 KH87-04 KH87-05 KH87-06 KH87-07 KH87-10 KH87-11 KH87-12)
NREV=100
a_first() { [ $(($1 % 2)) = 0 ]; }
k=$(loads)
for i in "${!NAMES[@]}"; do
  n=${NAMES[$i]} u=${UNITS[$i]}
  if a_first "$i"; then
    cchc_admin key issue "$u" --out "$T/$n" >/dev/null || fail "key issue $u"
    want="endpoints = $EP_A, $EP_B"
  else
    cchc_admin key issue "$u" --out "$T/$n" --endpoint "$EP_B" --endpoint "$EP_A" >/dev/null \
      || fail "key issue $u --endpoint B --endpoint A"
    want="endpoints = $EP_B, $EP_A"
  fi
  grep -qx "$want" "$T/$n/agent.ini" || fail "bundle of $u: $(cat "$T/$n/agent.ini"), want '$want'"
  sed -i '/^\[agent\]/a resend_timeout_ms = 2000' "$T/$n/agent.ini"
  printf '[log]\nlevel = info\n' >>"$T/$n/agent.ini"
done
wait_for 20 keys_reloaded "$k" || fail "the servers did not load the agents' keys"
pass "key issue writes endpoints = A, B from admin.ini [server] endpoints (and B, A from --endpoint twice)"

# 1000 reports per agent: revisions 1..NREV of each task, the tasks interleaved
# (so 10 reports are in flight at a time, one revision of each).
mkdir -p "$T/r"
python3 - "$FIX/task_progress.json" "$T/r" "$NREV" "${NAMES[*]}" "${UNITS[*]}" "${TASKS[*]}" <<'PY'
import json, os, sys
fix, out, nrev = sys.argv[1], sys.argv[2], int(sys.argv[3])
names, units, tasks = sys.argv[4].split(), sys.argv[5].split(), sys.argv[6].split()
doc = json.load(open(fix, encoding="utf-8"))
for name, unit in zip(names, units):
    os.makedirs("%s/%s" % (out, name))
    for rev in range(1, nrev + 1):
        for task in tasks:
            doc.update(unit=unit, task=task, revision=rev, percent=1 + rev % 99)
            with open("%s/%s/r%03d-%s.json" % (out, name, rev, task), "w", encoding="utf-8") as f:
                json.dump(doc, f, ensure_ascii=False)
PY
declare -A SUBMIT
for n in "${NAMES[@]}"; do   # the five at once
  agent "$n" submit "$T/r/$n"/r*.json >"$T/submit-$n.out" 2>"$T/submit-$n.err" &
  SUBMIT[$n]=$!
done
for n in "${NAMES[@]}"; do
  wait "${SUBMIT[$n]}" || fail "submit $n: $(tail -3 "$T/submit-$n.err")"
  [ "$(grep -c 'id=[0-9]' "$T/submit-$n.out")" = 1000 ] || fail "submit $n did not queue 1000"
done
declare -A APID
for n in "${NAMES[@]}"; do
  "$CCHC_BIN/cchc-agent" -c "$T/$n/agent.ini" run >>"$T/agent-$n.log" 2>&1 &
  APID[$n]=$!
  PIDS+=("${APID[$n]}")
done

# ---- kill -9 A mid-stream ----------------------------------------------------
wait_for 60 more_than reports 299 || fail "the stream did not start"
kill -9 "$PID_A"
wait "$PID_A" 2>/dev/null || true
KILLED_AT=$SECONDS
at_kill=$(sql "select count(*) from reports")
on_a_left=0
for i in "${!NAMES[@]}"; do
  a_first "$i" || continue
  grep -q "event=connected endpoint=$EP_A " "$T/agent-${NAMES[$i]}.log" \
    || fail "agent ${NAMES[$i]} was not on A before the kill"
  [ "$(sql "select count(*) from reports where unit_code = '${UNITS[$i]}'")" -lt 1000 ] \
    && on_a_left=$((on_a_left + 1))
done
[ "$on_a_left" -ge 1 ] || fail "every agent on A had finished before the kill: not mid-stream"
grep -q 'event=hello unit=xa-van-son ' "$T/srv-a.log" || fail "A had no traffic from its agents"
grep -q 'event=hello unit=xa-an-ba ' "$T/srv-b.log" || fail "B had no traffic from its agents"
printed_at_kill=$(grep -c . "$T/watch.out" || true)
[ "$printed_at_kill" -gt 0 ] || fail "the watch printed nothing from A before the kill"
pass "kill -9 A at $at_kill of 5000 stored, $on_a_left agent(s) on A with reports left, the watch at $printed_at_kill lines"

# Something only B's scheduler can send now: a task overdue since yesterday,
# led by every commune.
ticks_before=$(grep -c 'event=tick .*skipped=0 inserted=[1-9]' "$T/srv-b.log" || true)
printf 'code,title,index,dimension,target,lead,support,due\nKH87-99,Nhiệm vụ kiểm thử hai máy chủ,PAPI,D1,maintain,@commune,,2024-09-17\n' \
  >"$T/plan-extra.csv"
cchc_admin plan import "$T/plan-extra.csv" >/dev/null || fail "plan import"
wait_for 30 more_than "notifications where kind = 'task.overdue' and facts->>'subject' = 'KH87-99'" 0 \
  || fail "B's scheduler did not send the new task's overdue notices"
# (B logs its tick when the tick's result has come back, which may be just
# after the rows are seen: waited for, not read once; under ASan it once
# came after the read.)
b_ticked() { [ "$(grep -c 'event=tick .*skipped=0 inserted=[1-9]' "$T/srv-b.log" || true)" -gt "$1" ]; }
wait_for 10 b_ticked "$ticks_before" || fail "no tick of B inserted anything after the kill"

# ---- drained, once, in order -----------------------------------------------
queued() { agent "$1" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["queued"])'; }
drained() { [ "$(queued "$1")" = 0 ]; }
for n in "${NAMES[@]}"; do
  wait_slow 90 drained "$n" || fail "agent $n still has $(queued "$n") queued"
done
for i in "${!NAMES[@]}"; do
  a_first "$i" || continue
  n=${NAMES[$i]}
  grep -q "event=server_moved from=$EP_A to=$EP_B " "$T/agent-$n.log" || fail "agent $n did not move from A to B"
  grep -q "event=connected endpoint=$EP_B " "$T/agent-$n.log" || fail "agent $n did not connect to B"
  agent "$n" status --json >"$T/status-$n.json"
  python3 - "$T/status-$n.json" "$EP_A" "$EP_B" <<'PY' || fail "status --json of $n: $(cat "$T/status-$n.json")"
import json, sys
d = json.load(open(sys.argv[1])); a, b = sys.argv[2], sys.argv[3]
s = d["server"]
assert s["endpoint"] == b and s["connected"] is True and "stopped_ms" not in s, s
assert s["endpoints"] == [a, b] and d["endpoints"] == [a, b], d
assert d["unreachable"] is None, d["unreachable"]
PY
  agent "$n" status >"$T/status-$n.txt"
  grep -q "^Máy chủ (server): đã kết nối với $EP_B từ " "$T/status-$n.txt" \
    || fail "status of $n does not say it is connected to B: $(grep -i 'máy chủ' "$T/status-$n.txt")"
  grep -q "^Danh sách máy chủ (servers, \[server\] endpoints), thử theo thứ tự (tried in order): $EP_A, $EP_B$" \
    "$T/status-$n.txt" || fail "status of $n does not list the servers"
done
pass "the agents that were on A moved to B; status says connected to B and lists A, B"

[ "$(sql "select count(*) from reports")" = 5000 ] || fail "$(sql "select count(*) from reports") reports stored, not 5000"
[ "$(sql "select count(distinct (unit_code, agent_epoch, msg_id)) from reports")" = 5000 ] \
  || fail "a message stored twice"
[ "$(sql "select count(distinct (unit_code, report_type, subject, revision)) from reports")" = 5000 ] \
  || fail "a report revision stored twice"
[ "$(sql "select count(*) from reports where status = 'rejected'")" = 0 ] \
  || fail "refused reports: $(sql "select count(*) || ' ' || min(findings::text) from reports where status = 'rejected'")"
[ "$(sql "select count(*) from (select revision < lag(revision) over (partition by unit_code, subject order by id) as back
          from reports) x where back")" = 0 ] || fail "an older revision was stored after a newer one"
nkeys=$((${#NAMES[@]} * ${#TASKS[@]}))
[ "$(sql "select count(*) from reports where status = 'accepted' and revision = $NREV")" = $nkeys ] \
  || fail "the newest revision of each of the $nkeys reports is not the one accepted"
for n in "${NAMES[@]}"; do
  agent "$n" status --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert (d["queued"], d["delivered"], d["refused"], d["superseded"], d["held"]) == (0, 1000, 0, 0, 0), d
' || fail "agent $n: not 1000 delivered and nothing else"
done
pass "5000 reports stored exactly once, revisions in order, every agent drained (1000 delivered each) $((SECONDS - KILLED_AT)) s after the kill"

# The scheduler's notices: none doubled (kind, recipient, about, type, period,
# subject, day), and the new task's reached the agents that moved.
dup=$(sql "select count(*) from (select 1 from notifications
           where kind not in ('report.accepted', 'report.rejected', 'report.resolved')
           group by kind, unit_code, about, facts->>'type', facts->>'period', facts->>'subject',
                    (created_at at time zone 'Asia/Ho_Chi_Minh')::date
           having count(*) > 1) x")
[ "$dup" = 0 ] || fail "$dup notices doubled"
n99=$(sql "select count(*) from notifications where kind = 'task.overdue' and facts->>'subject' = 'KH87-99'")
[ "$n99" = "$(sql "select count(*) from expectations where subject = 'KH87-99'")" ] \
  || fail "KH87-99: $n99 notices for $(sql "select count(*) from expectations where subject = 'KH87-99'") expectations"
for i in "${!NAMES[@]}"; do
  a_first "$i" || continue
  n=${NAMES[$i]}
  # (grep -c reads to the end: grep -q would leave the agent a broken pipe.)
  got99() { agent "$1" notifications --json --limit 100000 | grep -c KH87-99 >/dev/null; }
  wait_slow 20 got99 "$n" || fail "agent $n did not receive the KH87-99 notice from B"
done
pass "B's scheduler went on after the kill ($n99 task.overdue for KH87-99, sent to the agents); no notice doubled"

# The watch: moved to B, and printed each notification once, in order.
total=$(sql "select count(*) from notifications")
printed() { [ "$(grep -c . "$T/watch.out" || true)" -ge "$1" ]; }
wait_for 30 printed "$total" || fail "the watch printed $(grep -c . "$T/watch.out" || true) of $total"
sleep 1
grep -q "event=server_moved from=$EP_A to=$EP_B " "$T/watch.log" || fail "the watch did not move from A to B"
grep -q "event=connected endpoint=$EP_B " "$T/watch.log" || fail "the watch did not connect to B"
sql "select seq from notifications order by seq" >"$T/db-seqs.txt"
python3 - "$T/watch.out" "$T/db-seqs.txt" <<'PY' || fail "the watch's output against the notifications table"
import json, sys
seqs = [json.loads(l)["seq"] for l in open(sys.argv[1]) if l.strip()]
db = [int(l) for l in open(sys.argv[2]) if l.strip()]
dups = sorted({s for s in seqs if seqs.count(s) > 1}) if len(seqs) != len(set(seqs)) else []
assert not dups, "printed twice: %s" % dups[:10]
assert seqs == sorted(seqs), "out of order"
missing = sorted(set(db) - set(seqs))
extra = sorted(set(seqs) - set(db))
assert not missing and not extra, "missing %s extra %s" % (missing[:10], extra[:10])
PY
pass "the watch moved from A to B and printed all $total notifications once, in order ($printed_at_kill before the kill)"

# Everything still running stops cleanly.
kill -INT "$WATCH_PID"; wait "$WATCH_PID" || fail "cchc watch did not exit 0"
for n in "${NAMES[@]}"; do
  kill -TERM "${APID[$n]}"; wait "${APID[$n]}" || fail "agent $n did not exit 0 on SIGTERM"
done
agent vs status --json | python3 -c '
import json, sys
s = json.load(sys.stdin)["server"]
assert s["endpoint"] and s.get("stopped_ms"), s
' || fail "status after the daemon stopped does not say it stopped"
pass "watch and agents stop cleanly; status then says the daemon stopped"

# Reports A stored, sent again to B (their answers lost, as when A dies
# between its commit and its Acks): B answers each from its row as a
# duplicate, the agent counts it delivered, nothing is stored twice. The
# agent starts with A, first in its list, dead: it goes on to B.
python3 - "$T/vs/outbox.db" <<'PY' || fail "could not put vs's first 5 reports back in the queue"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
n = db.execute("UPDATE outbox SET state = 'queued', delivered_at = NULL, server_report_id = NULL"
               " WHERE id <= 5 AND state = 'delivered'").rowcount
db.commit()
assert n == 5, n
PY
agent vs run --drain --timeout 30 >>"$T/agent-vs-again.log" 2>&1 || fail "vs did not drain its resent reports"
grep -q "event=server_moved from=$EP_A to=$EP_B " "$T/agent-vs-again.log" \
  || fail "vs, started with A dead, did not go on to B"
for id in 1 2 3 4 5; do
  grep -q "event=delivered id=$id server_id=[0-9]* duplicate=1 " "$T/agent-vs-again.log" \
    || fail "the resent report $id was not answered as a duplicate and counted delivered"
done
[ "$(count reports)" = 5000 ] || fail "a resent report was stored again: $(count reports) rows"
agent vs status --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert (d["queued"], d["delivered"]) == (0, 1000), d
' || fail "vs after the resend"
pass "reports stored through A and sent again to B are answered as duplicates and counted delivered; still 5000 rows"
kill -TERM "$PID_B"; wait "$PID_B" || fail "server B did not exit 0 on SIGTERM"
pass "B stops cleanly"
