"""sim://qemu-m4: the mps2_an386 port on QEMU (port self-test firmware), then the full firmware."""

from __future__ import annotations

import struct

import pytest

from conftest import require_tool
from tinyflow.build import arm
from tinyflow.build import firmware as build_fw
from tinyflow.errors import LinkError
from tinyflow.targets.machines import qemu_m4 as sim_qemu
from tinyflow.workflows.device import build_qemu_firmware, open_device


def test_ticks_convert_to_instructions_and_board_time():
    assert sim_qemu.TICKS_PER_INSTRUCTION == pytest.approx(3.2)
    # A timer read can be one tick off either way; rounding still gives the exact count.
    assert sim_qemu.instructions(3.2 * 1000 + 1) == sim_qemu.instructions(3.2 * 1000 - 1) == 1000
    tps = sim_qemu.ticks_per_second_for(64e6)
    n = 1_000_000
    assert n * sim_qemu.TICKS_PER_INSTRUCTION / tps == pytest.approx(sim_qemu.estimated_seconds(n, 64e6), rel=1e-6)


def test_cortex_m4_variants_replace_only_the_kernels_that_have_one():
    from tinyflow.compile.kernels import kernel_sources, variant_for
    from tinyflow.resources import firmware_dir

    k = firmware_dir() / "kernels"
    assert kernel_sources(["conv_2d", "add"], variant_for("cortex-m4f", True)) == [
        k / "cortex_m4" / "conv_2d.c",
        k / "add.c",
    ]
    assert kernel_sources(["conv_2d"], variant_for("cortex-m4f", False)) == [k / "conv_2d.c"]
    assert variant_for("cortex-m0plus", False) is variant_for("xtensa-lx6", False) is None


def test_boards_that_are_not_cortex_m4_are_refused():
    from tinyflow.errors import BoardError

    assert build_fw.board_budget(sim_qemu.MACHINE.check_board("nano33ble")).clock_hz == 64e6
    with pytest.raises(BoardError, match="rpipico has a cortex-m0plus core.*nano33ble"):
        sim_qemu.MACHINE.check_board("rpipico")


def test_query_params_accept_urls_strings_and_dicts():
    from urllib.parse import urlsplit

    from tinyflow.targets.sim import query_params

    assert query_params(urlsplit("sim://qemu-m4?board=esp32dev")) == {"board": "esp32dev"}
    assert query_params("board=nano33ble") == {"board": "nano33ble"}
    assert query_params({"board": ["x"]}) == {"board": "x"}
    assert query_params(None) == {}


@pytest.fixture(scope="module")
def echo_elf():
    require_tool(arm.COMPILER)
    require_tool(sim_qemu.QEMU)
    fw = arm.build_firmware([arm.port_dir() / "echo_main.c"], arm.MemoryMap(1 << 20, 256 << 10), name="echo")
    return fw.elf


def _u32(port, cmd: bytes) -> int:
    port.write(cmd)
    data = port.read(4)
    assert len(data) == 4, data
    return struct.unpack("<I", data)[0]


@pytest.mark.arm
@pytest.mark.qemu
def test_uart_echo_and_boot_banner_are_not_lost(echo_elf):
    with sim_qemu.QemuPort(echo_elf) as port:
        assert port.read(6) == b"ready\n"
        port.write(b"hello qemu")
        assert port.read(10) == b"hello qemu"


@pytest.mark.arm
@pytest.mark.qemu
def test_instruction_counts_are_exact_and_repeat_across_runs(echo_elf):
    counts = []
    for _ in range(2):
        with sim_qemu.QemuPort(echo_elf) as port:
            port.read(6)
            a, b, t = (sim_qemu.instructions(_u32(port, c)) for c in (b"a", b"b", b"t"))
            # The assembly loop is 2 instructions an iteration: 4,000 more iterations = 8,000.
            assert b - a == 8000
            assert sim_qemu.instructions(_u32(port, b"t")) == t
            counts.append((a, b, t))
    assert counts[0] == counts[1]


@pytest.mark.arm
@pytest.mark.qemu
def test_stack_high_water_is_measured(echo_elf):
    with sim_qemu.QemuPort(echo_elf) as port:
        port.read(6)
        used = _u32(port, b"s")
        assert 0 < used < arm.DEFAULT_STACK_BYTES


@pytest.mark.arm
@pytest.mark.qemu
def test_boot_counter_is_written_by_the_host_and_reset_increments_it(echo_elf):
    with sim_qemu.QemuPort(echo_elf, boot_count=41) as port:
        port.read(6)
        assert _u32(port, b"n") == 41
        port.reset()
        assert port.read(6) == b"ready\n"
        assert _u32(port, b"n") == 42


@pytest.mark.arm
@pytest.mark.qemu
def test_hardfault_reaches_the_host_with_fault_registers(echo_elf):
    with sim_qemu.QemuPort(echo_elf, timeout=1.0) as port:
        port.read(6)
        port.write(b"f")
        with pytest.raises(LinkError, match=r"HardFault pc=0x[0-9a-f]{8} .*cfsr=0x00010000 hfsr=0x40000000"):
            port.read(1)
        assert port.exit_code() == sim_qemu.EXIT_FAULT


@pytest.mark.arm
@pytest.mark.qemu
def test_semihosting_exit_code_reaches_the_host_and_close_kills_qemu(echo_elf):
    with sim_qemu.QemuPort(echo_elf, timeout=1.0) as port:
        port.read(6)
        port.write(b"x")
        with pytest.raises(LinkError, match="exited with code 3"):
            port.read(1)
    port = sim_qemu.QemuPort(echo_elf)
    proc = port._proc
    port.close()
    assert proc.poll() is not None


# -- the protocol core on the port, with the core's fake model (no compiler needed) ----------


@pytest.fixture(scope="module")
def fake_model_elf(echo_elf):
    from tinyflow.resources import firmware_dir

    fw = firmware_dir()
    sources = [*sorted((fw / "src").glob("*.c")), fw / "tests" / "fake_model.c", arm.port_dir() / "main.c"]
    return arm.build_firmware(
        sources,
        arm.MemoryMap(1 << 20, 256 << 10),
        name="fake",
        defines={"TINYFLOW_RX_QUEUE_BYTES": build_fw.RX_QUEUE_BYTES},
    ).elf


@pytest.mark.arm
@pytest.mark.qemu
def test_protocol_core_runs_on_the_port_with_profile_and_stats(fake_model_elf):
    import numpy as np

    from tinyflow.targets.client import DeviceClient
    from tinyflow.workflows.profile import random_inputs

    with sim_qemu.QemuPort(fake_model_elf, timeout=5.0, boot_count=7) as port:
        client = DeviceClient(port)
        info = client.handshake()
        assert info.boot_count == 7 and info.rx_queue_bytes == build_fw.RX_QUEUE_BYTES
        x = random_inputs(info, np.random.default_rng(0))
        first, second = client.infer(x), client.infer(x)
        assert np.array_equal(first.outputs[0], second.outputs[0])
        assert sim_qemu.instructions(first.ticks) == sim_qemu.instructions(second.ticks) > 0
        ops = client.profile()
        assert 0.95 <= sum(t for _, t in ops) / second.ticks <= 1.0
        stats = client.stats()
        assert 0 < stats.stack_high_water < arm.DEFAULT_STACK_BYTES and stats.infer_count == 2
        assert len(list(client.infer_many([x] * 8))) == 8


# -- the full firmware: protocol core + compiled model + port --------------------------------

SMALL_MODELS = ["tflm/hello_world_int8.tflite", "tflm/micro_speech_quantized.tflite", "mlperf_tiny/ad01_int8.tflite"]


@pytest.fixture(scope="module")
def qemu_tools():
    require_tool(arm.COMPILER)
    require_tool(sim_qemu.QEMU)


def _random_inputs(info, seed):
    import numpy as np

    from tinyflow.workflows.profile import random_inputs

    return random_inputs(info, np.random.default_rng(seed))


@pytest.mark.arm
@pytest.mark.qemu
@pytest.mark.parametrize("rel", SMALL_MODELS, ids=lambda r: r.split("/")[-1].split(".")[0])
def test_corpus_model_matches_tflm_with_repeatable_instruction_counts(rel, qemu_tools):
    import numpy as np

    from conftest import corpus_path
    from tinyflow.runtimes import tflm
    from tinyflow.targets.client import DeviceClient

    path = corpus_path(rel)
    port = open_device("sim://qemu-m4?board=nano33ble", model=path.read_bytes(), timeout=10.0)
    try:
        client = DeviceClient(port)
        info = client.handshake()
        counts = []
        for seed in (1, 2, 1):
            inputs = _random_inputs(info, seed)
            result = client.infer(inputs)
            want = tflm.run(path.read_bytes(), [inputs[0] if len(inputs) == 1 else inputs])[0]
            for w, g in zip(want, result.outputs):
                assert np.array_equal(np.asarray(w).ravel(), np.asarray(g).ravel())
            counts.append(sim_qemu.instructions(result.ticks))
        assert counts[0] == counts[2] > 0
        port.reset()  # a fresh boot of the emulator counts the same
        client = DeviceClient(port)
        client.handshake()
        assert sim_qemu.instructions(client.infer(_random_inputs(info, 1)).ticks) == counts[0]
    finally:
        port.close()
    mem = port.emulation.memory
    assert mem.flash_bytes > len(path.read_bytes()) // 2 and 0 < mem.ram_bytes < 256 << 10


@pytest.mark.arm
def test_a_model_that_does_not_fit_the_board_fails_at_link_time_with_numbers(qemu_tools):
    from conftest import corpus_path
    from tinyflow.errors import BoardError

    tiny = build_fw.BoardBudget("tiny", 48e6, flash_bytes=64 << 10, ram_bytes=16 << 10)
    with pytest.raises(BoardError, match=r"needs [\d,]+ B flash but tiny has 65,536 B"):
        build_qemu_firmware(corpus_path("mlperf_tiny/ad01_int8.tflite").read_bytes(), tiny)


# -- Cortex-M4 DSP kernel variants: bit-identical to TFLM (and so to the portable kernels) ------


def _conv_chain_model(seed=0) -> bytes:
    """CONV_2D and DEPTHWISE_CONV_2D layers covering the DSP kernels' paths: channel tails,
    1-channel-wide rows, padding, strides, dilation, depth multipliers 1, 2 and 4, per-channel
    quantization, fused activations."""
    import numpy as np

    from tinyflow.tflite.writer import ModelBuilder

    rng = np.random.default_rng(seed)
    mb = ModelBuilder()

    def act(shape, scale, zp):
        return mb.tensor(shape, "int8", scale=scale, zero_point=zp)

    def conv(x, x_shape, x_scale, oc, kh, kw, stride, pad, dil=1, depthwise=False, dm=1, act_fn="NONE"):
        ic = x_shape[3]
        if depthwise:
            oc = ic * dm
            wshape, qdim = [1, kh, kw, oc], 3
        else:
            wshape, qdim = [oc, kh, kw, ic], 0
        ws = rng.uniform(0.002, 0.02, oc)
        w = mb.tensor(
            wshape,
            "int8",
            scale=list(ws),
            zero_point=[0] * oc,
            quantized_dimension=qdim,
            data=rng.integers(-127, 128, wshape, dtype=np.int8),
        )
        b = mb.tensor(
            [oc],
            "int32",
            scale=list(ws * x_scale),
            zero_point=[0] * oc,
            data=rng.integers(-3000, 3000, oc, dtype=np.int32),
        )
        h, wd = x_shape[1], x_shape[2]
        ekh, ekw = (kh - 1) * dil + 1, (kw - 1) * dil + 1
        if pad == "SAME":
            oh, ow = -(-h // stride), -(-wd // stride)
        else:
            oh, ow = (h - ekh) // stride + 1, (wd - ekw) // stride + 1
        y_shape = [1, oh, ow, oc]
        y_scale = float(rng.uniform(0.02, 0.08))
        y = act(y_shape, y_scale, int(rng.integers(-20, 20)))
        opts = dict(
            padding=pad,
            stride_h=stride,
            stride_w=stride,
            dilation_h_factor=dil,
            dilation_w_factor=dil,
            fused_activation_function=act_fn,
        )
        if depthwise:
            mb.op("DEPTHWISE_CONV_2D", [x, w, b], [y], depth_multiplier=dm, **opts)
        else:
            mb.op("CONV_2D", [x, w, b], [y], **opts)
        return y, y_shape, y_scale

    shape, scale = [1, 11, 9, 3], 0.05
    x0 = act(shape, scale, -7)
    x, shape, scale = conv(x0, shape, scale, 6, 3, 3, 2, "SAME", act_fn="RELU")  # narrow: gathered
    x, shape, scale = conv(x, shape, scale, 0, 3, 3, 1, "SAME", depthwise=True)  # dm 1, 4 + 2 channels
    x, shape, scale = conv(x, shape, scale, 8, 1, 1, 1, "VALID")  # pointwise, depth 6
    x, shape, scale = conv(x, shape, scale, 0, 3, 2, 1, "SAME", dil=2, depthwise=True, dm=2)  # dm 2, dilation
    x, shape, scale = conv(x, shape, scale, 7, 1, 1, 2, "VALID")  # pointwise pairs: 9 px, 7 ch
    x, shape, scale = conv(x, shape, scale, 0, 2, 2, 1, "SAME", depthwise=True, dm=4)  # dm 4: shared input
    x, shape, scale = conv(x, shape, scale, 5, 2, 2, 1, "SAME", dil=2, act_fn="RELU6")  # dilation, oc tail
    return mb.build(inputs=[x0], outputs=[x])


@pytest.mark.arm
@pytest.mark.qemu
@pytest.mark.parametrize("dsp", [True, False], ids=["cortex_m4", "portable"])
def test_conv_kernels_are_bit_identical_to_tflm_on_qemu(dsp, qemu_tools):
    import numpy as np

    from tinyflow.runtimes import tflm
    from tinyflow.targets.client import DeviceClient

    model = _conv_chain_model()
    fw = build_qemu_firmware(model, "nano33ble", name="convchain", dsp=dsp)
    inputs = [np.random.default_rng(s).integers(-128, 128, (1, 11, 9, 3), dtype=np.int8) for s in range(3)]
    wants = tflm.run(model, inputs)
    with sim_qemu.QemuPort(fw.elf, timeout=10.0) as port:
        client = DeviceClient(port)
        client.handshake()
        for x, want in zip(inputs, wants):
            got = client.infer([x]).outputs[0]
            assert np.array_equal(np.asarray(got).ravel(), want[0].ravel())
