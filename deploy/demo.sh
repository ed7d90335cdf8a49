#!/usr/bin/env bash
# The whole system on one machine: a private PostgreSQL, the district server,
# three commune agents. Reports go up, receipts come back.
#
#   deploy/demo.sh           run the story, then keep everything running until Ctrl-C
#   deploy/demo.sh --check   run the story without a terminal, stop everything, and
#                            exit 0 only if every report was stored once and acknowledged
#
# Data lives in var/demo/ of the project (the PostgreSQL cluster goes to /tmp
# when the postgres user cannot enter the project directory, e.g. under /root).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CHECK=0
case "${1:-}" in
  --check) CHECK=1 ;;
  -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
  "") ;;
  *) echo "demo.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
esac

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
[ -t 1 ] || say() { printf '\n== %s\n' "$*"; }

say "Cài đặt thư viện / dependencies"
"$ROOT/deploy/install-deps.sh"
say "Biên dịch / build"
cmake -S "$ROOT" -B "$ROOT/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCCHC_TESTS=OFF >/dev/null
cmake --build "$ROOT/build" -j2 >/dev/null
BIN=$ROOT/build

. "$ROOT/deploy/pgcluster.sh"
VAR=$ROOT/var/demo
# A previous demo may still run: stop its cluster before wiping.
if [ -f "$VAR/pgdir" ]; then pgc_stop "$(cat "$VAR/pgdir")" immediate; rm -rf "$(cat "$VAR/pgdir")"; fi
rm -rf "$VAR"; mkdir -p "$VAR"
PGDIR=$(pgc_pick_dir "$VAR/pg" cchc-demo-pg)
echo "$PGDIR" >"$VAR/pgdir"
PIDS=()
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  pgc_stop "$PGDIR" fast
  echo "demo: stopped everything (logs in $VAR)"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "PostgreSQL riêng / private PostgreSQL in $PGDIR"
pgc_create "$PGDIR"
pgc_start "$PGDIR"
pgc_env "$PGDIR"

PORT=7470
if ! python3 -c "import socket,sys; s=socket.socket(); s.bind(('127.0.0.1',$PORT))" 2>/dev/null; then
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
fi
"$BIN/cchc-server" --keygen "$VAR/server" >/dev/null
cat >"$VAR/server.ini" <<INI
[server]
endpoint = tcp://127.0.0.1:$PORT
public_key = server.pub
secret_key = server.key
[database]
conninfo = host=$PGDIR user=cchc dbname=postgres
[log]
level = info
INI
cat >"$VAR/admin.ini" <<INI
[database]
conninfo = host=$PGDIR user=cchc dbname=postgres
INI
CCHC() { "$BIN/cchc" -c "$VAR/admin.ini" "$@"; }
CCHC migrate
say "Nạp danh sách đơn vị Sơn Động / loading the Sơn Động units"
CCHC unit import "$ROOT/deploy/data/units.csv"
say "Nạp loại báo cáo, lịch làm việc, kế hoạch, đợt kiểm tra / types, calendar, plan, inspection"
CCHC type import "$ROOT/deploy/data/report-types.csv"
CCHC calendar import "$ROOT/deploy/data/holidays.csv"
CCHC plan import "$ROOT/deploy/data/plan-tasks.csv"
CCHC inspection add xa-yen-dinh --team "Đoàn kiểm tra CCHC huyện" --date 2024-05-10 \
  --conclusion 12/TB-UBND/2024-05-15 --code KT-2024-05
for f in "Chưa niêm yết đầy đủ thủ tục hành chính tại Bộ phận Một cửa" \
         "Chưa ban hành Phiếu xin lỗi cho hồ sơ giải quyết quá hạn" \
         "Báo cáo định kỳ gửi chậm so với thời hạn" \
         "Chưa trang bị máy lấy số tự động và màn hình tra cứu"; do
  CCHC finding add KT-2024-05 "$f"
done

say "Khởi động máy chủ huyện / starting the district server on port $PORT"
"$BIN/cchc-server" -c "$VAR/server.ini" >>"$VAR/server.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do grep -q 'event=listening' "$VAR/server.log" && break; sleep 0.1; done
grep -q 'event=listening' "$VAR/server.log" || { echo "demo: server did not start, see $VAR/server.log" >&2; exit 1; }

# Three communes, each with its own agent, key and report.
UNITS=(xa-van-son xa-yen-dinh xa-an-lac)
FILES=(periodic.json remediation.json periodic.json)
say "Cấp khoá cho 3 xã / issuing keys for three communes"
for i in 0 1 2; do
  u=${UNITS[$i]} d=$VAR/agent-${UNITS[$i]}
  mkdir -p "$d"; cp "$VAR/server.pub" "$d/server.pub"
  cat >"$d/agent.ini" <<INI
[agent]
unit = $u
[server]
endpoint = tcp://127.0.0.1:$PORT
[log]
level = info
INI
  "$BIN/cchc-agent" -c "$d/agent.ini" keygen >/dev/null
  CCHC key add "$u" "$d/agent.pub"
  sed "s/\"unit\": \"[^\"]*\"/\"unit\": \"$u\"/" "$ROOT/tests/fixtures/${FILES[$i]}" >"$d/report.json"
done

say "Khởi động 3 tác tử xã / starting three commune agents"
for u in "${UNITS[@]}"; do
  "$BIN/cchc-agent" -c "$VAR/agent-$u/agent.ini" run >>"$VAR/agent-$u.log" 2>&1 &
  PIDS+=($!)
done

say "Xã gửi báo cáo / communes submit their reports"
for u in "${UNITS[@]}"; do
  printf '%-12s ' "$u"; "$BIN/cchc-agent" -c "$VAR/agent-$u/agent.ini" submit "$VAR/agent-$u/report.json"
done

say "Chờ biên nhận / waiting for the receipts"
ok=0
for _ in $(seq 1 300); do
  ok=1
  for u in "${UNITS[@]}"; do
    d=$("$BIN/cchc-agent" -c "$VAR/agent-$u/agent.ini" status --json |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["delivered"])')
    [ "$d" = 1 ] || ok=0
  done
  [ $ok = 1 ] && break
  sleep 0.1
done
for u in "${UNITS[@]}"; do
  echo "--- $u"; "$BIN/cchc-agent" -c "$VAR/agent-$u/agent.ini" status | sed 's/^/    /'
done

say "Huyện đã nhận / what the district received"
CCHC report list
rows=$(psql -X -t -A -c "select count(*) from reports where status = 'accepted'")
distinct=$(psql -X -t -A -c "select count(distinct (unit_code, agent_epoch, msg_id)) from reports")

if [ $ok = 1 ] && [ "$rows" = 3 ] && [ "$distinct" = 3 ]; then
  echo; echo "demo: OK: 3 reports stored once each and acknowledged"
  result=0
else
  echo; echo "demo: FAILED: acknowledged=$ok rows=$rows distinct=$distinct (logs in $VAR)" >&2
  result=1
fi
if [ $CHECK = 1 ]; then exit $result; fi
echo "demo: running; try '$BIN/cchc -c $VAR/admin.ini unit list' in another terminal. Ctrl-C stops everything."
wait
