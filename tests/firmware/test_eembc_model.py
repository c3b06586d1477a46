"""EEMBC mode on a real model: `infer N W` reruns one loaded input, so every run must see it intact.

Both runtimes reuse input memory during an invoke; a firmware that does not guard against it
reports results of a clobbered input after the warm-up runs.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from conftest import corpus_path, require_tool

pytestmark = pytest.mark.firmware


def command(port, text: str) -> list[str]:
    port.write(text.encode())
    out, deadline = b"", time.monotonic() + 20
    while not out.endswith(b"m-ready\r\n"):
        assert time.monotonic() < deadline, out
        out += port.read(max(1, port.in_waiting))
    return out.decode().split("\r\n")[:-1]


def open_dut(data: bytes, guard: str, input_bytes: int):
    """The EEMBC host firmware; guard: 'plan' keeps inputs in the memory plan, 'copy' restores a copy."""
    from tinyflow.targets.machines import host as sim_host
    from tinyflow.workflows.device import open_device

    if guard == "plan":
        return open_device("sim://host?protocol=eembc", model=data, timeout=0.5)
    from tinyflow.build.host import build_host_firmware
    from tinyflow.compile import compile_model

    exe = build_host_firmware(
        compile_model(data, name="model"), eembc=True, defines={"TINYFLOW_EEMBC_INPUT_COPY_BYTES": input_bytes}
    )
    return sim_host.ProcessPort([exe], timeout=0.5)


@pytest.mark.parametrize("guard", ["plan", "copy"])
@pytest.mark.parametrize("rel", ["mlperf_tiny/kws_ref_model.tflite", "mlperf_tiny/ad01_int8.tflite"])
def test_warmup_and_repeated_runs_see_the_loaded_input(rel, guard):
    require_tool("cc")
    from tinyflow.runtimes import tflm
    from tinyflow.tflite import read_model

    data = corpus_path(rel).read_bytes()
    model = read_model(data)
    spec = model.tensors[model.inputs[0]]
    x = np.random.default_rng(5).integers(-128, 128, spec.nbytes, dtype=np.int8)
    want_q = tflm.run(data, [x.reshape(spec.shape)])[0][0].astype(np.int32).ravel()
    out = model.tensors[model.outputs[0]]
    want = (want_q - int(out.zero_point[0])) * float(out.scale[0])

    port = open_dut(data, guard, spec.nbytes)
    try:
        assert command(port, f"db load {spec.nbytes}%")[0] == f"m-[Expecting {spec.nbytes} bytes]"
        raw = x.tobytes()
        for i in range(0, len(raw), 100):
            lines = command(port, f"db {raw[i : i + 100].hex()}%")
        assert lines[0] == "m-load-done"
        lines = command(port, "infer 3 2%")
        got = [float(v) for v in lines[-2].removeprefix("m-results-[").removesuffix("]").split(",")]
        assert got == pytest.approx(list(want), abs=6e-4)
    finally:
        port.close()
