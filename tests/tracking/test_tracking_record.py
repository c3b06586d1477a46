"""What a verb's run records (tinyflow/tracking/record.py) and the --track parsing: no MLflow needed."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from tinyflow.cli import runs as cli_runs
from tinyflow.cli.main import VERBS
from tinyflow.data.store import create_store
from tinyflow.tracking import record, store
from tinyflow.tracking.record import build_record, dataset_ref, flatten_numbers, headline_metrics

QUANTIZE_REPORT = {
    "float_metrics": {"accuracy": 0.95, "loss": 0.2},
    "litert_metrics": {"accuracy": 0.94},
    "tflm_metrics": {"accuracy": 0.92},
    "float_bytes": 40_000,
    "int8_bytes": 11_000,
    "samples": 270,
    "layers": [{"index": 0, "op": "CONV_2D", "sqnr_db": 30.0}],
    "litert_tflm_identical": 0.99,
    "worst_layer": None,
}


def test_quantize_headlines_and_int8_drop():
    m = headline_metrics("quantize", QUANTIZE_REPORT)
    assert m["float_accuracy"] == 0.95 and m["int8_accuracy"] == 0.92
    assert m["int8_drop"] == pytest.approx(0.03)
    assert m["model_bytes"] == 11_000 and m["agreement"] == 0.99


def test_eval_latency_is_logged_in_milliseconds_and_alternatives_are_tried():
    m = headline_metrics("eval", {"metrics": {"accuracy": 0.5}, "latency": {"p99_us": 2500.0}, "agreement": {}})
    assert m == {"int8_accuracy": 0.5, "latency_ms": 2.5}
    # export/deploy: the field depends on the format
    assert headline_metrics("deploy", {"memory": {"activation_bytes": 64}, "arena_bytes": None}) == {"ram": 64}
    assert headline_metrics("deploy", {"arena_bytes": 900}) == {"arena": 900}


def test_flatten_keeps_finite_numbers_of_nested_dicts_only():
    flat = flatten_numbers(
        {"a": 1, "b": {"c": 2.5, "d": [1, 2], "e": "x", "f": True, "g": float("nan")}, "h\nx": np.int64(3)}
    )
    assert flat == {"a": 1.0, "b.c": 2.5, "h_x": 3.0}


def test_record_of_a_quantize_run(tmp_path):
    keras, tflite = tmp_path / "m.keras", tmp_path / "m.tflite"
    keras.write_bytes(b"keras bytes")
    tflite.write_bytes(b"tflite bytes")
    params = {"model": keras, "data": "digits", "out": str(tflite), "seed": 7, "as_json": True, "calibration": 50}
    rec = build_record("quantize", params, QUANTIZE_REPORT)
    assert rec.name == "quantize m.keras" and rec.register
    assert rec.tags["tinyflow.input_sha256"] == hashlib.sha256(b"keras bytes").hexdigest()
    assert rec.tags["tinyflow.output_sha256"] == hashlib.sha256(b"tflite bytes").hexdigest()
    assert rec.params == {"calibration": "50", "data": "digits", "model": str(keras), "out": str(tflite), "seed": "7"}
    assert rec.metrics["int8_drop"] == pytest.approx(0.03) and rec.metrics["float_metrics.loss"] == 0.2
    assert rec.dataset.version == "digits@seed7" and rec.tags["tinyflow.dataset_version"] == "digits@seed7"


def test_a_failed_or_missing_output_is_not_an_output_model(tmp_path):
    rec = build_record("train", {"data": "digits", "out": str(tmp_path / "never.keras")}, {})
    assert rec.output_model is None and "tinyflow.output_sha256" not in rec.tags and not rec.register


def test_dataset_versions(tmp_path):
    with create_store(tmp_path / "store") as s:
        s.add_sample(np.zeros((4, 3), np.float32), "a", sensor="imu", sample_rate=50)
    ref = dataset_ref(str(tmp_path / "store"), 0)
    assert ref.kind == "store" and ref.version == s.version
    npz = tmp_path / "d.npz"
    np.savez(npz, x=np.zeros((3, 2)), y=np.arange(3))
    assert dataset_ref(str(npz), 0).version == hashlib.sha256(npz.read_bytes()).hexdigest()
    assert dataset_ref("random:10", 3).version == "random:10@seed3"


def test_metrics_are_bounded():
    rec = build_record("profile", {}, {f"k{i}": i for i in range(5000)})
    assert len(rec.metrics) == record.MAX_METRICS


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--track", "train", "-o", "x"], [f"--track={cli_runs.LOCAL_URI}", "train", "-o", "x"]),
        (["-q", "--track", "--verbose", "eval"], ["-q", f"--track={cli_runs.LOCAL_URI}", "--verbose", "eval"]),
        (["--track"], [f"--track={cli_runs.LOCAL_URI}"]),
        (["--track", "http://h:5000", "eval"], ["--track", "http://h:5000", "eval"]),
        (["eval", "--track", "m"], ["eval", "--track", "m"]),  # a verb's own words are left alone
    ],
)
def test_a_bare_track_gets_the_local_store(args, expected):
    assert cli_runs.with_bare_track(args, VERBS) == expected


def test_the_cli_repeats_the_tracking_constants_faithfully():
    assert (cli_runs.TRACK_ENV, cli_runs.LOCAL_URI) == (store.ENV, store.LOCAL_URI)


def test_compiled_ram_is_the_arena_plus_the_kernels_scratch_when_measured():
    from tinyflow.tracking.record import headline_metrics

    measured = {"memory": {"activation_bytes": 10_124, "static_ram_bytes": 11_532, "flash_bytes": 60_000}}
    assert headline_metrics("compile", measured)["ram"] == 11_532
    unmeasured = {"memory": {"activation_bytes": 10_124, "static_ram_bytes": None}}  # no arm toolchain
    assert headline_metrics("compile", unmeasured)["ram"] == 10_124
    assert headline_metrics("export", {"memory": measured["memory"]})["ram"] == 11_532
