"""sim://qemu-m4 in EEMBC mode: the m-lap-us clock is 64-bit, so a window longer than the 32-bit
tick count's wrap (59.35 s of estimated board time at 72.4 M ticks/s) still measures right.
Was: `m-lap-us` wrapped and the runner printed negative run times and 0.000 inf./sec."""

from __future__ import annotations

import pytest
from mlperf_helpers import MODELS, wire_input

from conftest import corpus_path, require_tool

pytestmark = [pytest.mark.qemu, pytest.mark.slow]

WRAP_US = 2**32 / 72.4e6 * 1e6  # where the 32-bit count wrapped (nano33ble, 64 MHz)


def test_a_window_longer_than_the_32_bit_wrap_keeps_counting():
    from tinyflow.mlperf.dut import EembcDut
    from tinyflow.workflows.device import open_device

    for tool in ("qemu-system-arm", "arm-none-eabi-gcc"):
        require_tool(tool)
    data = corpus_path(MODELS["ad01"]).read_bytes()
    port = open_device("sim://qemu-m4?protocol=eembc&benchmark=ad01", model=data, timeout=0.5)
    try:
        dut = EembcDut(port, timeout=120)
        dut.load(wire_input("ad01", 5))
        short = dut.infer(100, 0)
        per_inference = short.elapsed_us / 100
        n = int(1.3 * WRAP_US / per_inference)  # crosses at least one wrap whatever the start
        long = dut.infer(n, 0, timeout=600)
        assert long.elapsed_us > WRAP_US
        # Instruction counts are deterministic: the long window is n short inferences, to 0.1 %.
        assert long.elapsed_us == pytest.approx(n * per_inference, rel=1e-3)
        assert dut.timestamp() >= long.end_us
    finally:
        port.close()
