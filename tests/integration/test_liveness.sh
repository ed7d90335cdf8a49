#!/usr/bin/env bash
# How each side finds the other gone, as the sockets show it (`ss -o`):
#  - the server's side of an agent's connection runs TCP keepalive, idle
#    [server] heartbeat_timeout_ms (here 7 s) then a probe every
#    heartbeat_ivl_ms: the kernel finds a dead agent's host, not libzmq's
#    heartbeat timers, whose cancelling walks every connection's timers (with
#    10,000 agents that saturated the server's I/O thread);
#  - the agent still sends ZMTP PINGs (every heartbeat_ivl_ms, here 300 ms),
#    how it finds a frozen server, and the server answers them: the link
#    stays up through 3 s of silence from the application.
. "$(dirname "$0")/lib.sh"
db_start; server_setup; district_setup
sed -i "s|^\[server\]|[server]\nheartbeat_ivl_ms = 2000\nheartbeat_timeout_ms = 7000|" "$T/server.ini"
server_start
agent_setup vs xa-van-son
sed -i "s|^\[server\]|[server]\nheartbeat_ivl_ms = 300\nheartbeat_timeout_ms = 1500|" "$T/vs/agent.ini"
agent vs run >>"$T/agent-vs.log" 2>&1 &
APID=$!; PIDS+=("$APID")
PORT_S=${ENDPOINT##*:}
line=
for _ in $(seq 1 100); do
  line=$(ss -tnoH state established "( sport = :$PORT_S )" 2>/dev/null | head -n 1)
  [ -n "$line" ] && break; sleep 0.1
done
[ -n "$line" ] || fail "no established connection on the server's port $PORT_S"
echo "$line" | grep -q 'timer:(keepalive,' || fail "the server's side of the connection has no keepalive timer: $line"
pass "the server's side runs TCP keepalive: $(echo "$line" | grep -o 'timer:([^)]*)')"
# The idle time before the first probe is heartbeat_timeout_ms (7 s): the
# timer shows at most that, and more than the agent's ZMTP interval.
# ss prints the timer as [Nmin][S.]MMMms or [Nmin]Ssec (iproute2's print_ms_timer).
python3 - "$line" <<'PY' || fail "keepalive idle not 7 s: $line"
import re, sys
m = re.search(r"timer:\(keepalive,(?:(\d+)min)?(?:(\d+)(?:sec|\.))?(?:(\d+)ms)?,", sys.argv[1])
mins, secs, ms = (int(g) if g else 0 for g in m.groups())
v = mins * 60 + secs + ms / 1000.0
print("keepalive timer %.3f s" % v)
sys.exit(0 if 0.3 < v <= 7.0 else 1)
PY
pass "its first probe comes after [server] heartbeat_timeout_ms of silence (at most 7 s)"

sleep 3
kill -0 "$APID" || fail "the agent's run exited"
n=$(ss -tnoH state established "( sport = :$PORT_S )" 2>/dev/null | wc -l)
[ "$n" = 1 ] || fail "the agent's connection did not stay up through 3 s of quiet: $n connections"
agent vs submit "$FIX/periodic.json" >/dev/null || fail "submit failed"
for _ in $(seq 1 100); do [ "$(sql "select count(*) from reports")" = 1 ] && break; sleep 0.1; done
[ "$(sql "select status from reports")" = accepted ] || fail "the report was not delivered on the same link"
[ "$(ss -tnoH state established "( sport = :$PORT_S )" | wc -l)" = 1 ] || fail "the agent reconnected"
pass "the agent's ZMTP heartbeats (300 ms) keep one connection up through 3 s of quiet, and a report goes through it"
kill -TERM "$APID"; wait "$APID" || true

# A connection the agent's own side drops for good. libzmq 4.3 ends a
# connection on a protocol error found by the dialling side (here: the
# server's Meta, a few kB, over this agent's [server] max_frame of 1 kB) and
# never dials again (libzmq PR #1043): the DISCONNECTED is all it says. With
# one server listed the agent dials again itself, saying why, and backs off.
agent_setup ab xa-an-ba
sed -i "s|^\[server\]|[server]\nmax_frame = 1024|" "$T/ab/agent.ini"
agent ab run >>"$T/agent-ab.log" 2>&1 &
BPID=$!; PIDS+=("$BPID")
for _ in $(seq 1 200); do
  [ "$(grep -c 'event=connected ' "$T/agent-ab.log")" -ge 2 ] && break; sleep 0.1
done
n=$(grep -c 'event=connected ' "$T/agent-ab.log")
[ "$n" -ge 2 ] || fail "the agent did not dial again after its side dropped the connection ($n handshakes in 20 s): $(grep -E 'event=(connected|disconnected|reconnect|connection_dropped)' "$T/agent-ab.log" | tail -5)"
grep -q 'event=connection_dropped .*max_frame=1024' "$T/agent-ab.log" \
  || fail "the agent's log does not say the connection was dropped for good: $(tail -3 "$T/agent-ab.log")"
pass "a connection dropped for good by the agent's side (a Meta over its max_frame) is dialled again by the agent, saying why"
kill -TERM "$BPID"; wait "$BPID" || true
agent ab status | grep -q 'max_frame = 1024' || fail "status does not show why: $(agent ab status | head -20)"
pass "status shows the drop and the setting to check"
