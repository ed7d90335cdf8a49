#!/usr/bin/env bash
# The server's own database sessions run without JIT. PostgreSQL's default
# (jit = on) compiles any statement whose estimated cost passes
# jit_above_cost, and a generic plan at every execution: measured, 800 ms
# instead of 4 ms for a batch's context on a database cchc-bench had filled.
# The cluster here compiles everything (its JIT thresholds are 0) and logs
# every statement and plan (auto_explain), each line with the session's
# application name:
#  - the loop's and each store lane's connection send SET jit = off first
#    (the scheduler's asks for it in its startup options);
#  - a report stored and acknowledged, and scheduler ticks, with no plan of
#    the server's sessions compiled, while psql's are (else the test proves
#    nothing).
. "$(dirname "$0")/lib.sh"
PGC_OPTS="-c log_line_prefix='[%a] ' -c log_statement=all -c jit_above_cost=0 \
-c jit_inline_above_cost=0 -c jit_optimize_above_cost=0 -c shared_preload_libraries=auto_explain \
-c auto_explain.log_min_duration=0 -c auto_explain.log_nested_statements=on" db_start
LOG=$T/pg/postgres.log
server_setup; district_setup
server_start
n=
for _ in $(seq 1 100); do
  n=$(grep -c '^\[cchc-server[a-z-]*\] LOG:  statement: SET jit = off' "$LOG" || true)
  [ "$n" -ge 3 ] && break; sleep 0.1
done
[ "$n" = 3 ] || fail "SET jit = off from $n server sessions, expected 3 (the loop and 2 store lanes): $(grep -i 'jit = off' "$LOG" | head -n 5)"
pass "the loop's and both store lanes' sessions say SET jit = off at connect"

agent_setup vs xa-van-son
agent vs submit "$FIX/periodic.json" >/dev/null || fail "submit failed"
agent vs run --drain --timeout 20 >>"$T/agent-vs.log" 2>&1 || fail "the agent could not deliver"
[ "$(sql "select status from reports")" = accepted ] || fail "the report was not stored"
"$CCHC_BIN/cchc-server" -c "$T/server.ini" --tick-at 2024-07-01T08:00:00+07:00 >>"$T/tick.log" 2>&1 \
  || fail "a scheduler tick failed: $(tail -n 3 "$T/tick.log")"
grep -q '^\[cchc-server-scheduler\]' "$LOG" || fail "no statement of the scheduler's session logged: the test proves nothing"
sleep 0.5
# Each log record: "[application] LOG: ..." and its plan's lines, until the next record.
python3 - "$LOG" >"$T/jit.txt" <<'PY'
import re, sys
recs, cur = [], None
for line in open(sys.argv[1], errors="replace"):
    m = re.match(r"^\[([^\]]*)\] ", line)
    if m:
        cur = [m.group(1), line]
        recs.append(cur)
    elif cur:
        cur[1] += line
def jit(app):
    return sum(1 for a, t in recs if a.startswith(app) and "JIT:" in t)
def plans(app):
    return sum(1 for a, t in recs if a.startswith(app) and "plan:" in t)
print("server_plans=%d server_jit=%d psql_plans=%d psql_jit=%d store=%d" % (
    plans("cchc-server"), jit("cchc-server"), plans("psql"), jit("psql"),
    sum(1 for a, t in recs if a.startswith("cchc-server") and "cchc_store_batch" in t)))
PY
read -r got <"$T/jit.txt"
echo "$got" | grep -q 'store=[1-9]' || fail "no plan of the store logged: the test proves nothing ($got)"
echo "$got" | grep -q 'psql_jit=[1-9]' || fail "psql's statements were not compiled either: the cluster does not JIT, the test proves nothing ($got)"
echo "$got" | grep -q 'server_jit=0 ' || fail "a plan of the server's sessions was JIT-compiled ($got)"
pass "a report stored and acknowledged: no plan of the server's sessions JIT-compiled, psql's are ($got)"
