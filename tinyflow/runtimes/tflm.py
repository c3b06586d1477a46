"""The TFLite Micro reference runtime on the host (`tflite_micro.runtime`): the oracle for what a
board computes, its op support, and the smallest tensor arena a model needs.

- `TflmRuntime(model)` (tinyflow.runtimes.open_runtime("tflm", model)): the model in a worker child
  (`_worker`; the process's cached one per model, or one of its own with cached=False): TFLM never
  runs in the caller's process, so a hostile model cannot crash or hang it.
- `run(model, samples)`: the same, in one call; `run_float(model, x)`: float in, float out.
- `start_worker(model)`: a bare worker of one's own.
- `unsupported_ops(model)` / `check_supported(model)`: ops this TFLM build cannot run (the
  probed lists are in `_tflm_ops`).
- `measure_arena(model)`: the smallest arena that loads AND invokes, probed in subprocesses
  because TFLM may crash the whole process when the arena is too small; cached by SHA-256.
"""

from __future__ import annotations

import collections
import hashlib
import json
import os
import re
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from tinyflow.errors import ModelError
from tinyflow.runtimes import Runtime, dequantize, model_data, quantize_input
from tinyflow.runtimes._tflm_ops import SUPPORTED_BUILTINS, SUPPORTED_CUSTOM, TFLM_BUILD
from tinyflow.runtimes._worker import TflmWorker
from tinyflow.tflite import TfliteModel, read_model

PROBE_TIMEOUT_S = 120.0
MAX_ARENA_BYTES = 1 << 30  # no probe asks for more (the children's address space is capped anyway)
MAX_PROBES = 40
_GRANULE = 16


def _model(model) -> TfliteModel:
    return model if isinstance(model, TfliteModel) else read_model(model)


def unsupported_ops(model) -> list[str]:
    """Op names (of every subgraph) this TFLM build cannot run, each once, in execution order."""
    bad: dict[str, None] = {}
    for name in _model(model).all_op_names():
        if name.startswith("CUSTOM:"):
            ok = name[len("CUSTOM:") :] in SUPPORTED_CUSTOM
        else:
            ok = name in SUPPORTED_BUILTINS
        if not ok:
            bad[name] = None
    return list(bad)


def check_supported(model) -> None:
    """Raise ModelError naming every op the TFLM runtime cannot run."""
    bad = unsupported_ops(model)
    if bad:
        raise ModelError(
            f"TFLite Micro cannot run op{'s' if len(bad) > 1 else ''} {', '.join(bad)} "
            f"(not registered in {TFLM_BUILD})",
            "Replace or remove the op in the model, or use --runtime aot if the compiler supports it.",
        )


# ---- running ------------------------------------------------------------------------------------

# Worker processes (runtimes._worker) of the models run last, by content hash.
_CACHE: collections.OrderedDict[str, tuple[TflmWorker, TfliteModel]] = collections.OrderedDict()
_CACHE_SIZE = 4
_CACHE_LOCK = threading.Lock()


def _safe_arena(m: TfliteModel) -> int:
    """An arena surely large enough: every non-constant tensor twice over plus fixed overhead."""
    activations = sum(t.nbytes for t in m.tensors if not t.is_constant)
    return 2 * activations + 256 * len(m.tensors) + 512 * len(m.ops) + (256 << 10)


def start_worker(model) -> tuple[TflmWorker, TfliteModel]:
    """A new TFLM child process holding `model` (bytes, path or TfliteModel); the caller closes it.

    The model is checked first (op support, then the arena measured in probe children, cached by
    hash), so a model TFLM cannot load fails with the probe's reason before the worker starts.
    Raises:
        ModelError: unsupported ops, a model TFLM cannot load, or a crash/timeout in the child.
    """
    m = _model(model)
    check_supported(m)
    arena = max(_safe_arena(m), measure_arena(m).arena_bytes + (64 << 10))
    out_bytes = sum(m.tensors[i].nbytes for i in m.outputs)
    return TflmWorker(m.data, arena, out_bytes, len(m.outputs)), m


def _worker(data: bytes) -> tuple[TflmWorker, TfliteModel]:
    key = hashlib.sha256(data).hexdigest()
    with _CACHE_LOCK:
        if key in _CACHE and _CACHE[key][0].alive:
            _CACHE.move_to_end(key)
            return _CACHE[key]
        dead = _CACHE.pop(key, None)
        if dead is not None:  # crashed or stopped at a deadline: its files go, a fresh child starts
            dead[0].close()
        worker = start_worker(data)
        _CACHE[key] = worker
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)[1][0].close()
        return worker


class TflmRuntime(Runtime):
    """One model in the TFLM reference runtime, in a worker child; thread-safe.

    Args:
        model: .tflite bytes, path or TfliteModel.
        cached: use the process's worker for this model (kept for later runs, stopped by the
            cache); False starts a worker this runtime owns and close() stops.
    The first load of a model measures its arena in probe children (cached by hash); a crash or
    hang in a child raises ModelError, never takes this process down.
    """

    name = "tflm"
    reference = f"wheel ({TFLM_BUILD})"

    def __init__(self, model, cached: bool = True):
        self.cached = cached
        if cached:
            self._worker, self.model = _worker(model_data(model))
        else:
            self._worker, self.model = start_worker(model)
        self.keep_state = False  # True: variable tensors carry over between samples

    def _invoke(self, arrays: list[np.ndarray]) -> list[np.ndarray]:
        return self._worker.invoke(arrays, reset=not self.keep_state)

    def reset(self) -> None:
        self._worker.reset()

    def arena_used(self) -> int:
        """Bytes of the tensor arena TFLM allocated, read from its RecordingMicroAllocator printout
        (tflite_micro has no call that returns it; the worker captures what it prints)."""
        text = self._worker.allocations()
        match = re.search(r"Arena allocation total (\d+) bytes", text)
        if not match:
            raise ModelError("TFLite Micro did not report its arena allocation", f"Its printout was: {text[:200]!r}")
        return int(match.group(1))

    def close(self) -> None:
        if not self.cached:
            self._worker.close()


def run(model, samples, reset: bool = True) -> list[list[np.ndarray]]:
    """Invoke `model` (bytes or path) once per sample in the TFLM reference runtime (the process's
    cached worker child); see Runtime.run. `reset` zeroes variable tensors before each sample."""
    runtime = TflmRuntime(model)
    runtime.keep_state = not reset
    return runtime.run(samples)


def run_float(model_bytes: bytes, x: np.ndarray) -> np.ndarray:
    """Float outputs of the first output tensor for each sample of `x` (quantized with the input's
    scale and zero point, dequantized back): the quantize report's view of what a board computes."""
    m = read_model(model_bytes)
    tin, tout = m.tensors[m.inputs[0]], m.tensors[m.outputs[0]]
    ind = {"dtype": tin.dtype, "quantization": _qparams(tin)}
    outs = run(bytes(model_bytes), [quantize_input(sample[None], ind) for sample in np.asarray(x)])
    return np.stack([dequantize(np.asarray(o[0]).reshape(tout.shape)[0], *_qparams(tout)) for o in outs])


def _qparams(t) -> tuple[float, int]:
    """(scale, zero_point) of a tensor as LiteRT's details report them; (0.0, 0) when not quantized."""
    return (float(t.scale[0]), int(t.zero_point[0])) if len(t.scale) and len(t.zero_point) else (0.0, 0)


# ---- arena probes ---------------------------------------------------------------------------------

_TOTAL = re.compile(r"Arena allocation (total|head|tail) (\d+) bytes")
_USED = re.compile(r"'([^']+)' used (\d+) bytes")


@dataclass
class ArenaMeasurement:
    """The smallest TFLM arena that loads and invokes a model on this host, and how it was found."""

    arena_bytes: int  # smallest probed size that loaded and invoked (16-byte steps)
    recorded_bytes: int  # what TFLM's RecordingMicroAllocator reported using
    head_bytes: int = 0  # non-persistent (activations, planned by the memory planner)
    tail_bytes: int = 0  # persistent (tensor structs, kernel op data)
    breakdown: dict[str, int] = field(default_factory=dict)
    probes: int = 0
    seconds: float = 0.0
    cached: bool = False
    sha256: str = ""
    tflm_build: str = TFLM_BUILD

    def to_dict(self) -> dict:
        return asdict(self)


def arena_cache_dir() -> Path:
    """Where measurements are kept: $TINYFLOW_CACHE/arena or ~/.cache/tinyflow/arena."""
    base = os.environ.get("TINYFLOW_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "tinyflow")
    return Path(base) / "arena"


def measure_arena(model, use_cache: bool = True, timeout: float = PROBE_TIMEOUT_S) -> ArenaMeasurement:
    """Find the smallest arena (16-byte steps) that loads and invokes `model`, probing in subprocesses.

    Raises:
        ModelError: unsupported ops, or the model fails even with a generous arena.
    """
    m = _model(model)
    check_supported(m)
    cache = arena_cache_dir() / f"{m.sha256}.json"
    if use_cache and cache.exists():
        try:
            saved = json.loads(cache.read_text())
            if saved.get("tflm_build") == TFLM_BUILD:
                return ArenaMeasurement(**{**saved, "cached": True})
        except (ValueError, TypeError, OSError):
            pass  # a corrupt cache entry is measured again
    from tinyflow.runtimes import _probe as tflm_probe

    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="tinyflow-arena-") as tmp:
        path = Path(tmp) / "model.tflite"
        path.write_bytes(m.data)
        if tflm_probe.forking_available():
            with tflm_probe.ProbeServer(path, len(m.inputs), timeout) as probe:
                result = _search(probe, _safe_arena(m))
        else:
            result = _search(lambda size: tflm_probe.probe_once(path, size, len(m.inputs), timeout), _safe_arena(m))
    result.seconds, result.sha256 = round(time.monotonic() - start, 3), m.sha256
    _save(cache, result)
    return result


def _search(probe, start: int) -> ArenaMeasurement:
    """Binary search with the invariant: `lo` fails (0 trivially), `hi` works."""
    probes, hi, text = 1, min(start, MAX_ARENA_BYTES), ""
    ok, text = probe(hi)
    while not ok and probes < 4 and hi < MAX_ARENA_BYTES:  # the estimate was too small: grow it
        hi, probes = min(hi * 4, MAX_ARENA_BYTES), probes + 1
        ok, text = probe(hi)
    if not ok:
        _probe_failed(text, hi)
    report = _parse(text)
    lo, guess = 0, _up(report["total"])
    # TFLM's own tally is close (exact for person_detect; low by a few scratch buffers for tiny
    # models): probe it, then gallop away from it with doubling steps to bracket the answer.
    if guess < hi:
        probes += 1
        ok, _ = probe(guess)
        lo, hi = (lo, guess) if ok else (guess, hi)
        step = _GRANULE if ok else max(_GRANULE, _up(guess // 20))
        while probes < MAX_PROBES:
            cand = hi - step if ok else lo + step
            if not lo < cand < hi:
                break
            probes += 1
            cand_ok, _ = probe(cand)
            lo, hi = (lo, cand) if cand_ok else (cand, hi)
            if cand_ok != ok:
                break
            step *= 2
    while hi - lo > _GRANULE and probes < MAX_PROBES:
        mid = _up((lo + hi) // 2)
        mid = mid if lo < mid < hi else lo + _GRANULE
        probes += 1
        ok, _ = probe(mid)
        lo, hi = (lo, mid) if ok else (mid, hi)
    return ArenaMeasurement(
        arena_bytes=hi,
        recorded_bytes=report["total"],
        head_bytes=report["head"],
        tail_bytes=report["tail"],
        breakdown=report["used"],
        probes=probes,
    )


def _probe_failed(text: str, arena: int):
    """The ModelError for a model no probed arena could load and invoke: TFLM's reason, or the signal that killed it."""
    from tinyflow.runtimes._probe import SIGNAL_MARK
    from tinyflow.runtimes._worker import signal_name

    crash = re.search(rf"{SIGNAL_MARK} (\d+)", text)
    if crash:
        raise ModelError(
            f"TFLite Micro crashed with {signal_name(int(crash.group(1)))} loading and invoking the model "
            f"(in a probe process, with a {arena:,}-byte arena)",
            "The model is malformed or hostile: check it with `tinyflow inspect --no-arena`, or re-export it "
            "from the converter.",
        )
    last = next((ln for ln in text.splitlines() if ln.strip()), "no output")
    raise ModelError(
        f"TFLite Micro cannot load and invoke the model even with a {arena}-byte arena: {last}",
        "Check the model with `tinyflow inspect --no-arena`.",
    )


def _up(n: int) -> int:
    return (n + _GRANULE - 1) // _GRANULE * _GRANULE


def _parse(text: str) -> dict:
    """Totals and per-kind bytes from TFLM's print_allocations() output."""
    found = {k: int(v) for k, v in _TOTAL.findall(text)}
    return {
        "total": found.get("total", 0),
        "head": found.get("head", 0),
        "tail": found.get("tail", 0),
        "used": {k: int(v) for k, v in _USED.findall(text)},
    }


def _save(path: Path, result: ArenaMeasurement) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps({**result.to_dict(), "cached": False}, indent=1))
        tmp.replace(path)
    except OSError:
        pass  # the cache is an optimisation; a read-only home must not fail a measurement


def probe_op_support(names: list[str], timeout: float = PROBE_TIMEOUT_S) -> dict[str, bool]:
    """Which ops the installed tflite_micro registers (see runtimes._probe.probe_op_support)."""
    from tinyflow.runtimes._probe import probe_op_support as probe

    return probe(names, timeout)
