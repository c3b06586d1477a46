"""micro_speech_quantized.tflite, unmodified, on sim://qemu-m4 with the device computing the
features from raw audio: spoken "yes" and "no" (espeak-ng) get the predictions of TFLM's own
pipeline (TensorFlow's audio_microfrontend op, micro_speech's int8 conversion, the tflite-micro
interpreter), with the same features and the same int8 outputs."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import corpus_path, require_tool
from tinyflow.frontends import MicroSpeechConfig
from tinyflow.frontends.micro_speech import features_to_int8
from tinyflow.runtimes.tflm import run as tflm_run
from tinyflow.targets.client import DeviceClient
from tinyflow.workflows.device import open_device
from tinyflow.workflows.eval_data import TensorSpec
from tinyflow.workflows.eval_raw import host_model_input

pytestmark = [pytest.mark.qemu, pytest.mark.arm, pytest.mark.tf, pytest.mark.slow]
LABELS = ("silence", "unknown", "yes", "no")
SPEC = TensorSpec("in", (1, 1960), np.dtype(np.int8), 0.10171568393707275, -128)


def _clips(tmp_path) -> list[tuple[str, np.ndarray]]:
    from tinyflow.data.store import open_store
    from tinyflow.data.synth import synth_kws

    synth_kws(["yes", "no"], tmp_path / "kws", voices=3, repeats=1, seed=4)
    out = []
    for entry, got in open_store(tmp_path / "kws").samples():
        out.append((entry.label, np.asarray(got.data, dtype=np.int16).reshape(-1)))
    return out


def _tflm_pipeline(model: bytes, audio: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """TFLM's own: the TensorFlow op's uint16 features, micro_speech's int8, the interpreter."""
    from test_micro_speech_tf import reference

    features = features_to_int8(reference(audio, MicroSpeechConfig())).reshape(1, 1960)
    return features, np.asarray(tflm_run(model, [features])[0][0]).ravel()


def test_micro_speech_from_spoken_words_on_qemu_matches_tflm_pipeline(tmp_path, tf):
    require_tool("arm-none-eabi-gcc")
    require_tool("qemu-system-arm")
    require_tool("espeak-ng")
    require_tool("sox")
    model = corpus_path("tflm/micro_speech_quantized.tflite")
    clips = _clips(tmp_path)
    assert {label for label, _ in clips} == {"yes", "no"} and len(clips) == 6
    port = open_device("sim://qemu-m4", model=model, frontend=MicroSpeechConfig(), timeout=20)
    rows = []
    try:
        client = DeviceClient(port, timeout=120)
        client.handshake()
        assert client.pipeline().window_frames == 16000
        for label, audio in clips:
            want_features, want = _tflm_pipeline(model.read_bytes(), audio)
            got = client.infer([audio[:16000].tobytes()]).outputs
            assert np.array_equal(np.asarray(got[1]).ravel(), want_features.ravel()), label
            assert np.array_equal(want_features, host_model_input(MicroSpeechConfig(), SPEC, audio[:, None]))
            assert np.array_equal(np.asarray(got[0]).ravel(), want), label
            rows.append((label, LABELS[int(np.argmax(want))], LABELS[int(np.argmax(got[0]))]))
    finally:
        port.close()
    assert all(tflm == device for _, tflm, device in rows), rows
    # Not a test of the model, but the clips must be speech it hears: most are recognised.
    assert sum(label == device for label, _, device in rows) >= 4, rows
