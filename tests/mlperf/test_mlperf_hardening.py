"""MLPerf Tiny DUTs built from another model than the one given are refused, not scored."""

from __future__ import annotations

import hashlib

import pytest
from click.testing import CliRunner
from mlperf_helpers import MODELS

from conftest import corpus_path, require_tool
from tinyflow.cli.main import cli
from tinyflow.errors import ModelError
from tinyflow.mlperf.dut import EembcDut, check_model


class _ScriptedPort:
    """Answers EEMBC commands from a table (command -> reply lines), like a DUT on a wire."""

    def __init__(self, replies: dict[str, list[str]]):
        self.replies, self.timeout, self._out = replies, 0.1, bytearray()

    @property
    def in_waiting(self) -> int:
        return len(self._out)

    def write(self, data: bytes) -> int:
        cmd = data.decode().rstrip("%").split()[0]
        lines = self.replies.get(cmd, [f"e-[Unknown command: {cmd}]"])
        self._out += "".join(f"{ln}\r\n" for ln in [*lines, "m-ready"]).encode()
        return len(data)

    def read(self, n: int) -> bytes:
        out = bytes(self._out[:n])
        del self._out[:n]
        return out


MODEL = b"a model's bytes"
SHA = hashlib.sha256(MODEL).hexdigest()[:16]


def _dut(identity: list[str] | None) -> EembcDut:
    replies = {"name": ["m-name-dut-[test]"]}
    if identity is not None:
        replies["tinyflow-model"] = identity
    return EembcDut(_ScriptedPort(replies), timeout=2.0)


def test_a_dut_built_from_this_model_is_accepted():
    dut = _dut([f"m-model-sha256-[{SHA}]", f"m-model-bytes-[{len(MODEL)}]"])
    assert dut.identity() == (SHA, len(MODEL))
    check_model(dut, MODEL)


@pytest.mark.parametrize(
    "lines",
    [
        ["m-model-sha256-[0123456789abcdef]", f"m-model-bytes-[{len(MODEL)}]"],
        [f"m-model-sha256-[{SHA}]", "m-model-bytes-[7]"],
    ],
)
def test_a_dut_built_from_another_model_is_refused(lines):
    with pytest.raises(ModelError, match="The DUT runs another model"):
        check_model(_dut(lines), MODEL)


def test_a_dut_that_cannot_tell_is_taken_as_it_is():
    check_model(_dut(None), MODEL)  # the reference firmware answers e-[Unknown command]


@pytest.mark.firmware
def test_serve_refuses_a_model_the_firmware_was_not_built_from(tmp_path, monkeypatch):
    """The firmware is built from the AD model, the user names another file: one Error line."""
    from tinyflow.targets.machines.host import PtyDevice
    from tinyflow.workflows import device

    require_tool("cc")
    built = corpus_path(MODELS["ad01"]).read_bytes()
    other = tmp_path / "other.tflite"
    other.write_bytes(built + bytes(16))  # a different file (SHA-256 and size) the same reader accepts
    real = device.build_host_firmware
    monkeypatch.setattr(device, "build_host_firmware", lambda model, *a, **k: real(built, *a, **k))
    # Were the DUT served, the command would stop at once instead of serving until interrupted.
    monkeypatch.setattr(PtyDevice, "wait", lambda self, timeout=None: 0)
    res = CliRunner().invoke(cli, ["mlperf", "serve", str(other), "--benchmark", "ad01"])
    assert res.exit_code == 1, res.output
    last = res.output.strip().splitlines()[-1]
    assert last.startswith("Error: The DUT runs another model (sha256 "), res.output
    assert f"{len(built):,} B), not this one" in last
