"""One model in the TFLite Micro reference runtime, in a long-lived child process (for
tinyflow.runtimes.tflm, which owns the public API).

TFLM is C++ that trusts the model: a hostile or broken .tflite can crash it (SIGSEGV) or make an
invoke run forever (a WHILE whose condition never turns false), and either would take the
caller's process with it. So nothing in tinyflow runs TFLM in-process: a `TflmWorker` loads the
model once in a child and answers invoke/reset/allocations requests over pipes, each with a
deadline. A crash becomes one ModelError naming the signal; a missed deadline kills the child and
becomes one ModelError too. One child per model (not per sample) keeps eval fast: a request costs
a few pipe writes. The child's address space is capped (CHILD_MEMORY_BYTES), so a model cannot
make it eat the machine's memory either.

Protocol (binary, child stdin/stdout): a request is `<verb> <n> <bytes>\\n` then n arrays in .npy format
(numpy.lib.format, never pickle); the reply is `ok <nbytes>\\n` and nbytes of payload (.npy arrays,
or text for `allocations`), or `error <one line>\\n`. TFLM's own printout goes to a log file, never
into the protocol stream.
"""

from __future__ import annotations

import io
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from pathlib import Path

import numpy as np
from numpy.lib import format as npy

from tinyflow.errors import ModelError

LOAD_TIMEOUT_S = 120.0
INVOKE_TIMEOUT_S = 120.0
# The child's address-space cap: Python + numpy + tflite_micro map ~150 MB; the reader caps a
# model's activations (tinyflow.tflite.budget.MAX_ACTIVATION_BYTES) well below the rest.
CHILD_MEMORY_BYTES = 3 << 29  # 1.5 GiB
_MAX_LINE = 4096
_HINT = "The model is malformed or hostile: check it with `tinyflow inspect --no-arena`, or re-export it."

# Runs in the child. fd 1 becomes the protocol pipe's private copy; fds 1 and 2 then point at
# the log, so whatever TFLM prints (from C) cannot corrupt a reply.
_CHILD = r"""
import io, os, resource, sys
limit = int(sys.argv[5])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
out = os.fdopen(os.dup(1), "wb", buffering=0)
os.dup2(2, 1)
import numpy as np
from numpy.lib import format as npy
from tflite_micro import runtime

def reply(payload=b"", error=None):
    out.write((f"error {' '.join(error.split())[:2000]}\n".encode() if error is not None
               else b"ok %d\n" % len(payload) + payload))

path, log, arena, n_outputs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
try:
    it = runtime.Interpreter.from_bytes(open(path, "rb").read(), arena_size=arena)
except Exception as exc:
    reply(error=f"{type(exc).__name__}: {exc}")
    sys.exit(3)
reply()
src = sys.stdin.buffer
for line in src:
    verb, n, size = line.split()
    body = io.BytesIO(src.read(int(size)))
    arrays = [npy.read_array(body, allow_pickle=False) for _ in range(int(n))]
    try:
        if verb in (b"invoke", b"reset+invoke"):
            if verb == b"reset+invoke":
                it.reset()
            for k, a in enumerate(arrays):
                it.set_input(a, k)
            it.invoke()
            buf = io.BytesIO()
            for k in range(n_outputs):
                npy.write_array(buf, np.asarray(it.get_output(k), order="C"), allow_pickle=False)
            reply(buf.getvalue())
        elif verb == b"reset":
            it.reset()
            reply()
        elif verb == b"allocations":
            start = os.lseek(2, 0, os.SEEK_END)
            it.print_allocations()
            with open(log, "rb") as f:
                f.seek(start)
                reply(f.read(1 << 20))
        else:
            reply(error=f"unknown request {verb!r}")
    except Exception as exc:
        reply(error=f"{type(exc).__name__}: {exc}")
"""


class TflmWorker:
    """A child process holding one model in TFLM; thread-safe. Close it (or use `with`) when done.

    Raises (from every call): ModelError when TFLM refuses the model or a request, crashes
    (naming the signal) or misses its deadline (the child is then killed).
    """

    def __init__(
        self,
        data: bytes,
        arena_bytes: int,
        output_bytes: int,
        n_outputs: int,
        load_timeout: float = LOAD_TIMEOUT_S,
        invoke_timeout: float = INVOKE_TIMEOUT_S,
    ):
        self.invoke_timeout = invoke_timeout
        self._max_reply = int(output_bytes) + 256 * n_outputs + _MAX_LINE  # .npy headers are ~128 B
        self._lock = threading.Lock()
        self._buf = bytearray()
        self._dir = Path(tempfile.mkdtemp(prefix="tinyflow-tflm-"))
        self._log = self._dir / "tflm.log"
        try:
            (self._dir / "model.tflite").write_bytes(data)
            with open(self._log, "wb") as log:
                self.proc = subprocess.Popen(
                    [
                        sys.executable,
                        "-c",
                        _CHILD,
                        str(self._dir / "model.tflite"),
                        str(self._log),
                        str(int(arena_bytes)),
                        str(int(n_outputs)),
                        str(CHILD_MEMORY_BYTES),
                    ],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=log,
                )
        except BaseException:
            shutil.rmtree(self._dir, ignore_errors=True)
            raise
        # Runs on close(), on garbage collection and at exit: no child or temporary folder outlives us.
        self._finalizer = weakref.finalize(self, _stop, self.proc, self._dir)
        try:
            self._reply("loading the model", load_timeout)
        except BaseException:
            self.close()
            raise

    def invoke(self, inputs: list[np.ndarray], reset: bool = False) -> list[np.ndarray]:
        """Outputs (arrays in TFLM's shapes and dtypes) of one invoke on `inputs` (one per model input);
        `reset` first zeroes the variable tensors (in the same round trip)."""
        payload = self._request(b"reset+invoke" if reset else b"invoke", inputs, "invoking the model")
        stream = io.BytesIO(payload)
        try:
            outs = []
            while stream.tell() < len(payload):
                outs.append(npy.read_array(stream, allow_pickle=False))
        except ValueError as exc:
            raise ModelError(f"The TFLite Micro worker sent a malformed reply: {exc}", _HINT) from None
        return outs

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def reset(self) -> None:
        """Reset every variable tensor (SVDF/LSTM state) to zero."""
        self._request(b"reset", [], "resetting the model")

    def allocations(self) -> str:
        """TFLM's allocation printout (RecordingMicroAllocator: totals and per-kind bytes)."""
        return self._request(b"allocations", [], "reporting allocations").decode(errors="replace")

    def _request(self, verb: bytes, arrays: list[np.ndarray], what: str) -> bytes:
        with self._lock:
            if self.proc.poll() is not None:
                self._died(what)
            buf = io.BytesIO()
            for a in arrays:  # np.asarray keeps a scalar (rank-0) input rank 0; ascontiguousarray would not
                npy.write_array(buf, np.asarray(a, order="C"), allow_pickle=False)
            try:
                body = buf.getvalue()
                self.proc.stdin.write(b"%s %d %d\n" % (verb, len(arrays), len(body)) + body)
                self.proc.stdin.flush()
            except (BrokenPipeError, OSError):
                self._died(what)
            return self._reply(what, self.invoke_timeout)

    def _reply(self, what: str, timeout: float) -> bytes:
        """One reply, all of it before `timeout` seconds from now (an absolute deadline)."""
        deadline = time.monotonic() + timeout
        line = self._read_line(deadline, what, timeout)
        head, _, rest = line.partition(b" ")
        if head == b"error":
            raise ModelError(f"TFLite Micro failed {what}: {rest.decode(errors='replace').strip()}", _HINT)
        if head != b"ok" or not rest.strip().isdigit() or int(rest) > self._max_reply + (1 << 20):
            raise ModelError(f"The TFLite Micro worker sent a malformed reply while {what}: {line[:80]!r}", _HINT)
        return self._read_exact(int(rest), deadline, what, timeout)

    def _read_line(self, deadline: float, what: str, timeout: float) -> bytes:
        while b"\n" not in self._buf:
            if len(self._buf) > _MAX_LINE:
                raise ModelError(f"The TFLite Micro worker sent a malformed reply while {what}", _HINT)
            self._fill(deadline, what, timeout)
        line, _, rest = bytes(self._buf).partition(b"\n")
        self._buf[:] = rest
        return line

    def _read_exact(self, n: int, deadline: float, what: str, timeout: float) -> bytes:
        while len(self._buf) < n:
            self._fill(deadline, what, timeout)
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out

    def _fill(self, deadline: float, what: str, timeout: float) -> None:
        fd = self.proc.stdout.fileno()
        left = deadline - time.monotonic()
        ready = select.select([fd], [], [], max(left, 0))[0] if left > 0 else []
        if not ready:
            self._kill()
            raise ModelError(
                f"TFLite Micro took more than {timeout:g} s {what}; the worker was stopped",
                "The model may loop forever (a WHILE op?) or be too large for this computer: check it "
                "with `tinyflow inspect --no-arena`.",
            )
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            self._died(what)
        self._buf += chunk

    def _died(self, what: str):
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._kill()
            code = self.proc.returncode
        why = f"crashed with {signal_name(-code)}" if code is not None and code < 0 else f"exited with status {code}"
        last = self._last_log_line()
        raise ModelError(f"TFLite Micro {why} while {what}{': ' + last if last else ''}", _HINT)

    def _last_log_line(self) -> str:
        try:
            with open(self._log, "rb") as f:
                f.seek(max(0, f.seek(0, os.SEEK_END) - 4000))
                lines = [ln.strip() for ln in f.read().decode(errors="replace").splitlines() if ln.strip()]
        except OSError:
            return ""
        return lines[-1][:300] if lines else ""

    def _kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass  # unkillable (D state): nothing more to do; its pipes are closed in close()

    def close(self) -> None:
        """Stop the child (EOF on its stdin ends its loop) and remove its files."""
        self._finalizer()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _stop(proc: subprocess.Popen, folder: Path) -> None:
    for stream in (proc.stdin, proc.stdout):
        try:
            stream.close()
        except OSError:
            pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass  # unkillable (D state): nothing more to do
    shutil.rmtree(folder, ignore_errors=True)


def signal_name(number: int) -> str:
    try:
        return f"signal {number} ({signal.Signals(number).name})"
    except ValueError:
        return f"signal {number}"
