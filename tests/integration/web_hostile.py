"""Hostile requests against cchc-web, over raw sockets so that nothing is
cleaned up on the way: python3 web_hostile.py HOST PORT USER PASSWORD.

cchc-web runs with basic authentication on, at most 4 connections per
address and a 4-second idle timeout (test_web_hostile.sh's web.ini). Every
hostile request must get a 4xx (never a 2xx, a 5xx or a dropped connection),
except where said; a good request must still get its page afterwards. Prints
"ok - ..." lines; any failure exits 1 with the reasons."""
import base64
import socket
import sys
import time

HOST, PORT, USER, PASSWORD = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
GOOD = "Basic " + base64.b64encode(("%s:%s" % (USER, PASSWORD)).encode()).decode()
failures, counts = [], {}


def fail(what):
    failures.append(what)
    print("FAIL: " + what, file=sys.stderr)


def send(raw, timeout=10):
    """Sends raw bytes, reads to the end: (status or None, headers, body)."""
    s = socket.create_connection((HOST, PORT), timeout=timeout)
    try:
        s.sendall(raw)
        data = b""
        while True:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    if not data.startswith(b"HTTP/1."):
        return None, {}, data
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return int(lines[0].split()[1]), headers, body


def get(target, auth=GOOD, method="GET", extra=""):
    req = "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n" % (method, target, HOST)
    if auth is not None:
        req += "Authorization: %s\r\n" % auth
    return send((req + extra + "\r\n").encode("latin-1"))


def expect(what, got, lo=400, hi=499, want=None):
    status = got[0]
    counts[status] = counts.get(status, 0) + 1
    ok = status is not None and (status == want if want else lo <= status <= hi)
    if not ok:
        fail("%s: got %r, want %s" % (what, status, want or "%d-%d" % (lo, hi)))
    return got


# ---- authentication ----------------------------------------------------------------------
s, h, _ = expect("no credentials", get("/status", auth=None), want=401)
if not h.get("www-authenticate", "").startswith('Basic realm="cchc-web"'):
    fail("401 without WWW-Authenticate Basic: %r" % h)
b64 = lambda t: base64.b64encode(t.encode("utf-8")).decode()
for name, auth in [
        ("wrong password", "Basic " + b64(USER + ":" + PASSWORD + "x")),
        ("password cut short", "Basic " + b64(USER + ":" + PASSWORD[:-1])),
        ("wrong user", "Basic " + b64("admin:" + PASSWORD)),
        ("empty password", "Basic " + b64(USER + ":")),
        ("no colon", "Basic " + b64(USER + PASSWORD)),
        ("not base64", "Basic !!!!"),
        ("bad padding", "Basic " + b64(USER + ":" + PASSWORD).rstrip("=") + "="),
        ("another scheme", "Bearer " + b64(USER + ":" + PASSWORD)),
        ("NUL in the password", "Basic " + b64(USER + ":" + PASSWORD + "\0")),
        ("huge credentials", "Basic " + "QUFB" * 600),
        ("SQL as the user", "Basic " + b64("' OR '1'='1:' OR '1'='1")),
        ("Vietnamese password", "Basic " + b64(USER + ":mật khẩu sai"))]:
    s, h, _ = expect("auth: " + name, get("/status", auth=auth), want=401)
    if "www-authenticate" not in h:
        fail("auth: %s: no WWW-Authenticate" % name)
expect("auth: right credentials", get("/status", auth=GOOD), want=200)
expect("auth: scheme in another case", get("/", auth="basic " + b64(USER + ":" + PASSWORD)),
       want=200)
expect("auth: JSON without credentials", get("/api/status", auth=None), want=401)
print("ok - authentication: 401 with WWW-Authenticate for no, wrong or malformed credentials; "
      "200 with the right ones")

# ---- unknown pages and paths out of the site ---------------------------------------------------
for target in ["/admin", "/api/nope", "/status/", "/STATUS", "/status.json", "/index.html",
               "/api/summary.xlsx", "/static/app.css", "/static/app-000000000000.css",
               "/static/", "/static", "/.env", "/.git/config", "/api//status", "//status",
               "/status%2f", "/%73tatus", "/api/status/extra", "/summary.xlsx/x", "/cgi-bin/a",
               "/static/../../etc/passwd", "/static/%2e%2e/%2e%2e/etc/passwd",
               "/..%2f..%2fetc%2fpasswd", "/static/..%5c..%5cwindows%5cwin.ini", "/%2e%2e/",
               "/static/./app.css", "/..", "/../../../../etc/passwd", "/%00", "/status%00",
               "/st%C3%A1tus", "/" + "a" * 200, "/" + "%" * 50]:
    expect("GET " + target, get(target), want=404)
for target in ["*", "status", "http://evil.example/status", "../etc/passwd"]:
    expect("target " + target, get(target))
print("ok - unknown pages and traversal ('/static/../../etc/passwd', encoded dots and "
      "slashes, absolute-form): 404 or 400")

# ---- hostile query values on every page that takes them -------------------------------------------
pages = ["/status", "/overdue", "/dossiers", "/summary", "/summary.xlsx", "/api/status",
         "/api/overdue", "/api/dossiers", "/api/summary"]
periods = ["'%3B%20DROP%20TABLE%20units%3B%20--", "2024S1'%20OR%20'1'%3D'1", "%00",
           "2024S1%00", "%00x", "%zz", "%", "%4", "2024%", "%C3%28", "%FF%FE", "%ED%A0%80",
           "%C0%AF", "A" * 100, "2" * 65, "2024Q5", "2024S3", "1999Q1", "2024M1",
           "%3Cscript%3Ealert(1)%3C/script%3E", "%0d%0aSet-Cookie:%20x=1", "..%2F..%2Fetc",
           "%EF%BC%92%EF%BC%90%EF%BC%92%EF%BC%94", "2024S1+", "+2024S1", "2024s1%09",
           "%E2%80%AE1S4202", "2024S1%26type%3DX"]
for page in pages:
    for v in periods:
        expect("%s?period=%s" % (page, v), get("%s?period=%s" % (page, v)))
types = ["NOPE", "KHAC_PHUC", "CCHC_DK'--", "%00", "X" * 40, "cchc-dk", "%27", "CCHC_DK%00",
         "%C3%28", "CCHC%20DK"]
for page in pages:
    for v in types:
        expect("%s?type=%s" % (page, v), get("%s?period=2024S1&type=%s" % (page, v)))
for page in ["/status", "/api/dossiers", "/summary"]:
    for q in ["foo=1", "PERIOD=2024S1", "period=2024S1&period=2024Q1", "a=1&b=2&c=3&d=4&e=5",
              "=2024S1", "period", "per%69od=2024S1", "p%00=1", "x" * 20 + "=1",
              "period=2024S1&year=2024"]:
        expect("%s?%s" % (page, q), get("%s?%s" % (page, q)))
for v in ["1999", "20244", "abcd", "%00", "2024%00", "2024'", "-2024", "%EF%BC%92%EF%BC%90%EF%BC%92%EF%BC%94"]:
    expect("/tasks?year=" + v, get("/tasks?year=" + v))
for page in ["/", "/remediation", "/agents", "/api/agents", "/api/"]:
    expect(page + "?period=2024S1", get(page + "?period=2024S1"))
expect("the style sheet with a query", get("/static/x.css?v=1"), want=404)
print("ok - hostile query values (SQL, %%00, '%%' garbage, invalid UTF-8, overlong, markup, "
      "CRLF, unknown or repeated parameters) on %d pages: 400" % len(pages))

# ---- methods, bodies, broken HTTP -----------------------------------------------------------------
for m in ["POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "PROPFIND", "get", "FOO"]:
    s, h, _ = expect(m + " /status", get("/status", method=m), want=405)
    if h.get("allow") != "GET, HEAD":
        fail("%s: Allow %r" % (m, h.get("allow")))
expect("POST with a body", send(("POST /status HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\n"
                                 "Content-Length: 11\r\nConnection: close\r\n\r\nperiod=2024"
                                 % GOOD).encode()), want=405)
expect("GET with a body", send(("GET /status HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\n"
                                "Content-Length: 5\r\nConnection: close\r\n\r\nhello"
                                % GOOD).encode()), want=400)
expect("GET chunked", send(("GET /status HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\n"
                            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello"
                            "\r\n0\r\n\r\n" % GOOD).encode()), want=400)
broken = {
    "garbage": b"GARBAGE\r\n\r\n",
    "no Host in HTTP/1.1": ("GET /status HTTP/1.1\r\nAuthorization: %s\r\nConnection: close"
                            "\r\n\r\n" % GOOD).encode(),
    "HTTP/9.9": b"GET /status HTTP/9.9\r\nHost: x\r\n\r\n",
    "header without a colon": b"GET /status HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n",
    "space before the colon": b"GET /status HTTP/1.1\r\nHost : x\r\n\r\n",
    "huge header": b"GET /status HTTP/1.1\r\nHost: x\r\nX-Big: " + b"A" * 20000 + b"\r\n\r\n",
    "many headers": b"GET /status HTTP/1.1\r\nHost: x\r\n" + b"".join(
        b"X-H%d: %s\r\n" % (i, b"v" * 40) for i in range(600)) + b"\r\n",
    "long target": b"GET /status?period=" + b"A" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    "huge cookie": b"GET / HTTP/1.1\r\nHost: x\r\nCookie: " + b"c=" * 10000 + b"\r\n\r\n",
    "NUL in the request line": b"GET /sta\x00tus HTTP/1.1\r\nHost: x\r\n\r\n",
    "bare LF": b"GET /status HTTP/1.1\nHost: x\n\n",
}
# The gate (web_gate.h) answers the first two itself, before libmicrohttpd
# sees them (libmicrohttpd would close the connection without a word, and
# answer 505); libmicrohttpd refuses the rest.
for name, raw in broken.items():
    expect(name, send(raw))
gate = {
    "a TLS hello": bytes.fromhex("16030100a5010000a10303") + b"\x00" * 40,
    "leading empty lines, then HTTP/2.0": b"\r\n\r\nGET / HTTP/2.0\r\nHost: x\r\n\r\n",
    "lower-case version": b"GET / http/1.1\r\nHost: x\r\n\r\n",
    "no target": b"GET  HTTP/1.1\r\nHost: x\r\n\r\n",
    "a request line of 20 KiB": b"GET /" + b"a" * 20480,
}
for name, raw in gate.items():
    got = send(raw)
    expect(name, got)
    if got[0] is not None and got[1].get("x-content-type-options") != "nosniff":
        fail("%s: the gate's answer lacks the security headers" % name)
# A request line that comes a few bytes at a time is served (the gate waits).
s = socket.create_connection((HOST, PORT), timeout=10)
req = ("GET /status?period=2024S1 HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\n"
       "Connection: close\r\n\r\n" % GOOD).encode()
for i in range(0, 40, 4):
    s.sendall(req[i:i + 4])
    time.sleep(0.05)
s.sendall(req[40:])
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
s.close()
counts[200] = counts.get(200, 0) + 1
if not data.startswith(b"HTTP/1.1 200"):
    fail("a request line sent 4 bytes at a time: got %r" % data[:40])
# Half a request line, then the client closes its side: closed, not served.
s = socket.create_connection((HOST, PORT), timeout=10)
s.sendall(b"GET /sta")
s.shutdown(socket.SHUT_WR)
t0 = time.monotonic()
try:
    left = s.recv(100)
except ConnectionResetError:
    left = b""
s.close()
counts["closed"] = counts.get("closed", 0) + 1
if left or time.monotonic() - t0 > 1.5:
    fail("half a request line, then EOF: got %r after %.1f s, want closed at once"
         % (left, time.monotonic() - t0))
print("ok - other methods 405 with Allow: GET, HEAD; a GET body 400; broken HTTP, huge headers "
      "and targets refused with a 4xx; at the gate: a line that is not HTTP, another HTTP "
      "version, a TLS hello and a 20 KiB request line get a 4xx with the security headers; a "
      "request line sent slowly is served; half a line then EOF is closed at once")

# ---- connections: per address, and idle ones ------------------------------------------------------
idle = [socket.create_connection((HOST, PORT), timeout=5) for _ in range(4)]
for s in idle:
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # never finished
# (Time for the server to take the four, and well inside the idle timeout:
# with 0.3 s and a 2 s timeout, under ASan in a busy ctest -j2, the fifth
# was once served.)
time.sleep(1.0)
over = socket.create_connection((HOST, PORT), timeout=5)
over.sendall(("GET /status HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\nConnection: close"
              "\r\n\r\n" % GOOD).encode())
try:
    data = over.recv(100)
except (ConnectionResetError, socket.timeout):
    data = b""
over.close()
if data.startswith(b"HTTP/1.1 200"):
    fail("a fifth connection from one address was served (limit 4)")
time.sleep(4.2)  # connection_timeout_seconds = 4: the idle ones are closed
closed = 0
for s in idle:
    try:
        closed += s.recv(100) == b""
    except (ConnectionResetError, socket.timeout):
        closed += 1
    s.close()
if closed != 4:
    fail("idle half-sent requests still open after the timeout: %d of 4 closed" % closed)
expect("after the limits", get("/status?period=2024S1"), want=200)
print("ok - a fifth connection from one address is not served; half-sent requests are closed "
      "after the idle timeout; then pages are served again")

total = sum(counts.values())
print("ok - %d requests: %s" % (total, ", ".join("%s x%d" % (k, v) for k, v in
                                                  sorted(counts.items(), key=str))))
s, _, body = expect("a good request at the end", get("/status?period=2024S1"), want=200)
if "Xã Hữu Sản".encode() not in body:
    fail("the good request's page has no Xã Hữu Sản")
sys.exit(1 if failures else 0)
