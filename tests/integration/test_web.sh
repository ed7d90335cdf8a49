#!/usr/bin/env bash
# cchc-web (issue 14) on the district of figures_seed.sh, read on 20/06/2024:
#  (A) every page and its JSON answer 200; the JSON under /api/ is the JSON of
#      the cchc command with the same definition, member for member; the
#      workbook of /summary.xlsx holds what `cchc summary --out x.xlsx` writes;
#  (B) every answer carries the security headers, and no page holds inline
#      script or style or a resource from elsewhere;
#  (C) headless Chromium loads every page at a desktop's and a phone's size
#      with no console error, no CSP violation, no failed request, reads the
#      status matrix and the chart back from the DOM, and writes screenshots
#      to build/web-shots/;
#  (D) the session is cchc_viewer's: a login outside that role gets 503 and a
#      hint in the log until it is granted; a database that stops gives 503
#      and is reconnected to when it is back.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/figures_seed.sh"
figures_seed
export CCHC_CLOCK=2024-06-20T09:00:00+07:00
PY=/usr/bin/python3 # Debian's: python3-websocket, python3-openpyxl

# web_start NAME CONNINFO [extra web.ini lines]: cchc-web on a free port; sets WEB.
web_start() {
  local name=$1 conninfo=$2 port
  port=$(free_port)
  cat >"$T/$name.ini" <<INI
[web]
listen = 127.0.0.1:$port
refresh_seconds = 600
[database]
conninfo = $conninfo
[log]
level = debug
INI
  "$CCHC_BIN/cchc-web" -c "$T/$name.ini" >>"$T/$name.log" 2>&1 &
  WEB_PID=$!
  PIDS+=("$WEB_PID")
  for _ in $(seq 1 100); do
    grep -q 'event=listening' "$T/$name.log" 2>/dev/null && break
    kill -0 "$WEB_PID" 2>/dev/null || fail "cchc-web $name exited at start: $(cat "$T/$name.log")"
    sleep 0.1
  done
  grep -q 'event=listening' "$T/$name.log" || fail "cchc-web $name did not listen"
  WEB="http://127.0.0.1:$port"
}
web_start web "host=$T/pg user=cchc dbname=postgres"
WEB1_PID=$WEB_PID
cchc() { "$CCHC_BIN/cchc" "$@"; }

# ---- (A) pages, JSON, the workbook ---------------------------------------------------
for p in / /status /overdue /dossiers /remediation /tasks /agents /summary \
         "/status?period=2024q1&type=cchc_dk" "/summary.xlsx?period=2024S1" /api /api/ \
         /api/status /api/overdue /api/dossiers /api/remediation /api/tasks /api/agents \
         /api/summary; do
  code=$(curl -s -o "$T/page" -w '%{http_code}' "$WEB$p")
  [ "$code" = 200 ] || fail "GET $p: $code $(head -c 300 "$T/page")"
done
pass "every page and its /api/ JSON answer 200"

curl -sf "$WEB/api/status?period=2024S1" >"$T/api-status.json" || fail "api status"
cchc status --period 2024S1 --json >"$T/cli-status.json"
cchc status --rates --period 2024S1 --json >"$T/cli-rates.json"
curl -sf "$WEB/api/overdue?period=2024s1" >"$T/api-overdue.json" || fail "api overdue"
cchc overdue --period 2024S1 --json >"$T/cli-overdue.json"
curl -sf "$WEB/api/dossiers?period=2024S1" >"$T/api-dossiers.json" || fail "api dossiers"
cchc dossiers --period 2024S1 --by unit --json >"$T/cli-dos-unit.json"
cchc dossiers --period 2024S1 --by field --json >"$T/cli-dos-field.json"
curl -sf "$WEB/api/remediation" >"$T/api-rem.json" || fail "api remediation"
cchc remediation --json >"$T/cli-rem.json"
cchc remediation --findings --json >"$T/cli-remf.json"
curl -sf "$WEB/api/tasks?year=2024" >"$T/api-tasks.json" || fail "api tasks"
cchc tasks --json >"$T/cli-tasks.json"
curl -sf "$WEB/api/agents" >"$T/api-agents.json" || fail "api agents"
cchc agents --json >"$T/cli-agents.json"
curl -sf "$WEB/api/" >"$T/api-overview.json" || fail "api overview"
curl -sf "$WEB/api/summary?period=2024S1" >"$T/api-summary.json" || fail "api summary"
$PY - "$T" <<'PY' || fail "the JSON of the pages is not the commands' JSON"
import json, sys
T = sys.argv[1]
load = lambda n: json.load(open("%s/%s.json" % (T, n)))
pairs = [("api-status", "status", "cli-status"), ("api-status", "rates", "cli-rates"),
         ("api-overdue", "overdue", "cli-overdue"), ("api-dossiers", "units", "cli-dos-unit"),
         ("api-dossiers", "fields", "cli-dos-field"), ("api-rem", "inspections", "cli-rem"),
         ("api-rem", "findings", "cli-remf"), ("api-tasks", "tasks", "cli-tasks"),
         ("api-agents", "agents", "cli-agents")]
for api, key, cli in pairs:
    a, c = load(api)[key], load(cli)
    assert a == c and len(a) > 0, (api, key, len(a), len(c))
st = load("api-status")
assert st["period"] == "2024S1" and st["type"] is None and len(st["status"]) == 30
ov = load("api-overview")   # the current period on 20/06/2024: 2024S1 (due 18/06)
assert ov["period"] == "2024S1", ov
assert [(r["reporting_rate"], r["on_time_rate"]) for r in ov["rates"]] == [(10.34, 6.9)], ov
assert load("api-overdue")["period"] == "2024S1" and len(load("api-overdue")["overdue"]) == 8
sm = load("api-summary")
assert list(sm)[:4] == ["period", "type", "types", "title"] and sm["types"] == "CCHC_DK", list(sm)
tot = [r for r in sm["completeness"] if r["total"]][0]
assert (tot["expected"], tot["reported"], tot["reporting_rate"], tot["on_time_rate"]) == (29, 3, 10.34, 6.9), tot
assert [r for r in sm["dossiers"] if r["total"]][0]["on_time_rate"] == 97.99
assert [r for r in sm["not_reported"] if r["total"]][0]["no"] == 26
PY
pass "the /api/ JSON of status, rates, overdue, dossiers, remediation, tasks and agents is the commands' --json; overview and summary carry 2024S1's figures"

curl -sf -D "$T/xlsx.h" -o "$T/web.xlsx" "$WEB/summary.xlsx?period=2024s1" || fail "summary.xlsx"
grep -qi '^content-disposition: attachment; filename="tong-hop-2024S1.xlsx"' "$T/xlsx.h" \
  || fail "summary.xlsx: $(cat "$T/xlsx.h")"
grep -qi '^content-type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' \
  "$T/xlsx.h" || fail "summary.xlsx content type"
cchc summary --period 2024S1 --out "$T/cli.xlsx" >/dev/null || fail "cchc summary"
$PY - "$T/web.xlsx" "$T/cli.xlsx" <<'PY' || fail "the workbook of /summary.xlsx is not cchc summary's"
import sys, openpyxl
w, c = openpyxl.load_workbook(sys.argv[1]), openpyxl.load_workbook(sys.argv[2])
assert w.sheetnames == c.sheetnames and len(w.sheetnames) == 6, w.sheetnames
for name in w.sheetnames:
    a = [[x.value for x in row] for row in w[name].iter_rows()]
    b = [[x.value for x in row] for row in c[name].iter_rows()]
    assert a == b and len(a) > 1, name
    assert w[name].freeze_panes == "A2"
assert w["Hoàn thành"]["A1"].value == "STT"
PY
ls /tmp/cchc-web-*.xlsx* 2>/dev/null && fail "a workbook was left in /tmp"
pass "/summary.xlsx: the same six sheets and cells as cchc summary --out, as an attachment, nothing left in /tmp"

# ---- (B) headers, and nothing inline ---------------------------------------------------
CSP="default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
css=$(curl -sf "$WEB/" | sed -n 's/.*<link rel="stylesheet" href="\([^"]*\)".*/\1/p')
case "$css" in /static/app-*.css) ;; *) fail "no hashed style sheet: '$css'" ;; esac
for p in / /status /summary /api/status "$css" /nope "/status?period=2024Q5" "/summary.xlsx?period=2024S1"; do
  curl -s -D "$T/h" -o /dev/null "$WEB$p"
  tr -d '\r' <"$T/h" >"$T/h2"
  grep -qx "Content-Security-Policy: $CSP" "$T/h2" || fail "$p: CSP: $(cat "$T/h2")"
  grep -qx "X-Content-Type-Options: nosniff" "$T/h2" || fail "$p: nosniff"
  grep -qx "Referrer-Policy: no-referrer" "$T/h2" || fail "$p: Referrer-Policy"
  grep -qx "X-Frame-Options: DENY" "$T/h2" || fail "$p: X-Frame-Options"
  if [ "$p" = "$css" ]; then
    grep -qx "Cache-Control: public, max-age=31536000, immutable" "$T/h2" || fail "$p: cache"
  else
    grep -qx "Cache-Control: no-store" "$T/h2" || fail "$p: Cache-Control: $(cat "$T/h2")"
  fi
done
curl -s -I "$WEB/status" | tr -d '\r' | grep -qx "Content-Type: text/html; charset=utf-8" \
  || fail "HEAD /status"
for p in / /status /overdue /dossiers /remediation /tasks /agents /summary /nope; do
  curl -s "$WEB$p" >"$T/page.html"
  $PY - "$T/page.html" "$p" <<'PY' || fail "$p holds something the CSP would block, or from elsewhere"
import sys
from html.parser import HTMLParser
class P(HTMLParser):
    bad = []
    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "iframe", "object", "embed", "base"):
            self.bad.append(tag)
        for k, v in attrs:
            if k == "style" or k.startswith("on"):
                self.bad.append("%s %s=" % (tag, k))
            if k in ("src", "href", "action") and not (v.startswith("/") or v.startswith("#")):
                self.bad.append("%s %s=%s" % (tag, k, v))
page = open(sys.argv[1], encoding="utf-8").read()
p = P(); p.feed(page)
assert not p.bad, p.bad
assert "javascript:" not in page
PY
done
pass "every answer has the CSP, nosniff, no-referrer, DENY and no-store (the hashed style sheet is cached); no inline script, style or handler; every link is this site's"

# ---- (C) Chromium ----------------------------------------------------------------------
rm -rf "$CCHC_BIN/web-shots"
timeout -k 5 170 $PY "$CCHC_SRC/tests/integration/web_browser.py" "$WEB" "$CCHC_BIN/web-shots" \
  >"$T/browser.out" 2>"$T/browser.err" || fail "Chromium: $(cat "$T/browser.err" | tail -n 20)"
cat "$T/browser.out"
[ "$(ls "$CCHC_BIN"/web-shots/*.png | wc -l)" = 16 ] || fail "16 screenshots expected"
for f in "$CCHC_BIN"/web-shots/*.png; do
  [ "$(head -c 8 "$f" | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a ] || fail "$f is not a PNG"
done
pass "Chromium: 8 pages at 1366x900 and 390x844 without an error; screenshots in $CCHC_BIN/web-shots"

# ---- (D) the viewer's session, a database that goes away ----------------------------------
kill -0 "$WEB_PID" || fail "cchc-web died"
[ "$(sql "select count(*) from pg_stat_activity where application_name = 'cchc-web'")" = 1 ] \
  || fail "cchc-web has not one connection of its own"
sql "CREATE ROLE web_ro LOGIN"
web_start web2 "host=$T/pg user=web_ro dbname=postgres"
code=$(curl -s -o "$T/page" -w '%{http_code}' "$WEB/status")
[ "$code" = 503 ] && grep -q "chưa đọc được cơ sở dữ liệu" "$T/page" || fail "outside cchc_viewer: $code"
grep -q 'event=db_role .*hint="GRANT cchc_viewer TO web_ro' "$T/web2.log" \
  || fail "no hint to grant cchc_viewer: $(grep db_ "$T/web2.log")"
sql "GRANT cchc_viewer TO web_ro"
sleep 1.1 # a connection is tried again at most once a second
code=$(curl -s -o "$T/page" -w '%{http_code}' "$WEB/status?period=2024S1")
[ "$code" = 200 ] && grep -q "Xã Hữu Sản" "$T/page" || fail "after GRANT cchc_viewer: $code"
grep -q 'event=db_connected user=web_ro role=cchc_viewer' "$T/web2.log" || fail "db_connected"
pass "a login outside cchc_viewer gets 503 and the hint GRANT cchc_viewer TO web_ro; granted, the pages work"

pgc_stop "$T/pg" fast
code=$(curl -s -o "$T/page" -w '%{http_code}' --max-time 20 "$WEB/status")
[ "$code" = 503 ] || fail "database stopped: $code"
code=$(curl -s -o "$T/page" -w '%{http_code}' --max-time 20 "$WEB/api/agents")
[ "$code" = 503 ] && $PY -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["status"] == 503 and d["error"] and d["error_en"]' "$T/page" \
  || fail "database stopped, JSON: $code $(cat "$T/page")"
pgc_start "$T/pg"
sleep 1.1
code=$(curl -s -o "$T/page" -w '%{http_code}' --max-time 20 "$WEB/status?period=2024S1")
[ "$code" = 200 ] && grep -q "Xã Đại Sơn" "$T/page" || fail "database back: $code"
kill -0 "$WEB_PID" || fail "cchc-web died"
pass "a stopped database gives 503 (HTML and JSON) and cchc-web reconnects when it is back"

# Both stop on SIGTERM with exit 0 (under AddressSanitizer: without a leak).
for pid in "$WEB1_PID" "$WEB_PID"; do
  kill -TERM "$pid"
  wait "$pid" || fail "cchc-web $pid: exit $? after SIGTERM: $(tail -n 20 "$T/web.log" "$T/web2.log")"
done
pass "SIGTERM: both stop, exit 0"
