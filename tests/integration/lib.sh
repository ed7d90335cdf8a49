# lib.sh: the integration-test harness, sourced by every test_*.sh.
#
# Each test gets a fresh PostgreSQL cluster in a temporary directory and a
# free loopback port; everything it starts is killed and the directory
# removed on exit, pass or fail (CCHC_IT_KEEP=1 keeps both, to look at). Binaries come from $CCHC_BIN (the build dir).
set -euo pipefail

: "${CCHC_BIN:?set CCHC_BIN to the build directory}"
: "${CCHC_SRC:?set CCHC_SRC to the source directory}"
FIX=$CCHC_SRC/tests/fixtures
# The story happens in 2024 (the fixtures' periods, units that closed in
# 2025): every program reads this injected clock (common/cchc_clock).
export CCHC_CLOCK=${CCHC_CLOCK:-2024-06-20T09:00:00+07:00}
. "$CCHC_SRC/deploy/pgcluster.sh"

# Reap what a killed test (e.g. by ctest's timeout) left behind: its owner
# process is gone, so nothing else will stop its cluster.
for old in /tmp/cchc-it.*; do
  [ -f "$old/owner" ] || continue
  kill -0 "$(cat "$old/owner")" 2>/dev/null && continue
  for d in "$old"/*/data; do pgc_stop "${d%/data}" immediate; done
  rm -rf "$old"
done

T=$(mktemp -d /tmp/cchc-it.XXXXXX)
chmod 755 "$T"
echo $$ >"$T/owner"
PIDS=()

cleanup() {
  local rc=$?
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  if [ -n "${CCHC_IT_KEEP:-}" ]; then
    # For a developer: the cluster keeps running; PGHOST=$T/pg PGUSER=cchc.
    echo "kept $T until the next test starts (PostgreSQL still running there)" >&2
    exit $rc
  fi
  pgc_stop "$T/pg" immediate
  if [ $rc -ne 0 ]; then
    echo "---- test failed (rc=$rc); logs:" >&2
    for f in "$T"/*.log; do [ -f "$f" ] && { echo "== $f" >&2; tail -n 30 "$f" >&2; }; done
  fi
  rm -rf "$T"
  exit $rc
}
trap cleanup EXIT
# A trace of every command, shown (its tail) when a test fails.
exec 5>>"$T/trace.log"
BASH_XTRACEFD=5
PS4='+ ${BASH_SOURCE##*/}:${LINENO}: '
set -x

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok - $*"; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

db_start() {
  mkdir -p "$T/pg"
  pgc_create "$T/pg"
  pgc_start "$T/pg"
  pgc_env "$T/pg"
}

sql() { psql -X -q -t -A -v ON_ERROR_STOP=1 -c "$1"; }

# server_setup: keys, config, migrations, units.
server_setup() {
  PORT=$(free_port)
  ENDPOINT="tcp://127.0.0.1:$PORT"
  "$CCHC_BIN/cchc-server" --keygen "$T/server" >/dev/null
  cat >"$T/server.ini" <<INI
[server]
endpoint = tcp://127.0.0.1:$PORT
public_key = server.pub
secret_key = server.key
shutdown_grace_ms = 5000
[database]
conninfo = host=$T/pg user=cchc dbname=postgres
[log]
level = debug
INI
  "$CCHC_BIN/cchc" migrate >/dev/null
  "$CCHC_BIN/cchc" unit import "$CCHC_SRC/deploy/data/units.csv" >/dev/null
}

# district_setup: the district's data: report types, calendar, plan, and
# inspection KT-2024-05 of xa-yen-dinh with the four findings the
# remediation fixture answers.
district_setup() {
  "$CCHC_BIN/cchc" type import "$CCHC_SRC/deploy/data/report-types.csv" >/dev/null
  "$CCHC_BIN/cchc" calendar import "$CCHC_SRC/deploy/data/holidays.csv" >/dev/null
  "$CCHC_BIN/cchc" plan import "$CCHC_SRC/deploy/data/plan-tasks.csv" >/dev/null
  "$CCHC_BIN/cchc" inspection add xa-yen-dinh --team "Đoàn kiểm tra CCHC huyện" \
    --date 2024-05-10 --conclusion 12/TB-UBND/2024-05-15 --code KT-2024-05 >/dev/null
  local f
  for f in "Chưa niêm yết đầy đủ thủ tục hành chính" "Chưa ban hành Phiếu xin lỗi cho hồ sơ quá hạn" \
           "Báo cáo định kỳ gửi chậm" "Chưa có máy lấy số tự động"; do
    "$CCHC_BIN/cchc" finding add KT-2024-05 "$f" >/dev/null
  done
}

# agent_sync NAME: run the agent long enough to fetch the unit's metadata.
agent_sync() {
  agent "$1" run --timeout 3 >>"$T/agent-$1.log" 2>&1 || fail "agent $1 sync run failed"
  agent "$1" status --json | python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if d.get("metadata_version") else 1)' \
    || fail "agent $1 has no metadata after a run"
}

server_start() {
  "$CCHC_BIN/cchc-server" -c "$T/server.ini" >>"$T/server.log" 2>&1 &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  for _ in $(seq 1 100); do
    grep -q 'event=listening' "$T/server.log" 2>/dev/null && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || fail "cchc-server exited at start"
    sleep 0.1
  done
  fail "cchc-server did not start listening"
}

# agent_setup NAME UNIT: an agent directory with its keys registered.
agent_setup() {
  local name=$1 unit=$2 dir=$T/$1
  mkdir -p "$dir"
  cp "$T/server.pub" "$dir/server.pub"
  cat >"$dir/agent.ini" <<INI
[agent]
unit = $unit
resend_timeout_ms = 2000
[server]
endpoint = $ENDPOINT
[log]
level = debug
INI
  "$CCHC_BIN/cchc-agent" -c "$dir/agent.ini" keygen >/dev/null
  "$CCHC_BIN/cchc" key add "$unit" "$dir/agent.pub" >/dev/null
}

# Every client command is bounded, so a hang fails the test with a name
# instead of eating ctest's whole timeout.
agent() { local name=$1; shift; timeout -k 5 90 "$CCHC_BIN/cchc-agent" -c "$T/$name/agent.ini" "$@"; }

# report_for UNIT FIXTURE OUT: the fixture rewritten for another unit.
report_for() {
  sed "s/\"unit\": \"[^\"]*\"/\"unit\": \"$1\"/" "$FIX/$2" >"$3"
}

tclient() { timeout -k 5 60 "$CCHC_BIN/tests/integration/cchc-tclient" "$@"; }
