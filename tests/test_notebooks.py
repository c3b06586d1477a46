"""Execute the notebooks with small settings so they cannot rot."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.tf
@pytest.mark.slow
def test_01_pipeline_notebook_runs(tf, tmp_path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("TINYFLOW_NB_QUICK", "1")
    monkeypatch.setenv("TINYFLOW_NB_OUT", str(tmp_path))
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    nb = nbformat.read(ROOT / "notebooks" / "01_pipeline.ipynb", as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    text = "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "DataError: Dataset" in text and "NaN" in text
    assert "<- worst" in text and "fits" in text
    assert (tmp_path / "model_int8.tflite").stat().st_size > 1000
    assert (tmp_path / "digits_cnn_model_data.cc").exists()
    assert "epochs run:" in text and "int8 test accuracy on sim://tflm" in text
    assert _charts(nb) >= {"Learning curves of tiny_cnn on digits", "Confusion matrix", "Memory timeline"}


@pytest.mark.slow
@pytest.mark.qemu
@pytest.mark.arm
@pytest.mark.firmware
def test_02_device_notebook_runs(tmp_path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    from conftest import corpus_path, require_tool

    corpus_path("mlperf_tiny/kws_ref_model.tflite")
    for tool in ("arm-none-eabi-gcc", "qemu-system-arm", "cc"):
        require_tool(tool)
    monkeypatch.setenv("TINYFLOW_NB_OUT", str(tmp_path))
    monkeypatch.delenv("TINYFLOW_NB_MODEL", raising=False)  # the notebook must find ../shared itself
    nb = nbformat.read(ROOT / "notebooks" / "02_device.ipynb", as_version=4)
    # Run where a user would (notebooks/) so the model lookup is the real one; outputs go to tmp_path.
    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(ROOT / "notebooks")}}
    ).execute()
    text = "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "MACs 2,664,768" in text and "verdict: fits" in text
    assert "RAM / TFLM arena" in text and "lower bound (live tensors)" in text
    rows = [line.split() for line in text.splitlines() if line.startswith("sim://")]
    assert [r[0].split("?")[0] for r in rows] == ["sim://tflm", "sim://host", "sim://qemu-m4"]
    assert all(r[2:5] == ["1.000", "1.000", "0"] for r in rows), rows  # bit-exact with the TFLM reference
    assert "Top 5 ops" in text and "instructions" in text
    ini = (tmp_path / "kws_nano33ble" / "platformio.ini").read_text()
    assert "board = nano33ble" in ini and ini in text
    assert (tmp_path / "kws_nano33ble" / "lib" / "tinyflow_model" / "src" / "kws_ref_model.c").exists()
    assert "--target /dev/ttyACM0" in text and "tinyflow firmware flash" in text
    assert _charts(nb) >= {"Memory timeline", "Time per op"}


@pytest.mark.tf
@pytest.mark.slow
def test_03_sweep_notebook_runs(tf, tmp_path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("TINYFLOW_NB_QUICK", "1")
    monkeypatch.setenv("TINYFLOW_NB_OUT", str(tmp_path))
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    nb = nbformat.read(ROOT / "notebooks" / "03_sweep.ipynb", as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    text = "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "Sweep of 6 trials on serial (this process): 6 completed, 0 failed" in text
    assert "trials on the front" in text and "Pareto front (" in text
    assert (tmp_path / "sweep" / "pareto.html").is_file() and (tmp_path / "sweep" / "study.journal").is_file()
    assert _charts(nb) >= {"accuracy vs ram", "accuracy vs latency"}


def _charts(nb) -> set[str]:
    """Titles of the SVG charts a notebook displayed (charts.py names them in aria-label; pyplot writes each text as an SVG comment)."""
    import re

    svgs = [
        o["data"]["image/svg+xml"]
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if "image/svg+xml" in o.get("data", {})
    ]
    titles = {m for svg in svgs for m in re.findall(r"aria-label=[\"']([^\"']+)[\"']", svg)}
    titles |= {m.strip() for svg in svgs for m in re.findall(r"<!-- ([^<>]+?) -->", svg)}
    return titles


def _render_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("nb_render", ROOT / "notebooks" / "render.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_render_writes_text_outputs_and_each_chart_as_a_linked_svg(tmp_path):
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    svg = "<svg xmlns='http://www.w3.org/2000/svg' aria-label='Memory timeline'></svg>"
    cell = new_code_cell("show()")
    cell.outputs = [
        new_output("stream", name="stdout", text="verdict: fits\n"),
        new_output("display_data", data={"text/plain": "<SVG>", "image/svg+xml": svg}),
    ]
    nb = new_notebook(cells=[new_markdown_cell("# Title"), cell])
    page = _render_module().render_markdown(nbformat.from_dict(nb), "demo", tmp_path)
    assert "# Title" in page and "```python\nshow()\n```" in page and "```text\nverdict: fits\n```" in page
    assert "![chart 1](demo-1.svg)" in page and "<SVG>" not in page
    assert (tmp_path / "demo-1.svg").read_text() == svg


def test_docs_link_a_rendered_copy_of_every_notebook_with_its_charts():
    import re

    index = (ROOT / "docs" / "notebooks.md").read_text()
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        assert f"(notebooks/{nb.stem}.md)" in index, nb.stem
        page = ROOT / "docs" / "notebooks" / f"{nb.stem}.md"
        charts = re.findall(r"!\[chart \d+\]\(([^)]+)\)", page.read_text())
        assert charts and all((page.parent / c).is_file() for c in charts), nb.stem
