"""Drives headless Chromium over the DevTools protocol through cchc-web's
pages, as test_web.sh asks: python3 web_browser.py BASE_URL SHOTS_DIR.

Needs Debian's chromium and python3-websocket (run it with /usr/bin/python3).
For every page, at a desktop's size (1366x900) and a phone's (390x844,
mobile), it checks that:
  - no console error, no exception, no error in the browser's log (a
    Content-Security-Policy violation is one), no failed request and no
    response with a status >= 400;
  - the style sheet applied (the header has the district's blue), so the
    CSP let the page's own resources through;
  - the page does not scroll sideways on a phone (wide tables scroll in their
    own box);
and writes a full-page screenshot SHOTS_DIR/<page>-<desktop|phone>.png. Then it
reads the status matrix and the dossier chart back from the DOM. It prints
"ok - ..." lines and the screenshots' paths; any failure exits 1 with the
reasons."""
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import websocket  # python3-websocket

BASE, SHOTS = sys.argv[1].rstrip("/"), sys.argv[2]
PAGES = [
    ("overview", "/"),
    ("status", "/status?period=2024S1"),
    ("overdue", "/overdue?period=2024S1"),
    ("dossiers", "/dossiers?period=2024S1"),
    ("remediation", "/remediation"),
    ("tasks", "/tasks?year=2024"),
    ("agents", "/agents"),
    ("summary", "/summary?period=2024S1"),
]
SIZES = [("desktop", 1366, 900, False), ("phone", 390, 844, True)]
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--remote-debugging-port=0", "--hide-scrollbars", "--mute-audio"]

failures = []


def fail(what):
    failures.append(what)
    print("FAIL: " + what, file=sys.stderr)


class Browser:
    """One Chromium, one page target, commands over the flat session."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="cchc-chromium-")
        self.log = open(os.path.join(self.dir, "chromium.log"), "w")
        self.proc = subprocess.Popen(
            ["chromium"] + FLAGS + ["--user-data-dir=" + self.dir, "about:blank"],
            stdout=self.log, stderr=subprocess.STDOUT)
        port_file = os.path.join(self.dir, "DevToolsActivePort")
        for _ in range(300):
            if os.path.exists(port_file) and len(open(port_file).read().split("\n")) >= 2:
                break
            if self.proc.poll() is not None:
                raise SystemExit("chromium exited at start: see " + self.log.name)
            time.sleep(0.1)
        else:
            raise SystemExit("chromium wrote no DevToolsActivePort in 30 s")
        port, path = open(port_file).read().split("\n")[:2]
        self.ws = websocket.create_connection("ws://127.0.0.1:%s%s" % (port, path), timeout=60)
        self.next_id = 0
        self.events = []
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget",
                                 {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(domain + ".enable", session=True)

    def call(self, method, params=None, session=False):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = self.session
        self.ws.send(json.dumps(msg))
        while True:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError("%s: %s" % (method, reply["error"]))
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def pump(self, seconds):
        """Collects events for a while."""
        end = time.time() + seconds
        self.ws.settimeout(0.1)
        try:
            while time.time() < end:
                try:
                    self.events.append(json.loads(self.ws.recv()))
                except websocket.WebSocketTimeoutException:
                    pass
        finally:
            self.ws.settimeout(60)

    def load(self, url):
        self.events = []
        self.call("Page.navigate", {"url": url}, session=True)
        end = time.time() + 30
        while time.time() < end:
            self.pump(0.2)
            if any(e.get("method") == "Page.loadEventFired" for e in self.events):
                break
        else:
            fail("%s did not load in 30 s" % url)
        self.pump(0.5)  # late requests (the icon), late errors

    def js(self, expr):
        r = self.call("Runtime.evaluate", {"expression": expr, "returnByValue": True},
                      session=True)
        if "exceptionDetails" in r:
            raise RuntimeError("evaluate %s: %s" % (expr, r["exceptionDetails"]))
        return r["result"].get("value")

    def problems(self):
        """What went wrong in the page, from the events since load()."""
        out = []
        for e in self.events:
            m, p = e.get("method"), e.get("params", {})
            if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append("console %s: %s" % (p["type"], [a.get("value", a.get("description"))
                                                           for a in p.get("args", [])]))
            elif m == "Runtime.exceptionThrown":
                out.append("exception: %s" % p["exceptionDetails"].get("text"))
            elif m == "Log.entryAdded" and p["entry"].get("level") == "error":
                out.append("log: %s %s" % (p["entry"].get("text"), p["entry"].get("url", "")))
            elif m == "Network.loadingFailed":
                out.append("request failed: %s %s" % (p.get("errorText"),
                                                       p.get("blockedReason", "")))
            elif m == "Network.responseReceived" and p["response"]["status"] >= 400:
                out.append("HTTP %d for %s" % (p["response"]["status"], p["response"]["url"]))
        return out

    def screenshot(self, path, width):
        height = self.js("Math.ceil(document.documentElement.scrollHeight)")
        height = max(1, min(int(height), 6000))
        shot = self.call("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}},
            session=True)
        with open(path, "wb") as f:
            f.write(base64.b64decode(shot["data"]))

    def close(self):
        try:
            self.call("Browser.close")
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


os.makedirs(SHOTS, exist_ok=True)
b = Browser()
try:
    shots = []
    for size, w, h, mobile in SIZES:
        b.call("Emulation.setDeviceMetricsOverride",
               {"width": w, "height": h, "deviceScaleFactor": 1, "mobile": mobile},
               session=True)
        before = len(failures)
        for name, path in PAGES:
            b.load(BASE + path)
            where = "%s at %s size" % (path, size)
            for problem in b.problems():
                fail("%s: %s" % (where, problem))
            if b.js("document.title").find("CCHC") < 0:
                fail("%s: title %r" % (where, b.js("document.title")))
            blue = b.js("getComputedStyle(document.querySelector('header.top')).backgroundColor")
            if blue != "rgb(18, 53, 91)":
                fail("%s: the style sheet did not apply (header %s)" % (where, blue))
            sideways = b.js("document.documentElement.scrollWidth - window.innerWidth")
            if sideways > 0:
                fail("%s: the page scrolls sideways by %d px" % (where, sideways))
            out = os.path.join(SHOTS, "%s-%s.png" % (name, size))
            b.screenshot(out, w)
            shots.append(out)
        if len(failures) == before:
            print("ok - %d pages at %s size (%dx%d): no console error, no failed request, "
                  "style applied, no sideways scroll" % (len(PAGES), size, w, h))
        before = len(failures)

        # The status matrix, read from the DOM at this size.
        b.load(BASE + "/status?period=2024S1")
        rows = b.js("""[...document.querySelectorAll('table.matrix tbody tr[data-unit]')].map(tr =>
            [tr.dataset.unit, tr.querySelector('th.unit').textContent, tr.dataset.status,
             tr.querySelector('td.on') ? tr.querySelector('td.on').textContent : null,
             [...tr.querySelectorAll('td.m')].findIndex(td => td.classList.contains('on'))])""")
        got = {r[0]: r[1:] for r in rows}
        want = {
            "xa-van-son": ["Xã Vân Sơn", "on_time", "● đúng hạn", 0],
            "xa-huu-san": ["Xã Hữu Sản", "on_time", "● đúng hạn", 0],
            "xa-dai-son": ["Xã Đại Sơn", "late", "● chậm hạn", 1],
            "xa-an-ba": ["Xã An Bá", "overdue", "● quá hạn", 2],
            "p-tp": ["Phòng Tư pháp", "exempt", "● miễn nộp", 4],
        }
        for unit, w_row in want.items():
            if got.get(unit) != w_row:
                fail("status matrix at %s size, %s: %r, want %r" % (size, unit, got.get(unit),
                                                                    w_row))
        counts = {}
        for r in rows:
            counts[r[2]] = counts.get(r[2], 0) + 1
        if len(rows) != 30 or counts != {"on_time": 2, "late": 1, "overdue": 26, "exempt": 1}:
            fail("status matrix at %s size: %d rows, %r" % (size, len(rows), counts))
        totals = b.js("[...document.querySelectorAll('table.matrix tr.total td.m')]"
                      ".map(td => td.textContent)")
        if totals != ["2", "1", "26", "0", "1"]:
            fail("status matrix totals at %s size: %r" % (size, totals))
        cards = b.js("[...document.querySelectorAll('.card b')].map(b => b.textContent)")
        if cards[:2] != ["10.34 %", "6.90 %"]:
            fail("status rates at %s size: %r" % (size, cards))
        # The unit's name stays in view while the matrix scrolls sideways.
        box = b.js("""(() => { const s = document.querySelector('table.matrix').parentElement;
            s.scrollLeft = 10000; const r = document.querySelector('table.matrix tbody th.unit')
            .getBoundingClientRect(); return [r.left, r.right, s.scrollLeft]; })()""")
        if box[0] < -1 or box[1] > w + 1:
            fail("status matrix at %s size: the unit's name leaves the screen %r" % (size, box))
        if len(failures) == before:
            print("ok - status matrix at %s size: 30 units; Xã Vân Sơn and Xã Hữu Sản on time, "
                  "Xã Đại Sơn late, Xã An Bá overdue, Phòng Tư pháp exempt; totals 2 1 26 0 1; "
                  "rates 10.34 %% and 6.90 %%; the unit's name stays in view" % size)

    # The dossier chart: a bar per unit that reported, the district's average.
    b.load(BASE + "/dossiers?period=2024S1")
    chart = b.js("""(() => { const svg = document.querySelector('figure.chart svg');
        return svg && [svg.querySelectorAll('rect.bar').length,
                       [...svg.querySelectorAll('g > text.v')].map(t => t.textContent),
                       !!svg.querySelector('line.avg'),
                       svg.querySelector('text.avgl').textContent,
                       [...svg.querySelectorAll('g > text:not(.v)')].map(t => t.textContent)]; })()""")
    # Worked out in figures_seed.py: (early + on time) / resolved per unit,
    # Đại Sơn 20/20, Hữu Sản (20+15+2+8)/48, Vân Sơn 228/231; the district 293/299.
    want = [3, ["100.00", "93.75", "98.70"], True, "Bình quân huyện 97.99 %",
            ["Xã Đại Sơn", "Xã Hữu Sản", "Xã Vân Sơn"]]
    below = b.js("[...document.querySelectorAll('figure.chart rect.bar.below')].length")
    if chart != want or below != 1:
        fail("dossier chart: %r (%r bars below the average), want %r and 1" % (chart, below,
                                                                              want))
    else:
        print("ok - dossier chart: 3 bars (on-time rates of Đại Sơn 100.00, Hữu Sản 93.75 "
              "below the district's average 97.99, Vân Sơn 98.70) and the average's line")
    for s in shots:
        print("screenshot: " + s)
finally:
    b.close()
sys.exit(1 if failures else 0)
