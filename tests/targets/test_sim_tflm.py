"""sim://tflm: TFLM reference outputs, measured arena, estimated latency, board budgets."""

import numpy as np
import pytest

from conftest import corpus_path
from tinyflow.errors import BoardError, UsageError
from tinyflow.runtimes import tflm
from tinyflow.targets.client import DeviceClient
from tinyflow.targets.machines import tflm as sim_tflm
from tinyflow.tflite import read_model


@pytest.mark.parametrize(
    "rel, arena",
    [
        ("tflm/hello_world_int8.tflite", 1_936),
        ("tflm/person_detect.tflite", 85_264),
        ("mlperf_tiny/kws_ref_model.tflite", 24_272),
    ],
)
def test_arena_used_is_what_tflm_allocates(rel, arena):
    # `arena` is the corpus README's smallest arena that runs the model (probed separately). TFLM's
    # allocation total is below it by the allocator's own objects (~430 B, which live in the
    # arena too) and shifts by a few bytes with the arena's alignment.
    rt = sim_tflm.TflmDevice(corpus_path(rel).read_bytes())
    assert arena - 512 <= rt.arena_used() <= arena + 16
    assert rt.model_info().arena_bytes % 16 == 0 and 0 <= rt.model_info().arena_bytes - rt.arena_used() < 16


def test_latency_estimate_from_macs_and_board_clock():
    model = read_model(corpus_path("mlperf_tiny/kws_ref_model.tflite"))
    from tinyflow.analysis import op_macs

    macs = sum(op_macs(op, model.tensors) for op in model.ops if op.name in sim_tflm.WEIGHT_OPS)
    assert macs == 2_656_768  # DS-CNN KWS: 2.66 M MACs
    cycles = sim_tflm.estimate_op_cycles(model)
    assert len(cycles) == len(model.ops) and min(cycles) >= 1
    # the estimate stays within ~10% of MLPerf Tiny's 181.9 ms on a 120 MHz Cortex-M4
    ms_at_120mhz = 1e3 * sum(cycles) / 120e6
    assert 165 < ms_at_120mhz < 200
    port = sim_tflm.open("board=nano33ble", model=model.data)
    client = DeviceClient(port, timeout=2.0)
    info = client.handshake()
    assert (info.cpu_hz, info.ticks_per_second, info.board_id, info.runtime) == (
        64_000_000,
        64_000_000,
        "nano33ble",
        "tflm",
    )
    r = client.infer(np.zeros(490, np.int8))
    assert r.ticks == sum(cycles) and r.micros == sum(cycles) * 1_000_000 // 64_000_000
    assert [name for name, _ in client.profile()] == model.op_names()
    assert "ESTIMATE" in port.latency_basis


@pytest.mark.parametrize(
    "rel", ["tflm/micro_speech_quantized.tflite", "tflm/keyword_scrambled_8bit.tflite", "mlperf_tiny/ad01_int8.tflite"]
)
def test_outputs_equal_the_host_reference(rel):
    data = corpus_path(rel).read_bytes()
    rt = sim_tflm.TflmDevice(data)
    spec = read_model(data).tensors[read_model(data).inputs[0]]
    rng = np.random.default_rng(0)
    info = np.iinfo(spec.dtype)
    for _ in range(3):
        x = rng.integers(info.min, info.max, size=spec.shape, dtype=spec.dtype)
        outs, ticks = rt.invoke([x.tobytes()])
        ref = tflm.run(data, [x])[0]
        assert outs == [np.ascontiguousarray(r).tobytes() for r in ref]
        assert len(ticks) == len(rt.model_info().op_names)


def test_board_budgets_refuse_a_model_that_does_not_fit():
    vww = corpus_path("mlperf_tiny/vww_96_int8.tflite")
    with pytest.raises(BoardError, match=r"does not fit esp32dev.*RAM: needs [\d,]+ B .*arena 103,6\d\d B.*over by"):
        sim_tflm.open("board=esp32dev", model=vww)
    sim_tflm.open("board=nano33ble", model=vww).close()  # 256 KB RAM: fits


def test_bad_urls():
    model = corpus_path("tflm/hello_world_int8.tflite")
    with pytest.raises(UsageError, match="does not know the option speed"):
        sim_tflm.open("speed=9", model=model)
    with pytest.raises(BoardError):
        sim_tflm.open("board=no_such_board", model=model)
    with pytest.raises(UsageError, match="needs a model"):
        sim_tflm.open("")


def test_reset_reboots_with_a_new_boot_count():
    port = sim_tflm.open("", model=corpus_path("tflm/hello_world_int8.tflite"))
    client = DeviceClient(port, timeout=2.0)
    first = client.handshake().boot_count
    port.reset()
    r = client.infer(np.array([[5]], np.int8))
    assert r.boot_count == first + 1 and client.counters.resets == 1
