"""The handshake is untrusted input (issue 9, defect 8): a HELLO reply that contradicts itself, a
model without inputs or outputs, and a device that never answers each give one clear error."""

from __future__ import annotations

import re
import time

import pytest
from fake_runtime import FakeRuntime

from tinyflow.errors import LinkError, ModelError
from tinyflow.protocol import framing as fr
from tinyflow.protocol import messages as m
from tinyflow.targets.client import DeviceClient
from tinyflow.targets.device import ModelInfo, PythonDevice, SimPort


class _Lying(FakeRuntime):
    """A runtime whose model info says whatever the test wants."""

    def __init__(self, inputs, outputs):
        # Outputs as long as the spec claims, so a bad spec is caught by the check, not by luck.
        super().__init__(n_out=min(outputs[0].bytes, 64) if outputs else 0)
        self.ins, self.outs = inputs, outputs

    def model_info(self) -> ModelInfo:
        return ModelInfo("fake", "liar", self.ins, self.outs, ["FAKE"], b"\x01" * 8, 100, 64)


GOOD = m.TensorSpec(9, (1, 4), 0.5, 0, 4)
BAD_HELLOS = {
    "bytes-disagree-with-shape": ([GOOD], [m.TensorSpec(9, (1, 4), 0.5, 0, 5)], "4 elements of int8 are 4 bytes"),
    "negative-dim": ([m.TensorSpec(9, (1, -4), 0.5, 0, 4)], [GOOD], "dimension -4"),
    "unknown-dtype": ([GOOD], [m.TensorSpec(42, (1, 4), 0.5, 0, 4)], "dtype code 42"),
    "nan-scale": ([m.TensorSpec(9, (1, 4), float("nan"), 0, 4)], [GOOD], "scale nan"),
    "huge-output": ([GOOD], [m.TensorSpec(9, (1 << 14, 1 << 14), 0.5, 0, 1 << 28)], "larger than"),
}


@pytest.mark.parametrize("case", list(BAD_HELLOS), ids=list(BAD_HELLOS))
def test_an_inconsistent_hello_reply_is_one_link_error(case):
    ins, outs, says = BAD_HELLOS[case]
    client = DeviceClient(SimPort(PythonDevice(_Lying(ins, outs))), timeout=0.2, max_retries=2)
    with pytest.raises(LinkError, match=re.escape(says)) as err:
        client.handshake()
        client.infer(bytes(4))
    assert "\n" not in str(err.value) and err.value.hint


@pytest.mark.parametrize(
    "ins, outs, says", [([], [GOOD], "no inputs"), ([GOOD], [], "no outputs")], ids=["no-inputs", "no-outputs"]
)
def test_a_device_whose_model_has_no_inputs_or_outputs_is_a_model_error(ins, outs, says):
    client = DeviceClient(SimPort(PythonDevice(_Lying(ins, outs))), timeout=0.2, max_retries=2)
    with pytest.raises(ModelError, match=says):
        client.handshake()


class _Garbler:
    """An in-process port that answers every write with a corrupted frame at once."""

    instant = True
    timeout = 0.0
    in_waiting = 0

    def __init__(self):
        self._out = b""

    def write(self, data) -> int:
        self._out += b"\x00\x05\x01\x02\x03\x04\x00"
        return len(data)

    def read(self, size: int = 1) -> bytes:
        out, self._out = self._out, b""
        return out


def test_no_hello_reply_says_how_long_it_really_waited():
    client = DeviceClient(_Garbler(), timeout=1.0, max_retries=3)
    start = time.monotonic()
    with pytest.raises(LinkError) as err:
        client.handshake()
    took = time.monotonic() - start
    assert took < 2 * 1.0 * 3
    msg = err.value.message
    assert "of 1 s" not in msg, msg
    said = re.search(r"after \d+ attempts in (\d+\.\d) s", msg)
    assert said and abs(float(said.group(1)) - took) < 0.5, msg
    assert "bad frames" in msg, msg


class _CannedHello:
    """An in-process port whose device answers every HELLO with the given info."""

    instant = True
    timeout = 0.0

    def __init__(self, info: m.DeviceInfo):
        self.info, self._out = info, b""

    @property
    def in_waiting(self) -> int:
        return len(self._out)

    def write(self, data) -> int:
        for ev in fr.FrameReader().feed(bytes(data)):
            if isinstance(ev, fr.Frame) and ev.type == m.HELLO:
                self._out += fr.encode_frame(m.HELLO, ev.seq, m.encode_info(self.info), fr.FLAG_REPLY)
        return len(data)

    def read(self, size: int = 1) -> bytes:
        out, self._out = self._out[:size], self._out[size:]
        return out


def test_the_c_cores_status_for_a_model_without_inputs_or_outputs_is_a_model_error():
    """firmware/src/device.c reports -100 for a model it cannot serve: a model error, not a broken link."""
    client = DeviceClient(_CannedHello(m.DeviceInfo(status=-100)), timeout=0.2, max_retries=2)
    with pytest.raises(ModelError, match=r"no inputs or no outputs.*status -100"):
        client.handshake()
    client = DeviceClient(_CannedHello(m.DeviceInfo(status=-7)), timeout=0.2, max_retries=2)
    with pytest.raises(LinkError, match="failed to initialise"):
        client.handshake()
