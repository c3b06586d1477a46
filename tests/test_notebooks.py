"""Execute the notebooks with small settings so they cannot rot."""

from __future__ import annotations

import os
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
