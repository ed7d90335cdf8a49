#!/usr/bin/env bash
# cchc-web (issue 14) under hostile requests, with basic authentication on:
#  (A) --hash-password makes a yescrypt hash; web.ini mistakes (a user
#      without a hash, a hash that is not one, a bad listen address, an
#      unknown key, a port taken) stop it with the key and the fix;
#  (B) a SHA-512 ($6$) hash works too; without credentials 401 and
#      WWW-Authenticate, with the right ones 200;
#  (C) a few hundred hostile requests (web_hostile.py: wrong credentials,
#      unknown pages, traversal, SQL, %00, '%' garbage, invalid UTF-8,
#      overlong values, huge headers, other methods, bodies, broken HTTP,
#      too many connections, idle ones) each get a 4xx; the process is still
#      there and answers a good request; the database is untouched;
#  (D) SIGTERM stops it at once, exit 0.
. "$(dirname "$0")/lib.sh"
db_start; server_setup; district_setup
"$CCHC_BIN/cchc-server" -c "$T/server.ini" --tick-at 2024-06-20T08:00:00+07:00 >>"$T/tick.log" 2>&1 \
  || fail "tick"
export CCHC_CLOCK=2024-06-20T09:00:00+07:00
PY=/usr/bin/python3
WEB_BIN=$CCHC_BIN/cchc-web
PORT_WEB=$(free_port)
USER_WEB="lanh-dao"
PASS_WEB="Mật khẩu: đủ dài & khó đoán 2024"

# ---- (A) the hash and the configuration ------------------------------------------------
HASH=$(printf '%s\n' "$PASS_WEB" | "$WEB_BIN" --hash-password) || fail "--hash-password"
case "$HASH" in '$y$'*) ;; *) fail "--hash-password: not yescrypt: $HASH" ;; esac
[ "$(printf '%s\n' "$PASS_WEB" | "$WEB_BIN" --hash-password)" != "$HASH" ] || fail "the salt is not random"
set +e; printf '' | "$WEB_BIN" --hash-password >/dev/null 2>"$T/err"; rc=$?; set -e
[ $rc = 1 ] && grep -q "no password on standard input" "$T/err" || fail "empty stdin: $rc"
set +e; printf '\n' | "$WEB_BIN" --hash-password >/dev/null 2>"$T/err"; rc=$?; set -e
[ $rc = 1 ] && grep -q "the password is empty" "$T/err" || fail "empty password: $rc"

# conf NAME LINES...: a web.ini; bad NAME WANT: cchc-web refuses it (exit 2) saying WANT.
conf() {
  local name=$1; shift
  { echo "[web]"; echo "listen = 127.0.0.1:$PORT_WEB"; printf '%s\n' "$@"
    echo "[database]"; echo "conninfo = host=$T/pg user=cchc dbname=postgres"; } >"$T/$name.ini"
}
bad() {
  set +e; timeout 10 "$WEB_BIN" -c "$T/$1.ini" >/dev/null 2>"$T/err"; local rc=$?; set -e
  [ $rc = 2 ] || fail "$1: exit $rc, want 2: $(cat "$T/err")"
  grep -qF -- "$2" "$T/err" || fail "$1: $(cat "$T/err")"
}
conf nohash "auth_user = $USER_WEB"; bad nohash "auth_user and auth_hash go together"
conf plain "auth_user = x" "auth_hash = secret"; bad plain 'the hash must begin with $y$ (yescrypt) or $6$ (SHA-512)'
conf cut "auth_user = x" "auth_hash = \$y\$j9T\$broken"; bad cut "libcrypt cannot read the hash"
conf colon "auth_user = a:b" "auth_hash = $HASH"; bad colon "auth_user may hold neither ':'"
printf '[web]\nlisten = nowhere\n' >"$T/listen.ini"; bad listen "[web] listen 'nowhere' is not HOST:PORT"
conf key "colour = blue"; bad key "colour"
conf refresh "refresh_seconds = -1"; bad refresh "refresh_seconds"
"$WEB_BIN" --help | grep -q "auth_hash" || fail "--help lists no keys"
set +e; "$WEB_BIN" --nope >/dev/null 2>&1; rc=$?; set -e; [ $rc = 2 ] || fail "unknown option: $rc"
# A port already taken: exit 1 naming it.
$PY -c 'import socket,sys,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); time.sleep(30)' "$PORT_WEB" &
HOLDER=$!; PIDS+=("$HOLDER"); sleep 0.5
conf taken; set +e; timeout 10 "$WEB_BIN" -c "$T/taken.ini" >/dev/null 2>"$T/err"; rc=$?; set -e
[ $rc = 1 ] && grep -q "could not listen on 127.0.0.1:$PORT_WEB" "$T/err" || fail "port taken: $rc $(cat "$T/err")"
kill "$HOLDER"; wait "$HOLDER" 2>/dev/null || true
pass "--hash-password makes a salted yescrypt hash; a user without a hash, a hash that is not one, a bad listen address, an unknown key: exit 2 naming the key; a port taken: exit 1"

# web_run NAME: cchc-web on NAME.ini; sets WEB_PID once it listens.
web_run() {
  "$WEB_BIN" -c "$T/$1.ini" >>"$T/$1.log" 2>&1 &
  WEB_PID=$!
  PIDS+=("$WEB_PID")
  for _ in $(seq 1 100); do
    grep -q 'event=listening' "$T/$1.log" 2>/dev/null && return 0
    kill -0 "$WEB_PID" 2>/dev/null || fail "cchc-web $1 exited: $(cat "$T/$1.log")"
    sleep 0.1
  done
  fail "cchc-web $1 did not listen"
}
URL="http://127.0.0.1:$PORT_WEB"

# ---- (B) SHA-512 too; 401 and 200 ----------------------------------------------------------
SHA=$($PY -W ignore -c 'import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_SHA512)))' "$PASS_WEB")
case "$SHA" in '$6$'*) ;; *) fail "no SHA-512 hash from Python: $SHA" ;; esac
conf sha "auth_user = $USER_WEB" "auth_hash = $SHA"
web_run sha
[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/status")" = 401 ] || fail "sha: no credentials"
[ "$(curl -s -o /dev/null -w '%{http_code}' -u "$USER_WEB:$PASS_WEB" "$URL/status")" = 200 ] || fail "sha: right"
[ "$(curl -s -o /dev/null -w '%{http_code}' -u "$USER_WEB:wrong" "$URL/status")" = 401 ] || fail "sha: wrong"
kill -TERM "$WEB_PID"; wait "$WEB_PID" || fail "sha: exit on SIGTERM"
curl -s -D "$T/h" -o "$T/page" "$URL/" --retry 0 >/dev/null 2>&1 && fail "still answering after SIGTERM"
conf web "auth_user = $USER_WEB" "auth_hash = $HASH" "max_connections_per_ip = 4" \
  "connection_timeout_seconds = 4" "refresh_seconds = 0" "[log]" "level = info"
web_run web
curl -s -D "$T/h" -o "$T/page" "$URL/status" || fail "curl"
tr -d '\r' <"$T/h" | grep -q '^HTTP/1.1 401' || fail "no credentials: $(head -n 1 "$T/h")"
tr -d '\r' <"$T/h" | grep -qx 'WWW-Authenticate: Basic realm="cchc-web", charset="UTF-8"' \
  || fail "401 without WWW-Authenticate: $(cat "$T/h")"
tr -d '\r' <"$T/h" | grep -q "^Content-Security-Policy: default-src 'none'" || fail "401 without CSP"
grep -q "cần đăng nhập" "$T/page" || fail "401 page: $(cat "$T/page")"
[ "$(curl -s -o "$T/page" -w '%{http_code}' -u "$USER_WEB:$PASS_WEB" "$URL/status?period=2024S1")" = 200 ] \
  || fail "right credentials"
grep -q "Xã Vân Sơn" "$T/page" || fail "the status page without Xã Vân Sơn"
pass "basic authentication with a \$6\$ and a \$y\$ hash: 401 with WWW-Authenticate without credentials or with wrong ones, 200 with the right ones; SIGTERM stops it, exit 0"

# ---- (C) hostile requests ------------------------------------------------------------------------
UNITS=$(sql "select count(*) || ' ' || md5(string_agg(code || name, ',' order by code)) from units")
timeout -k 5 150 $PY "$CCHC_SRC/tests/integration/web_hostile.py" 127.0.0.1 "$PORT_WEB" \
  "$USER_WEB" "$PASS_WEB" >"$T/hostile.out" 2>"$T/hostile.err" \
  || fail "hostile requests: $(tail -n 30 "$T/hostile.err")"
cat "$T/hostile.out"
N=$(sed -n 's/^ok - \([0-9]*\) requests:.*/\1/p' "$T/hostile.out")
[ "${N:-0}" -ge 300 ] || fail "only ${N:-0} hostile requests"
kill -0 "$WEB_PID" 2>/dev/null || fail "cchc-web is gone"
[ "$(curl -s -o /dev/null -w '%{http_code}' -u "$USER_WEB:$PASS_WEB" "$URL/api/status")" = 200 ] \
  || fail "no good answer after the hostile requests"
[ "$(sql "select count(*) || ' ' || md5(string_agg(code || name, ',' order by code)) from units")" = "$UNITS" ] \
  || fail "the units changed"
grep -q "status=5" "$T/web.log" && fail "an answer 5xx: $(grep status=5 "$T/web.log" | head -n 3)"
[ "$(grep -c 'event=auth_failed addr=127.0.0.1$' "$T/web.log")" -ge 10 ] \
  || fail "wrong credentials are not logged with the address: $(grep auth_failed "$T/web.log" | head -n 2)"
pass "$N requests, the hostile ones each answered 4xx (but for half a request line and then EOF: closed); cchc-web still up and answering; the database untouched"

# ---- (D) SIGTERM ---------------------------------------------------------------------------------
kill -TERM "$WEB_PID"
for _ in $(seq 1 50); do kill -0 "$WEB_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$WEB_PID" 2>/dev/null && fail "cchc-web did not stop within 5 s of SIGTERM"
wait "$WEB_PID" || fail "exit status after SIGTERM"
grep -q "event=stopping signal=15" "$T/web.log" || fail "no stopping line"
pass "SIGTERM: stopped within 5 s, exit 0"
