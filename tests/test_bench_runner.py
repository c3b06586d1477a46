"""The bench runner rewrites only the sections it ran, in a fixed order, with their command."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

# bench/ is a top-level folder of the checkout, not part of the installed package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
runner = importlib.import_module("bench.__main__")


def _section(name: str, body: str) -> str:
    return runner.render_section(name, body, 1.0, [name])


def test_merge_replaces_only_the_sections_that_ran_and_keeps_order():
    doc = runner.merge("", {"qemu": _section("qemu", "old qemu"), "memory": _section("memory", "old memory")})
    assert doc.index("bench:memory") < doc.index("bench:qemu")
    doc = runner.merge(doc, {"qemu": _section("qemu", "new qemu")})
    assert "new qemu" in doc and "old qemu" not in doc and "old memory" in doc
    assert doc.count("<!-- bench:qemu -->") == 1 and doc.startswith("# Benchmarks")
    assert "`python -m bench qemu`" in doc


def test_a_missing_bench_module_is_reported_not_invented(tmp_path, monkeypatch):
    monkeypatch.setitem(runner.SECTIONS, "ghost", ("Ghost", "bench.ghost_module_that_does_not_exist"))
    out = tmp_path / "b.md"
    assert runner.main(["ghost", "--out", str(out)]) == 0
    assert "Not measured: `bench/ghost_module_that_does_not_exist.py` does not exist yet." in out.read_text()


def test_a_failing_bench_keeps_the_others_and_exits_nonzero(tmp_path, monkeypatch):
    def boom(quick):
        raise RuntimeError("kaput")

    monkeypatch.setattr(runner, "_run_demo", boom, raising=True)
    out = tmp_path / "b.md"
    out.write_text(runner.merge("", {"qemu": _section("qemu", "kept figures")}))
    assert runner.main(["demo", "--out", str(out)]) == 1
    text = out.read_text()
    assert "Failed: `RuntimeError: kaput`" in text and "kept figures" in text
