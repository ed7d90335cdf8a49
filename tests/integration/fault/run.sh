#!/usr/bin/env bash
# run.sh: fault tests. Five commune agents stream their queued reports to the
# server while a fault is injected; the oracle is an exact set comparison of
# (unit, epoch, msg_id) between the five outboxes and PostgreSQL.
#
#   CCHC_BIN=build CCHC_SRC=. bash tests/integration/fault/run.sh \
#       [--seed N] [--scenario a|b|c|d|e|all] [--reports N] [--drain-timeout SEC]
#       [--keep] [--blackhole-drop]
#
#   a  kill -9 the server 5 times mid-stream (0.2-1.5 s apart), restart it at once
#   b  kill -9 one agent mid-stream, restart it (its outbox survives)
#   c  crash PostgreSQL (pg_ctl stop -m immediate), 2 s down, start it again
#   d  SIGSTOP the server 4 s (heartbeat 500 ms / timeout 2000 ms), SIGCONT
#   e  one agent behind tproxy.py, 5 cycles of: delay 10-40 ms for 1-2 s, reset, refuse,
#      pass, blackhole 2-4 s (a dead link: bytes held, relayed when it comes back;
#      with --blackhole-drop they are thrown away instead)
#
# --seed N: every random choice (moments, durations, which agent) comes from
# bash's RANDOM seeded with N; without it, $CCHC_FAULT_SEED, else a random
# seed. The seed and the command to rerun are printed first. (The seed fixes
# the script's choices, not the scheduling of the processes.)
# --reports N: reports per agent (default 1000, so 5000 per scenario).
# --keep: keep the temporary directory (logs, outboxes, cluster) and print it.
#
# Each scenario gets a fresh database in one throwaway cluster, fresh outboxes
# (bulk `submit` of N periodic reports per agent, revision i for report i),
# then: server, 5 agents `run`, fault, wait until every outbox is drained,
# SIGTERM everything (each must exit 0), oracle. One result line each:
#   scenario=a submitted=5000 stored=5000 duplicates=0 missing=0 drain_s=12.3 result=PASS
# Exit 1 if any scenario failed (its logs' tails are printed).
SEED=${CCHC_FAULT_SEED:-}
SCEN=all
NREP=1000
DRAIN_TIMEOUT=150
KEEP=0
BH_DROP=
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case $1 in
    --seed) SEED=${2:?}; shift 2 ;;
    --seed=*) SEED=${1#*=}; shift ;;
    --scenario) SCEN=${2:?}; shift 2 ;;
    --scenario=*) SCEN=${1#*=}; shift ;;
    --reports) NREP=${2:?}; shift 2 ;;
    --reports=*) NREP=${1#*=}; shift ;;
    --drain-timeout) DRAIN_TIMEOUT=${2:?}; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --blackhole-drop) BH_DROP=drop; shift ;;
    -h|--help) usage ;;
    *) echo "run.sh: unknown argument '$1'" >&2; usage ;;
  esac
done
case $SCEN in all) SCENARIOS=(a b c d e) ;; [a-e]) SCENARIOS=("$SCEN") ;; *) usage ;; esac
[[ $NREP =~ ^[0-9]+$ ]] && [ "$NREP" -ge 10 ] || { echo "run.sh: --reports must be >= 10" >&2; exit 2; }
[ -n "$SEED" ] || SEED=$(( $(od -An -N2 -tu2 /dev/urandom) ))
[[ $SEED =~ ^[0-9]+$ ]] || { echo "run.sh: --seed must be a number" >&2; exit 2; }
echo "seed=$SEED"
echo "rerun: CCHC_BIN=${CCHC_BIN:-BUILD} CCHC_SRC=${CCHC_SRC:-SRC} bash ${BASH_SOURCE[0]} --seed $SEED --scenario $SCEN --reports $NREP${BH_DROP:+ --blackhole-drop}"
RANDOM=$SEED

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/../lib.sh"
set +x   # lib.sh traces to $T/trace.log; the polling loops would fill it
# lib.sh's cleanup, plus the tproxy and --keep; logs are shown by fail_scenario.
fault_cleanup() {
  local rc=$?
  set +e
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
  pgc_stop "$T/pg" immediate
  # lib.sh (in any later test) reaps a directory whose owner is gone: a kept
  # one has no owner file.
  if [ "$KEEP" = 1 ]; then rm -f "$T/owner"; echo "kept: $T"; else rm -rf "$T"; fi
  exit $rc
}
trap fault_cleanup EXIT

NAMES=(vs ab va hs ds)
UNITS=(xa-van-son xa-an-ba xa-vinh-an xa-huu-san xa-dai-son)
NA=${#NAMES[@]}
TOTAL=$((NA * NREP))
ORACLE="python3 $HERE/oracle.py"
TPROXY="$HERE/tproxy.py"
FAILED=()
RESULTS=()
NOTES=()

note() { NOTES+=("$*"); echo "note: $*" >&2; }
say() { echo "  [$SC $(elapsed)s] $*"; }
now_us() { echo "${EPOCHREALTIME/./}"; }
elapsed() { local d=$(( ${EPOCHREALTIME/./} - ${SC_T0:-${EPOCHREALTIME/./}} )); printf '%d.%d' $((d / 1000000)) $((d % 1000000 / 100000)); }
msleep() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }
# rnd LO HI: R = a random integer in [LO, HI] (main shell only, so the
# sequence stays the seed's).
rnd() { R=$(( $1 + ( (RANDOM << 15 | RANDOM) % ($2 - $1 + 1) ) )); }

# ---- what this build supports (others are adding keys in parallel) --------
keys_of() { # the "section.key" lines a program's --help lists
  awk '/^ *\[[a-z_]+\] *$/ { gsub(/[][ ]/, ""); sec = $0; next }
       sec != "" && /^    [a-z_]+ = / { print sec "." $1 }' 
}
AGENT_KEYS=$("$CCHC_BIN/cchc-agent" --help 2>&1 | keys_of)
SERVER_KEYS=$("$CCHC_BIN/cchc-server" --help 2>&1 | keys_of)
declare -A NOTED=()
# opt KEYS SECTION KEY VALUE WHO: "KEY = VALUE" if the program knows the key.
opt() {
  if grep -qx "$2.$3" <<<"$1"; then
    echo "$3 = $4"
  elif [ -z "${NOTED[$5.$2.$3]:-}" ]; then
    NOTED[$5.$2.$3]=1
    note "$5 has no [$2] $3 in this build: left out"
  fi
}

# ---- once: cluster, keys, report files -------------------------------------
db_start
mkdir -p "$T/keys" "$T/reports"
"$CCHC_BIN/cchc-server" --keygen "$T/keys/server" >/dev/null
for i in "${!NAMES[@]}"; do
  n=${NAMES[$i]}
  mkdir -p "$T/keys/$n" "$T/reports/$n"
  printf '[agent]\nunit = %s\n' "${UNITS[$i]}" >"$T/keys/$n/agent.ini"
  "$CCHC_BIN/cchc-agent" -c "$T/keys/$n/agent.ini" keygen >/dev/null
done
python3 - "$FIX/periodic.json" "$T/reports" "$NREP" "${NAMES[@]}" -- "${UNITS[@]}" <<'PY'
import json, sys
fix, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
rest = sys.argv[4:]
k = rest.index("--")
names, units = rest[:k], rest[k + 1:]
doc = json.load(open(fix, encoding="utf-8"))
for name, unit in zip(names, units):
    for i in range(1, n + 1):
        doc["unit"], doc["revision"] = unit, i
        with open("%s/%s/r%05d.json" % (out, name, i), "w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False)
PY
# Bulk submit (several files in one process) or, until it lands, one by one.
BULK=0
if "$CCHC_BIN/cchc-agent" -c "$T/keys/vs/agent.ini" submit --dry-run \
     "$T/reports/vs/r00001.json" "$T/reports/vs/r00002.json" >/dev/null 2>&1; then
  BULK=1
else
  note "cchc-agent submit takes one FILE in this build: queuing with one process per report (slow)"
fi
rm -f "$T/keys/vs/outbox.db"*

# ---- per scenario ----------------------------------------------------------
# Globals of the scenario: SC SD PORT SRV_PID APIDS[] PROXY_PID SC_FAIL SC_WHY
# MIDSTREAM (fault landed while reports were still flowing).

stored_total() { psql -X -q -t -A -c "select count(*) from reports" 2>/dev/null || echo "?"; }
stored_unit() { psql -X -q -t -A -c "select count(*) from reports where unit_code = '$1'" 2>/dev/null || echo "?"; }
outboxes() { for n in "${NAMES[@]}"; do echo "$SD/$n/outbox.db"; done; }
sc_fail() { SC_FAIL=1; SC_WHY+="$*; "; echo "  [$SC] FAIL: $*" >&2; }

write_server_ini() {
  {
    echo "[server]"
    echo "endpoint = tcp://127.0.0.1:$PORT"
    echo "public_key = server.pub"
    echo "secret_key = server.key"
    echo "shutdown_grace_ms = 5000"
    opt "$SERVER_KEYS" server heartbeat_ivl_ms 500 cchc-server
    opt "$SERVER_KEYS" server heartbeat_timeout_ms 2000 cchc-server
    echo "[database]"
    echo "conninfo = host=$T/pg user=cchc dbname=$DB"
    echo "[log]"
    echo "level = info"
  } >"$SD/server.ini"
}

write_agent_ini() { # NAME UNIT ENDPOINT
  {
    echo "[agent]"
    echo "unit = $2"
    echo "resend_timeout_ms = 2000"
    echo "[server]"
    echo "endpoint = $3"
    opt "$AGENT_KEYS" server heartbeat_ivl_ms 500 cchc-agent
    opt "$AGENT_KEYS" server heartbeat_timeout_ms 2000 cchc-agent
    echo "[log]"
    echo "level = info"
  } >"$SD/$1/agent.ini"
}

scenario_setup() {
  SD=$T/$SC
  DB=fault_$SC
  mkdir -p "$SD"
  PGDATABASE=postgres PGOPTIONS=--client-min-messages=warning sql "drop database if exists $DB"
  PGDATABASE=postgres sql "create database $DB"
  export PGDATABASE=$DB
  PORT=$(free_port)
  cp "$T/keys/server.pub" "$T/keys/server.key" "$SD/"
  write_server_ini
  "$CCHC_BIN/cchc" migrate >/dev/null
  "$CCHC_BIN/cchc" unit import "$CCHC_SRC/deploy/data/units.csv" >/dev/null
  district_setup
  local i n ep
  for i in "${!NAMES[@]}"; do
    n=${NAMES[$i]}
    mkdir -p "$SD/$n"
    cp "$T/keys/$n/agent.pub" "$T/keys/$n/agent.key" "$T/keys/server.pub" "$SD/$n/"
    ep=tcp://127.0.0.1:$PORT
    [ "${PROXIED:-}" = "$n" ] && ep=tcp://127.0.0.1:$PROXY_PORT
    write_agent_ini "$n" "${UNITS[$i]}" "$ep"
    "$CCHC_BIN/cchc" key add "${UNITS[$i]}" "$SD/$n/agent.pub" >/dev/null
  done
  # Queue N reports per agent, the five agents in parallel.
  local pids=() t0; t0=$(now_us)
  for n in "${NAMES[@]}"; do
    if [ $BULK = 1 ]; then
      timeout -k 5 300 "$CCHC_BIN/cchc-agent" -c "$SD/$n/agent.ini" --set log.level=warn \
        submit "$T/reports/$n"/r*.json >"$SD/$n/submit.out" 2>>"$SD/$n/submit.err" &
    else
      ( for f in "$T/reports/$n"/r*.json; do
          timeout -k 5 30 "$CCHC_BIN/cchc-agent" -c "$SD/$n/agent.ini" --set log.level=warn \
            submit "$f" || exit 1
        done ) >"$SD/$n/submit.out" 2>>"$SD/$n/submit.err" &
    fi
    pids+=($!)
  done
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || fail "submit for ${NAMES[$i]} failed: $(tail -n 3 "$SD/${NAMES[$i]}/submit.err")"
  done
  for n in "${NAMES[@]}"; do
    local q; q=$(grep -c 'id=[0-9]' "$SD/$n/submit.out" || true)
    [ "$q" = "$NREP" ] || fail "agent $n: submit printed $q ids, expected $NREP"
  done
  local c; c=$($ORACLE counts $(outboxes))
  [ "$c" = "queued=$TOTAL delivered=0 refused=0 total=$TOTAL" ] || fail "outboxes after submit: $c"
  say "queued $TOTAL reports (bulk=$BULK) in $(( ($(now_us) - t0) / 1000 )) ms"
}

srv_start() {
  local before
  before=$(grep -c 'event=listening' "$SD/server.log" 2>/dev/null || true)
  "$CCHC_BIN/cchc-server" -c "$SD/server.ini" >>"$SD/server.log" 2>&1 &
  SRV_PID=$!
  PIDS+=("$SRV_PID")
  for _ in $(seq 1 200); do
    [ "$(grep -c 'event=listening' "$SD/server.log" 2>/dev/null || true)" -gt "${before:-0}" ] && return 0
    if ! kill -0 "$SRV_PID" 2>/dev/null; then
      local rc=0; wait "$SRV_PID" || rc=$?
      sc_fail "cchc-server exited at start rc=$rc"; SRV_PID=; return 1
    fi
    sleep 0.05
  done
  sc_fail "cchc-server did not start listening in 10 s"
  return 1
}

agent_start() { # INDEX
  local n=${NAMES[$1]}
  "$CCHC_BIN/cchc-agent" -c "$SD/$n/agent.ini" run >>"$SD/$n/agent.log" 2>&1 &
  APIDS[$1]=$!
  PIDS+=("${APIDS[$1]}")
}

# kill9 PID: kill -9 and reap a process we stop on purpose.
kill9() { kill -9 "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# alive_check: every process we did not kill must still be running.
alive_check() {
  local i
  if [ -n "$SRV_PID" ] && ! kill -0 "$SRV_PID" 2>/dev/null; then
    local rc=0; wait "$SRV_PID" || rc=$?
    sc_fail "cchc-server (pid $SRV_PID) died on its own, rc=$rc"; SRV_PID=
  fi
  if [ -n "${PROXY_PID:-}" ] && ! kill -0 "$PROXY_PID" 2>/dev/null; then
    local rc=0; wait "$PROXY_PID" || rc=$?
    sc_fail "tproxy (pid $PROXY_PID) died, rc=$rc"; PROXY_PID=
  fi
  for i in "${!APIDS[@]}"; do
    [ -n "${APIDS[$i]}" ] || continue
    if ! kill -0 "${APIDS[$i]}" 2>/dev/null; then
      local rc=0; wait "${APIDS[$i]}" || rc=$?
      sc_fail "agent ${NAMES[$i]} (pid ${APIDS[$i]}) died on its own, rc=$rc"; APIDS[$i]=
    fi
  done
}

# term_check WHAT PID: SIGTERM, wait up to 15 s, must exit 0.
term_check() {
  local what=$1 pid=$2 rc=0
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    sc_fail "$what (pid $pid) still running 15 s after SIGTERM: killed"
    kill9 "$pid"; return
  fi
  wait "$pid" || rc=$?
  [ $rc = 0 ] || sc_fail "$what (pid $pid) exited rc=$rc after SIGTERM"
}

# wait_stored N: until N reports are stored (or the stream stalls 30 s).
wait_stored() {
  local want=$1 s
  for _ in $(seq 1 600); do
    s=$(stored_total)
    [ "$s" != "?" ] && [ "$s" -ge "$want" ] && { STORED=$s; return 0; }
    sleep 0.05
  done
  STORED=$s
  sc_fail "waited 30 s for $want reports stored, have $s"
  return 1
}

# wait_drain: every outbox queued == 0 and delivered + refused == N.
wait_drain() {
  local deadline=$(( $(now_us) + DRAIN_TIMEOUT * 1000000 )) c=
  while [ "$(now_us)" -lt $deadline ]; do
    c=$($ORACLE counts $(outboxes) 2>/dev/null || true)
    if [[ $c =~ ^queued=0\ delivered=([0-9]+)\ refused=([0-9]+) ]] &&
       [ $(( BASH_REMATCH[1] + BASH_REMATCH[2] )) = "$TOTAL" ]; then
      DRAIN_S=$(elapsed); return 0
    fi
    alive_check
    [ "$SC_FAIL" = 0 ] || { DRAIN_S=-; return 1; }
    sleep 0.25
  done
  DRAIN_S=-
  sc_fail "outboxes not drained after ${DRAIN_TIMEOUT}s: $c"
  $ORACLE counts -v $(outboxes) | tail -n +2 | sed 's/^/    /' >&2
  return 1
}

# ---- the faults --------------------------------------------------------------
fault_a() { # kill -9 the server 5 times, restart at once
  local k
  for k in 1 2 3 4 5; do
    rnd 200 1500; msleep "$R"
    local s; s=$(stored_total)
    [ "$s" != "?" ] && [ "$s" -lt "$TOTAL" ] || MIDSTREAM=no
    kill9 "$SRV_PID"; SRV_PID=
    say "kill -9 server #$k after ${R} ms, stored=$s/$TOTAL"
    srv_start || return 1
  done
}

fault_b() { # kill -9 one agent mid-stream and restart it
  rnd 0 $((NA - 1)); local i=$R n=${NAMES[$R]} u=${UNITS[$R]}
  rnd $((NREP / 10)) $((NREP * 6 / 10)); local want=$R s=0
  for _ in $(seq 1 600); do
    s=$(stored_unit "$u"); [ "$s" != "?" ] && [ "$s" -ge "$want" ] && break; sleep 0.02
  done
  kill9 "${APIDS[$i]}"; APIDS[$i]=
  local after; after=$(stored_unit "$u")
  local c; c=$($ORACLE counts "$SD/$n/outbox.db")
  [ "$after" -lt "$NREP" ] || MIDSTREAM=no
  rnd 200 1000
  say "kill -9 agent $n ($u) at stored=$s/$NREP for its unit (outbox: $c), restart after $R ms"
  msleep "$R"
  agent_start "$i"
}

fault_c() { # crash PostgreSQL, 2 s down, start again
  rnd $((TOTAL / 10)) $((TOTAL * 4 / 10))
  wait_stored "$R" || return 1
  local s=$STORED
  pgc_stop "$T/pg" immediate
  [ "$s" -lt "$TOTAL" ] || MIDSTREAM=no
  say "pg_ctl stop -m immediate at stored=$s/$TOTAL"
  sleep 2
  pgc_start "$T/pg" || { sc_fail "PostgreSQL did not start again"; return 1; }
  say "PostgreSQL started again, stored=$(stored_total)"
}

fault_d() { # SIGSTOP the server past the heartbeat timeout
  rnd $((TOTAL / 10)) $((TOTAL * 4 / 10))
  wait_stored "$R" || return 1
  local s=$STORED
  kill -STOP "$SRV_PID"
  [ "$s" -lt "$TOTAL" ] || MIDSTREAM=no
  say "SIGSTOP server at stored=$s/$TOTAL, for 4 s"
  sleep 4
  local s2; s2=$(stored_total)
  kill -CONT "$SRV_PID"
  say "SIGCONT server (stored while stopped: $((s2 - s)))"
}

proxy_mode() { printf '%s\n' "$*" >"$SD/proxy.ctl.tmp"; mv -f "$SD/proxy.ctl.tmp" "$SD/proxy.ctl"; kill -USR1 "$PROXY_PID" 2>/dev/null || true; }

fault_e() { # cut and restore the proxied agent's link, 5 cycles
  local u=${UNITS[$PROXIED_I]} k s mid=0 d flow bh
  for k in 1 2 3 4 5; do
    rnd 10 40; d=$R; rnd 1000 2000; flow=$R   # delay slows the stream so that it outlasts 5 cycles
    if [ "$d" = 0 ]; then proxy_mode pass; else proxy_mode delay "$d"; fi
    msleep "$flow"
    s=$(stored_unit "$u")
    [ "$s" != "?" ] && [ "$s" -lt "$NREP" ] && mid=$((mid + 1))
    proxy_mode reset
    rnd 200 800; local rf=$R; proxy_mode refuse; msleep "$rf"
    rnd 800 1500; local ps=$R; proxy_mode pass; msleep "$ps"
    rnd 2000 4000; bh=$R
    proxy_mode blackhole $BH_DROP; msleep "$bh"
    proxy_mode pass
    say "cycle $k: delay ${d} ms for ${flow} ms, reset at stored=$s/$NREP ($u), refuse ${rf} ms, pass ${ps} ms, blackhole${BH_DROP:+ $BH_DROP} ${bh} ms, pass"
  done
  [ $mid -ge 5 ] || MIDSTREAM="no ($mid/5 resets while $u had reports queued)"
  say "5 cycles done, $mid of the resets while $u still had reports queued; link left in pass"
}

crash_grep() { # Sanitizer / Segmentation in any log of the scenario
  local hits
  hits=$(grep -l -E 'Sanitizer|Segmentation|runtime error:|Assertion .* failed|Traceback|_bug_' \
    "$SD"/*.log "$SD"/*/*.log "$SD"/*/submit.err 2>/dev/null || true)
  [ -z "$hits" ] || sc_fail "crash report in: $hits"
}

show_logs() {
  local f
  echo "---- scenario $SC failed ($SC_WHY) seed=$SEED; logs:" >&2
  for f in "$SD/server.log" "$SD"/*/agent.log "$SD/proxy.log" "$T/pg/postgres.log"; do
    [ -f "$f" ] || continue
    echo "== $f (last 25 lines)" >&2; tail -n 25 "$f" >&2
  done
  for f in "$SD/server.log" "$SD"/*/agent.log; do
    [ -f "$f" ] || continue
    echo "== $f: warn/error lines (last 15)" >&2
    grep -E ' (warn|error) ' "$f" | tail -n 15 >&2 || true
  done
}

run_scenario() {
  SC=$1 SC_FAIL=0 SC_WHY= MIDSTREAM=yes SRV_PID= PROXY_PID= PROXIED= PROXIED_I= DRAIN_S=-
  APIDS=()
  SC_T0=$(now_us)
  echo "== scenario $SC"
  if [ "$SC" = e ]; then
    rnd 0 $((NA - 1)); PROXIED_I=$R; PROXIED=${NAMES[$R]}; PROXY_PORT=$(free_port)
  fi
  scenario_setup
  if [ "$SC" = e ]; then
    echo pass >"$SD/proxy.ctl"
    python3 "$TPROXY" --listen "127.0.0.1:$PROXY_PORT" --target "127.0.0.1:$PORT" \
      --control "$SD/proxy.ctl" --log "$SD/proxy.log" 2>>"$SD/proxy.log" &
    PROXY_PID=$!; PIDS+=("$PROXY_PID")
    # Its SIGUSR1 handler is in place once it says "listening".
    for _ in $(seq 1 200); do
      grep -q 'tproxy listening' "$SD/proxy.log" 2>/dev/null && break
      kill -0 "$PROXY_PID" 2>/dev/null || break
      sleep 0.05
    done
    grep -q 'tproxy listening' "$SD/proxy.log" || sc_fail "tproxy did not start listening"
    say "agent $PROXIED (${UNITS[$PROXIED_I]}) connects through tproxy 127.0.0.1:$PROXY_PORT"
  fi
  srv_start || true
  if [ "$SC_FAIL" = 0 ]; then
    local i; for i in "${!NAMES[@]}"; do agent_start "$i"; done
    SC_T0=$(now_us)   # drain_s counts from the agents' start
    wait_stored 1 && "fault_$SC" && wait_drain || true
  fi
  alive_check
  # Stop what is left: each process must still be alive and exit 0 on SIGTERM.
  local i; for i in "${!APIDS[@]}"; do term_check "agent ${NAMES[$i]}" "${APIDS[$i]}"; done
  term_check cchc-server "$SRV_PID"
  [ -z "$PROXY_PID" ] || term_check tproxy "$PROXY_PID"
  crash_grep
  # The district's answer as the agents show it.
  for i in "${!NAMES[@]}"; do
    agent "$SC/${NAMES[$i]}" status --json >"$SD/${NAMES[$i]}/status.json" 2>>"$SD/${NAMES[$i]}/agent.log" || true
    python3 -c '
import json, sys
d = json.load(open(sys.argv[1])); n = int(sys.argv[2])
ok = d["queued"] == 0 and d["delivered"] + d["refused"] == n and len(d["epoch"]) == 16
sys.exit(0 if ok else 1)' "$SD/${NAMES[$i]}/status.json" "$NREP" 2>/dev/null \
      || sc_fail "agent ${NAMES[$i]} status --json: $(head -c 200 "$SD/${NAMES[$i]}/status.json")"
  done
  # The oracle.
  if ! pgc_as_owner test -f "$T/pg/data/postmaster.pid"; then pgc_start "$T/pg" || true; fi
  psql -X -q -t -A -F'|' -v ON_ERROR_STOP=1 \
    -c "select unit_code, agent_epoch, msg_id, revision, status from reports" >"$SD/db_rows.txt" \
    || sc_fail "could not read reports from PostgreSQL"
  local args=() out
  for i in "${!NAMES[@]}"; do args+=("${NAMES[$i]}=$SD/${NAMES[$i]}/outbox.db"); done
  out=$($ORACLE check --db "$SD/db_rows.txt" "${args[@]}") || sc_fail "oracle: ${out%%$'\n'*}"
  echo "$out" | tail -n +2 | sed 's/^/  /'
  local line=${out%%$'\n'*}
  local sub=${line#submitted=}; sub=${sub%% *}
  local sto=${line#*stored=}; sto=${sto%% *}
  local dup=${line#*duplicates=}; dup=${dup%% *}
  local mis=${line#*missing=}; mis=${mis%% *}
  local res=PASS; [ "$SC_FAIL" = 0 ] || res=FAIL
  local r="scenario=$SC submitted=$sub stored=$sto duplicates=$dup missing=$mis drain_s=$DRAIN_S result=$res"
  echo "  oracle: $line"
  [ "$MIDSTREAM" = yes ] || echo "  note: fault not entirely mid-stream: $MIDSTREAM (the stream outran the fault)"
  echo "$r"
  RESULTS+=("$r")
  if [ "$res" = FAIL ]; then FAILED+=("$SC"); show_logs; fi
  # Keep the cluster small between scenarios.
  if [ "$KEEP" = 0 ] && [ "$res" = PASS ]; then rm -rf "$SD"; PGDATABASE=postgres sql "drop database $DB" || true; fi
}

T_START=$(now_us)
for SC in "${SCENARIOS[@]}"; do run_scenario "$SC"; done
echo "== summary seed=$SEED reports/agent=$NREP total_s=$(( ($(now_us) - T_START) / 1000000 ))"
printf '%s\n' "${RESULTS[@]}"
for n in "${NOTES[@]}"; do echo "note: $n"; done
if [ ${#FAILED[@]} -gt 0 ]; then
  echo "FAILED scenarios: ${FAILED[*]} (seed=$SEED)"
  exit 1
fi
echo "all scenarios passed"
