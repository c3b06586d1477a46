"""The before/after report of `tinyflow retrain`: retrain.json and a self-contained retrain.html
(same engine and conventions as the eval and quantize pages: report_html.py's base page, no script,
every value autoescaped)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from tinyflow.report import key_values, table

PAGE = "retrain.html"
TEMPLATES = {
    PAGE: """{% extends "base.html" %}
{% block meta %} &middot; board {{ r.board }}{% endblock %}
{% block body %}<div id="verdict" class="banner {{ 'fail' if r.rejected else 'pass' }}">{{ banner }}</div>
<h2>Gates</h2>
<table id="gates"><tr><th>gate</th><th>measured</th><th>result</th></tr>
{% for g in r.gates %}<tr><td>{{ g.name }}</td><td>{{ g.detail }}</td>
<td class="{{ 'ok' if g.passed else 'bad' }}">{{ 'pass' if g.passed else 'FAIL' }}</td></tr>{% endfor %}</table>
<h2>Before and after</h2>
<table id="before-after"><tr><th>data</th><th>deployed</th><th>candidate</th><th>samples</th></tr>
{% for row in rows %}<tr><th>{{ row[0] }}</th><td>{{ row[1] }}</td><td>{{ row[2] }}</td><td>{{ row[3] }}</td></tr>{% endfor %}</table>
<h2>Data</h2>
<table id="datasets"><tr><th>store</th><th>path</th><th>version (sha256 of the manifest)</th><th>samples</th></tr>
{% for name, d in r.datasets.items() %}<tr><th>{{ name }}</th><td>{{ d.path }}</td><td>{{ d.version[:16] }}</td>
<td>{{ d.samples }}</td></tr>{% endfor %}</table>
{% if r.firmware %}<p class="meta">Firmware: {{ r.firmware.directory }} ({{ r.firmware.fit }})</p>{% endif %}
{% endblock %}""",
}


@dataclass
class RetrainReport:
    """What one retraining round did, measured and decided."""

    model: str
    target: str
    board: str
    datasets: dict = field(default_factory=dict)  # base / new / union: path, version, samples
    recipe: dict = field(default_factory=dict)
    train: dict = field(default_factory=dict)
    gates: list[dict] = field(default_factory=list)
    before: dict = field(default_factory=dict)  # golden / new: the deployed model's figures
    after: dict = field(default_factory=dict)  # the same for the candidate
    firmware: dict | None = None
    paths: dict = field(default_factory=dict)
    candidate: str = ""  # the candidate's int8 .tflite
    seed: int = 0

    @property
    def rejected(self) -> list[str]:
        """The names of the failed gates (empty: the candidate is accepted)."""
        return [g["name"] for g in self.gates if not g["passed"]]

    def to_dict(self) -> dict:
        return {**self.__dict__, "rejected": self.rejected}

    def __str__(self) -> str:
        head = key_values(
            [
                ("model", self.model),
                ("data", ", ".join(f"{k} {d['samples']} ({d['version'][:12]})" for k, d in self.datasets.items())),
                ("verdict", "REJECTED: " + ", ".join(self.rejected) if self.rejected else "accepted"),
                ("firmware", self.firmware["directory"] if self.firmware else "not written"),
            ]
        )
        gates = table(["gate", "result", "measured"], [[g["name"], _mark(g), g["detail"]] for g in self.gates])
        return "\n".join([head, gates, table(["data", "deployed", "candidate", "samples"], before_after(self))])


def _mark(gate: dict) -> str:
    return "pass" if gate["passed"] else "FAIL"


def before_after(r: RetrainReport) -> list[list[str]]:
    rows = []
    for key, name in (("golden", "golden accuracy"), ("new", "new samples accuracy (trained on)")):
        if key in r.before and key in r.after:
            b, a = r.before[key], r.after[key]
            rows.append([name, f"{b['accuracy']:.1%}", f"{a['accuracy']:.1%}", str(a["samples"])])
    return rows


def render_retrain(report: RetrainReport) -> str:
    from tinyflow.workflows.report_html import _page

    d = report.to_dict()
    banner = (
        "Candidate accepted: every gate passed" if not report.rejected else "REJECTED: " + ", ".join(report.rejected)
    )
    title = f"Retraining {report.model}"
    return _page(PAGE, d, templates=TEMPLATES, title=title, banner=banner, rows=before_after(report))


def write_report(out: Path, report: RetrainReport) -> dict:
    """retrain.json and retrain.html in `out`, atomically; returns their paths."""
    from tinyflow.outputs import atomic_write, make_dir, writing

    folder = make_dir(Path(out))
    paths = {"json": str(folder / "retrain.json"), "html": str(folder / PAGE)}
    with writing(folder):
        body = {**report.to_dict(), "paths": paths}
        atomic_write(Path(paths["json"]), (json.dumps(body, indent=1, default=str) + "\n").encode())
        atomic_write(Path(paths["html"]), render_retrain(report).encode())
    return paths
