#!/usr/bin/env bash
# Readiness under systemd (Type=notify), checked without systemd: PID 1 here is
# not systemd, so a Python listener plays its notification socket
# (NOTIFY_SOCKET) for the real server and agent.
#  - The server, started while PostgreSQL is down and on a database it has yet
#    to migrate, says STATUS= (connecting) but not READY=1; once PostgreSQL is
#    back, READY=1 comes, and at that moment the port accepts connections and
#    every migration is applied; then an agent syncs through it.
#  - SIGTERM: STOPPING=1, then exit 0.
#  - The agent's run says READY=1 with the server down (it never waits for
#    the link), its STATUS= counting the queued report; SIGTERM: STOPPING=1.
#  - cchc-web says READY=1 once its port accepts, STOPPING=1 on SIGTERM.
#  - A NOTIFY_SOCKET nobody listens on is logged, and changes nothing else.
. "$(dirname "$0")/lib.sh"
LISTEN=$CCHC_SRC/tests/integration/sdnotify_listen.py

db_start
# server_setup without its migrations: the server applies them itself here.
PORT=$(free_port)
ENDPOINT="tcp://127.0.0.1:$PORT"
"$CCHC_BIN/cchc-server" --keygen "$T/server" >/dev/null
cat >"$T/server.ini" <<INI
[server]
endpoint = $ENDPOINT
public_key = server.pub
secret_key = server.key
shutdown_grace_ms = 5000
[database]
conninfo = host=$T/pg user=cchc dbname=postgres
[log]
level = debug
INI
[ "$(sql "select to_regclass('schema_migrations') is null")" = t ] \
  || fail "the database is migrated already: the test proves nothing"
NMIG=$(ls "$CCHC_SRC"/server/sql/*.sql | wc -l)
LATEST=$(ls "$CCHC_SRC"/server/sql | sed -n 's/^0*\([0-9][0-9]*\)_.*\.sql$/\1/p' | sort -n | tail -n 1)

# listen NAME [ON_READY]: a listener at $T/NAME.sock writing $T/NAME.notify.
listen() {
  rm -f "$T/$1.sock" "$T/$1.sock.up"
  python3 "$LISTEN" "$T/$1.sock" "$T/$1.notify" ${2:+--on-ready "$2"} 2>>"$T/listen.log" &
  PIDS+=($!)
  for _ in $(seq 1 100); do [ -f "$T/$1.sock.up" ] && return 0; sleep 0.05; done
  fail "the notification listener $1 did not start"
}
# wait_for NAME PATTERN SECONDS: until a line of $T/NAME.notify matches.
wait_for() {
  for _ in $(seq 1 $(($3 * 10))); do
    grep -q -- "$2" "$T/$1.notify" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# What is true when READY=1 arrives: the port takes a TCP connection, and
# how many migrations are recorded.
ON_READY="(exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && echo port=open || echo port=closed;
PGHOST=$T/pg PGUSER=cchc PGDATABASE=postgres psql -X -A -t -c 'select count(*) from schema_migrations' 2>&1 | sed 's/^/migrations=/'"

# ---- the server waits for PostgreSQL before it is ready ----------------------------
pgc_stop "$T/pg" fast
listen server "$ON_READY"
NOTIFY_SOCKET=$T/server.sock "$CCHC_BIN/cchc-server" -c "$T/server.ini" >>"$T/server.log" 2>&1 &
SERVER_PID=$!; PIDS+=("$SERVER_PID")
wait_for server 'STATUS=connecting to PostgreSQL' 5 || fail "no STATUS= while connecting: $(cat "$T/server.notify" 2>/dev/null)"
sleep 3
kill -0 "$SERVER_PID" || fail "the server gave up while PostgreSQL was down for 3 s"
grep -q 'event=db_connect_failed' "$T/server.log" || fail "the server did not try PostgreSQL: the test proves nothing"
grep -q 'READY=1' "$T/server.notify" && fail "READY=1 while PostgreSQL is down: $(cat "$T/server.notify")"
(exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && fail "the port is open before the database answered"
pass "PostgreSQL down: STATUS=connecting to PostgreSQL, no READY=1, port closed"

pgc_start "$T/pg"
wait_for server 'READY=1' 40 || fail "no READY=1 after PostgreSQL came back: $(cat "$T/server.notify")"
ready=$(grep 'READY=1' "$T/server.notify")
echo "$ready" | grep -q "STATUS=listening on $ENDPOINT; schema $LATEST; 0 agent keys" \
  || fail "READY=1 without the expected STATUS=: $ready"
wait_for server 'on_ready: exit=' 10 || fail "the on-ready check did not run"
grep -qx 'on_ready: port=open' "$T/server.notify" || fail "READY=1 before the port was bound: $(cat "$T/server.notify")"
grep -qx "on_ready: migrations=$NMIG" "$T/server.notify" \
  || fail "READY=1 before the $NMIG migrations were applied: $(grep on_ready "$T/server.notify")"
# The order of what the server said: connecting, migrating, binding, ready.
order=$(sed -n 's/.*STATUS=\(connecting\|checking\|binding\|listening\).*/\1/p' "$T/server.notify" | uniq | tr '\n' ' ')
[ "$order" = "connecting checking binding listening " ] || fail "STATUS= order: $order"
grep -c 'READY=1' "$T/server.notify" | grep -qx 1 || fail "READY=1 sent more than once"
pass "READY=1 once, after PostgreSQL answered: port bound and $NMIG migrations applied at that moment ($order)"

# It serves: an agent registered now (the server picks up the key by NOTIFY)
# syncs through it.
"$CCHC_BIN/cchc" unit import "$CCHC_SRC/deploy/data/units.csv" >/dev/null
district_setup
agent_setup vs xa-van-son
agent vs sync --timeout 20 >>"$T/agent-vs.log" 2>&1 || fail "an agent could not sync after READY=1"
pass "after READY=1 the server answers an agent's sync"

kill -TERM "$SERVER_PID"
set +e; wait "$SERVER_PID"; rc=$?; set -e
[ $rc = 0 ] || fail "server exit $rc on SIGTERM"
wait_for server 'STOPPING=1' 5 || fail "no STOPPING=1 on SIGTERM: $(cat "$T/server.notify")"
grep 'STOPPING=1' "$T/server.notify" | grep -q 'STATUS=stopping: storing and answering 0 pending reports' \
  || fail "STOPPING=1 without its STATUS=: $(grep STOPPING "$T/server.notify")"
[ "$(grep -n -m1 'STOPPING=1' "$T/server.notify" | cut -d: -f1)" -gt "$(grep -n -m1 'READY=1' "$T/server.notify" | cut -d: -f1)" ] \
  || fail "STOPPING=1 came before READY=1"
pass "SIGTERM: STOPPING=1 with a STATUS=, then exit 0"

# ---- the agent is ready without the server ------------------------------------------
# The server is stopped: nothing listens on $PORT.
agent vs submit "$FIX/periodic.json" >/dev/null || fail "submit failed"
listen agent
NOTIFY_SOCKET=$T/agent.sock "$CCHC_BIN/cchc-agent" -c "$T/vs/agent.ini" run >>"$T/agent-vs.log" 2>&1 &
APID=$!; PIDS+=("$APID")
wait_for agent 'READY=1' 10 || fail "the agent's run sent no READY=1 with the server down: $(cat "$T/agent.notify" 2>/dev/null)"
grep 'READY=1' "$T/agent.notify" | grep -q 'STATUS=đang chạy, 1 báo cáo chờ gửi (running for xa-van-son: 1 queued)' \
  || fail "the agent's READY=1 without its STATUS=: $(cat "$T/agent.notify")"
kill -0 "$APID" || fail "the agent's run exited"
pass "the agent's run: READY=1 with the server unreachable, STATUS= counting 1 queued report"
kill -TERM "$APID"
set +e; wait "$APID"; rc=$?; set -e
[ $rc = 0 ] || fail "agent exit $rc on SIGTERM"
wait_for agent 'STOPPING=1' 5 || fail "no STOPPING=1 from the agent: $(cat "$T/agent.notify")"
pass "the agent's run: SIGTERM sends STOPPING=1 and exits 0"

# ---- the dashboard: ready once it accepts connections ---------------------------------
WPORT=$(free_port)
printf '[web]\nlisten = 127.0.0.1:%s\n[database]\nconninfo = host=%s/pg user=cchc dbname=postgres\n' \
  "$WPORT" "$T" >"$T/web.ini"
listen web "(exec 3<>/dev/tcp/127.0.0.1/$WPORT) 2>/dev/null && echo port=open || echo port=closed"
NOTIFY_SOCKET=$T/web.sock "$CCHC_BIN/cchc-web" -c "$T/web.ini" >>"$T/web.log" 2>&1 &
WPID=$!; PIDS+=("$WPID")
wait_for web 'READY=1' 10 || fail "cchc-web sent no READY=1: $(cat "$T/web.notify" 2>/dev/null) $(cat "$T/web.log")"
grep 'READY=1' "$T/web.notify" | grep -q "STATUS=serving 127.0.0.1:$WPORT" \
  || fail "cchc-web's READY=1 without its STATUS=: $(cat "$T/web.notify")"
wait_for web 'on_ready: exit=' 10 || fail "the on-ready check did not run"
grep -qx 'on_ready: port=open' "$T/web.notify" || fail "cchc-web said READY=1 before it accepted: $(cat "$T/web.notify")"
kill -TERM "$WPID"
set +e; wait "$WPID"; rc=$?; set -e
[ $rc = 0 ] || fail "cchc-web exit $rc on SIGTERM"
wait_for web 'STOPPING=1' 5 || fail "no STOPPING=1 from cchc-web: $(cat "$T/web.notify")"
pass "cchc-web: READY=1 (STATUS=serving 127.0.0.1:$WPORT) once its port accepts; SIGTERM: STOPPING=1, exit 0"

# ---- a socket nobody listens on -----------------------------------------------------
: >"$T/server.log"
NOTIFY_SOCKET=$T/nobody.sock "$CCHC_BIN/cchc-server" -c "$T/server.ini" >>"$T/server.log" 2>&1 &
SERVER_PID=$!; PIDS+=("$SERVER_PID")
for _ in $(seq 1 100); do grep -q 'event=listening' "$T/server.log" && break; sleep 0.1; done
grep -q 'event=listening' "$T/server.log" || fail "the server did not start with a dead NOTIFY_SOCKET"
grep -q 'event=sd_notify err="could not notify the service manager' "$T/server.log" \
  || fail "a failed READY=1 was not logged: $(grep sd_notify "$T/server.log")"
agent vs run --drain --timeout 20 >>"$T/agent-vs.log" 2>&1 || fail "the agent could not deliver through it"
[ "$(sql "select status from reports")" = accepted ] || fail "the report was not stored: $(sql "select status from reports")"
kill -TERM "$SERVER_PID"
set +e; wait "$SERVER_PID"; rc=$?; set -e
[ $rc = 0 ] || fail "server exit $rc on SIGTERM with a dead NOTIFY_SOCKET"
pass "a NOTIFY_SOCKET nobody listens on is logged once; the server serves and stops as usual"
