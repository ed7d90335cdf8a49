#!/usr/bin/env bash
# A conninfo that lists several hosts, the first of which accepts TCP and never
# answers (a frozen or wedged old primary): the server's connections, lost,
# come back on the next host within its connect_timeout (2 s), and stay with
# it. (libpq's own walk through the hosts, from PQconnectPoll, has no per-host
# timeout: the server would retry the silent host forever.)
. "$(dirname "$0")/lib.sh"
db_start; server_setup; district_setup
# The silent host: accepts, reads nothing, answers nothing.
BH=$(free_port)
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64)
print("listening", flush=True)
held = []
while True:
    c, _ = s.accept(); held.append(c)
' "$BH" >"$T/blackhole.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 50); do grep -q listening "$T/blackhole.log" && break; sleep 0.1; done
grep -q listening "$T/blackhole.log" || fail "the silent host did not start"
sed -i "s|^conninfo = .*|conninfo = host=127.0.0.1,$T/pg port=$BH,5432 user=cchc dbname=postgres|" "$T/server.ini"
sed -i 's|^level = debug|level = info|' "$T/server.ini"
server_start

store="select count(*) from pg_stat_activity where application_name in ('cchc-server', 'cchc-server-store')"
n=
for _ in $(seq 1 100); do n=$(sql "$store"); [ "$n" = 3 ] && break; sleep 0.1; done
[ "$n" = 3 ] || fail "the server's loop and store connections at start: $n, expected 3"

# Lose them all: each reconnects from the poll loop, through the host list.
t0=$(date +%s%N)
sql "select pg_terminate_backend(pid) from pg_stat_activity
     where application_name in ('cchc-server', 'cchc-server-store')" >/dev/null
sleep 0.5
for _ in $(seq 1 150); do n=$(sql "$store"); [ "$n" = 3 ] && break; sleep 0.1; done
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$n" = 3 ] || fail "connections after they were lost: $n of 3 back in 15 s; $(grep 'event=db_' "$T/server.log" | tail -n 3)"
grep -q "event=db_connect_failed db=cchc-server-store host=127.0.0.1:$BH .*next=\"the next host at once\"" "$T/server.log" \
  || fail "no attempt on the silent host was given up for the next one: $(grep 'event=db_' "$T/server.log" | tail -n 3)"
grep -q "event=db_connected db=cchc-server host=$T/pg:5432" "$T/server.log" \
  || fail "the loop's connection did not come back on the second host"
pass "lost connections skip a host that never answers and come back on the next ($ms ms)"

# Lost again, they go straight to the host that worked: no new attempt on the silent one.
before=$(grep -c "host=127.0.0.1:$BH" "$T/server.log")
sql "select pg_terminate_backend(pid) from pg_stat_activity
     where application_name in ('cchc-server', 'cchc-server-store')" >/dev/null
sleep 0.5
for _ in $(seq 1 50); do n=$(sql "$store"); [ "$n" = 3 ] && break; sleep 0.1; done
[ "$n" = 3 ] || fail "connections after a second loss: $n of 3"
[ "$(grep -c "host=127.0.0.1:$BH" "$T/server.log")" = "$before" ] \
  || fail "the silent host was tried again although the second one worked"
pass "the next round starts at the host that worked last"

# And they work.
agent_setup vs xa-van-son
agent vs submit "$FIX/periodic.json" >/dev/null || fail "submit"
agent vs run --drain --timeout 30 >>"$T/agent-vs.log" 2>&1 || fail "not delivered after the reconnects"
[ "$(sql "select count(*) from reports")" = 1 ] || fail "expected 1 report stored"
kill -0 "$SERVER_PID" || fail "server died"
pass "a report is stored and acked over the new connections"
