"""Test helpers for the package formats: a host program that links several namespaced models,
CMake runs with deadlines, and the TFLM reference outputs to compare with."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from conftest import require_tool

CMAKE_TIMEOUT = 300  # seconds for one configure or build: a full kernel set builds in ~20 s here


def host_main(apis: list[str], headers: list[str]) -> str:
    """main.c: `app N in0 out0 in1 out1 ...`: N samples per model, invoked in turn (model 0's
    sample k, model 1's sample k, ...), so one model's arena or state clobbering another's shows."""
    includes = "".join(f'#include "{h}"\n' for h in headers)
    steps = "\n".join(
        f"    if (step({a}_info(), {a}_input, {a}_output, {a}_invoke, ins[{i}], outs[{i}]) != 0) return 10 + {i};"
        for i, a in enumerate(apis)
    )
    inits = "\n".join(f"  if ({a}_init() != 0) return 3;" for a in apis)
    n = len(apis)
    return f"""#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
{includes}
typedef uint8_t *(*input_fn)(int);
typedef const uint8_t *(*output_fn)(int);
typedef int (*invoke_fn)(uint32_t *);

static int step(const tinyflow_model_info_t *info, input_fn in, output_fn out, invoke_fn invoke,
                FILE *fin, FILE *fout) {{
  for (int i = 0; i < info->num_inputs; ++i)
    if (fread(in(i), 1, info->inputs[i].bytes, fin) != info->inputs[i].bytes) return 1;
  if (invoke(NULL) != 0) return 2;
  for (int i = 0; i < info->num_outputs; ++i)
    if (fwrite(out(i), 1, info->outputs[i].bytes, fout) != info->outputs[i].bytes) return 3;
  return 0;
}}

int main(int argc, char **argv) {{
  if (argc != 2 + 2 * {n}) return 2;
  FILE *ins[{n}], *outs[{n}];
  for (int i = 0; i < {n}; ++i) {{
    ins[i] = fopen(argv[2 + 2 * i], "rb");
    outs[i] = fopen(argv[3 + 2 * i], "wb");
    if (!ins[i] || !outs[i]) return 4;
  }}
{inits}
  for (long k = 0; k < atol(argv[1]); ++k) {{
{steps}
  }}
  for (int i = 0; i < {n}; ++i) {{ fclose(ins[i]); fclose(outs[i]); }}
  return 0;
}}
"""


def run(cmd: list, cwd: Path | None = None, timeout: int = CMAKE_TIMEOUT) -> str:
    """Run a tool with a deadline; fail the test with its output when it fails."""
    res = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert res.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    return res.stdout


def cmake_build(source: Path, build: Path, *defs: str) -> None:
    require_tool("cmake")
    run(["cmake", "-S", source, "-B", build, "-DCMAKE_BUILD_TYPE=Release", *defs])
    run(["cmake", "--build", build, "-j", "2"])


def random_samples(model_path: Path, count: int, seed: int) -> list[list[np.ndarray]]:
    """`count` samples of random int8 (or the input's type) values for every input of the model."""
    from tinyflow.tflite import read_model

    m = read_model(Path(model_path).read_bytes())
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        sample = []
        for i in m.inputs:
            t = m.tensors[i]
            info = np.iinfo(t.dtype)
            sample.append(rng.integers(info.min, info.max, size=t.shape, endpoint=True).astype(t.dtype))
        out.append(sample)
    return out


def write_samples(samples: list[list[np.ndarray]], path: Path) -> None:
    path.write_bytes(b"".join(a.tobytes() for sample in samples for a in sample))


def tflm_outputs(model_path: Path, samples) -> bytes:
    """The TFLM reference's outputs for `samples`, concatenated as the host program writes them."""
    from tinyflow.runtimes import open_runtime

    with open_runtime("tflm", model_path) as rt:
        results = rt.run(samples)
    return b"".join(np.ascontiguousarray(o).tobytes() for outs in results for o in outs)
