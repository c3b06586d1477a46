"""Subprocess probes of the TFLite Micro runtime, for tinyflow.runtimes.tflm (which owns the public API).

TFLM can crash the whole process when an arena is too small (or the model is hostile), so nothing
here runs TFLM in the caller's process, and every child's address space is capped
(runtimes._worker.CHILD_MEMORY_BYTES). A probe killed by a signal ends its output with a
`TINYFLOW_PROBE_SIGNAL <n>` line:
- `probe_once(path, arena, ...)`: a fresh `python -c` child per probe (portable, ~0.2 s each).
- `ProbeServer(path, ...)`: one child that loads tflite_micro and the model once, then forks a
  grandchild per probe (POSIX; a few ms each). A crash kills only that grandchild.
- `probe_op_support(names)`: which ops the installed build registers, without preparing any.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import tempfile
from pathlib import Path

from tinyflow.errors import ModelError
from tinyflow.runtimes._worker import CHILD_MEMORY_BYTES

SIGNAL_MARK = "TINYFLOW_PROBE_SIGNAL"  # ends a probe's output when TFLM killed it with a signal

# Runs in a child interpreter: load with `arena` bytes, invoke on zeros, print TFLM's allocations.
# Needs only tflite_micro and numpy, so a crash (too small an arena) takes down nothing of ours.
_CHILD = r"""
import resource, sys
limit = int(sys.argv[4])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
import numpy as np
from tflite_micro import runtime
path, arena, n_inputs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
try:
    it = runtime.Interpreter.from_bytes(open(path, "rb").read(), arena_size=arena)
    for i in range(n_inputs):
        d = it.get_input_details(i)
        it.set_input(np.zeros(d["shape"], d["dtype"]), i)
    it.invoke()
except Exception as exc:
    print("TINYFLOW_PROBE_ERROR", type(exc).__name__, exc, flush=True)
    sys.exit(3)
it.print_allocations()
print("TINYFLOW_PROBE_OK", flush=True)
"""


def probe_once(path: Path, arena: int, n_inputs: int, timeout: float) -> tuple[bool, str]:
    """(loaded and invoked?, output incl. the allocation printout) for one arena size, in a fresh child."""
    cmd = [sys.executable, "-c", _CHILD, str(path), str(arena), str(n_inputs), str(CHILD_MEMORY_BYTES)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ModelError(
            f"A TFLite Micro arena probe ({arena} bytes) took more than {timeout:.0f} s",
            "Check the machine's load; run again with --no-arena to skip the measurement.",
        ) from None
    ok = proc.returncode == 0 and "TINYFLOW_PROBE_OK" in proc.stdout
    crashed = f"\n{SIGNAL_MARK} {-proc.returncode}\n" if proc.returncode < 0 else ""
    return ok, proc.stdout + proc.stderr + crashed


# The server: load once, then one fork per probe. The grandchild's stdout/stderr (TFLM's C
# printout included) go to a log file the server reads back after waitpid; a grandchild that
# outlives its timeout is killed. One JSON line answers each "<arena> <timeout>" request line.
_SERVER = r"""
import json, os, resource, sys, time
limit = int(sys.argv[3])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
import numpy as np
from tflite_micro import runtime
path, n_inputs = sys.argv[1], int(sys.argv[2])
data = open(path, "rb").read()
log = path + ".probe.log"
for line in sys.stdin:
    arena, timeout = int(line.split()[0]), float(line.split()[1])
    pid = os.fork()
    if pid == 0:
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        code = 3
        try:
            it = runtime.Interpreter.from_bytes(data, arena_size=arena)
            for i in range(n_inputs):
                d = it.get_input_details(i)
                it.set_input(np.zeros(d["shape"], d["dtype"]), i)
            it.invoke()
            it.print_allocations()
            os.write(1, b"TINYFLOW_PROBE_OK\n")
            code = 0
        except BaseException as exc:
            os.write(1, ("TINYFLOW_PROBE_ERROR %s %s\n" % (type(exc).__name__, exc)).encode())
        os._exit(code)
    deadline, status = time.monotonic() + timeout, None
    while status is None and time.monotonic() < deadline:
        done, st = os.waitpid(pid, os.WNOHANG)
        status = st if done else None
        if status is None:
            time.sleep(0.002)
    if status is None:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        reply = {"ok": False, "timeout": True, "text": ""}
    else:
        with open(log, errors="replace") as f:
            text = f.read()[-20000:]
        ok = os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0 and "TINYFLOW_PROBE_OK" in text
        if os.WIFSIGNALED(status):
            text += "\nTINYFLOW_PROBE_SIGNAL %d\n" % os.WTERMSIG(status)
        reply = {"ok": ok, "timeout": False, "text": text}
    sys.stdout.write(json.dumps(reply) + "\n")
    sys.stdout.flush()
"""


class ProbeServer:
    """Probe arena sizes for one model through one forking child; call it, then close() (or use `with`)."""

    def __init__(self, path: Path, n_inputs: int, timeout: float):
        self.timeout = timeout
        self._err = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _SERVER, str(path), str(n_inputs), str(CHILD_MEMORY_BYTES)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._err,
            text=True,
        )

    def __call__(self, arena: int) -> tuple[bool, str]:
        try:
            self.proc.stdin.write(f"{arena} {self.timeout}\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            self._died()
        # The server answers within its own per-probe timeout; the margin covers its start-up.
        ready, _, _ = select.select([self.proc.stdout], [], [], self.timeout + 60)
        if not ready:
            raise ModelError(
                f"The TFLite Micro probe server did not answer within {self.timeout + 60:.0f} s",
                "Check the machine's load; run again with --no-arena to skip the measurement.",
            )
        line = self.proc.stdout.readline()
        if not line:
            self._died()
        reply = json.loads(line)
        if reply["timeout"]:
            raise ModelError(
                f"A TFLite Micro arena probe ({arena} bytes) took more than {self.timeout:.0f} s",
                "Check the machine's load; run again with --no-arena to skip the measurement.",
            )
        return reply["ok"], reply["text"]

    def _died(self):
        self._err.seek(0)
        last = (self._err.read().decode(errors="replace").strip().splitlines() or ["no output"])[-1]
        raise ModelError(f"The TFLite Micro probe server exited: {last}", "Check that tflite-micro is installed.")

    def close(self) -> None:
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self._err.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def forking_available() -> bool:
    return hasattr(os, "fork") and sys.platform != "win32"


_SUPPORT_CHILD = r"""
import os, sys
from tflite_micro import runtime
for line in sys.stdin:
    os.write(2, ("@@" + line.split(" ", 1)[0] + "\n").encode())
    try:
        runtime.Interpreter.from_bytes(bytes.fromhex(line.split(" ", 1)[1].strip()), arena_size=1 << 16)
    except Exception:
        pass
"""


def probe_op_support(names: list[str], timeout: float = 120.0) -> dict[str, bool]:
    """Ask the installed tflite_micro which ops (BuiltinOperator names or CUSTOM:<code>) it registers.

    Each op is put in a two-op model before an op this build never registers (HASHTABLE). TFLM
    looks up every op before preparing any, so the error names the first missing one: the op
    under test if it is missing, else HASHTABLE. Nothing is ever prepared, so nothing can crash.
    """
    from tinyflow.tflite.writer import pack

    lines = "".join(f"{n} {pack(_probe_model(n)).hex()}\n" for n in names)
    proc = subprocess.run(
        [sys.executable, "-c", _SUPPORT_CHILD], input=lines, capture_output=True, text=True, timeout=timeout
    )
    result = {}
    for block in proc.stderr.split("@@")[1:]:
        name, _, rest = block.partition("\n")
        result[name] = "opcode 'HASHTABLE'" in rest
    return result


def _probe_model(name: str):
    import ai_edge_litert.schema_py_generated as s

    from tinyflow.tflite.writer import ModelBuilder

    mb = ModelBuilder()
    a, y, z = (mb.tensor([1, 4], "int8", scale=0.1, zero_point=0) for _ in range(3))
    m = mb.model(inputs=[a], outputs=[z])
    codes = []
    for op_name, custom in ((name, None), ("HASHTABLE", None)):
        oc = s.OperatorCodeT()
        if op_name.startswith("CUSTOM:"):
            op_name, custom = "CUSTOM", op_name[len("CUSTOM:") :]
        oc.builtinCode = getattr(s.BuiltinOperator, op_name)
        oc.deprecatedBuiltinCode, oc.customCode, oc.version = min(oc.builtinCode, 127), custom, 1
        codes.append(oc)
    m.operatorCodes = codes
    ops = []
    for k, (i, o) in enumerate(((a, y), (y, z))):
        op = s.OperatorT()
        op.opcodeIndex, op.inputs, op.outputs = k, [i], [o]
        if k == 0 and name == "VAR_HANDLE":  # the Python wrapper reads its shared_name before TFLM
            op.builtinOptionsType, op.builtinOptions = s.BuiltinOptions.VarHandleOptions, s.VarHandleOptionsT()
        ops.append(op)
    m.subgraphs[0].operators = ops
    return m
