"""The front end travels with the model into every build: the generated plan (frontend_plan.c),
the front end's C and TINYFLOW_FRONTEND_KIND, in the PlatformIO project, the compiled-C folder and
the compiled model the simulators build; nothing of it without a sidecar."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from conftest import corpus_path
from tinyflow.compile import compile_model
from tinyflow.errors import UsageError
from tinyflow.export.frontend_tables import render_pipeline_plan, with_frontend
from tinyflow.frontends import ImuConfig, MfccConfig, MicroSpeechConfig, write_sidecar
from tinyflow.workflows.eval_data import TensorSpec


@pytest.fixture
def model(tmp_path):
    path = tmp_path / "kws.tflite"
    shutil.copyfile(corpus_path("tflm/micro_speech_quantized.tflite"), path)
    return path


def test_platformio_project_carries_the_sidecar_s_front_end(model):
    from tinyflow.export.platformio.project import plan_project

    plain = plan_project(model, "nano33ble", "aot").files
    assert not any("frontend_plan" in f or "tinyflow_frontend_" in f for f in plain)
    assert "TINYFLOW_FRONTEND_KIND" not in plain["include/tinyflow_config.h"]
    write_sidecar(model, MfccConfig())
    files = plan_project(model, "nano33ble", "aot").files
    plan = files["lib/tinyflow_model/src/frontend_plan.c"]
    assert "tinyflow_pipeline_plan" in plan and "tinyflow_mfcc_plan_t" in plan
    assert "lib/tinyflow_model/src/tinyflow_frontend_mfcc.c" in files
    assert "lib/tinyflow_model/src/tinyflow_frontend_micro_speech.c" not in files  # only what it runs
    assert "#define TINYFLOW_FRONTEND_KIND 2" in files["include/tinyflow_config.h"]
    eembc = plan_project(model, "nano33ble", "aot", protocol="eembc").files  # the runner sends features
    assert not any("frontend_plan" in f for f in eembc)


def test_compiled_c_folder_carries_the_front_end(model, tmp_path):
    from tinyflow.export.compiled_c import write_compiled_c

    write_sidecar(model, MicroSpeechConfig())
    report = write_compiled_c(model, tmp_path / "out", tflm_arena=False)
    names = {p.name for p in report.written}
    assert {"frontend_plan.c", "tinyflow_frontend_micro_speech.c", "tinyflow_frontend_fft_q15.c"} <= names
    assert (tmp_path / "out" / "include" / "tinyflow" / "pipeline.h").exists()


def test_compiled_model_with_frontend_sets_the_kind(model):
    compiled = compile_model(model.read_bytes(), name="model")
    assert with_frontend(compiled, None) is compiled and "TINYFLOW_FRONTEND_KIND" not in compiled.defines
    imu = with_frontend(compiled, ImuConfig(axes=4, scale_q15=(1, 2, 3, 4), fft_bins=8))
    assert imu.defines == {**compiled.defines, "TINYFLOW_FRONTEND_KIND": 3} and "frontend_plan.c" in imu.sources
    assert "static int16_t tf_pipeline_raw[12800];" in imu.sources["frontend_plan.c"]  # 3200 frames x 4 axes


def test_plan_refuses_inputs_it_cannot_fill():
    spec = TensorSpec("in", (1, 1960), np.dtype(np.uint8), 0.1, 0)
    with pytest.raises(UsageError, match="input 0 is uint8"):
        render_pipeline_plan(MicroSpeechConfig(), spec)
    with pytest.raises(UsageError, match="whole mfcc rows of 10"):
        render_pipeline_plan(MfccConfig(), TensorSpec("in", (1, 1955), np.dtype(np.int8), 0.1, 0))


def test_pipeline_reply_round_trip():
    from tinyflow.protocol import messages as m
    from tinyflow.protocol.framing import FrameError

    info = m.PipelineInfo(3, 6, 0, 3200, 2)
    body = m.encode_pipeline_reply(info)
    assert len(body) == 12 and m.decode_pipeline_reply(body) == info and info.frontend == "imu"
    assert m.PipelineInfo(9, 1, 1, 1, 1).frontend == "kind-9"
    with pytest.raises(FrameError):
        m.decode_pipeline_reply(body[:-1])


@pytest.mark.firmware
def test_generated_project_with_a_sidecar_runs_the_front_end_natively(model, tmp_path):
    """The PlatformIO project's own sources (native env, system compilers) compute the host's features."""
    from tinyflow.build.platformio import build_native
    from tinyflow.export.platformio import generate_project
    from tinyflow.targets.client import DeviceClient
    from tinyflow.targets.machines.host import ProcessPort
    from tinyflow.workflows.eval_raw import host_model_input

    write_sidecar(model, MicroSpeechConfig())
    out = tmp_path / "proj"
    generate_project(model, "nano33ble", "aot", out)
    exe = build_native(out)
    spec = TensorSpec("in", (1, 1960), np.dtype(np.int8), 0.1, -128)
    audio = (np.random.default_rng(2).normal(0, 2000, (16000, 1))).astype(np.int16)
    with ProcessPort([exe], timeout=5.0) as port:
        client = DeviceClient(port, timeout=10.0)
        assert client.handshake().inputs[0].shape == (16000, 1)
        assert client.pipeline().frontend == "micro_speech"
        got = client.infer([audio.tobytes()]).outputs
    assert np.array_equal(np.asarray(got[-1]).ravel(), host_model_input(MicroSpeechConfig(), spec, audio).ravel())
