"""The device side of the link protocol in Python, for simulated boards (docs/protocol.md).

`PythonDevice(runtime)` answers frames exactly as the C core (firmware/src/device.c) does;
`SimPort(device)` is an in-process pyserial-like port in front of it. A simulated board
(e.g. sim://tflm, targets/machines/tflm.py) only writes a `Runtime`.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field

from tinyflow.protocol import framing as fr
from tinyflow.protocol import messages as m
from tinyflow.targets.port import Port


@dataclass
class ModelInfo:
    """What a runtime tells the device about its model (the fields of model.h)."""

    runtime: str
    model_name: str
    inputs: list[m.TensorSpec]
    outputs: list[m.TensorSpec]
    op_names: list[str] = field(default_factory=list)
    model_sha256: bytes = b"\0" * 8
    model_bytes: int = 0
    arena_bytes: int = 0


class Runtime(abc.ABC):
    """A model runtime behind a simulated device.

    Attributes a subclass may override: board_id, cpu_hz, ticks_per_second (ticks are the unit
    of invoke()'s op_ticks; sim://tflm estimates them and says so).
    """

    board_id = "sim"
    cpu_hz = 0
    ticks_per_second = 1_000_000

    @abc.abstractmethod
    def model_info(self) -> ModelInfo:
        """The model's identity and tensor specs."""

    @abc.abstractmethod
    def invoke(self, inputs: list[bytes]) -> tuple[list[bytes], list[int]]:
        """Run one inference on raw input buffers; returns (output buffers, ticks per op)."""

    def arena_used(self) -> int:
        """Activation/arena bytes actually used."""
        return self.model_info().arena_bytes

    def stack_high_water(self) -> int:
        return 0

    def reset(self) -> None:  # noqa: B027 (optional hook: a stateless runtime has nothing to forget)
        """Forget all state, as a rebooted board would (the default keeps none)."""


class PythonDevice:
    """The protocol core in Python: feed() request bytes, get reply bytes."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        max_frame: int = 1024,
        rx_queue_bytes: int = 65536,
        boot_count: int = 0,
        firmware_version: str | None = None,
        reply_cache_bytes: int = 1024,
    ):
        from tinyflow import __version__

        self.runtime = runtime
        self.max_frame = max_frame
        self.rx_queue_bytes = rx_queue_bytes
        self.reply_cache_bytes = reply_cache_bytes
        self.firmware_version = firmware_version or f"tinyflow-py {__version__}"
        self.boot_count = boot_count - 1
        self.reset()

    def reset(self) -> bytes:
        """Reboot: boot counter + 1, state cleared; returns the BOOT frame it announces."""
        self.boot_count += 1
        self.runtime.reset()
        self.info = self.runtime.model_info()
        self.input_total = sum(s.bytes for s in self.info.inputs)
        self.reader = fr.FrameReader(self.max_frame)
        self.infer_count = self.rx_frames = self.rx_errors = 0
        self.staged, self.staged_tag = bytearray(self.input_total), 0
        self.staged_count = 0
        self.offset_error_sent = False
        self.op_ticks = [0] * len(self.info.op_names)
        self.cache: tuple[int, m.InferReply] | None = None
        self.uptime_ticks = 0
        return fr.encode_frame(m.BOOT, 0, m.encode_boot(self.boot_count), fr.FLAG_REPLY)

    def feed(self, data: bytes) -> bytes:
        """Process request bytes; returns every reply byte they caused."""
        out = bytearray()
        for ev in self.reader.feed(bytes(data)):
            if isinstance(ev, fr.FrameError):
                self.rx_errors += 1
                code = (
                    m.ERR_TOO_LONG
                    if "longer" in ev.message
                    else (m.ERR_BAD_CRC if "CRC" in ev.message else m.ERR_BAD_FRAME)
                )
                out += self._error(fr.SEQ_UNKNOWN, code, 0, 0, 0, ev.message)
            else:
                self.rx_frames += 1
                if not ev.is_reply:
                    out += self._dispatch(ev)
        return bytes(out)

    # -- requests -------------------------------------------------------------------------
    def _dispatch(self, f: fr.Frame) -> bytes:
        handler = {
            m.HELLO: self._hello,
            m.INFER: self._infer,
            m.UPLOAD: self._upload,
            m.PROFILE: self._profile,
            m.STATS: self._stats,
            m.SYNC: self._sync,
            m.PIPELINE: self._pipeline,
        }.get(f.type)
        if handler is None:
            return self._error(f.seq, m.ERR_UNKNOWN_TYPE, f.type, 0, f.type, "unknown request type")
        return handler(f)

    def _reply(self, f: fr.Frame, body: bytes) -> bytes:
        return fr.encode_frame(f.type, f.seq, body, fr.FLAG_REPLY)

    def _error(self, seq, code, rtype, tag, detail, msg) -> bytes:
        return fr.encode_frame(m.ERROR, seq, m.encode_error(m.ErrorReply(code, rtype, tag, detail, msg)), fr.FLAG_REPLY)

    def _hello(self, f):
        i, rt = self.info, self.runtime
        info = m.DeviceInfo(
            max_frame=self.max_frame,
            rx_queue_bytes=self.rx_queue_bytes,
            boot_count=self.boot_count,
            cpu_hz=int(rt.cpu_hz),
            ticks_per_second=int(rt.ticks_per_second),
            model_bytes=i.model_bytes,
            model_sha256=i.model_sha256,
            arena_bytes=i.arena_bytes,
            num_ops=len(i.op_names),
            firmware_version=self.firmware_version,
            board_id=rt.board_id,
            runtime=i.runtime,
            model_name=i.model_name,
            inputs=i.inputs,
            outputs=i.outputs,
        )
        return self._reply(f, m.encode_info(info))

    def _infer(self, f):
        if self.cache is not None and self.cache[0] == f.seq:
            return self._reply(f, m.encode_infer_reply(self.cache[1]))
        if f.body and len(f.body) != self.input_total:
            return self._error(
                f.seq, m.ERR_BAD_LENGTH, m.INFER, 0, self.input_total, "INFER body is not the input size"
            )
        self.offset_error_sent = False
        if not f.body and (self.staged_count != self.input_total or self.staged_tag != f.seq):
            return self._error(
                f.seq, m.ERR_NOT_STAGED, m.INFER, self.staged_tag, self.staged_count, "input not fully staged"
            )
        data = f.body or bytes(self.staged)
        self.staged_count = 0
        buffers, at = [], 0
        for spec in self.info.inputs:
            buffers.append(data[at : at + spec.bytes])
            at += spec.bytes
        try:
            outputs, op_ticks = self.runtime.invoke(buffers)
        except Exception as exc:  # a simulated model failing is a MODEL_FAILED reply, as on a board
            self.cache = None
            return self._error(f.seq, m.ERR_MODEL_FAILED, m.INFER, 0, 1, f"{type(exc).__name__}: {exc}"[:200])
        self.infer_count += 1
        self.op_ticks = list(op_ticks)
        ticks = int(sum(op_ticks)) & 0xFFFFFFFF
        tps = self.runtime.ticks_per_second
        micros = (ticks * 1_000_000 // tps) if tps else 0
        self.uptime_ticks += ticks
        reply = m.InferReply(ticks, micros, self.boot_count, self.infer_count, b"".join(bytes(o) for o in outputs))
        self.cache = (f.seq, reply) if len(reply.outputs) <= self.reply_cache_bytes else None
        return self._reply(f, m.encode_infer_reply(reply))

    def _upload(self, f):
        try:
            tag, offset, data = m.decode_upload(f.body)
        except fr.FrameError:
            return self._error(f.seq, m.ERR_BAD_LENGTH, m.UPLOAD, 0, m.UPLOAD_HEAD.size, "UPLOAD body too short")
        in_order = offset == 0 or (tag == self.staged_tag and offset == self.staged_count)
        if not in_order or offset + len(data) > self.input_total:
            first, self.offset_error_sent = not self.offset_error_sent, True  # one error per broken upload
            return (
                self._error(f.seq, m.ERR_BAD_OFFSET, m.UPLOAD, self.staged_tag, self.staged_count, "chunk out of order")
                if first
                else b""
            )
        self.offset_error_sent = False
        self.staged[offset : offset + len(data)] = data
        self.staged_tag, self.staged_count = tag, offset + len(data)
        if f.flags & fr.FLAG_NOACK:
            return b""
        return self._reply(f, m.encode_upload_ack(tag, self.staged_count))

    def _sync(self, f):
        if len(f.body) != 4:
            return self._error(f.seq, m.ERR_BAD_LENGTH, m.SYNC, 0, 4, "SYNC body is not a u32 nonce")
        return self._reply(f, m.encode_sync_reply(m.decode_sync(f.body), self.boot_count))

    def _profile(self, f):
        return self._reply(f, m.encode_profile(self.op_ticks, self.info.op_names))

    def _pipeline(self, f):
        pipe = getattr(self.runtime, "pipeline", None)
        info = pipe() if pipe else m.PipelineInfo(0, 0, 0, 0, m.PIPELINE_NO_FEATURES)
        return self._reply(f, m.encode_pipeline_reply(info))

    def attach_frontend(self, config) -> None:
        """Run `config`'s front end before the model, as firmware/src/pipeline.c does (no reboot)."""
        if config is not None:
            self.runtime = FrontendRuntime(self.runtime, config)
            self.info = self.runtime.model_info()
            self.input_total = sum(s.bytes for s in self.info.inputs)
            self.staged, self.staged_count = bytearray(self.input_total), 0
            self.op_ticks = [0] * len(self.info.op_names)
            self.cache = None

    def _stats(self, f):
        s = m.Stats(
            self.runtime.arena_used(),
            self.runtime.stack_high_water(),
            self.boot_count,
            self.infer_count,
            self.rx_frames,
            self.rx_errors,
            self.uptime_ticks,
        )
        return self._reply(f, m.encode_stats(s))


class FrontendRuntime(Runtime):
    """A runtime behind a front end: the contract of firmware/include/tinyflow/pipeline.h in numpy.

    Input 0 is the raw int16 window [window_frames, channels]; the outputs are the model's plus
    the features (the model's input 0 as filled by tinyflow.frontends.mapping); op 0 is FRONTEND.
    """

    def __init__(self, inner: Runtime, config):
        from tinyflow.frontends import mapping

        self.inner, self.config, self._mapping = inner, config, mapping
        self.board_id, self.cpu_hz, self.ticks_per_second = inner.board_id, inner.cpu_hz, inner.ticks_per_second
        model = inner.model_info()
        self._in0 = model.inputs[0]
        self.frames = mapping.raw_window_frames(config, self._in0.shape)  # UsageError: not whole rows
        self.channels = mapping.raw_channels(config)
        from tinyflow.tflite.dtypes import LINK_BY_CODE

        link = LINK_BY_CODE.get(self._in0.dtype)
        self._dtype = link.numpy if link is not None and link.numpy in ("float32", "int16", "int8") else None
        if self._dtype is None:
            from tinyflow.errors import UsageError

            raise UsageError(f"A front end feeds float32, int8 or int16 model inputs, not {self._in0.dtype_name}")
        raw = m.TensorSpec(7, (self.frames, self.channels), 0.0, 0, self.frames * self.channels * 2)
        self._info = ModelInfo(
            **{
                **model.__dict__,
                "inputs": [raw, *model.inputs[1:]],
                "outputs": [*model.outputs, self._in0],
                "op_names": ["FRONTEND", *model.op_names],
            }
        )

    def model_info(self) -> ModelInfo:
        return self._info

    def pipeline(self) -> m.PipelineInfo:
        return m.PipelineInfo(
            self._mapping.PIPELINE_KINDS[self.config.name],
            self.channels,
            self._mapping.raw_sample_rate(self.config),
            self.frames,
            len(self._info.outputs) - 1,
        )

    def invoke(self, inputs: list[bytes]) -> tuple[list[bytes], list[int]]:
        import numpy as np

        raw = np.frombuffer(bytes(inputs[0]), dtype="<i2").astype(np.int16).reshape(self.frames, self.channels)
        features = self._mapping.raw_features(self.config, self._mapping.raw_signal(self.config, raw))
        x = self._mapping.features_to_model_input(
            self.config, features, self._dtype, self._in0.scale, self._in0.zero_point
        )
        data = x.astype(x.dtype.newbyteorder("<")).tobytes()
        outputs, ticks = self.inner.invoke([data, *inputs[1:]])
        return [*outputs, data], [0, *ticks]  # the numpy front end's time is not the device's: 0

    def arena_used(self) -> int:
        return self.inner.arena_used()

    def stack_high_water(self) -> int:
        return self.inner.stack_high_water()

    def reset(self) -> None:
        self.inner.reset()

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if close:
            close()


class SimPort(Port):
    """An in-process pyserial-like port in front of a PythonDevice (replies are immediate)."""

    instant = True  # tells the client that an empty read means nothing more will come

    def __init__(self, device: PythonDevice, *, timeout: float = 2.0, announce_boot: bool = True):
        self.device = device
        self.timeout = timeout
        self.is_open = True
        self._out = bytearray()
        if announce_boot:
            self._out += fr.encode_frame(m.BOOT, 0, m.encode_boot(device.boot_count), fr.FLAG_REPLY)

    @property
    def in_waiting(self) -> int:
        return len(self._out)

    def write(self, data) -> int:
        self._check()
        self._out += self.device.feed(bytes(data))
        return len(data)

    def read(self, size: int = 1) -> bytes:
        self._check()
        # Nothing more can arrive while the caller waits: return at once instead of sleeping.
        out = bytes(self._out[:size])
        del self._out[:size]
        return out

    def reset(self) -> None:
        """Reboot the simulated board (boot counter + 1); it announces BOOT."""
        self._out += self.device.reset()

    def reset_input_buffer(self) -> None:
        self._out.clear()

    def close(self) -> None:
        self.is_open = False

    def _check(self) -> None:
        if not self.is_open:
            from tinyflow.errors import LinkError

            raise LinkError("The simulated port is closed", "Open the target again.")


def model_bytes(model) -> bytes:
    """The .tflite a simulated board runs: bytes as given, or the file's through read_model_file
    (regular files within MAX_MODEL_BYTES only, as every verb reads models)."""
    if isinstance(model, (bytes, bytearray, memoryview)):
        return bytes(model)
    from tinyflow.tflite import read_model_file

    return read_model_file(model)
