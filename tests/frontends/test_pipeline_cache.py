"""pipeline.c's frame cache: after a slide (application mode), the front end recomputes only the
rows that start in the new samples, and the features stay bit for bit those of a full recompute
(a C driver over random strides and signals, for each front end) and of the numpy twin."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
from c_twin import FIRMWARE, ROOT, SOURCES

from conftest import require_tool
from tinyflow.build.cc import CBuild, build_executable, stage_sources
from tinyflow.export.frontend_tables import render_pipeline_plan
from tinyflow.frontends import ImuConfig, MfccConfig, MicroSpeechConfig, mapping
from tinyflow.frontends.mfcc import plan_mfcc
from tinyflow.frontends.micro_speech import plan_micro_speech
from tinyflow.workflows.eval_data import TensorSpec
from tinyflow.workflows.eval_raw import host_model_input

pytestmark = pytest.mark.firmware

CASES = {
    "micro_speech": (MicroSpeechConfig(), TensorSpec("in", (1, 1960), np.dtype(np.int8), 0.1017, -128)),
    "mfcc": (MfccConfig(), TensorSpec("in", (1, 490), np.dtype(np.int8), 0.37, 3)),
    "imu": (ImuConfig(axes=3, window=64, step=16, fft_bins=8), TensorSpec("in", (1, 300), np.dtype(np.int8), 9.5, -7)),
}


def _step(config) -> int:
    if config.name == "micro_speech":
        return plan_micro_speech(config).step
    return plan_mfcc(config).step if config.name == "mfcc" else config.step


def _driver(name: str):
    require_tool("cc")
    config, spec = CASES[name]
    plan = stage_sources({f"{name}_cache_plan.c": render_pipeline_plan(config, spec)}, "frontends")
    row_fn = {
        "micro_speech": "tinyflow_micro_speech_energy",
        "mfcc": "tinyflow_mfcc_frame",
        "imu": "tinyflow_imu_window",
    }
    build = CBuild(
        sources=[
            ROOT / "tests" / "frontends" / "pipeline_cache_driver.c",
            FIRMWARE / "src" / "pipeline.c",
            *(FIRMWARE / "frontends" / f for f in SOURCES[name]),
            *plan,
        ],
        include_dirs=[FIRMWARE / "include"],
        defines={
            "TINYFLOW_FRONTEND_KIND": mapping.PIPELINE_KINDS[name],
            "STEP": f"{_step(config)}u",
            "TOTAL_ROWS": mapping.feature_rows(config, spec.shape),
            "INPUT_BYTES": int(np.prod(spec.shape)),
            "INPUT_SCALE": f"{spec.scale}f",
            "INPUT_ZP": spec.zero_point,
        },
        ldflags=[f"-Wl,--wrap={row_fn[name]}"],
        sanitize=True,
    )
    return build_executable(build, f"pipeline-cache-{name}"), config, spec


@pytest.mark.parametrize("name", sorted(CASES))
def test_cached_rows_equal_a_full_recompute_at_random_strides(name):
    exe, config, spec = _driver(name)
    for seed in (1, 2, 3):
        proc = subprocess.run([exe, str(seed), "40"], capture_output=True, timeout=300)
        assert proc.returncode == 0, proc.stderr.decode(errors="replace")
        _, steps, reused = proc.stderr.decode().split()[-3:]
        assert int(steps) == 40 and int(reused) > 40  # rows were reused, not only recomputed
        frames, channels = mapping.raw_window_frames(config, spec.shape), mapping.raw_channels(config)
        raw = np.frombuffer(proc.stdout[: frames * channels * 2], dtype="<i2").reshape(frames, channels)
        features = np.frombuffer(proc.stdout[frames * channels * 2 :], dtype=np.int8)
        assert np.array_equal(features, host_model_input(config, spec, raw).ravel()), seed


def _signal(seconds: int, seed: int) -> np.ndarray:
    """Bursts of tones and noise of changing loudness (the noise estimate and the model both move)."""
    rng = np.random.default_rng(seed)
    out, t = [], np.arange(1600) / 16000
    for _ in range(seconds * 10):
        amp = rng.choice([0, 30, 800, 6000, 20000])
        tone = np.sin(2 * np.pi * rng.uniform(100, 4000) * t) * amp * rng.uniform(0, 1)
        out.append(tone + rng.normal(0, amp / 4 + 1, t.size))
    return np.clip(np.concatenate(out), -32768, 32767).astype(np.int16)


@pytest.mark.slow
def test_app_mode_outputs_at_strides_of_1_5_25_frames_and_off_the_step_equal_the_host_s(tmp_path):
    """sim://host in application mode (app.c slides, pipeline.c reuses rows): every prediction's
    int8 output equals the host front end + TFLM reference's on the same window, at strides that
    reuse rows (320, 1,600, 8,000 samples) and one that cannot (1,000)."""
    import shutil
    import time
    import wave

    from conftest import corpus_path
    from tinyflow.frontends import write_sidecar
    from tinyflow.runtimes import open_runtime
    from tinyflow.targets.client import DeviceClient
    from tinyflow.workflows.device import open_device

    model = tmp_path / "kws.tflite"
    shutil.copyfile(corpus_path("tflm/micro_speech_quantized.tflite"), model)
    config, spec = CASES["micro_speech"][0], TensorSpec("in", (1, 1960), np.dtype(np.int8), 0.10171568393707275, -128)
    write_sidecar(model, config)
    signal = _signal(3, 9)
    wav = tmp_path / "signal.wav"
    with wave.open(str(wav), "wb") as f:
        f.setnchannels(1), f.setsampwidth(2), f.setframerate(16000), f.writeframes(signal.tobytes())
    runtime = open_runtime("tflm", model)
    for stride, count in ((320, 30), (1600, 20), (8000, 5), (1000, 12)):
        port = open_device(f"sim://host?sensor={wav}&sensor_pace=fast", model=model, timeout=20)
        try:
            client = DeviceClient(port, timeout=20)
            got = list(client.classify(stride, deadline=time.monotonic() + 120, count=count))
        finally:
            port.close()
        # Fast pace: the device may overwrite predictions the host has not read (or the 3 s file
        # ends first); each carries its window's index.
        assert len(got) >= 4 and len({p.index for p in got}) == len(got), stride
        for p in got:
            window = signal[p.index * stride : p.index * stride + 16000, None]
            want = runtime.invoke(host_model_input(config, spec, window))[0]
            assert np.array_equal(np.frombuffer(bytes(p.output), np.int8), want.ravel()), (stride, p.index)
    outputs = {bytes(p.output) for p in got}
    assert len(outputs) > 1  # the signal moves the model: equal outputs mean something
