#!/usr/bin/env bash
# Notification delivery: rows inserted in notifications reach the unit's agent
# (which acks them: unit_contacts.last_seq) and a subscriber (`cchc watch`),
# in order and once, including the ones published while the subscriber was
# stopped; a subscriber sees only its own topics and may send nothing but
# Replay; agents' keys are refused on the PUB and their Replay is refused.
. "$(dirname "$0")/lib.sh"
db_start; server_setup
PUB_PORT=$(free_port)
sed -i "s|^\[server\]\$|[server]\npub_endpoint = tcp://127.0.0.1:$PUB_PORT|" "$T/server.ini"
server_start
grep -q 'event=pub_listening' "$T/server.log" || fail "PUB socket not listening"
agent_setup vs xa-van-son

# A subscriber with a key made by the agent's keygen, allowed report.* and deadline.*.
"$CCHC_BIN/cchc-agent" -c "$T/vs/agent.ini" keygen --out "$T/ops" >/dev/null 2>&1
"$CCHC_BIN/cchc-agent" -c "$T/vs/agent.ini" keygen --out "$T/narrow" >/dev/null 2>&1
sql "INSERT INTO subscribers (name, public_key, topics) VALUES
     ('ops', '$(cat "$T/ops.pub")', '{report.,deadline.}'),
     ('narrow', '$(cat "$T/narrow.pub")', '{deadline.}')"
sql "NOTIFY cchc_keys"

admin_ini() { # NAME KEYPREFIX
  cat >"$T/$1.ini" <<INI
[database]
conninfo = host=$T/pg user=cchc dbname=postgres
[watch]
endpoint = $ENDPOINT
pub_endpoint = tcp://127.0.0.1:$PUB_PORT
server_key = server.pub
public_key = $2.pub
secret_key = $2.key
INI
}
admin_ini ops ops
admin_ini narrow narrow
admin_ini agentkey vs/agent

N=0
ins() { # KIND UNIT [TEXT]
  N=$((N + 1))
  sql "INSERT INTO notifications (kind, unit_code, about, dedup_key, text_vi, text_en, facts)
       VALUES ('$1', '$2', '$2', 'test:$N', '${3:-Thông báo số $N}', 'Notice $N', '{\"n\": $N}')"
}
seqs() { python3 -c 'import json,sys; print(" ".join(str(json.loads(l)["seq"]) for l in sys.stdin if l.strip()))' <"$1"; }
wait_lines() { # FILE N
  for _ in $(seq 1 100); do
    local n; n=$(grep -c . "$1" 2>/dev/null || true); [ "${n:-0}" -ge "$2" ] && return 0
    sleep 0.1
  done
  fail "$1 has $(grep -c . "$1" 2>/dev/null || echo 0) lines, expected $2"
}
watch_start() { # NAME OUT [ARGS...]
  local name=$1 out=$2; shift 2
  "$CCHC_BIN/cchc" -c "$T/$name.ini" watch --json "$@" >>"$out" 2>>"$T/watch-$name.log" &
  WATCH_PID=$!
  PIDS+=("$WATCH_PID")
}

# ---- (a) the agent receives and acks --------------------------------------------------
ins report.overdue xa-van-son "Xã Văn Sơn chưa gửi báo cáo CCHC quý 3"
ins deadline.today xa-van-son
ins report.overdue xa-yen-dinh   # another unit's: not for this agent
agent vs run --timeout 4 >>"$T/agent-vs.log" 2>&1 || true
last=$(sql "select last_seq from unit_contacts where unit_code = 'xa-van-son'")
[ "$last" = 2 ] || fail "unit_contacts.last_seq is '$last', expected 2"
pass "the agent received its notifications and acked them (last_seq=2)"
ins deadline.approaching xa-van-son
agent vs run --timeout 4 >>"$T/agent-vs.log" 2>&1 || true
[ "$(sql "select last_seq from unit_contacts where unit_code = 'xa-van-son'")" = 4 ] \
  || fail "a reconnecting agent did not get what it missed"
pass "a reconnecting agent gets the ones it missed (Hello.last_seq)"

# ---- (b) a subscriber: once, in order, and the missed ones after a restart -------------
watch_start ops "$T/ops.out" --state "$T/ops.state"
wait_lines "$T/ops.out" 4
[ "$(seqs "$T/ops.out")" = "1 2 3 4" ] || fail "first replay: $(seqs "$T/ops.out")"
ins report.accepted xa-van-son
ins deadline.today xa-yen-dinh
wait_lines "$T/ops.out" 6
[ "$(seqs "$T/ops.out")" = "1 2 3 4 5 6" ] || fail "live: $(seqs "$T/ops.out")"
[ "$(cat "$T/ops.state")" = 6 ] || fail "state file: $(cat "$T/ops.state")"
pass "cchc watch prints the history then live ones, in order, once"
kill -INT "$WATCH_PID"
wait "$WATCH_PID" || fail "cchc watch did not exit 0 on SIGINT"

# A simulated day while it is stopped: 200 notifications for 3 units.
sql "INSERT INTO notifications (kind, unit_code, about, dedup_key, text_vi, text_en)
     SELECT (ARRAY['deadline.approaching','report.overdue','deadline.today'])[1 + i % 3],
            (ARRAY['xa-van-son','xa-yen-dinh','p-tnmt'])[1 + i % 3], NULL, 'day:' || i,
            'Nhắc việc ' || i, 'Reminder ' || i
     FROM generate_series(1, 200) i"
watch_start ops "$T/ops.out" --state "$T/ops.state"
wait_lines "$T/ops.out" 206
ins report.overdue p-tnmt
wait_lines "$T/ops.out" 207
sleep 1
want=$(seq -s ' ' 1 207)
[ "$(seqs "$T/ops.out")" = "$want" ] || fail "after restart: $(seqs "$T/ops.out" | tr ' ' '\n' | sort -n | uniq -d | head)"
kill -TERM "$WATCH_PID"
wait "$WATCH_PID" || fail "cchc watch did not exit 0 on SIGTERM"
pass "restarted with --state: exactly the 201 missed ones, in order, once"

# The human line.
"$CCHC_BIN/cchc" -c "$T/ops.ini" watch --topic report.overdue.xa-van-son >"$T/human.out" \
  2>>"$T/watch-ops.log" &
hp=$!; PIDS+=("$hp")
wait_lines "$T/human.out" 1
kill -INT $hp; wait $hp || fail "human watch exit"
grep -q '^\[20[0-9-]* [0-9:]*\] report.overdue xa-van-son: Xã Văn Sơn chưa gửi báo cáo CCHC quý 3$' \
  "$T/human.out" || fail "human line: $(head -1 "$T/human.out")"
pass "the readable line: $(head -1 "$T/human.out")"

# --exec runs for each (a failing command is logged, not fatal).
watch_start ops "$T/exec.out" --topic report.accepted --exec "cat >>'$T/exec.json'; exit 3"
wait_lines "$T/exec.json" 1
sleep 0.5
kill -INT "$WATCH_PID"; wait "$WATCH_PID" || fail "--exec watch exit"
python3 -c 'import json,sys; d=json.loads(open(sys.argv[1]).readline()); assert d["seq"]==5 and d["kind"]=="report.accepted", d' \
  "$T/exec.json" || fail "--exec input"
grep -q 'exit status 3' "$T/watch-ops.log" || fail "--exec failure not logged"
pass "--exec gets the JSON on stdin; its failure is logged"

# ---- (c) topics and principals ------------------------------------------------------
watch_start narrow "$T/narrow.out" --topic report. --topic deadline.today.
wait_lines "$T/narrow.out" 1
sleep 1
kill -INT "$WATCH_PID"; wait "$WATCH_PID" || true
python3 - "$T/narrow.out" <<'PY' || fail "narrow subscriber saw outside its topics"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert rows and all(r["topic"].startswith("deadline.today.") for r in rows), rows[:3]
PY
pass "Replay outside a subscriber's topics gives nothing outside them"

out=$(tclient --endpoint "$ENDPOINT" --server-key "$T/server.pub" --key "$T/ops" \
  --report "$FIX/periodic.json" --timeout 5000)
echo "$out" | grep -q 'NACK .*reason=UNSUPPORTED detail=not allowed for this principal' \
  || fail "a subscriber's Report: $out"
[ "$(sql "select count(*) from reports")" = 0 ] || fail "a subscriber's report was stored"
pass "a subscriber sending a Report is refused"

if "$CCHC_BIN/cchc" -c "$T/agentkey.ini" watch --json >"$T/agentkey.out" 2>"$T/agentkey.err"; then
  fail "an agent's key could watch"
fi
grep -q 'not allowed for this principal' "$T/agentkey.err" || fail "agent Replay: $(cat "$T/agentkey.err")"
[ ! -s "$T/agentkey.out" ] || fail "an agent's key got notifications"
for _ in $(seq 1 30); do
  grep -q 'zap_refused.*domain=cchc-pub reason=not_a_subscriber' "$T/server.log" && break
  timeout 2 "$CCHC_BIN/cchc" -c "$T/agentkey.ini" watch >/dev/null 2>&1 || true
done
grep -q 'zap_refused.*domain=cchc-pub reason=not_a_subscriber' "$T/server.log" \
  || fail "an agent's key was not refused on the PUB"
pass "an agent's Replay is refused, and its key on the PUB"
