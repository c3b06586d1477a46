"""Test helpers: compile a model, run it on the host, and run the TFLM reference on the same inputs."""

from __future__ import annotations

import shutil

import numpy as np

from tinyflow.compile import compile_model
from tinyflow.compile.planner import check_plan


def require_cc() -> None:
    if shutil.which("cc") is None:
        from conftest import missing

        missing("tool 'cc'")


def tflm_runtime():
    try:
        from tflite_micro import runtime
    except ImportError:
        from conftest import missing

        missing("tflite_micro (pip install tflite-micro)")
    return runtime


def random_inputs(model, rng: np.random.Generator) -> list[np.ndarray]:
    out = []
    for i in model.inputs:
        t = model.tensors[i]
        info = np.iinfo(t.dtype)
        out.append(rng.integers(info.min, info.max, size=t.shape, endpoint=True).astype(t.dtype))
    return out


def compare_with_tflm(data: bytes, samples: int, seed: int = 0, name: str = "m") -> int:
    """Compile `data`, run `samples` random inputs through it and TFLM; assert identical outputs.

    Returns the planned arena size."""
    from tinyflow.runtimes.compiled import HostModel

    require_cc()
    compiled = compile_model(data, name=name)
    check_plan(compiled.plan)
    host = HostModel(compiled)
    interp = tflm_runtime().Interpreter.from_bytes(data, arena_size=4 << 20)
    rng = np.random.default_rng(seed)
    for k in range(samples):
        xs = random_inputs(compiled.model, rng)
        # No reset: state (SVDF) carries over from invoke to invoke in both runtimes.
        for i, x in enumerate(xs):
            interp.set_input(x, i)
        interp.invoke()
        got = host.run(*xs)
        for j, g in enumerate(got):
            want = interp.get_output(j)
            assert np.array_equal(g, want.reshape(g.shape)), (
                f"sample {k} output {j}: {int((g != want.reshape(g.shape)).sum())} of {g.size} values differ"
            )
    return compiled.plan.arena_bytes
