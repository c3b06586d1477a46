"""`evaluate()` end to end on sim://tflm: corpus parity, faults, resume, refusals."""

import base64
import json
import re

import numpy as np
import pytest

from conftest import corpus_path
from tinyflow.errors import ModelError, UsageError
from tinyflow.events import Progress, subscribe
from tinyflow.workflows.config import EvalConfig
from tinyflow.workflows.evaluate import _check_device, evaluate

HELLO = "tflm/hello_world_int8.tflite"
SPEECH = "tflm/micro_speech_quantized.tflite"  # 1,960-byte input: chunked uploads
FAULTS = "ber=1e-4,drop=1e-4,reset_every=500"
BIG = {"person_detect", "vww_96_int8", "pretrainedResnet_quant", "ad01_int8"}


def _same_outputs(a, b):
    return len(a.outputs) == len(b.outputs) and all(
        len(x) == len(y) and all(np.array_equal(u, v) for u, v in zip(x, y)) for x, y in zip(a.outputs, b.outputs)
    )


def test_every_corpus_model_agrees_with_the_reference(corpus_model):
    n = 3 if corpus_model.stem in BIG else 20
    r = evaluate(EvalConfig(corpus_model, dataset=f"random:{n}", target="sim://tflm"))
    assert r.samples == n
    assert r.agreement["exact_match_rate"] == 1.0 and r.agreement["max_abs_diff"] == 0
    assert r.link["lost"] == 0 and r.link["duplicated"] == 0
    assert r.latency["p50_us"] > 0 and "ESTIMATE" in r.latency["basis"]
    faulty = evaluate(EvalConfig(corpus_model, dataset=f"random:{n}", target="sim://tflm", faults=FAULTS))
    assert _same_outputs(r, faulty) and faulty.link["lost"] == 0 and faulty.link["duplicated"] == 0


@pytest.mark.parametrize("rel, n", [(HELLO, 1200), (SPEECH, 600), ("mlperf_tiny/ad01_int8.tflite", 600)])
def test_faults_change_nothing_but_the_counters(rel, n):
    clean = evaluate(EvalConfig(corpus_path(rel), dataset=f"random:{n}", target="sim://tflm"))
    faulty = evaluate(EvalConfig(corpus_path(rel), dataset=f"random:{n}", target="sim://tflm", faults=FAULTS))
    assert _same_outputs(clean, faulty)
    assert faulty.agreement["exact_match_rate"] == 1.0
    assert faulty.link["lost"] == 0 and faulty.link["duplicated"] == 0
    injected = faulty.link["injected"]
    assert injected["resets"] >= n // 500 and injected["flipped"] + injected["dropped"] > 0
    # every reboot the injector caused is seen, and counted once
    assert faulty.link["resets"] == injected["resets"]
    assert faulty.link["retries"] > 0


class _StopAfter:
    """A progress sink that interrupts the run after `n` samples, like Ctrl-C would."""

    def __init__(self, n):
        self.n = n

    def __call__(self, event):
        if isinstance(event, Progress) and event.done >= self.n:
            raise KeyboardInterrupt


@pytest.mark.parametrize("rel", [HELLO, SPEECH])
def test_interrupted_then_resumed_equals_uninterrupted(tmp_path, rel):
    model, n = corpus_path(rel), 40
    whole = evaluate(EvalConfig(model, dataset=f"random:{n}", target="sim://tflm", seed=3))
    with pytest.raises(KeyboardInterrupt), subscribe(_StopAfter(17)):
        evaluate(EvalConfig(model, dataset=f"random:{n}", target="sim://tflm", seed=3, report_dir=tmp_path))
    lines = (tmp_path / "journal.jsonl").read_text().splitlines()
    assert len(lines) == 1 + 17  # header + one fsync'd line per finished sample
    with open(tmp_path / "journal.jsonl", "a") as fh:
        fh.write('{"i": 17, "out": ["AAA')  # the process died while writing the next line
    resumed = evaluate(
        EvalConfig(model, dataset=f"random:{n}", target="sim://tflm", seed=3, report_dir=tmp_path, resume=True)
    )
    assert resumed.link["resumed"] == 17 and resumed.samples == n
    assert _same_outputs(whole, resumed)
    assert resumed.link["lost"] == 0 and resumed.link["duplicated"] == 0
    assert resumed.agreement == whole.agreement
    journal = [json.loads(x) for x in (tmp_path / "journal.jsonl").read_text().splitlines()[1:]]
    assert sorted(e["i"] for e in journal) == list(range(n))  # nothing redone, nothing lost
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["samples"] == n and report["agreement"]["exact_match_rate"] == 1.0


def test_resume_with_everything_done_does_not_open_the_device(tmp_path):
    model = corpus_path(HELLO)
    evaluate(EvalConfig(model, dataset="random:5", target="sim://tflm", report_dir=tmp_path))
    again = evaluate(EvalConfig(model, dataset="random:5", target="sim://tflm", report_dir=tmp_path, resume=True))
    assert again.link["resumed"] == 5 and again.samples == 5 and "not opened" in again.device["note"]


def test_resume_refuses_another_configuration(tmp_path):
    evaluate(EvalConfig(corpus_path(HELLO), dataset="random:5", target="sim://tflm", report_dir=tmp_path))
    with pytest.raises(UsageError, match="different configuration.*dataset"):
        evaluate(
            EvalConfig(corpus_path(HELLO), dataset="random:6", target="sim://tflm", report_dir=tmp_path, resume=True)
        )
    with pytest.raises(UsageError, match="different configuration.*model_sha256"):
        evaluate(
            EvalConfig(corpus_path(SPEECH), dataset="random:5", target="sim://tflm", report_dir=tmp_path, resume=True)
        )
    with pytest.raises(UsageError, match="different configuration.*target"):
        evaluate(
            EvalConfig(
                corpus_path(HELLO),
                dataset="random:5",
                target="sim://tflm?board=esp32dev",
                report_dir=tmp_path,
                resume=True,
            )
        )


def test_resume_needs_a_report_dir():
    with pytest.raises(UsageError, match="--resume needs --report"):
        evaluate(EvalConfig(corpus_path(HELLO), dataset="random:5", target="sim://tflm", resume=True))


def test_a_device_running_another_model_is_refused():
    from tinyflow.protocol.messages import DeviceInfo
    from tinyflow.workflows.eval_data import TensorSpec

    info = DeviceInfo(model_sha256=b"\x01" * 8, model_bytes=1234)
    with pytest.raises(ModelError, match=r"runs another model \(sha256 0101010101010101\.\.\., 1,234 B\)"):
        _check_device(info, b"model", None, [TensorSpec("o", (1,), np.dtype(np.int8))])


def test_classification_on_a_builtin_dataset_reports_accuracy(tmp_path):
    # hello_world predicts sin(x): evaluated on the sine set it is a regression with a small error
    r = evaluate(EvalConfig(corpus_path(HELLO), dataset="sine", target="sim://tflm", limit=200, report_dir=tmp_path))
    assert r.task == "regression" and r.metrics["mae"] < 0.2
    assert (tmp_path / "report.html").read_text().count("<svg") == 1  # latency only: no confusion matrix


def _digits_model() -> tuple[bytes, np.ndarray]:
    """A nearest-centroid digits classifier as one int8 FULLY_CONNECTED (built without TensorFlow)."""
    from tinyflow.data import load_dataset
    from tinyflow.tflite.writer import ModelBuilder

    ds = load_dataset("digits")
    x, y = ds.x.reshape(len(ds.x), -1).astype(np.float64), ds.y
    c = np.stack([x[y == k].mean(axis=0) for k in range(10)])
    w, b = c, -0.5 * (c**2).sum(axis=1)  # argmax(x.c - |c|^2/2) = the nearest centroid
    logits = x @ w.T + b
    in_s, w_s = 16 / 255, np.abs(w).max() / 127
    out_s = (logits.max() - logits.min()) / 255
    mb = ModelBuilder()
    xi = mb.tensor([1, 64], "int8", scale=in_s, zero_point=-128)
    wi = mb.tensor([10, 64], "int8", scale=w_s, zero_point=0, data=np.round(w / w_s).astype(np.int8))
    bi = mb.tensor([10], "int32", scale=in_s * w_s, zero_point=0, data=np.round(b / (in_s * w_s)).astype(np.int32))
    yo = mb.tensor([1, 10], "int8", scale=out_s, zero_point=int(round(-128 - logits.min() / out_s)))
    mb.op("FULLY_CONNECTED", [xi, wi, bi], [yo])
    return mb.build(inputs=[xi], outputs=[yo]), logits.argmax(axis=1)


def test_classification_metrics_on_digits(tmp_path):
    model, float_pred = _digits_model()
    path = tmp_path / "digits.tflite"
    path.write_bytes(model)
    r = evaluate(
        EvalConfig(path, dataset="digits", target="sim://tflm", limit=600, report_dir=tmp_path / "rep", split="all")
    )
    from tinyflow.data import load_dataset

    y = load_dataset("digits").y[:600]
    float_acc = float((float_pred[:600] == y).mean())
    assert r.task == "classification" and r.samples == 600
    assert abs(r.metrics["accuracy"] - float_acc) <= 0.02  # int8 costs at most a couple of samples here
    assert r.metrics["accuracy"] > 0.85 and 0.8 < r.metrics["macro_f1"] <= 1.0
    cm = np.array(r.metrics["confusion"])
    assert cm.shape == (10, 10) and cm.sum() == 600 and np.trace(cm) == round(r.metrics["accuracy"] * 600)
    page = (tmp_path / "rep" / "report.html").read_text()
    assert page.count("<svg") == 2 and "Confusion matrix" in page


def test_a_flipped_output_byte_in_the_journal_is_measured_again_not_reported_as_disagreement(tmp_path):
    model = corpus_path(HELLO)
    whole = evaluate(EvalConfig(model, dataset="random:30", target="sim://tflm", report_dir=tmp_path))
    path = tmp_path / "journal.jsonl"
    lines = path.read_text().splitlines()
    record = json.loads(lines[6])
    raw = bytearray(base64.b64decode(record["out"][0]))
    raw[0] ^= 0x01
    record["out"][0] = base64.b64encode(bytes(raw)).decode()
    lines[6] = json.dumps(record)  # valid JSON, valid base64, wrong byte
    lines[20] = lines[20][:15]  # and a torn line in the middle
    path.write_text("\n".join(lines) + "\n")
    resumed = evaluate(EvalConfig(model, dataset="random:30", target="sim://tflm", report_dir=tmp_path, resume=True))
    assert resumed.agreement["exact_match_rate"] == 1.0 and resumed.link["journal_damaged"] == 2
    assert resumed.link["resumed"] == 28 and resumed.samples == 30 and _same_outputs(whole, resumed)
    assert json.loads((tmp_path / "report.json").read_text())["link"]["journal_damaged"] == 2
    assert re.search(r"journal lines damaged +2 \(their samples measured again\)", str(resumed))
    assert any("2 damaged journal line(s)" in n for n in resumed.notes)


def test_labels_outside_the_model_classes_fail_before_the_device_is_opened(tmp_path, monkeypatch):
    import tinyflow.targets
    from tinyflow.errors import DataError

    model, _ = _digits_model()
    path = tmp_path / "digits.tflite"
    path.write_bytes(model)
    data = tmp_path / "d.npz"
    np.savez(data, x=np.zeros((10, 64), np.float32), y=np.r_[np.zeros(9, np.int64), 3000])

    def never(*_a, **_k):
        raise AssertionError("the target was opened")

    monkeypatch.setattr(tinyflow.targets, "open_target", never)
    with pytest.raises(DataError, match=r"must be in \[0, 9\].*label 3000 in sample 9"):
        evaluate(EvalConfig(path, dataset=str(data), target="sim://tflm", report_dir=tmp_path / "rep"))
    assert not (tmp_path / "rep" / "report.html").exists()
