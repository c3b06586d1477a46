"""The host half of live classification without a device: wire format, labels, confidences, times."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tinyflow.errors import UsageError
from tinyflow.protocol import messages as m
from tinyflow.protocol.framing import FrameError
from tinyflow.workflows.classify import (
    ClassifyConfig,
    ClassifyReport,
    confidences,
    parse_class_names,
    to_live,
)


def _prediction(index, output=b"\x80\x7f\x00", top1=1):
    return m.Prediction(index, 3_000_000_123, 100, 2_000, 5_000, top1, output)


def test_predictions_round_trip_and_refuse_inconsistent_replies():
    batch = m.PredictionBatch(7, 2, [_prediction(7), _prediction(8)])
    body = m.encode_predictions(batch)
    assert m.decode_predictions(body, 3) == batch
    assert m.decode_classify_info(m.encode_classify_info(m.ClassifyInfo(16000, 1, 16000, 4))).num_classes == 4
    assert m.decode_predictions_request(m.encode_predictions_request(9, 999)) == (9, 255)  # max is a u8
    with pytest.raises(FrameError, match="index 8, expected 9"):
        m.decode_predictions(m.encode_predictions(m.PredictionBatch(9, 0, [_prediction(8)])), 3)
    with pytest.raises(FrameError, match="after its 2 predictions"):
        m.decode_predictions(body + b"\x00", 3)
    with pytest.raises(FrameError, match="ends early"):
        m.decode_predictions(body, 4)  # an output size the HELLO did not announce


def test_confidences_keep_probabilities_and_softmax_logits():
    probs = np.array([0.1, 0.7, 0.2])
    assert np.array_equal(confidences(probs), probs)
    logits = np.array([2.0, -1.0, 0.5])
    got = confidences(logits)
    assert np.isclose(got.sum(), 1.0) and int(np.argmax(got)) == 0


def test_to_live_dequantizes_labels_and_converts_ticks():
    out = m.TensorSpec(9, (1, 3), 1 / 256, -128, 3)
    info = m.DeviceInfo(ticks_per_second=2_000_000, outputs=[out])
    live = to_live(_prediction(4, bytes([0x80, 0x7F, 0x81])), info, ("a", "b"))
    assert live.label == "b" and live.top1 == 1
    assert live.confidences == pytest.approx([0.0, 255 / 256, 1 / 256])
    assert (live.read_us, live.frontend_us, live.model_us) == (50.0, 1000.0, 2500.0)
    assert live.device_us == 1_500_000_061
    d = live.to_dict()
    assert d["timing_us"] == {"read": 50.0, "features": 1000.0, "inference": 2500.0} and json.dumps(d)
    assert to_live(_prediction(0, top1=2), info).label == "2"  # no names: the class index


def test_class_names_from_a_list_or_a_file(tmp_path):
    assert parse_class_names("yes, no,up") == ("yes", "no", "up")
    names = tmp_path / "labels.txt"
    names.write_text("silence\nunknown\n\nyes\n")
    assert parse_class_names(f"@{names}") == ("silence", "unknown", "yes")
    with pytest.raises(UsageError, match="empty name"):
        parse_class_names("yes,,no")
    with pytest.raises(UsageError):
        parse_class_names(f"@{tmp_path / 'missing.txt'}")


def test_config_is_checked_once(tmp_path):
    model = tmp_path / "m.tflite"
    model.write_bytes(b"x")
    with pytest.raises(UsageError, match="at least 1"):
        ClassifyConfig(str(model), count=0)
    with pytest.raises(UsageError, match="positive"):
        ClassifyConfig(str(model), seconds=float("nan"))
    with pytest.raises(UsageError, match="not a file"):
        ClassifyConfig(str(tmp_path / "none.tflite"))


def test_report_reads_as_a_summary():
    r = ClassifyReport("kws.tflite", "sim://host", 16000, 1, 16000, predictions=4, seconds=2.0, ended="stream ended")
    r.labels, r.mean_us = {"yes": 3, "no": 1}, {"read": 100.0, "features": 400.0, "inference": 250.0}
    text = str(r)
    assert "16000 frames x 1 ch at 16000 Hz (1000 ms)" in text and "4 in 2.0 s (2.0/s), 0 lost" in text
    assert text.splitlines()[-2].split() == ["yes", "3"]
    assert r.to_dict()["rate_per_s"] == 2.0


def test_sim_tflm_is_refused_before_anything_is_opened(tmp_path):
    from click.testing import CliRunner

    from tinyflow.cli.main import cli

    model = tmp_path / "m.tflite"
    model.write_bytes(b"x")
    result = CliRunner().invoke(cli, ["classify", str(model), "--target", "sim://tflm"])
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: sim://tflm runs the model alone: it has no sensor")
