"""The front end on the device (firmware/src/pipeline.c) on sim://host and in sim://tflm's Python
device: features bit for bit the host's, outputs the TFLM reference's on those features, the
PIPELINE reply, op 0 FRONTEND; without a front end PIPELINE says kind 0."""

from __future__ import annotations

import numpy as np
import pytest
from signals import synth

from conftest import corpus_path
from tinyflow.frontends import ImuConfig, MfccConfig, MicroSpeechConfig
from tinyflow.runtimes.tflm import run as tflm_run
from tinyflow.targets.client import DeviceClient
from tinyflow.workflows.device import open_device
from tinyflow.workflows.eval_data import TensorSpec
from tinyflow.workflows.eval_raw import host_model_input, raw_input_spec

KWS = "tflm/micro_speech_quantized.tflite"  # int8 [1, 1960], scale 0.1017, zero point -128
# Whole rows of 1960 for each front end; mean/shift exercise the integer mapping (not micro's own).
CONFIGS = {
    "micro_speech": MicroSpeechConfig(),
    "mfcc": MfccConfig(input_mean=(-2000, 0, 10, 0, -5, 0, 0, 3, 0, 0), input_shift=(3, 2, 2, 1, 1, 1, 1, 0, 0, 0)),
    "imu": ImuConfig(
        axes=4, scale_q15=(32767, 16000, -20000, 32767), fft_bins=8, input_mean=(100,) * 40, input_shift=(4,) * 40
    ),
}


def _signals(config, n: int = 3) -> list[np.ndarray]:
    spec = raw_input_spec(config, TensorSpec("in", (1, 1960), np.dtype(np.int8), 0.1, -128))
    frames, channels = spec.shape
    rng = np.random.default_rng(5)
    out = [np.zeros((frames, channels), np.int16)]
    for _ in range(n - 1):
        out.append(np.stack([synth(rng, frames, 16000) for _ in range(channels)], axis=1))
    return out


def _check_target(url: str, config, model) -> None:
    spec = TensorSpec("in", (1, 1960), np.dtype(np.int8), 0.10171568393707275, -128)
    port = open_device(url, model=model, frontend=config, timeout=10)
    try:
        client = DeviceClient(port, timeout=60)
        info = client.handshake()
        frames, channels = raw_input_spec(config, spec).shape
        assert info.inputs[0].shape == (frames, channels) and info.inputs[0].dtype == 7
        pipe = client.pipeline()
        assert (pipe.frontend, pipe.channels, pipe.window_frames) == (config.name, channels, frames)
        assert pipe.features_output == len(info.outputs) - 1 == 1
        signals = _signals(config)
        host = [host_model_input(config, spec, s) for s in signals]
        reference = tflm_run(model.read_bytes(), host)
        for signal, want, ref in zip(signals, host, reference):
            got = client.infer([signal.tobytes()]).outputs
            assert np.array_equal(np.asarray(got[-1]).ravel(), want.ravel()), "features differ from the host's"
            assert np.array_equal(np.asarray(got[0]).ravel(), np.asarray(ref[0]).ravel())
        names = [name for name, _ in client.profile()]
        assert names[0] == "FRONTEND" and len(names) == info.num_ops
    finally:
        port.close()


@pytest.mark.firmware
@pytest.mark.parametrize("name", list(CONFIGS))
def test_sim_host_computes_the_host_s_features(name):
    _check_target("sim://host", CONFIGS[name], corpus_path(KWS))


@pytest.mark.parametrize("name", ["micro_speech", "imu"])
def test_sim_tflm_runs_the_numpy_twin(name):
    _check_target("sim://tflm", CONFIGS[name], corpus_path(KWS))


def test_sim_tflm_maps_uint16_micro_features_through_mean_and_shift():
    config = MicroSpeechConfig(
        int8_output=False, input_mean=tuple(range(0, 400, 10)), input_shift=(5,) * 20 + (6,) * 20
    )
    _check_target("sim://tflm", config, corpus_path(KWS))


@pytest.mark.firmware
def test_without_a_front_end_pipeline_says_none():
    port = open_device("sim://host?fake=1", timeout=10)
    try:
        client = DeviceClient(port, timeout=30)
        client.handshake()
        pipe = client.pipeline()
        assert (pipe.kind, pipe.window_frames, pipe.features_output) == (0, 0, 0xFFFF)
    finally:
        port.close()
