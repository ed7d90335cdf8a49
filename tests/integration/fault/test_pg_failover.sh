#!/usr/bin/env bash
# test_pg_failover.sh: PostgreSQL fails over under load, and no acked report is
# lost. A primary and a synchronous standby (pg_basebackup -R, the standby's
# primary_conninfo with application_name=cchc_pg2, the primary's
# synchronous_standby_names naming it, synchronous_commit=on), both on
# loopback TCP; two cchc-server processes whose [database] conninfo lists both
# hosts with target_session_attrs=read-write; four cchc-agent processes (two per
# server) streaming their queued reports. Mid-stream the primary's postmaster
# is killed with kill -9 and the standby promoted with pg_ctl promote. Then:
#   - while no database is writable no report is acked (the outboxes' delivered
#     count does not move), and the servers' reconnect attempts are turned
#     away by the standby (libpq: "session is read-only"): no server has a
#     connection on it before its promotion;
#   - each server comes back by itself on the promoted database: its loop's
#     connection (LISTEN), its store connections and its scheduler's, counted
#     in pg_stat_activity; LISTEN works again (a key added with `cchc key add`
#     reaches each server through NOTIFY cchc_keys and a new agent delivers);
#   - the agents finish;
#   - the old primary is rebuilt as the new primary's synchronous standby with
#     pg_rewind -R (as docs/replication.md says) and streams again;
#   - the oracle (oracle.py, as in run.sh) finds in the promoted database every
#     report the agents queued exactly once: none lost (every report acked
#     before the kill was on the standby), none twice, and every outbox row
#     answered; the rebuilt standby has the same reports.
#
#   CCHC_BIN=build CCHC_SRC=. bash tests/integration/fault/test_pg_failover.sh \
#       [--reports N] [--async-control] [--keep]
#
# --reports N: reports per streaming agent (default 400).
# --async-control: the negative control: no synchronous standby, and the
#     standby stopped (pg_ctl stop -m immediate) while reports are acked, then
#     started again after the primary's kill and promoted. Acked reports are
#     then lost, and the test must say so: it passes only if the oracle finds
#     reports missing (run by hand, to show the oracle can fail).
# --keep: keep the temporary directory (logs, outboxes, both clusters).
NREP=400
CONTROL=0
KEEP=0
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case $1 in
    --reports) NREP=${2:?}; shift 2 ;;
    --reports=*) NREP=${1#*=}; shift ;;
    --async-control) CONTROL=1; shift ;;
    --keep) KEEP=1; shift ;;
    -h|--help) usage ;;
    *) echo "test_pg_failover.sh: unknown argument '$1'" >&2; usage ;;
  esac
done
[[ $NREP =~ ^[0-9]+$ ]] && [ "$NREP" -ge 50 ] || { echo "test_pg_failover.sh: --reports must be >= 50" >&2; exit 2; }

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/../lib.sh"
set +x   # lib.sh traces to $T/trace.log; the polling loops would fill it
ORACLE="python3 $HERE/oracle.py"

P1=$T/pg1 P2=$T/pg2   # primary, standby (each: data/, postgres.log, its socket)
PGP1=$(free_port)
PGP2=$(free_port)
STANDBY_NAME=cchc_pg2
ORPHANS=()            # the killed primary's children, reaped at exit if still there

ha_cleanup() {
  local rc=$?
  set +e
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
  for p in "${ORPHANS[@]}"; do kill -9 "$p" 2>/dev/null; done
  pgc_stop "$P1" immediate
  pgc_stop "$P2" immediate
  if [ $rc -ne 0 ]; then
    echo "---- test failed (rc=$rc); logs:" >&2
    for f in "$T"/srv*.log "$T"/a-*/agent.log "$P1/postgres.log" "$P2/postgres.log"; do
      [ -f "$f" ] && { echo "== $f (last 25 lines)" >&2; tail -n 25 "$f" >&2; }
    done
  fi
  # lib.sh (in any later test) reaps a directory whose owner is gone: a kept
  # one has no owner file.
  if [ "$KEEP" = 1 ]; then rm -f "$T/owner"; echo "kept: $T" >&2; else rm -rf "$T"; fi
  exit $rc
}
trap ha_cleanup EXIT

now_us() { echo "${EPOCHREALTIME/./}"; }
T0=$(now_us)
say() { local d=$(( $(now_us) - T0 )); printf '  [%d.%ds] %s\n' $((d / 1000000)) $((d % 1000000 / 100000)) "$*"; }

# ---- the two clusters -------------------------------------------------------
# pg_start DIR PORT: listens on 127.0.0.1:PORT (and a socket in DIR). fsync
# stays off as in the other tests: we kill processes, not the machine, so the
# page cache survives; what a synchronous standby adds is that a commit is
# acknowledged only once the standby has the WAL.
pg_start() {
  pgc_as_owner "$PGC_BIN/pg_ctl" -D "$1/data" -l "$1/postgres.log" -w -t 60 \
    -o "-k $1 -p $2 -c listen_addresses=127.0.0.1 -c fsync=off" \
    start >/dev/null || { tail -n 20 "$1/postgres.log" >&2; fail "could not start PostgreSQL in $1"; }
}
# psql on one node (not the PG* environment, which names the database of the test).
on() { local port=$1; shift; psql -X -q -t -A -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U cchc "$@"; }

mkdir -p "$P1" "$P2"
if [ "$(id -u)" -eq 0 ]; then chown postgres "$P2"; fi
pgc_create "$P1"
# As docs/replication.md: wal_log_hints lets pg_rewind bring the old primary
# back as a standby, and wal_keep_size keeps the WAL it reads there (back to
# the last checkpoint the two share). In the configuration file, not on the
# command line: pg_rewind's own crash recovery of the old primary reads only
# the file, and then refuses a cluster that ran without. (The base backup
# copies the file to the standby.)
pgc_as_owner sh -c "printf 'wal_log_hints = on\nwal_keep_size = 1GB\n' >> '$P1/data/postgresql.conf'"
pg_start "$P1" "$PGP1"
# What the district's primary needs (docs/replication.md): wal_level=replica
# and max_wal_senders are PostgreSQL 15's defaults; a role for replication;
# initdb's pg_hba.conf already lets local TCP replication in (trust, here).
on "$PGP1" -d postgres -c "create role cchc_replicator with replication login" \
  -c "create database cchc" >/dev/null
[ "$(on "$PGP1" -d postgres -c "show wal_level")" = replica ] || fail "wal_level is not replica"
pgc_as_owner "$PGC_BIN/pg_basebackup" -h 127.0.0.1 -p "$PGP1" -U cchc_replicator \
  -D "$P2/data" -R -X stream -c fast -d "application_name=$STANDBY_NAME" \
  >"$P2/basebackup.log" 2>&1 || { cat "$P2/basebackup.log" >&2; fail "pg_basebackup failed"; }
grep -q "application_name=$STANDBY_NAME" "$P2/data/postgresql.auto.conf" \
  || fail "pg_basebackup -R wrote no application_name: $(cat "$P2/data/postgresql.auto.conf")"
[ -f "$P2/data/standby.signal" ] || fail "pg_basebackup -R made no standby.signal"
pg_start "$P2" "$PGP2"
[ "$(on "$PGP2" -d postgres -c "select pg_is_in_recovery()")" = t ] || fail "the standby is not in recovery"
if [ "$CONTROL" = 0 ]; then
  on "$PGP1" -d postgres -c "alter system set synchronous_standby_names = '$STANDBY_NAME'" \
    -c "select pg_reload_conf()" >/dev/null
  [ "$(on "$PGP1" -d postgres -c "show synchronous_commit")" = on ] || fail "synchronous_commit is not on"
fi
want=sync; [ "$CONTROL" = 1 ] && want=async
st=
for _ in $(seq 1 100); do
  st=$(on "$PGP1" -d postgres -c "select state || ' ' || sync_state from pg_stat_replication
                                   where application_name = '$STANDBY_NAME'")
  [ "$st" = "streaming $want" ] && break
  sleep 0.1
done
[ "$st" = "streaming $want" ] || fail "pg_stat_replication on the primary: '$st', expected 'streaming $want'"
pass "primary on 127.0.0.1:$PGP1, standby $STANDBY_NAME on 127.0.0.1:$PGP2 made by pg_basebackup -R: streaming, $want"

# The test's own psql and the operator CLI talk to the primary, until the failover.
export PGHOST=127.0.0.1 PGPORT=$PGP1 PGUSER=cchc PGDATABASE=cchc
unset PGPASSWORD PGSERVICE
"$CCHC_BIN/cchc" migrate >/dev/null || fail "cchc migrate"
"$CCHC_BIN/cchc" unit import "$CCHC_SRC/deploy/data/units.csv" >/dev/null || fail "unit import"
district_setup

# ---- servers and agents ------------------------------------------------------
CONNINFO="host=127.0.0.1,127.0.0.1 port=$PGP1,$PGP2 user=cchc dbname=cchc target_session_attrs=read-write"
"$CCHC_BIN/cchc-server" --keygen "$T/server" >/dev/null
NSRV=2
SPORT=() SPID=()
for s in 1 2; do
  SPORT[$s]=$(free_port)
  cat >"$T/srv$s.ini" <<INI
[server]
endpoint = tcp://127.0.0.1:${SPORT[$s]}
public_key = server.pub
secret_key = server.key
shutdown_grace_ms = 5000
heartbeat_ivl_ms = 500
heartbeat_timeout_ms = 2000
[database]
conninfo = $CONNINFO
query_timeout_ms = 10000
[scheduler]
tick_interval_ms = 1000
[log]
level = info
INI
done

srv_start() { # S
  local s=$1
  "$CCHC_BIN/cchc-server" -c "$T/srv$s.ini" >>"$T/srv$s.log" 2>&1 &
  SPID[$s]=$!
  PIDS+=("${SPID[$s]}")
  for _ in $(seq 1 200); do
    grep -q 'event=listening' "$T/srv$s.log" 2>/dev/null && return 0
    kill -0 "${SPID[$s]}" 2>/dev/null || fail "cchc-server $s exited at start: $(tail -n 3 "$T/srv$s.log")"
    sleep 0.05
  done
  fail "cchc-server $s did not start listening"
}

# The streaming agents: a-0 and a-1 on server 1, a-2 and a-3 on server 2.
NAMES=(vs ab va hs)
UNITS=(xa-van-son xa-an-ba xa-vinh-an xa-huu-san)
NA=${#NAMES[@]}
TOTAL=$((NA * NREP))
APID=()
agent_dir() { # NAME UNIT SERVER
  local d=$T/a-$1
  mkdir -p "$d"
  cp "$T/server.pub" "$d/"
  cat >"$d/agent.ini" <<INI
[agent]
unit = $2
resend_timeout_ms = 2000
[server]
endpoint = tcp://127.0.0.1:${SPORT[$3]}
heartbeat_ivl_ms = 500
heartbeat_timeout_ms = 2000
[log]
level = info
INI
  "$CCHC_BIN/cchc-agent" -c "$d/agent.ini" keygen >/dev/null || fail "keygen $1"
}
for i in "${!NAMES[@]}"; do
  agent_dir "${NAMES[$i]}" "${UNITS[$i]}" $(( i / 2 + 1 ))
  "$CCHC_BIN/cchc" key add "${UNITS[$i]}" "$T/a-${NAMES[$i]}/agent.pub" >/dev/null || fail "key add ${UNITS[$i]}"
done
# N periodic reports per agent, revision i for report i (as run.sh), queued in bulk.
python3 - "$FIX/periodic.json" "$T" "$NREP" "${NAMES[@]}" -- "${UNITS[@]}" <<'PY'
import json, os, sys
fix, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
rest = sys.argv[4:]
k = rest.index("--")
doc = json.load(open(fix, encoding="utf-8"))
for name, unit in zip(rest[:k], rest[k + 1:]):
    d = "%s/a-%s/reports" % (out, name)
    os.makedirs(d)
    for i in range(1, n + 1):
        doc["unit"], doc["revision"] = unit, i
        with open("%s/r%05d.json" % (d, i), "w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False)
PY
pids=()
for n in "${NAMES[@]}"; do
  timeout -k 5 300 "$CCHC_BIN/cchc-agent" -c "$T/a-$n/agent.ini" --set log.level=warn \
    submit "$T/a-$n/reports"/r*.json >"$T/a-$n/submit.out" 2>"$T/a-$n/submit.err" &
  pids+=($!)
done
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || fail "submit for ${NAMES[$i]}: $(tail -n 3 "$T/a-${NAMES[$i]}/submit.err")"
done
outboxes() { for n in "${NAMES[@]}"; do echo "$T/a-$n/outbox.db"; done; }
c=$($ORACLE counts $(outboxes))
[ "$c" = "queued=$TOTAL delivered=0 refused=0 total=$TOTAL" ] || fail "outboxes after submit: $c"
say "queued $TOTAL reports in $NA outboxes"

srv_start 1
srv_start 2
# Both servers are on the primary with every connection: the loop's (LISTEN),
# the store connections (2 by default), the scheduler's.
conns() { # PORT: "main store sched" counted by application_name
  on "$1" -d cchc -c "select count(*) filter (where application_name = 'cchc-server') || ' ' ||
                             count(*) filter (where application_name = 'cchc-server-store') || ' ' ||
                             count(*) filter (where application_name = 'cchc-server-scheduler')
                      from pg_stat_activity" 2>/dev/null || echo "?"
}
WANT_CONNS="$NSRV $((2 * NSRV)) $NSRV"
have=
for _ in $(seq 1 100); do have=$(conns "$PGP1"); [ "$have" = "$WANT_CONNS" ] && break; sleep 0.1; done
[ "$have" = "$WANT_CONNS" ] || fail "connections on the primary (main store scheduler): '$have', expected '$WANT_CONNS'"

agent_start() { # INDEX
  local n=${NAMES[$1]}
  "$CCHC_BIN/cchc-agent" -c "$T/a-$n/agent.ini" run >>"$T/a-$n/agent.log" 2>&1 &
  APID[$1]=$!
  PIDS+=("${APID[$1]}")
}
for i in "${!NAMES[@]}"; do agent_start "$i"; done
T0=$(now_us)

alive_check() {
  local s i
  for s in 1 2; do kill -0 "${SPID[$s]}" 2>/dev/null || fail "cchc-server $s died: $(tail -n 5 "$T/srv$s.log")"; done
  for i in "${!NAMES[@]}"; do
    kill -0 "${APID[$i]}" 2>/dev/null || fail "agent ${NAMES[$i]} died: $(tail -n 5 "$T/a-${NAMES[$i]}/agent.log")"
  done
}
delivered() { # the outboxes' delivered + refused: what the servers answered for good
  local c; c=$($ORACLE counts $(outboxes) 2>/dev/null) || { echo "?"; return; }
  if [[ $c =~ delivered=([0-9]+)\ refused=([0-9]+) ]]; then echo $(( BASH_REMATCH[1] + BASH_REMATCH[2] )); else echo "?"; fi
}

# ---- the fault ------------------------------------------------------------------
# Mid-stream: a third of the reports answered.
d=0
for _ in $(seq 1 1200); do
  d=$(delivered); [ "$d" != "?" ] && [ "$d" -ge $((TOTAL / 3)) ] && break
  alive_check
  sleep 0.05
done
[ "$d" != "?" ] && [ "$d" -ge $((TOTAL / 3)) ] || fail "a third of the reports not answered in 60 s: $d/$TOTAL"
[ "$d" -lt "$TOTAL" ] || fail "the stream ended before the fault: raise --reports"

if [ "$CONTROL" = 1 ]; then
  # The negative control: the standby goes away; the asynchronous primary
  # goes on acking what only it has.
  pgc_stop "$P2" immediate
  d0=$(delivered)
  for _ in $(seq 1 200); do d=$(delivered); [ "$d" -ge $((d0 + TOTAL / 10)) ] && break; sleep 0.05; done
  say "control: standby stopped at delivered=$d0, primary went on acking alone to $d"
fi

PM=$(head -n 1 "$P1/data/postmaster.pid")
[[ $PM =~ ^[0-9]+$ ]] && kill -0 "$PM" || fail "no primary postmaster pid: '$PM'"
mapfile -t ORPHANS < <(pgrep -P "$PM" || true)
stored_before=$(on "$PGP1" -d cchc -c "select count(*) from reports")
kill -9 "$PM"
d_kill=$(delivered)
say "kill -9 of the primary's postmaster (pid $PM) at stored=$stored_before/$TOTAL, answered=$d_kill"
[ "$d_kill" -lt "$TOTAL" ] || fail "every report was answered before the kill: raise --reports"

# No writable database now. Acks already on their way when the primary died
# may still land; then nothing moves.
sleep 1
d1=$(delivered)
sleep 2
d2=$(delivered)
alive_check
[ "$d1" = "$d2" ] || fail "reports were acked while no database was writable: answered $d1 -> $d2"
pass "no report acked while no database is writable (answered=$d2 for 2 s after the kill)"
# Each server has tried again by now (at once, then after 1 s): libpq went
# on to the standby and turned it away for target_session_attrs=read-write.
if [ "$CONTROL" = 0 ]; then
  for s in 1 2; do
    grep -q "event=db_connect_failed db=cchc-server.* host=127.0.0.1:$PGP2 .*session is read-only" "$T/srv$s.log" \
      || fail "server $s: no reconnect attempt refused by the standby: $(grep 'event=db_' "$T/srv$s.log" | tail -n 3)"
  done
  pass "reconnect attempts reach the standby and are turned away while it is read-only"
fi

if [ "$CONTROL" = 1 ]; then pg_start "$P2" "$PGP2"; fi
# Until the promotion no server has a connection on the standby: libpq turned
# it away, as target_session_attrs=read-write asks.
have=$(conns "$PGP2")
[ "$have" = "0 0 0" ] || fail "server connections on the standby before its promotion (main store scheduler): '$have'"
pass "no server connection on the standby while it is read-only"
pgc_as_owner "$PGC_BIN/pg_ctl" -D "$P2/data" -w -t 60 promote >/dev/null || fail "pg_ctl promote"
[ "$(on "$PGP2" -d cchc -c "select pg_is_in_recovery()")" = f ] || fail "the standby is still in recovery after promote"
say "standby promoted"
export PGPORT=$PGP2

# ---- after the failover ----------------------------------------------------------------
# Every connection of both servers comes back by itself on the new primary.
have=
for _ in $(seq 1 300); do
  have=$(conns "$PGP2"); [ "$have" = "$WANT_CONNS" ] && break
  sleep 0.1
done
[ "$have" = "$WANT_CONNS" ] || fail "connections on the promoted database (main store scheduler): '$have', expected '$WANT_CONNS'"
say "both servers reconnected: main/store/scheduler = $have"
pass "each server's loop, store and scheduler connections reconnect to the promoted database"

deadline=$(( $(now_us) + 120 * 1000000 ))
d=0
while [ "$(now_us)" -lt $deadline ]; do
  d=$(delivered)
  [ "$d" = "$TOTAL" ] && break
  alive_check
  sleep 0.25
done
c=$($ORACLE counts $(outboxes))
[ "$d" = "$TOTAL" ] || fail "outboxes not drained 120 s after the promotion: $c"
say "outboxes drained: $c"

# ---- the old primary comes back as the new primary's synchronous standby -----------
# As docs/replication.md: its postmaster is gone (its children follow it), so
# pg_rewind takes its data directory back to where the two diverged (it runs
# the crash recovery first), copies the new primary's configuration, and -R
# makes it a standby of the source, named by the source conninfo's
# application_name.
for p in "${ORPHANS[@]}"; do
  for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$p" 2>/dev/null && fail "a backend of the killed primary (pid $p) is still running"
done
OLD_NAME=cchc_pg1
# A checkpoint on the new primary first: until one is done (PostgreSQL 15
# requests it after the promotion but takes its time), its control file
# still shows the old timeline, and pg_rewind answers "no rewind required"
# for a cluster that has diverged.
on "$PGP2" -d postgres -c "checkpoint" || fail "checkpoint on the new primary"
pgc_as_owner "$PGC_BIN/pg_rewind" -D "$P1/data" -R \
  --source-server="host=127.0.0.1 port=$PGP2 user=cchc dbname=postgres application_name=$OLD_NAME" \
  >"$P1/rewind.log" 2>&1 || { cat "$P1/rewind.log" >&2; fail "pg_rewind of the old primary failed"; }
grep -q "application_name=$OLD_NAME" "$P1/data/postgresql.auto.conf" \
  || fail "pg_rewind -R wrote no application_name: $(grep primary_conninfo "$P1/data/postgresql.auto.conf")"
pg_start "$P1" "$PGP1"
[ "$(on "$PGP1" -d postgres -c "select pg_is_in_recovery()")" = t ] || fail "the rebuilt old primary is not a standby"
if [ "$CONTROL" = 0 ]; then
  on "$PGP2" -d postgres -c "alter system set synchronous_standby_names = '$OLD_NAME'" \
    -c "select pg_reload_conf()" >/dev/null
fi
st=
for _ in $(seq 1 100); do
  st=$(on "$PGP2" -d postgres -c "select state || ' ' || sync_state from pg_stat_replication
                                   where application_name = '$OLD_NAME'")
  [ "$st" = "streaming $want" ] && break
  sleep 0.1
done
[ "$st" = "streaming $want" ] || fail "pg_stat_replication on the new primary: '$st', expected 'streaming $want'"
say "old primary rewound and streaming from the new one ($want)"
pass "pg_rewind -R makes the old primary the new primary's standby ($st)"

# LISTEN is back on each server's loop connection: a key registered now is
# loaded by NOTIFY cchc_keys (the reconnect's own reload is long past), and a
# new agent on each server delivers with it.
for s in 1 2; do
  n=new$s unit=$([ $s = 1 ] && echo xa-dai-son || echo xa-giao-liem)
  agent_dir "$n" "$unit" "$s"
  "$CCHC_BIN/cchc" key add "$unit" "$T/a-$n/agent.pub" >/dev/null || fail "key add $unit after the failover"
  report_for "$unit" periodic.json "$T/a-$n/r.json"
  "$CCHC_BIN/cchc-agent" -c "$T/a-$n/agent.ini" submit "$T/a-$n/r.json" >/dev/null || fail "submit $n"
  timeout -k 5 60 "$CCHC_BIN/cchc-agent" -c "$T/a-$n/agent.ini" run --drain --timeout 30 \
    >>"$T/a-$n/agent.log" 2>&1 || fail "a new agent on server $s did not deliver: $(tail -n 3 "$T/a-$n/agent.log")"
  [ "$(sql "select count(*) from reports where unit_code = '$unit'")" = 1 ] || fail "$unit's report not stored once"
done
pass "NOTIFY cchc_keys reaches both servers after the failover: a key added then is accepted"

# Everyone stops cleanly.
term_check() { # WHAT PID: SIGTERM, must exit 0 within 15 s
  local rc=0
  kill -TERM "$2" 2>/dev/null || true
  for _ in $(seq 1 150); do kill -0 "$2" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$2" 2>/dev/null && { kill -9 "$2"; fail "$1 still running 15 s after SIGTERM"; }
  wait "$2" || rc=$?
  [ $rc = 0 ] || fail "$1 exited rc=$rc after SIGTERM"
}
for i in "${!NAMES[@]}"; do term_check "agent ${NAMES[$i]}" "${APID[$i]}"; done
for s in 1 2; do term_check "cchc-server $s" "${SPID[$s]}"; done
hits=$(grep -l -E 'Sanitizer|Segmentation|runtime error:|Assertion .* failed|Traceback' \
  "$T"/srv*.log "$T"/a-*/agent.log "$T"/a-*/submit.err 2>/dev/null || true)
[ -z "$hits" ] || fail "crash report in: $hits"

# The rebuilt standby has what the new primary has (synchronous_commit=on
# waits for its flush; its replay may trail a moment).
n2=$(sql "select count(*) from reports")
n1=
for _ in $(seq 1 100); do
  n1=$(on "$PGP1" -d cchc -c "select count(*) from reports"); [ "$n1" = "$n2" ] && break; sleep 0.1
done
[ "$n1" = "$n2" ] || fail "the rebuilt standby has $n1 reports, the new primary $n2"

# ---- the oracle ----------------------------------------------------------------------------
sql "select unit_code, agent_epoch, msg_id, revision, status from reports" >"$T/db_rows.txt" \
  || fail "could not read the reports of the promoted database"
args=()
for n in "${NAMES[@]}"; do args+=("$n=$T/a-$n/outbox.db"); done
# The two post-failover agents' rows are in the database too: add their outboxes.
args+=("new1=$T/a-new1/outbox.db" "new2=$T/a-new2/outbox.db")
rc=0
out=$($ORACLE check --db "$T/db_rows.txt" "${args[@]}") || rc=$?
echo "$out" | sed 's/^/  /'
if [ "$CONTROL" = 1 ]; then
  [[ ${out%%$'\n'*} =~ missing=([0-9]+) ]] && [ "${BASH_REMATCH[1]}" -gt 0 ] \
    || fail "control: the standby missed acked reports, yet the oracle found none missing"
  pass "control (asynchronous, standby away): the oracle finds ${BASH_REMATCH[1]} acked reports lost"
  exit 0
fi
[ $rc = 0 ] || fail "oracle: ${out%%$'\n'*}"
pass "after the failover every queued report is stored exactly once in the promoted database, none lost ($d_kill answered before the kill)"
