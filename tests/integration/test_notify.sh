#!/usr/bin/env bash
# Notification delivery: rows inserted in notifications reach the unit's agent
# (which acks them: unit_contacts.last_seq) and a subscriber (`cchc watch`),
# in order and once, including the ones published while the subscriber was
# stopped; a subscriber sees only its own topics, is refused outside them, and
# may send nothing but Replay and acks; a subscriber that stops reading is
# held to subscriber_max_pending and catches up; an agent's Replay is refused.
. "$(dirname "$0")/lib.sh"
db_start; server_setup
server_start
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
watch_start narrow "$T/narrow.out" --topic deadline.today.
wait_lines "$T/narrow.out" 1
sleep 1
kill -INT "$WATCH_PID"; wait "$WATCH_PID" || true
python3 - "$T/narrow.out" <<'PY' || fail "narrow subscriber saw outside its topics"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert rows and all(r["topic"].startswith("deadline.today.") for r in rows), rows[:3]
PY
pass "a subscriber narrower than its grant gets only what it asked for"

# Everything it may see, asked without a topic: deadline.* only, live ones too.
watch_start narrow "$T/narrow-all.out"
wait_lines "$T/narrow-all.out" 1
ins report.overdue xa-van-son "ngoài phạm vi"
ins deadline.approaching p-tnmt "trong phạm vi"
for _ in $(seq 1 50); do grep -q 'trong phạm vi' "$T/narrow-all.out" && break; sleep 0.1; done
kill -INT "$WATCH_PID"; wait "$WATCH_PID" || true
grep -q 'trong phạm vi' "$T/narrow-all.out" || fail "narrow did not get its live one"
python3 - "$T/narrow-all.out" <<'PY' || fail "narrow subscriber saw outside its topics"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert rows and all(r["topic"].startswith("deadline.") for r in rows), [r["topic"] for r in rows if not r["topic"].startswith("deadline.")][:3]
PY
pass "with no topic asked, history and live ones stay within its own topics"

# Outside its topics: subscribing (with follow) and replaying are refused.
if "$CCHC_BIN/cchc" -c "$T/narrow.ini" watch --json --topic report.overdue. \
    >"$T/outside.out" 2>"$T/outside.err"; then
  fail "a subscriber could watch outside its topics"
fi
grep -q 'INVALID: a topic outside this subscriber' "$T/outside.err" \
  || fail "outside topics: $(cat "$T/outside.err")"
[ ! -s "$T/outside.out" ] || fail "outside topics printed: $(head -3 "$T/outside.out")"
grep -q 'event=topic_refused subscriber=sub:narrow topic=report.overdue.' "$T/server.log" \
  || fail "the refusal was not logged"
pass "subscribing outside its topics is refused with a clear error, nothing sent"

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
pass "an agent's Replay is refused"

# A subscriber revoked while watching: its live session ends at the next push.
watch_start narrow "$T/revoked.out"
wait_lines "$T/revoked.out" 1
before=$(grep -c . "$T/revoked.out")
loads=$(grep -c 'event=keys_loaded' "$T/server.log")
"$CCHC_BIN/cchc" -c "$T/narrow.ini" subscriber revoke narrow >/dev/null || fail "subscriber revoke"
for _ in $(seq 1 50); do [ "$(grep -c 'event=keys_loaded' "$T/server.log")" -gt "$loads" ] && break; sleep 0.1; done
ins deadline.today xa-van-son "sau khi thu hồi"
for _ in $(seq 1 50); do grep -q 'event=subscriber_revoked subscriber=sub:narrow' "$T/server.log" && break; sleep 0.1; done
grep -q 'event=subscriber_revoked subscriber=sub:narrow' "$T/server.log" \
  || fail "a revoked subscriber's session was not ended"
set +e; timeout 10 tail --pid="$WATCH_PID" -f /dev/null; wait "$WATCH_PID"; rc=$?; set -e
[ $rc = 1 ] || fail "watch of a revoked subscriber exited $rc, not 1"
grep -q 'the server refused: KEY_REVOKED: Khoá đã bị thu hồi.*(key revoked' "$T/watch-narrow.log" \
  || fail "watch did not say why: $(tail -2 "$T/watch-narrow.log")"
! grep -q 'sau khi thu hồi' "$T/revoked.out" || fail "a revoked subscriber still got a push"
[ "$(grep -c . "$T/revoked.out")" = "$before" ] || fail "a revoked subscriber got more rows"
pass "a subscriber revoked while connected gets nothing more (checked per push); watch exits 1 saying so"

# ---- (d) a subscriber that stops reading ----------------------------------------------
# Its stdout is a pipe nobody reads for a while: cchc watch blocks and stops
# acking. The server pushes at most subscriber_max_pending (1000) unacked,
# then holds back; once the reader drains, all of them arrive, in order, once.
first=$(( $(sql "select max(seq) from notifications") + 1 ))
echo "$((first - 1))" >"$T/slow.state"
( "$CCHC_BIN/cchc" -c "$T/ops.ini" watch --json --topic report.overdue.p-tnmt \
    --state "$T/slow.state" 2>>"$T/watch-slow.log" | { sleep 6; cat >"$T/slow.out"; } ) &
SLOW=$!; PIDS+=("$SLOW")
sleep 1
sql "INSERT INTO notifications (kind, unit_code, about, dedup_key, text_vi, text_en)
     SELECT 'report.overdue', 'p-tnmt', NULL, 'slow:' || i,
            'Phòng TN&MT chưa gửi báo cáo — nhắc lần ' || i || repeat(' …', 40), 'Overdue ' || i
     FROM generate_series(1, 3000) i"
for _ in $(seq 1 50); do grep -q 'event=subscriber_lagging subscriber=sub:ops' "$T/server.log" && break; sleep 0.1; done
grep -q 'event=subscriber_lagging subscriber=sub:ops unacked=1000 max_pending=1000' "$T/server.log" \
  || fail "no lagging subscriber at 1000 unacked: $(grep -c subscriber_lagging "$T/server.log")"
wait_until() { for _ in $(seq 1 200); do eval "$1" && return 0; sleep 0.1; done; return 1; }
wait_until '[ "$(grep -c . "$T/slow.out" 2>/dev/null || echo 0)" -ge 3000 ]' \
  || fail "the slow subscriber got $(grep -c . "$T/slow.out" 2>/dev/null || echo 0) of 3000"
pkill -INT -f "state $T/slow.state" || true
wait "$SLOW" || true
python3 - "$T/slow.out" "$first" <<'PY' || fail "the slow subscriber's rows"
import json, sys
seqs = [json.loads(l)["seq"] for l in open(sys.argv[1]) if l.strip()]
first = int(sys.argv[2])
assert seqs == list(range(first, first + 3000)), (len(seqs), seqs[:3], seqs[-3:])
PY
pass "a subscriber that stopped reading was held at 1000 unacked, then got all 3000 in order, once"

# ---- (e) a grant narrowed while watching ------------------------------------------------
# ops loses report.*: its open session ends with a Nack at the next push, cchc
# watch asks again and from then on gets deadline.* only.
watch_start ops "$T/narrowed.out" --state "$T/narrowed.state"
wait_lines "$T/narrowed.out" 1
sql "UPDATE subscribers SET topics = '{deadline.}' WHERE name = 'ops'; NOTIFY cchc_keys"
for _ in $(seq 1 50); do [ "$(grep -c 'event=keys_loaded' "$T/server.log")" -gt "$loads" ] && break; sleep 0.1; done
sleep 0.5
ins report.overdue p-tnmt "sau khi thu hẹp"
ins deadline.today p-tnmt "vẫn được nhận"
for _ in $(seq 1 100); do grep -q 'vẫn được nhận' "$T/narrowed.out" && break; sleep 0.1; done
grep -q 'vẫn được nhận' "$T/narrowed.out" || fail "the narrowed subscriber lost its deadline.* rows"
! grep -q 'sau khi thu hẹp' "$T/narrowed.out" || fail "a narrowed grant still got report.*"
grep -q 'event=subscriber_topics_changed subscriber=sub:ops' "$T/server.log" \
  || fail "the topic change was not applied to the open session"
kill -INT "$WATCH_PID"; wait "$WATCH_PID" || true
pass "a grant narrowed while watching applies at the next push; watch asks again"
