"""`tinyflow monitor --serve PORT`: a live page on http://127.0.0.1:PORT/ (drift per feature over
time, confidence, class mix), made like the HTML reports (report_html's base page and CSS) and,
like them, loading nothing from anywhere: the charts are inline SVG drawn by an inline script
that polls /state.json. The first render already holds the current values (no script needed to
read them); the script keeps them live.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tinyflow.errors import UsageError

REFRESH_MS = 1000

TEMPLATE = {
    "monitor.html": """{% extends "base.html" %}
{% block meta %} &middot; reference {{ r.reference }}{% endblock %}
{% block body %}<div id="verdict" class="banner {{ banner }}">{{ verdict_text }}</div>
<table id="summary"><tr><th>evaluations</th><td id="v-step">{{ last.step if last else 0 }}</td></tr>
<tr><th>inferences in the last one</th><td id="v-windows">{{ last.windows if last else 0 }}</td></tr>
<tr><th>drift score (largest feature PSI)</th><td id="v-drift">{{ "%.3f" % last.drift_score if last else "-" }}</td></tr>
<tr><th>mean top-1 confidence (reference)</th><td id="v-confidence">{{ "%.3f" % last.confidence if last else "-" }}
({{ "%.3f" % last.confidence_ref if last else "-" }})</td></tr>
<tr><th>class-mix PSI</th><td id="v-class-psi">{{ "%.3f" % last.class_psi if last else "-" }}</td></tr>
<tr><th>saturated inputs</th><td id="v-saturation">{{ "%.2f%%" % (100 * last.saturation) if last else "-" }}</td></tr></table>
<h2>Drift per feature over time (PSI)</h2>
<svg id="drift-chart" role="img" aria-label="PSI per feature over time" viewBox="0 0 640 220" width="640" height="220"></svg>
<h2>Mean top-1 confidence over time</h2>
<svg id="confidence-chart" role="img" aria-label="Confidence over time" viewBox="0 0 640 160" width="640" height="160"></svg>
<h2>Class mix: now vs reference</h2>
<svg id="class-chart" role="img" aria-label="Class mix" viewBox="0 0 640 {{ 30 + 22 * names|length }}" width="640"></svg>
<script id="state" type="application/json">{{ state | tojson }}</script>
<script>{{ script | safe }}</script>
{% endblock %}""",
}

# The page's only script: draws the three charts from the state, then polls /state.json.
SCRIPT = """
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  var COLORS = ["#3b7dd8", "#d8613b", "#2e9e57", "#8a4fd1", "#c9a227", "#2bb3b3", "#d13b8a", "#666"];
  function el(svg, name, attrs, text) {
    var e = document.createElementNS(NS, name);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) { e.textContent = text; }
    svg.appendChild(e);
    return e;
  }
  function clear(svg) { while (svg.firstChild) { svg.removeChild(svg.firstChild); } }
  function lines(svg, series, ymax, labels, h) {
    clear(svg);
    var w = 640, left = 40, top = 10, bottom = h - 25, n = 0;
    series.forEach(function (s) { n = Math.max(n, s.length); });
    el(svg, "line", {x1: left, y1: bottom, x2: w - 10, y2: bottom, stroke: "#999"});
    el(svg, "text", {x: 2, y: top + 8, "font-size": 10}, ymax.toFixed(2));
    el(svg, "text", {x: 2, y: bottom, "font-size": 10}, "0");
    series.forEach(function (s, i) {
      var pts = s.map(function (v, j) {
        var x = left + (n > 1 ? j * (w - 10 - left) / (n - 1) : 0);
        var y = bottom - Math.min(v, ymax) / ymax * (bottom - top);
        return x.toFixed(1) + "," + y.toFixed(1);
      });
      el(svg, "polyline", {points: pts.join(" "), fill: "none", stroke: COLORS[i % COLORS.length],
                           "stroke-width": 1.5, "data-series": labels[i]});
    });
    labels.slice(0, 8).forEach(function (l, i) {
      el(svg, "text", {x: left + 70 * i, y: h - 5, "font-size": 10, fill: COLORS[i % COLORS.length]}, l);
    });
  }
  function draw(state) {
    var pts = state.points, last = pts.length ? pts[pts.length - 1] : null;
    var cols = state.columns, series = [], labels = [], ymax = state.thresholds.psi_alert * 2;
    var top = [];
    for (var c = 0; c < cols; c++) { top.push(c); }
    if (last) { top.sort(function (a, b) { return last.psi[b] - last.psi[a]; }); }
    top.slice(0, 8).forEach(function (c) {
      series.push(pts.map(function (p) { return p.psi[c]; }));
      labels.push("col " + c);
    });
    pts.forEach(function (p) { p.psi.forEach(function (v) { ymax = Math.max(ymax, v); }); });
    lines(document.getElementById("drift-chart"), series, ymax, labels, 220);
    lines(document.getElementById("confidence-chart"), [pts.map(function (p) { return p.confidence; })], 1.0,
          ["confidence"], 160);
    var svg = document.getElementById("class-chart");
    clear(svg);
    state.class_names.forEach(function (name, i) {
      var now = last ? last.class_mix[i] : 0, ref = last ? last.class_mix_ref[i] : 0, y = 10 + 22 * i;
      el(svg, "text", {x: 0, y: y + 12, "font-size": 11}, name);
      el(svg, "rect", {x: 120, y: y, width: (400 * ref).toFixed(1), height: 8, fill: "#bbb"});
      el(svg, "rect", {x: 120, y: y + 9, width: (400 * now).toFixed(1), height: 8, fill: COLORS[0],
                       "data-share": now.toFixed(4)});
      el(svg, "text", {x: 530, y: y + 16, "font-size": 11}, (100 * now).toFixed(1) + "%");
    });
    if (last) {
      document.getElementById("v-step").textContent = last.step;
      document.getElementById("v-windows").textContent = last.windows;
      document.getElementById("v-drift").textContent = last.drift_score.toFixed(3);
      document.getElementById("v-confidence").textContent =
        last.confidence.toFixed(3) + " (" + last.confidence_ref.toFixed(3) + ")";
      document.getElementById("v-class-psi").textContent = last.class_psi.toFixed(3);
      document.getElementById("v-saturation").textContent = (100 * last.saturation).toFixed(2) + "%";
      var v = document.getElementById("verdict");
      v.textContent = verdictText(last);
      v.className = "banner " + (last.verdict === "alert" ? "fail" : last.verdict === "ok" ? "pass" : "unset");
    }
  }
  function verdictText(p) { return p.verdict + (p.reasons.length ? ": " + p.reasons.join("; ") : ""); }
  function poll() {
    fetch("state.json", {cache: "no-store"}).then(function (r) { return r.json(); })
      .then(draw).catch(function () { /* the monitor stopped: keep the last picture */ });
  }
  draw(JSON.parse(document.getElementById("state").textContent));
  setInterval(poll, REFRESH_MS);
})();
"""


def render_page(state: dict, target: str, reference: str) -> str:
    """The dashboard page for `state` (run.Timeline.state())."""
    from tinyflow.workflows.report_html import _page

    points = state["points"]
    last = points[-1] if points else None
    if last is None:
        banner, text = "unset", "waiting for the first evaluation"
    else:
        banner = "fail" if last["verdict"] == "alert" else "pass" if last["verdict"] == "ok" else "unset"
        text = last["verdict"] + (": " + "; ".join(last["reasons"]) if last["reasons"] else "")
    report = {"model": f"monitor of {target}", "target": target, "reference": reference}
    return _page(
        "monitor.html",
        report,
        TEMPLATE,
        title="tinyflow monitor",
        state=state,
        last=last,
        banner=banner,
        verdict_text=text,
        names=state["class_names"],
        script=SCRIPT.replace("REFRESH_MS", str(REFRESH_MS)),
    )


class Dashboard:
    """The page and its state on 127.0.0.1:port, served by a thread until close()."""

    def __init__(self, port: int, state_fn, target: str, reference: str, host: str = "127.0.0.1"):
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                with lock:
                    state = state_fn()
                if self.path.split("?")[0] == "/state.json":
                    body, kind = json.dumps(state).encode(), "application/json"
                elif self.path.split("?")[0] in ("/", "/index.html"):
                    body, kind = render_page(state, target, reference).encode(), "text/html; charset=utf-8"
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):  # requests are not the terminal's business
                pass

        try:
            self.server = ThreadingHTTPServer((host, port), Handler)
        except OSError as exc:
            raise UsageError(
                f"Cannot serve the dashboard on port {port} ({exc})", "Pick a free --serve port."
            ) from None
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, name="monitor-dashboard", daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
