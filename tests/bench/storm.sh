#!/usr/bin/env bash
# storm.sh: the first overdue morning of 2024Q3 with 10,000 communes, as a
# benchmark (not a ctest test): prints one summary block of figures.
#
#   CCHC_BIN=build-storm CCHC_SRC=. tests/bench/storm.sh [UNITS]
#
# A throwaway cluster (tests/integration/lib.sh), the real data's types,
# calendar and plan, UNITS generated communes (default 10000) that all owe
# CCHC_DK and none report. Then:
#   1. expectations_s: `cchc-server --tick-at 2024-09-18T07:00+07:00`, the
#      recompute alone (periods, expectations, marking overdue; no rule's
#      hour has come at 07:00);
#   2. the daemon starts at CCHC_CLOCK=2024-09-18T08:00:30+07:00 while this
#      script holds the scheduler's advisory lock, so its ticks skip; a
#      subscriber (`cchc watch --json`) counts what it prints; a
#      cchc-tclient sends a report every 100 ms (ack latency = one whole
#      tclient run: process, CURVE handshake, report, answer: ACK, or NACK
#      INVALID for a stored rejected revision), the baseline;
#   3. the lock is released and NOTIFY cchc_meta kicks the daemon's
#      scheduler thread: its tick (tick_s, from its log line) writes the
#      report.overdue rows and the digest while the tclient keeps sending;
#   4. published_s: from the kick until the watch printed every row.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
export CCHC_SRC=${CCHC_SRC:-$(cd "$HERE/../.." && pwd)}
export CCHC_BIN=${CCHC_BIN:-$CCHC_SRC/build-storm}
CCHC_BIN=$(cd "$CCHC_BIN" && pwd)
UNITS=${1:-10000}
export CCHC_CLOCK=2024-09-18T08:00:30+07:00
. "$CCHC_SRC/tests/integration/lib.sh"

ms() { echo $(($(date +%s%N) / 1000000)); }
log() { echo "storm: $*" >&2; }

db_start; server_setup; district_setup
sed -i 's/^level = debug$/level = info/' "$T/server.ini"

# ---- the units -------------------------------------------------------------------------
python3 - "$UNITS" >"$T/storm-units.csv" <<'PY'
import sys
print("code,name,kind,parent,valid_from,valid_to,successor")
for i in range(1, int(sys.argv[1]) + 1):
    print(f"xa-storm-{i:05d},Xã Storm {i},commune,huyen-son-dong,2020-01-01,,")
PY
t0=$(ms)
"$CCHC_BIN/cchc" unit import "$T/storm-units.csv" >/dev/null
import_s=$(python3 -c "print(f'{($(ms) - $t0) / 1000:.2f}')")
log "imported $UNITS units in ${import_s}s"

# ---- 1. the expectations, alone ----------------------------------------------------------
t0=$(ms)
out=$("$CCHC_BIN/cchc-server" -c "$T/server.ini" --tick-at 2024-09-18T07:00:00+07:00)
expectations_s=$(python3 -c "print(f'{($(ms) - $t0) / 1000:.2f}')")
log "$out"
n_exp=$(sql "select count(*) from expectations where type_code = 'CCHC_DK' and period = '2024Q3'")

# ---- 2. the daemon, its ticks held off; subscriber; baseline -----------------------------
LOCK_KEY=$((0x63636863736368))
PGAPPNAME=storm-lock psql -X -q -t -A -c "select pg_advisory_lock($LOCK_KEY), pg_sleep(3600)" \
  >/dev/null 2>&1 &
PIDS+=("$!")
for _ in $(seq 1 50); do
  [ "$(sql "select count(*) from pg_locks where locktype = 'advisory' and granted")" != 0 ] && break
  sleep 0.1
done
server_start
agent_setup vs xa-van-son
"$CCHC_BIN/cchc-agent" -c "$T/vs/agent.ini" keygen --out "$T/ops" >/dev/null 2>&1
sql "INSERT INTO subscribers (name, public_key, topics)
     VALUES ('ops', '$(cat "$T/ops.pub")', '{report.overdue,digest.,report.escalated}')"
sql "NOTIFY cchc_keys"
cat >"$T/ops.ini" <<INI
[database]
conninfo = host=$T/pg user=cchc dbname=postgres
[watch]
endpoint = $ENDPOINT
server_key = server.pub
public_key = ops.pub
secret_key = ops.key
INI
sleep 1
"$CCHC_BIN/cchc" -c "$T/ops.ini" watch --json >"$T/watch.out" 2>"$T/watch.log" &
PIDS+=("$!")
sleep 1

MSG=0
# send N OUT: N reports, one every 100 ms, each run's ms appended to OUT.
send() {
  local i t0 out
  for i in $(seq 1 "$1"); do
    MSG=$((MSG + 1))
    python3 - "$FIX/periodic.json" "$T/r.json" "$MSG" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); r["revision"] = int(sys.argv[3]) + 1
json.dump(r, open(sys.argv[2], "w"), ensure_ascii=False)
PY
    t0=$(ms)
    out=$(tclient --endpoint "$ENDPOINT" --server-key "$T/server.pub" --key "$T/vs/agent" \
      --report "$T/r.json" --epoch 4242 --msg-id "$MSG" --timeout 60000 2>&1 || true)
    case "$out" in ACK* | NACK*INVALID*) echo $(($(ms) - t0)) >>"$2" ;; *) echo "x $out" >>"$2.bad" ;; esac
    sleep 0.1
  done
}
send 30 "$T/base.ms"

# ---- 3. the storm ---------------------------------------------------------------------------
before=$(sql "select coalesce(max(seq), 0) from notifications")
send_storm() { while [ ! -f "$T/stop" ]; do send 1 "$T/storm.ms"; done; }
send_storm &
SENDER=$!
PIDS+=("$SENDER")
sleep 1
sql "select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'storm-lock'" >/dev/null
kick=$(ms)
sql "NOTIFY cchc_meta"
line=
for _ in $(seq 1 6000); do
  line=$(grep 'event=tick ' "$T/server.log" | grep -v 'skipped=1' | grep -v ' inserted=0 ' | tail -n 1 || true)
  [ -n "$line" ] && break
  sleep 0.05
done
[ -n "$line" ] || fail "no tick with rows in the server's log"
ticked=$(ms)
log "$line"
rows=$(echo "$line" | sed -n 's/.* inserted=\([0-9]*\) .*/\1/p')
tick_ms=$(echo "$line" | sed -n 's/.* ms=\([0-9]*\).*/\1/p')
want=$(sql "select count(*) from notifications where seq > $before
            and (kind = 'report.overdue' or kind like 'digest.%' or kind = 'report.escalated')")
got=0
for _ in $(seq 1 6000); do
  got=$(grep -c . "$T/watch.out" || true)
  [ "${got:-0}" -ge "$want" ] && break
  sleep 0.05
done
published=$(ms)
sleep 1
touch "$T/stop"
wait "$SENDER" || true

mkdir -p "${STORM_KEEP:-/tmp/storm-last}" && cp "$T"/*.ms* "${STORM_KEEP:-/tmp/storm-last}/" 2>/dev/null || true
stats() { # FILE -> "median max n"
  python3 - "$1" <<'PY'
import statistics, sys
v = [int(x) for x in open(sys.argv[1]) if x.strip()]
print(f"{statistics.median(v):.0f} {max(v)} {len(v)}" if v else "- - 0")
PY
}
read -r b_med b_max b_n < <(stats "$T/base.ms")
read -r s_med s_max s_n < <(stats "$T/storm.ms")
bad=$(cat "$T/base.ms.bad" "$T/storm.ms.bad" 2>/dev/null | grep -c . || true)
f() { python3 -c "print(f'{$1 / 1000:.2f}')"; }
cat <<SUM
units=$UNITS expectations=$n_exp import_s=$import_s expectations_s=$expectations_s
tick_s=$(f "$tick_ms") rows=$rows kick_to_tick_logged_s=$(f $((ticked - kick))) published=$got/$want published_s=$(f $((published - kick)))
ingest_ack_ms_median=$s_med max=$s_max n=$s_n (baseline median=$b_med max=$b_max n=$b_n) failed_sends=${bad:-0}
measured: the daemon's scheduler thread (first tick held off by the advisory lock, then NOTIFY cchc_meta)
SUM
