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
