#!/usr/bin/env bash
# deploy/examples/{server,agent,admin,web}.ini document every configuration key of
# their program, with its default, and nothing else; and each loads cleanly in
# its program (--check-config). The tables come from the programs themselves
# (--config-keys), so a key added to a table without being documented fails
# here. The checker is shown failing on broken copies first, so that a pass
# means something.
. "$(dirname "$0")/lib.sh"

EX=$CCHC_SRC/deploy/examples
CHECK=$CCHC_SRC/tests/integration/check_config_example.py
# Keys that other branches add (issue 13): documented in the examples already,
# refused by this branch's programs. Once a program has one, the checker fails
# until it leaves this list.
PENDING_server=""
PENDING_agent=""
PENDING_admin=""
PENDING_web=""

prog_of() {
  case $1 in
    server) echo "$CCHC_BIN/cchc-server" ;;
    agent) echo "$CCHC_BIN/cchc-agent" ;;
    admin) echo "$CCHC_BIN/cchc" ;;
    web) echo "$CCHC_BIN/cchc-web" ;;
  esac
}

for f in server agent admin web; do
  "$(prog_of $f)" --config-keys >"$T/$f.keys" || fail "$(prog_of $f) --config-keys failed"
  [ "$(wc -l <"$T/$f.keys")" -ge 5 ] || fail "$f: --config-keys listed almost nothing: $(cat "$T/$f.keys")"
done
grep -qx 'server.secret_key' "$T/server.keys" || fail "cchc-server --config-keys: a required key should print without '='"
grep -qx 'server.endpoint=tcp://\*:7470' "$T/server.keys" || fail "cchc-server --config-keys: server.endpoint=default expected"

# ---- the checker can fail ----------------------------------------------------
pending_of() { local v=PENDING_$1; echo "${!v}"; }
check() { # check NAME EXAMPLE [KEYS]: the checker's verdict, its output in $T/check.out
  python3 "$CHECK" --keys "${3:-$T/$1.keys}" --example "$2" --pending "$(pending_of "$1")" \
    --strip-out "$T/$1.stripped.ini" >"$T/check.out" 2>&1
}
# A key added to the program and documented nowhere.
{ cat "$T/server.keys"; echo "server.brand_new_key=7"; } >"$T/server.more.keys"
check server "$EX/server.ini" "$T/server.more.keys" && fail "checker passed a key missing from the example"
grep -q 'server.brand_new_key (default 7) is not documented' "$T/check.out" \
  || fail "checker did not name the undocumented key: $(cat "$T/check.out")"
# A key of the example the program does not have.
sed 's/^#io_threads = 1$/#io_threads = 1\n; Made up.\n; Default: 1\n#io_thread = 1/' "$EX/server.ini" >"$T/bad1.ini"
check server "$T/bad1.ini" && fail "checker passed an unknown key"
grep -q 'server.io_thread is not a key of the program' "$T/check.out" \
  || fail "checker did not name the unknown key: $(cat "$T/check.out")"
# A wrong default in the comment, a commented-out value that is not the
# default, a key without its explanation.
sed 's/^; Default: 200$/; Default: 300/; s/^#batch_max_delay_ms = 5$/#batch_max_delay_ms = 50/' \
  "$EX/server.ini" >"$T/bad2.ini"
check server "$T/bad2.ini" && fail "checker passed a wrong default"
grep -q "server.batch_max_rows: the comment says 'Default: 300', the program's default is 200" "$T/check.out" \
  || fail "checker did not catch the wrong Default line: $(cat "$T/check.out")"
grep -q "server.batch_max_delay_ms is shown commented out with '50'" "$T/check.out" \
  || fail "checker did not catch a commented-out non-default: $(cat "$T/check.out")"
awk '/^; Reports waiting to be sent at most/{skip=1} skip&&/^; Default/{skip=0} !skip' \
  "$EX/agent.ini" >"$T/bad3.ini"
check agent "$T/bad3.ini" && fail "checker passed a key without its explanation"
grep -q 'agent.max_outbox_reports has no comment saying what it is for' "$T/check.out" \
  || fail "checker did not catch the missing explanation: $(cat "$T/check.out")"
# A pending key that the program has by now.
python3 "$CHECK" --keys <(cat "$T/agent.keys"; echo "server.endpoints=") --example "$EX/agent.ini" \
  --pending "server.endpoints" >"$T/check.out" 2>&1 && fail "checker passed a stale pending key"
grep -q 'server.endpoints is listed as pending but the program has it now' "$T/check.out" \
  || fail "checker did not name the stale pending key: $(cat "$T/check.out")"
pass "the checker fails on an undocumented key, an unknown key, a wrong default, a missing explanation and a stale pending key"

# ---- the examples ----------------------------------------------------------------
for f in server agent admin web; do
  check "$f" "$EX/$f.ini" || fail "deploy/examples/$f.ini does not match $(prog_of $f):
$(cat "$T/check.out")"
  cat "$T/check.out"
  n=$(wc -l <"$T/$f.keys")
  pass "deploy/examples/$f.ini documents each of the $n keys of $(basename "$(prog_of $f)") with its default, and no other"
done

# Each loads in its program, from a directory of its own (relative paths are
# taken relative to the file; nothing is written next to the examples).
for f in server agent admin web; do
  mkdir -p "$T/load-$f"
  cp "$T/$f.stripped.ini" "$T/load-$f/$f.ini"
  out=$("$(prog_of $f)" -c "$T/load-$f/$f.ini" --check-config 2>&1) \
    || fail "$(prog_of $f) refused deploy/examples/$f.ini: $out"
  echo "$out" | grep -q 'configuration ok' || fail "$f --check-config said: $out"
  [ -z "$(ls -A "$T/load-$f" | grep -v "^$f.ini$")" ] || fail "--check-config wrote files: $(ls "$T/load-$f")"
  pass "deploy/examples/$f.ini loads in $(basename "$(prog_of $f)") --check-config (pending keys left out)"
done

# --check-config refuses what the program would refuse, naming file and line.
printf '[server]\npublic_key = a.pub\nsecret_key = a.key\nmax_frame = 12\n' >"$T/bad.ini"
set +e; out=$("$CCHC_BIN/cchc-server" -c "$T/bad.ini" --check-config 2>&1); rc=$?; set -e
[ $rc = 2 ] || fail "cchc-server --check-config on a bad value: exit $rc, want 2: $out"
echo "$out" | grep -q "bad.ini:4: bad value for 'max_frame'" || fail "no file:line in: $out"
printf '[agent]\nunit = x\n[server]\nendpont = tcp://a:1\n' >"$T/bad-agent.ini"
set +e; out=$("$CCHC_BIN/cchc-agent" -c "$T/bad-agent.ini" --check-config 2>&1); rc=$?; set -e
[ $rc = 2 ] || fail "cchc-agent --check-config on an unknown key: exit $rc, want 2: $out"
echo "$out" | grep -q "bad-agent.ini:4: unknown key 'endpont'" || fail "no file:line in: $out"
printf '[database]\nconninfo = x\n[log]\nlevel = loud\n' >"$T/bad-admin.ini"
set +e; out=$("$CCHC_BIN/cchc" -c "$T/bad-admin.ini" --check-config 2>&1); rc=$?; set -e
[ $rc = 2 ] || fail "cchc --check-config on a bad level: exit $rc, want 2: $out"
echo "$out" | grep -q "bad-admin.ini:4: bad value for 'level'" || fail "no file:line in: $out"
set +e; out=$("$CCHC_BIN/cchc" --check-config 2>&1); rc=$?; set -e
[ $rc = 2 ] && echo "$out" | grep -q 'takes -c admin.ini' || fail "cchc --check-config without -c: exit $rc: $out"
printf '[web]\nlisten = 127.0.0.1:7480\nrefresh_seconds = soon\n' >"$T/bad-web.ini"
set +e; out=$("$CCHC_BIN/cchc-web" -c "$T/bad-web.ini" --check-config 2>&1); rc=$?; set -e
[ $rc = 2 ] || fail "cchc-web --check-config on a bad value: exit $rc, want 2: $out"
echo "$out" | grep -q "bad-web.ini:3: bad value for 'refresh_seconds'" || fail "no file:line in: $out"
printf '[web]\nauth_user = nam\n' >"$T/bad-web2.ini"
set +e; out=$("$CCHC_BIN/cchc-web" -c "$T/bad-web2.ini" --check-config 2>&1); rc=$?; set -e
[ $rc = 2 ] && echo "$out" | grep -q 'auth_user and auth_hash go together' \
  || fail "cchc-web --check-config on a user without a hash: exit $rc: $out"
pass "--check-config exits 2 naming the file and line of a bad value or an unknown key, in all four programs"
