"""The C twin of the micro frontend gives the numpy pipeline's features, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from c_twin import build_twin, run_twin
from signals import clips

from tinyflow.export.frontend_tables import render_micro_speech
from tinyflow.frontends.config import MicroSpeechConfig
from tinyflow.frontends.micro_speech import features_to_int8, micro_speech_features

pytestmark = pytest.mark.firmware

CONFIGS = {
    "micro_speech": MicroSpeechConfig(),
    # gain_bits=4 would give PCAN a negative shift: unused with PCAN off, and must not be refused.
    "no_pcan_25ms": MicroSpeechConfig(window_ms=25, step_ms=10, num_channels=32, enable_pcan=False, gain_bits=4),
    "no_log_8k": MicroSpeechConfig(sample_rate=8000, upper_band_hz=3800.0, enable_log=False, num_channels=20),
}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_c_twin_equals_numpy(name):
    config = CONFIGS[name]
    exe = build_twin("micro_speech", render_micro_speech(config))
    for audio in clips(40, seed=list(CONFIGS).index(name), rate=config.sample_rate):
        expected = micro_speech_features(audio, config)
        frames, out = run_twin(exe, "micro_speech", audio)
        total = frames * config.num_channels
        got = np.frombuffer(out[: 2 * total], dtype="<u2").reshape(frames, config.num_channels)
        got8 = np.frombuffer(out[2 * total :], dtype=np.int8).reshape(frames, config.num_channels)
        assert got.shape == expected.shape and np.array_equal(got, expected)
        assert np.array_equal(got8, features_to_int8(expected))


@pytest.mark.parametrize(
    "old, new",
    [
        ("{4, 4, 4, 4}, {64, 16, 4, 1}", "{4, 4, 4, 3}, {64, 16, 4, 1}"),  # not a power-of-two FFT
        ("{4, 4, 4, 4}, {64, 16, 4, 1}", "{4, 4, 4, 4}, {64, 16, 8, 1}"),  # would read past the twiddles
        ("    480u,\n    320u,\n    40u,", "    480u,\n    320u,\n    65u,"),  # more channels than compiled for
        ("    480u,\n    320u,\n    40u,", "    2000u,\n    320u,\n    40u,"),  # window longer than the FFT
    ],
    ids=["radix", "stage-length", "channels", "window"],
)
def test_a_bad_plan_is_refused_with_a_status(old, new):
    """The C twin checks its plan once (init) and returns TINYFLOW_FRONTEND_EINVAL, never reads out of bounds."""
    import struct
    import subprocess

    text = render_micro_speech(MicroSpeechConfig())
    assert old in text
    exe = build_twin("micro_speech", text.replace(old, new))
    audio = np.zeros(16000, dtype="<i2")
    proc = subprocess.run([exe], input=struct.pack("<I", audio.size) + audio.tobytes(), capture_output=True, timeout=60)
    assert proc.returncode == 1 and proc.stdout == b"", proc.stderr
