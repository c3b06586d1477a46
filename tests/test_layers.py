"""The layer rules of docs/architecture.md, enforced: each package of tinyflow may import only the
packages on its allow-list (as click tests which modules `import click` pulls in).

Imports are read from the source with `ast`, lazy imports inside functions included. Siblings of
one layer (build, compile, runtimes, model, targets) exchange data, not imports; the few
sibling imports that remain are listed in KNOWN_SEAMS with where they are, and the test fails
when a listed seam is gone, so the list only shrinks.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "tinyflow"
BASE = {"__init__", "errors", "escaping"}  # the package root (__version__), and what imports nothing
LOW = BASE | {"resources", "inputs", "outputs", "report", "metrics", "events"}
FORMATS = LOW | {"tflite", "protocol", "boards", "analysis", "data", "frontends"}
MIDDLE = {"build", "compile", "runtimes", "export", "model", "targets"}

ALLOWED = {
    "__init__": set(),
    "errors": set(),
    "escaping": {"errors"},
    "resources": BASE,
    "inputs": BASE,
    "outputs": BASE,
    "report": BASE,
    "metrics": BASE,
    "events": BASE,  # progress events: model/, build/ and workflows emit, the CLI renders
    "tflite": BASE | {"inputs"},
    "protocol": BASE | {"tflite"},
    "boards": BASE | {"resources", "report"},
    "analysis": BASE | {"tflite"},
    "data": BASE | {"inputs", "outputs", "metrics", "report"},
    "frontends": BASE | {"inputs", "outputs"},  # feature front ends (numpy); C twins in firmware/frontends
    "build": LOW | {"boards"},
    "compile": FORMATS,
    # A runtime runs what the layers below produce: the compiled model is built and loaded here.
    "runtimes": FORMATS | {"build", "compile"},
    # Output formats compose the layers below: compile the model, measure it (build, runtimes), write.
    "export": FORMATS | {"build", "compile", "runtimes"},
    "model": FORMATS | {"runtimes"},
    "targets": FORMATS | {"runtimes"},
    "inspection": FORMATS | MIDDLE,
    "workflows": FORMATS | MIDDLE | {"inspection"},
    # MLPerf Tiny (runner protocol, modes, serving): a workflow-level package that opens devices as workflows do.
    "mlperf": FORMATS | MIDDLE | {"inspection", "workflows"},
    # Experiment tracking (MLflow, imported lazily and only here): board fits through inspection.
    "tracking": FORMATS | MIDDLE | {"inspection"},
    # CI gates (pytest plugin, budget assertions, ci init files, the RFC 2217 board server): as a workflow.
    "testing": FORMATS | MIDDLE | {"inspection", "workflows"},
    # Field monitoring (device statistics, drift, `tinyflow monitor`): opens devices as workflows do,
    # renders its page with the reports' template, logs through tracking.
    "monitor": FORMATS | MIDDLE | {"workflows", "tracking"},
    # Search (`tinyflow sweep`; Optuna and Ray imported lazily, only here): trials compose model/ and
    # the workflows (evaluate, profile) and inspection's fit; every trial is logged through tracking.
    "search": FORMATS | MIDDLE | {"inspection", "workflows", "tracking"},
    "cli": FORMATS | MIDDLE | {"inspection", "workflows", "mlperf", "tracking", "testing", "monitor", "search"},
}
# Sibling imports still to be turned into data exchanged by a workflow (docs/architecture.md):
# none left; a new one needs a reason here, and the test below fails once it is gone.
KNOWN_SEAMS: dict[tuple[str, str], str] = {}


def _component(path: Path, package: Path) -> str:
    rel = path.relative_to(package)
    return rel.parts[0].removesuffix(".py") if len(rel.parts) > 1 or rel.name != "__init__.py" else "__init__"


def _imported(tree: ast.AST) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
            if node.module == "tinyflow":  # from tinyflow import tflm, __version__
                names = [f"tinyflow.{a.name}" for a in node.names]
        else:
            continue
        found |= {n.split(".")[1] if n.count(".") else "__init__" for n in names if n.split(".")[0] == "tinyflow"}
    return found


def import_graph(package: Path = PACKAGE) -> dict[tuple[str, str], list[str]]:
    """{(importer, imported): [files]} between tinyflow's top-level packages and modules."""
    edges: dict[tuple[str, str], list[str]] = {}
    for path in sorted(package.rglob("*.py")):
        src = _component(path, package)
        for dst in _imported(ast.parse(path.read_text(), str(path))) - {src}:
            dst = "__init__" if dst == "__version__" else dst
            edges.setdefault((src, dst), []).append(str(path.relative_to(package.parent)))
    return edges


def violations(edges: dict[tuple[str, str], list[str]]) -> list[str]:
    return [
        f"{src} imports {dst} ({', '.join(files)})"
        for (src, dst), files in sorted(edges.items())
        if dst not in ALLOWED.get(src, set()) and (src, dst) not in KNOWN_SEAMS
    ]


def test_every_package_imports_only_its_allowed_layers():
    edges = import_graph()
    assert {src for src, _ in edges} <= set(ALLOWED), "a new package needs its line in ALLOWED"
    assert violations(edges) == []


def test_known_seams_still_exist_so_the_list_only_shrinks():
    edges = import_graph()
    assert [seam for seam in KNOWN_SEAMS if seam not in edges] == []


@pytest.mark.parametrize(
    "importer, line",
    [
        ("errors.py", "from tinyflow.boards import load_board\n"),
        ("tflite/reader.py", "def f():\n    from tinyflow.targets import open_target\n"),
        ("compile/planner.py", "import tinyflow.workflows.evaluate\n"),
        ("runtimes/tflm.py", "from tinyflow import cli\n"),
        ("compile/report.py", "from tinyflow.build.size import measure_flash\n"),  # export composes them
        ("compile/cemit.py", "from tinyflow.export import FORMATS\n"),
    ],
)
def test_a_forbidden_import_is_caught(tmp_path, importer, line):
    """The same check on a copy of the package with one forbidden import added."""
    import shutil

    copy = tmp_path / "tinyflow"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    target = copy / importer
    target.write_text(target.read_text() + "\n" + line)
    assert violations(import_graph(PACKAGE)) == []
    found = violations(import_graph(copy))
    assert len(found) == 1 and importer in found[0], found
