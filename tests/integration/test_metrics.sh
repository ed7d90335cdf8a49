#!/usr/bin/env bash
# /metrics: the server serves its counts in the Prometheus text format on
# [metrics] listen; promtool accepts the text; a real Prometheus scrapes it
# and its HTTP API gives back the reports that real agents delivered; a
# refused report shows under its code, a duplicate and BUSY answers move
# their counters; a bad address stops the server at start with the key
# named; hostile HTTP (wrong methods, unknown paths, hostile query strings,
# overlong headers, garbage bytes) is answered or dropped and a scrape still
# works after it.
. "$(dirname "$0")/lib.sh"
command -v prometheus >/dev/null && command -v promtool >/dev/null \
  || fail "prometheus and promtool are needed (Debian package prometheus: deploy/install-deps.sh)"
db_start; server_setup; district_setup
MPORT=$(free_port)
# One report in flight per connection, and a batch waits 300 ms for others:
# copies of one message sent at once are answered BUSY but the first.
sed -i 's/^shutdown_grace_ms = 5000$/&\npeer_max_inflight = 1\nbatch_max_delay_ms = 300/' "$T/server.ini"
cp "$T/server.ini" "$T/server-plain.ini"
printf '[metrics]\nlisten = 127.0.0.1:%s\n' "$MPORT" >>"$T/server.ini"

# ---- a bad address stops the server at start, naming the key ------------------------------
for bad in "localhost" "127.0.0.1:0" "::1:9470" "127.0.0.1:http"; do
  cp "$T/server-plain.ini" "$T/bad.ini"
  printf '[metrics]\nlisten = %s\n' "$bad" >>"$T/bad.ini"
  rc=0; "$CCHC_BIN/cchc-server" -c "$T/bad.ini" >"$T/bad.out" 2>&1 || rc=$?
  [ "$rc" = 2 ] || fail "listen = $bad: exit $rc, expected 2: $(cat "$T/bad.out")"
  grep -q "bad.ini: \[metrics\] listen" "$T/bad.out" || fail "listen = $bad: $(cat "$T/bad.out")"
done
help=$("$CCHC_BIN/cchc-server" --help)
echo "$help" | grep -A1 '^  \[metrics\]$' | grep -q 'listen = "" .*/metrics' \
  || fail "--help does not list [metrics] listen"
pass "a bad [metrics] listen exits 2 naming the file and the key; --help lists it"

server_start
grep -q "event=metrics_listening address=127.0.0.1:$MPORT" "$T/server.log" || fail "no metrics_listening line"

# The port taken: a second server fails at start with the address and why.
PORT2=$(free_port)
sed "s|^endpoint = .*|endpoint = tcp://127.0.0.1:$PORT2|" "$T/server.ini" >"$T/second.ini"
rc=0; timeout -k 5 60 "$CCHC_BIN/cchc-server" -c "$T/second.ini" >"$T/second.log" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "a second server on the same metrics port: exit $rc, expected 1"
grep -q "could not serve /metrics on 127.0.0.1:$MPORT (\[metrics\] listen).*in use" "$T/second.log" \
  || fail "the second server does not say the port is taken: $(tail -3 "$T/second.log")"
kill -0 "$SERVER_PID" || fail "the first server died"
pass "a metrics port in use stops the server at start with the address and the reason"

# scrape: the body of GET http://127.0.0.1:$MPORT/metrics.
scrape() {
  python3 - "$MPORT" <<'PY'
import sys, urllib.request
with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=10) as r:
    assert r.status == 200, r.status
    ct = r.headers["Content-Type"]
    assert ct == "text/plain; version=0.0.4; charset=utf-8", ct
    sys.stdout.write(r.read().decode())
PY
}
# metric 'NAME{LABELS}': its value in a fresh scrape ("none" when absent).
metric() {
  scrape | python3 -c '
import sys
want = sys.argv[1]
for line in sys.stdin:
    name, _, value = line.rstrip("\n").rpartition(" ")
    if name == want:
        print(value); break
else:
    print("none")' "$1"
}

# metric_is 'NAME{LABELS}' VALUE: until /metrics says so (the loop publishes
# its counts at most every 250 ms; 5 s at most).
metric_is() {
  local got
  for _ in $(seq 1 50); do
    got=$(metric "$1")
    [ "$got" = "$2" ] && return 0
    sleep 0.1
  done
  fail "/metrics: $1 = $got, expected $2"
}

# ---- the text passes promtool -----------------------------------------------------------------
scrape >"$T/m0.txt" || fail "GET /metrics failed"
promtool check metrics <"$T/m0.txt" >"$T/promtool0.log" 2>&1 \
  || fail "promtool check metrics: $(cat "$T/promtool0.log")"
grep -q '^cchc_build_info{version="[0-9.]*",commit="[0-9a-f]*\(-dirty\)\?\|unknown"} 1$' "$T/m0.txt" \
  || fail "no cchc_build_info line: $(grep build_info "$T/m0.txt")"
for m in process_resident_memory_bytes process_start_time_seconds process_open_fds \
         cchc_agents_connected cchc_subscribers_connected cchc_notifications_written_total \
         cchc_notifications_pushed_total cchc_notifications_replayed_total \
         cchc_notification_sessions_dropped_total 'cchc_scheduler_ticks_total{outcome="committed"}' \
         cchc_scheduler_last_tick_timestamp_seconds 'cchc_db_reconnects_total{connection="cchc-server"}' \
         'cchc_batch_reports_bucket{le="+Inf"}' 'cchc_batch_commit_seconds_bucket{le="10"}'; do
  grep -q "^$m " "$T/m0.txt" || fail "missing $m"
done
[ "$(awk '$1 == "process_start_time_seconds" {print ($2 > 1.6e9)}' "$T/m0.txt")" = 1 ] \
  || fail "process_start_time_seconds: $(grep process_start "$T/m0.txt")"
pass "promtool check metrics passes; build info, process figures and every family are there"

# ---- a real Prometheus scrapes it ------------------------------------------------------------
PPORT=$(free_port)
cat >"$T/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: cchc
    static_configs:
      - targets: ['127.0.0.1:$MPORT']
YML
promtool check config "$T/prometheus.yml" >/dev/null || fail "promtool check config"
prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/prom-data" \
  --web.listen-address="127.0.0.1:$PPORT" >>"$T/prometheus.log" 2>&1 &
PIDS+=("$!")
# promq EXPR: the value of the one series EXPR gives now ("none" when none).
promq() {
  python3 - "$PPORT" "$1" <<'PY'
import json, sys, urllib.parse, urllib.request
url = f"http://127.0.0.1:{sys.argv[1]}/api/v1/query?" + urllib.parse.urlencode({"query": sys.argv[2]})
try:
    with urllib.request.urlopen(url, timeout=5) as r:
        d = json.load(r)
except Exception as e:
    print("none"); sys.exit(0)
res = d.get("data", {}).get("result", [])
print(res[0]["value"][1] if d.get("status") == "success" and len(res) == 1 else "none")
PY
}
# prom_wait EXPR VALUE: until Prometheus says EXPR is VALUE (30 s at most).
prom_wait() {
  local got
  for _ in $(seq 1 60); do
    got=$(promq "$1")
    [ "$got" = "$2" ] && return 0
    sleep 0.5
  done
  fail "Prometheus: $1 = $got, expected $2"
}
prom_wait 'up{job="cchc"}' 1
pass "a real Prometheus (its own config, storage and port) scrapes /metrics: up is 1"

# ---- reports from real agents reach Prometheus -----------------------------------------------
agent_setup vs xa-van-son
agent_setup tnmt p-tnmt
agent_setup yd xa-yen-dinh
for rev in 1 2 3; do
  sed "s/\"revision\": 1,/\"revision\": $rev,/" "$FIX/periodic.json" >"$T/p$rev.json"
  agent vs submit "$T/p$rev.json" >/dev/null || fail "submit revision $rev"
done
agent tnmt submit "$FIX/task_progress.json" >/dev/null
agent yd submit "$FIX/remediation.json" >/dev/null
for a in tnmt yd; do
  agent $a run --drain --timeout 30 >>"$T/agent-$a.log" 2>&1 || fail "agent $a did not drain"
done
# vs stays connected: its Hello said 3 queued.
"$CCHC_BIN/cchc-agent" -c "$T/vs/agent.ini" run >>"$T/agent-vs.log" 2>&1 &
VS_PID=$!
PIDS+=("$VS_PID")
for _ in $(seq 1 100); do
  [ "$(sql "select count(*) from reports where unit_code = 'xa-van-son'")" = 3 ] && break
  sleep 0.2
done
N=$(sql "select count(*) from reports where status in ('accepted', 'superseded')")
[ "$N" = 5 ] || fail "expected 5 reports stored, got $N"
for _ in $(seq 1 50); do
  [ "$(agent vs status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["queued"])')" = 0 ] && break
  sleep 0.2
done
metric_is cchc_reports_accepted_total 5
prom_wait cchc_reports_accepted_total 5
prom_wait cchc_reports_received_total 5
prom_wait cchc_batch_reports_count "$(metric cchc_batch_reports_count)"
metric_is cchc_batch_reports_sum 5
[ "$(metric 'cchc_batch_commit_seconds_bucket{le="+Inf"}')" -ge 1 ] || fail "no commit latency"
metric_is cchc_acks_total 5
# vs, connected, said 3 queued in its Hello; tnmt and yd said 1 each, and
# stay in the table until a push to them finds them gone.
metric_is cchc_agent_outbox_reports_max 3
sum=$(metric cchc_agent_outbox_reports); conn=$(metric cchc_agents_connected)
[ "$sum" -ge 3 ] && [ "$sum" -le 5 ] || fail "outbox sum $sum"
[ "$conn" -ge 1 ] && [ "$conn" -le 3 ] || fail "agents connected $conn"
kill -TERM "$VS_PID"; wait "$VS_PID" || true
pass "$N reports from 3 real agents: Prometheus's API says cchc_reports_accepted_total $N; batches, outboxes, agents shown"

# ---- a refused report under its code; a duplicate; BUSY ----------------------------------------
out=$(tclient --endpoint "$ENDPOINT" --server-key "$T/server.pub" --key "$T/vs/agent" \
  --report "$T/p1.json" --epoch 66 --msg-id 1)
echo "$out" | grep -q 'reason=INVALID' && echo "$out" | grep -q 'E007' || fail "revision 1 again: $out"
metric_is 'cchc_reports_refused_total{code="E007"}' 1
metric_is 'cchc_nacks_total{reason="INVALID"}' 1
metric_is cchc_reports_rejected_total 1
prom_wait 'cchc_reports_refused_total{code="E007"}' 1

sed 's/"revision": 1,/"revision": 2,/' "$FIX/task_progress.json" >"$T/tp2.json"
out=$(tclient --endpoint "$ENDPOINT" --server-key "$T/server.pub" --key "$T/tnmt/agent" \
  --report "$T/tp2.json" --epoch 77 --msg-id 5)
echo "$out" | grep -q '^ACK msg_id=5 .*duplicate=0' || fail "task revision 2: $out"
out=$(tclient --endpoint "$ENDPOINT" --server-key "$T/server.pub" --key "$T/tnmt/agent" \
  --report "$T/tp2.json" --epoch 77 --msg-id 5)
echo "$out" | grep -q '^ACK msg_id=5 .*duplicate=1' || fail "the copy: $out"
metric_is cchc_reports_duplicate_total 1
metric_is cchc_reports_accepted_total 6 # the copy is not accepted again

sed 's/"revision": 1,/"revision": 4,/' "$FIX/periodic.json" >"$T/p4.json"
# The first copy is held in the store (another session holds its report
# key's lock, as the store takes it: cchc_store_batch) while the other two
# come: so they come while it is in flight, however slow the machine (under
# ASan and a busy ctest -j2 the first was once answered before the others
# were read, and they were answered as duplicates).
PGAPPNAME=cchc-test-holder psql -X -q -v ON_ERROR_STOP=1 >"$T/holder.log" 2>&1 <<'SQL' &
BEGIN;
SELECT pg_advisory_xact_lock(1667458162, hashtext('CCHC_DK|xa-van-son|2024S1|'));
SELECT pg_sleep(30);
COMMIT;
SQL
HOLDER=$!
for _ in $(seq 1 100); do
  [ "$(sql "select count(*) from pg_stat_activity where application_name = 'cchc-test-holder'
            and query like '%pg_sleep%' and state = 'active'")" = 1 ] && break
  sleep 0.1
done
[ "$(sql "select count(*) from pg_stat_activity where application_name = 'cchc-test-holder'
          and query like '%pg_sleep%'")" = 1 ] || fail "the holder never took the key's lock"
tclient --endpoint "$ENDPOINT" --server-key "$T/server.pub" --key "$T/vs/agent" \
  --report "$T/p4.json" --epoch 88 --msg-id 1 --repeat 3 --timeout 20000 >"$T/copies.txt" &
COPIES=$!
# Released once the two copies are refused (or after 10 s: the check below says so).
for _ in $(seq 1 100); do
  [ "$(metric 'cchc_reports_refused_busy_total{cause="connection_queue"}')" = 2 ] && break
  sleep 0.1
done
sql "select pg_terminate_backend(pid) from pg_stat_activity
     where application_name = 'cchc-test-holder'" >/dev/null
wait "$HOLDER" 2>/dev/null || true # (its session ended by pg_terminate_backend)
wait "$COPIES" || true
out=$(cat "$T/copies.txt")
[ "$(echo "$out" | grep -c 'reason=BUSY')" = 2 ] && [ "$(echo "$out" | grep -c '^ACK ')" = 1 ] \
  || fail "3 copies at once, peer_max_inflight 1: $out"
metric_is 'cchc_reports_refused_busy_total{cause="connection_queue"}' 2
metric_is 'cchc_nacks_total{reason="BUSY"}' 2
prom_wait 'cchc_nacks_total{reason="BUSY"}' 2
prom_wait cchc_reports_duplicate_total 1
prom_wait cchc_reports_accepted_total 7
scrape >"$T/m1.txt"
promtool check metrics <"$T/m1.txt" >"$T/promtool1.log" 2>&1 \
  || fail "promtool check metrics after traffic: $(cat "$T/promtool1.log")"
pass "refused E007, a duplicate and 2 BUSY answers are counted, in /metrics and in Prometheus"

# ---- hostile HTTP, then a good scrape ------------------------------------------------------------
python3 - "$MPORT" >"$T/hostile.log" 2>&1 <<'PY' || fail "hostile HTTP: $(tail -5 "$T/hostile.log")"
import random, socket, sys
port = int(sys.argv[1])
rnd = random.Random(14)

def ask(data, timeout=15.0):
    """Sends data, returns (status, headers, body); status 0 when the
    server closed without an answer (allowed for garbage). What the server
    cannot make sense of may wait for more until its idle timeout (10 s)
    closes it: longer is a hang."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        except OSError:
            # BrokenPipe, ConnectionReset, or ENOTCONN: the server has
            # already closed it (refused, or too much sent): read what came.
            pass
        buf = b""
        while True:
            try:
                chunk = s.recv(65536)
            except OSError:  # reset, or no longer connected: closed
                break
            if not chunk:
                break
            buf += chunk
    finally:
        s.close()
    if not buf:
        return 0, "", b""
    head, _, body = buf.partition(b"\r\n\r\n")
    first = head.split(b"\r\n")[0].split(b" ")
    assert first[0].startswith(b"HTTP/1."), buf[:200]
    return int(first[1]), head.decode("latin-1"), body

def req(method, target, extra=b""):
    return (method.encode() + b" " + target + b" HTTP/1.1\r\nHost: x\r\n" + extra +
            b"Connection: close\r\n\r\n")

n = 0
def expect(data, allowed, what):
    global n
    st, head, body = ask(data)
    n += 1
    assert st in allowed, f"{what}: status {st}, expected {allowed}: {head[:300]!r}"
    return st, head, body

# wrong methods: 405 with Allow
for m in ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "FOO", "get", "PROPFIND"] * 4:
    st, head, _ = expect(req(m, b"/metrics", b"Content-Length: 3\r\n") + b"abc", {405}, m)
    assert "Allow: GET, HEAD" in head, head
# unknown paths: 404 (400 or 414 for what is not a path at all)
paths = [b"/", b"/metric", b"/metrics/", b"/metricsx", b"/METRICS", b"/../etc/passwd",
         b"/metrics/../metrics/x", b"/%00", b"/%ff%fe", b"/" + b"a" * 4000, b"//metrics",
         b"/metrics%2f", b"/metrics%00", b"/metrics#x"]
for p in paths * 3:
    expect(req("GET", p), {404}, p[:40])
for p in [b"*", b"http://127.0.0.1/x", b"/" + b"a" * 70000, b"", b"/a b"] * 3:
    expect(req("GET", p), {400, 404, 414, 431, 0}, p[:40])
# hostile query strings: the path is /metrics, the query is ignored: 200
for q in [b"?", b"?a=b", b"?%00=%00", b"?" + b"&" * 500, b"?x=" + b"%ff" * 300,
          b"?name[]=1&name[]=2", b"?a=b;c=d", b"?%", b"?%zz", b"?\xff\xfe", b"?a=\x01\x7f"] * 3:
    expect(req("GET", b"/metrics" + q), {200}, q[:40])
# one near or past a connection's memory (64 KiB): answered, refused or dropped
for q in [b"?" + b"&" * 20000, b"?" + b"a=b&" * 8000, b"?x=" + b"y" * 60000,
          b"?x=" + b"y" * 70000]:
    expect(req("GET", b"/metrics" + q), {200, 400, 414, 431, 0}, q[:40])
# overlong headers (past 64 KiB) and hostile ones: 431 or 400, or a close
for i in range(20):
    big = b"X-Big: " + b"A" * (70000 + 5000 * i) + b"\r\n"
    expect(req("GET", b"/metrics", big), {431, 400, 413, 0}, "overlong header")
for i in range(10):
    many = b"".join(b"X-H%d: v\r\n" % k for k in range(2000))
    expect(req("GET", b"/metrics", many), {431, 400, 0}, "many headers")
for h in [b"X-Null: a\x00b\r\n", b"Bad Header\r\n", b": empty\r\n", b"X-Ctl: \x01\x02\r\n",
          b"Content-Length: -5\r\n", b"Content-Length: 99999999999999999999\r\n",
          b"Transfer-Encoding: chunked\r\n\r\nzz\r\n"] * 3:
    expect(req("GET", b"/metrics", h), {200, 400, 411, 413, 431, 0}, h[:30])
# garbage bytes on the socket: 400 or a close, never a hang
for i in range(150):
    junk = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 3000)))
    expect(junk, {400, 0, 404, 405, 414, 431, 505, 501}, "garbage")
for junk in [b"\r\n\r\n", b"GET\r\n\r\n", b"GET /metrics\r\n\r\n", b"GET /metrics HTTP/9.9\r\n\r\n",
             b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + b"\x00" * 100]:
    expect(junk, {400, 0, 505, 404, 200}, junk[:20])
# a connection that says nothing, and one that stops half-way, then closes
for data in [b"", b"GET /metr"]:
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(data)
    s.close()
    n += 1
# a GET with a body: 400
expect(req("GET", b"/metrics", b"Content-Length: 5\r\n") + b"hello", {400}, "GET with a body")
# scrapes on one kept-alive connection, as a Prometheus does
import http.client
c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
c.request("GET", "/metrics")
r = c.getresponse(); r.read(); first = c.sock
for _ in range(3):
    c.request("GET", "/metrics")
    r = c.getresponse(); r.read()
    assert r.status == 200 and c.sock is first, (r.status, r.getheader("Connection"))
    n += 1
c.close()
# HEAD: the headers of a scrape, no body
st, head, body = expect(req("HEAD", b"/metrics"), {200}, "HEAD")
assert "text/plain; version=0.0.4" in head and body == b"", (head, body[:50])
# and a good scrape, on the same daemon, after all that
st, head, body = expect(req("GET", b"/metrics"), {200}, "the good scrape")
assert b"\ncchc_reports_accepted_total 7\n" in body, body[:500]
print(f"requests={n}")
PY
cnt=$(sed -n 's/^requests=//p' "$T/hostile.log")
[ "${cnt:-0}" -ge 300 ] || fail "only ${cnt:-0} hostile requests were made"
kill -0 "$SERVER_PID" || fail "the server died under hostile HTTP"
scrape | promtool check metrics >/dev/null 2>&1 || fail "promtool after the hostile requests"
out=$(tclient --endpoint "$ENDPOINT" --server-key "$T/server.pub" --key "$T/yd/agent" \
  --report "$FIX/remediation.json" --epoch 99 --msg-id 1)
echo "$out" | grep -q '^ACK\|^NACK' || fail "the ROUTER stopped answering: $out"
prom_wait 'up{job="cchc"}' 1
pass "$cnt hostile HTTP requests answered 4xx or dropped; the server lives, a scrape and the ROUTER still work"

kill -TERM "$SERVER_PID"; wait "$SERVER_PID" || fail "server exit code on SIGTERM"
pass "the server stops cleanly with /metrics on"
