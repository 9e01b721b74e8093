#!/usr/bin/env python3
"""html_check.py: open HTML reports in headless Chromium and say what a
person would see.

Usage: html_check.py [--width PX] [--height PX] OUTDIR FILE.html...

Drives Chromium over the DevTools protocol on a pipe (--remote-debugging-pipe,
no port, no network), with nothing but the Python standard library.  For each
file it loads the page, waits for it to settle, and prints one JSON object per
line with:
  file, ready        the page's script ran to its end (html[data-ready])
  console            console messages and uncaught exceptions (level, text)
  requests           every URL the page asked for besides itself and data:
  csp                Content-Security-Policy violations the page reported
  charts             per svg[data-chart]: id, kind, points, bars, marks,
                     errmarks, frames, total
  sections           ids of the page's sections
  counts             a few DOM facts (tables, rows, pre.sql, selectable SQL)
  screenshot         the PNG written to OUTDIR (full page)
  colours            distinct colours in the screenshot (1 means blank)
  sort_ok            clicking a sortable column reordered its rows
  zoom_ok            clicking a flame-graph frame zoomed (or null: no flame)
  narrow_overflow    at 380 px wide: the page scrolls sideways (bool)
  print_ok           the print stylesheet applies (emulated print media)
  pdf_bytes, pdf_pages  the page printed to an A4 PDF (kept in OUTDIR)
Exit status 0; a browser that cannot start gives exit 3 and a message.
"""
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zlib

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
TILES = os.environ.get("HTML_CHECK_TILES") == "1"


class Browser:
    def __init__(self):
        self.profile = tempfile.mkdtemp(prefix="pd_chromium.")
        r1, w1 = os.pipe()
        r2, w2 = os.pipe()

        def child():
            os.dup2(r1, 3)
            os.dup2(w2, 4)

        args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                "--user-data-dir=" + self.profile, "--remote-debugging-pipe", "about:blank"]
        self.proc = subprocess.Popen(args, pass_fds=(3, 4), preexec_fn=child,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(r1)
        os.close(w2)
        self.w = os.fdopen(w1, "wb")
        self.r = r2
        self.buf = b""
        self.mid = 0
        self.events = []

    def send(self, method, params=None, session=None, timeout=30):
        self.mid += 1
        msg = {"id": self.mid, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self.w.write(json.dumps(msg).encode() + b"\0")
        self.w.flush()
        want = self.mid
        deadline = time.time() + timeout
        while True:
            while b"\0" in self.buf:
                raw, self.buf = self.buf.split(b"\0", 1)
                m = json.loads(raw)
                if m.get("id") == want:
                    if "error" in m:
                        raise RuntimeError("%s: %s" % (method, m["error"]))
                    return m.get("result", {})
                self.events.append(m)
            if time.time() > deadline:
                raise RuntimeError("%s: no answer in %d s" % (method, timeout))
            data = os.read(self.r, 1 << 20)
            if not data:
                raise RuntimeError("the browser went away")
            self.buf += data

    def pump(self, seconds):
        """Collect events for a while (a no-op command per round trip)."""
        end = time.time() + seconds
        while time.time() < end:
            self.send("Browser.getVersion")
            time.sleep(0.05)

    def close(self):
        try:
            self.send("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)


def png_colours(data, cap=64):
    """Distinct colours of an 8-bit RGB/RGBA PNG (up to cap)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return 0
    pos = 8
    idat = b""
    width = height = ctype = 0
    while pos < len(data):
        n = int.from_bytes(data[pos:pos + 4], "big")
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            width = int.from_bytes(body[0:4], "big")
            height = int.from_bytes(body[4:8], "big")
            ctype = body[9]
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    bpp = 4 if ctype == 6 else 3
    raw = zlib.decompress(idat)
    stride = width * bpp
    prev = bytearray(stride)
    seen = set()
    i = 0
    for _ in range(height):
        ft = raw[i]
        line = bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if ft == 1:
                line[x] = (line[x] + a) & 255
            elif ft == 2:
                line[x] = (line[x] + b) & 255
            elif ft == 3:
                line[x] = (line[x] + ((a + b) >> 1)) & 255
            elif ft == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[x] = (line[x] + pr) & 255
        # sample every 4th pixel: enough to tell blank from drawn
        for x in range(0, width, 4):
            seen.add(bytes(line[x * bpp:x * bpp + 3]))
        if len(seen) >= cap:
            return len(seen)
        prev = line
    return len(seen)


PROBE = r"""
(() => {
  const charts = [...document.querySelectorAll('svg[data-chart]')].map(s => ({
    id: s.id, kind: s.getAttribute('data-chart'),
    points: s.querySelectorAll('.pt').length,
    bars: s.querySelectorAll('rect.bar').length,
    bar_total: [...s.querySelectorAll('rect.bar[data-count]')]
      .reduce((a, r) => a + Number(r.getAttribute('data-count')), 0),
    total: Number(s.getAttribute('data-total') || s.getAttribute('data-samples') || 0),
    marks: [...s.querySelectorAll('g.mark')].map(g => g.getAttribute('data-mark')),
    errmarks: s.querySelectorAll('.errmark').length,
    baseline: s.querySelectorAll('.baseline, g.series[data-series^="baseline"]').length,
    frames: s.querySelectorAll('g.fr').length,
    axis_labels: [...s.querySelectorAll('text.label')].map(t => t.textContent),
  }));
  const sql = document.querySelector('pre.sql');
  return {
    ready: document.documentElement.getAttribute('data-ready') === '1',
    title: document.title,
    charts,
    sections: [...document.querySelectorAll('section[id]')].map(s => s.id),
    counts: {
      tables: document.querySelectorAll('table').length,
      statement_rows: document.querySelectorAll('#statements-table tbody tr').length,
      comparison_rows: document.querySelectorAll('#comparison-table tbody tr').length,
      regressions: document.querySelectorAll('#comparison-table tr[data-verdict=regression]').length,
      findings: document.querySelectorAll('article.finding').length,
      assertions_failed: document.querySelectorAll('#assertions tr.failed').length,
      assertions_passed: document.querySelectorAll('#assertions tr.passed').length,
      advice_rows: document.querySelectorAll('#advice-table tbody tr').length,
      lock_rows: document.querySelectorAll('#lock-waits-table tbody tr').length,
      plans: document.querySelectorAll('details.plan').length,
      top_rows: document.querySelectorAll('#top-table tbody tr').length,
      top_p95_rows: document.querySelectorAll('#top-p95-table tbody tr').length,
      pre_sql: document.querySelectorAll('pre.sql').length,
      sql_selectable: sql ? getComputedStyle(sql).userSelect !== 'none' : null,
      times_utc: [...document.querySelectorAll('time')].every(t => /\+00:00$/.test(t.getAttribute('datetime'))),
      text: document.body.innerText.length,
    },
  };
})()
"""

SORT = r"""
(() => {
  const t = document.querySelector('table.sortable');
  if (!t || t.tBodies[0].rows.length < 2) return null;
  const th = [...t.querySelectorAll('thead th')].find(h => h.querySelector('button') && /calls|baseline|cost|total/.test(h.textContent));
  if (!th) return null;
  const col = [...th.parentNode.children].indexOf(th);
  const vals = () => [...t.tBodies[0].rows].map(r => parseFloat(r.cells[col].getAttribute('data-v')));
  th.querySelector('button').click();
  const a = vals();
  th.querySelector('button').click();
  const d = vals();
  const asc = a.every((v, i) => i === 0 || a[i - 1] <= v);
  const desc = d.every((v, i) => i === 0 || d[i - 1] >= v);
  return asc && desc && th.getAttribute('aria-sort') === 'descending';
})()
"""

ZOOM = r"""
(() => {
  const svg = document.querySelector('svg.flamegraph');
  if (!svg) return null;
  const frames = [...svg.querySelectorAll('g.fr')];
  const g = frames.find(f => Number(f.getAttribute('data-d')) === 1);
  if (!g) return false;
  g.dispatchEvent(new MouseEvent('click', {bubbles: true}));
  const w = Number(g.querySelector('rect').getAttribute('width'));
  const zoomed = Math.abs(w - (Number(svg.getAttribute('data-w')) - 0.5)) < 1;
  svg.parentNode.querySelector('.flamereset').click();
  const back = Math.abs(Number(g.querySelector('rect').getAttribute('width')) -
    Math.max(Number(g.getAttribute('data-w')) * Number(svg.getAttribute('data-w')) - 0.5, 0.3)) < 1;
  return zoomed && back;
})()
"""


def evaluate(b, s, expr):
    r = b.send("Runtime.evaluate", {"expression": expr, "returnByValue": True}, s)
    if "exceptionDetails" in r:
        raise RuntimeError("probe failed: %s" % r["exceptionDetails"])
    return r["result"].get("value")


def check(b, path, outdir, width, height):
    url = "file://" + os.path.abspath(path)
    target = b.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    s = b.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    for d in ("Runtime.enable", "Log.enable", "Network.enable", "Page.enable"):
        b.send(d, session=s)
    b.send("Emulation.setDeviceMetricsOverride",
           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, s)
    b.events = []
    b.send("Page.navigate", {"url": url}, s)
    deadline = time.time() + 30
    while time.time() < deadline:
        if any(e.get("method") == "Page.loadEventFired" and e.get("sessionId") == s for e in b.events):
            break
        b.pump(0.1)
    b.pump(0.5)
    out = {"file": path}
    out.update(evaluate(b, s, PROBE))
    out["sort_ok"] = evaluate(b, s, SORT)
    out["zoom_ok"] = evaluate(b, s, ZOOM)
    # the screenshot, full page
    m = b.send("Page.getLayoutMetrics", session=s)
    size = m.get("cssContentSize") or m["contentSize"]
    shot = b.send("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": width, "height": min(size["height"], 16000), "scale": 1}}, s)
    png = base64.b64decode(shot["data"])
    name = os.path.join(outdir, os.path.splitext(os.path.basename(path))[0] + ".png")
    with open(name, "wb") as f:
        f.write(png)
    out["screenshot"] = name
    if TILES:
        for k in range(0, int(min(size["height"], 16000)), 1000):
            t = b.send("Page.captureScreenshot", {
                "format": "png", "captureBeyondViewport": True,
                "clip": {"x": 0, "y": k, "width": width, "height": 1000, "scale": 1}}, s)
            with open(name[:-4] + ".tile%02d.png" % (k // 1000), "wb") as f:
                f.write(base64.b64decode(t["data"]))
    out["colours"] = png_colours(png)
    # a narrow window: nothing but scrolling tables may overflow
    b.send("Emulation.setDeviceMetricsOverride",
           {"width": 380, "height": 800, "deviceScaleFactor": 1, "mobile": True}, s)
    b.pump(0.2)
    out["narrow_overflow"] = evaluate(
        b, s, "document.documentElement.scrollWidth > document.documentElement.clientWidth + 1")
    shot = b.send("Page.captureScreenshot", {"format": "png"}, s)
    with open(os.path.join(outdir, os.path.splitext(os.path.basename(path))[0] + ".narrow.png"), "wb") as f:
        f.write(base64.b64decode(shot["data"]))
    b.send("Emulation.setEmulatedMedia", {"media": "print"}, s)
    out["print_ok"] = evaluate(
        b, s, "(() => { const s = document.querySelector('.scroll'); return s ? getComputedStyle(s).overflowX === 'visible' : true; })()")
    if TILES:
        # what print looks like, as an image a person (or a model) can view
        b.send("Emulation.setDeviceMetricsOverride",
               {"width": 794, "height": 1123, "deviceScaleFactor": 1, "mobile": False}, s)
        m = b.send("Page.getLayoutMetrics", session=s)
        size = m.get("cssContentSize") or m["contentSize"]
        for k in range(0, int(min(size["height"], 16000)), 1123):
            t = b.send("Page.captureScreenshot", {
                "format": "png", "captureBeyondViewport": True,
                "clip": {"x": 0, "y": k, "width": 794, "height": 1123, "scale": 1}}, s)
            with open(name[:-4] + ".print%02d.png" % (k // 1123), "wb") as f:
                f.write(base64.b64decode(t["data"]))
    b.send("Emulation.setEmulatedMedia", {"media": ""}, s)
    # printed on A4: the PDF is kept beside the screenshots
    b.send("Emulation.clearDeviceMetricsOverride", session=s)
    pdf = base64.b64decode(b.send("Page.printToPDF", {"paperWidth": 8.27, "paperHeight": 11.69}, s, timeout=60)["data"])
    with open(os.path.join(outdir, os.path.splitext(os.path.basename(path))[0] + ".pdf"), "wb") as f:
        f.write(pdf)
    out["pdf_bytes"] = len(pdf)
    out["pdf_pages"] = pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")
    # what the page said and asked for
    console, requests, csp = [], [], []
    for e in b.events:
        if e.get("sessionId") != s:
            continue
        m, p = e.get("method"), e.get("params", {})
        if m == "Runtime.consoleAPICalled":
            console.append({"level": p.get("type"), "text": " ".join(
                str(a.get("value", a.get("description", ""))) for a in p.get("args", []))})
        elif m == "Runtime.exceptionThrown":
            console.append({"level": "exception", "text": p["exceptionDetails"].get("text", "")})
        elif m == "Log.entryAdded":
            ent = p["entry"]
            console.append({"level": ent.get("level"), "text": ent.get("text")})
            if "Content Security Policy" in ent.get("text", ""):
                csp.append(ent.get("text"))
        elif m == "Network.requestWillBeSent":
            u = p["request"]["url"]
            # the page itself, and data: URLs (no network), are not requests
            if u != url and not u.startswith("data:"):
                requests.append(u)
    out["console"] = console
    out["requests"] = requests
    out["csp"] = csp
    b.send("Target.closeTarget", {"targetId": target})
    return out


def main():
    args = sys.argv[1:]
    width, height = 1200, 900
    while args and args[0].startswith("--"):
        if args[0] == "--width":
            width = int(args[1])
        elif args[0] == "--height":
            height = int(args[1])
        args = args[2:]
    outdir, files = args[0], args[1:]
    os.makedirs(outdir, exist_ok=True)
    if not os.access(CHROMIUM, os.X_OK):
        print("html_check: no browser at %s" % CHROMIUM, file=sys.stderr)
        sys.exit(3)
    b = Browser()
    try:
        for path in files:
            try:
                print(json.dumps(check(b, path, outdir, width, height)), flush=True)
            except Exception as ex:  # report and go on with the next file
                print(json.dumps({"file": path, "error": str(ex)}), flush=True)
    finally:
        b.close()


if __name__ == "__main__":
    main()
