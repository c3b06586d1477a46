"""Two namespaced models (different ops and arenas) in one Cortex-M firmware on QEMU's mps2 machines,
both bit-exact against the TFLM reference, on every Cortex-M machine tinyflow.build.arm builds for:
M0 (microbit), M3 (mps2-an385), M4 (mps2-an386, sim://qemu-m4's machine), M7 (mps2-an500), M33
(mps2-an505) and M55 (mps3-an547), from the same package sources (the DSP kernels where the
compiler targets the extension, the portable C elsewhere).

The harness is this test's own: the packages' sources plus a main() that runs baked-in samples
through both models and prints the outputs in hex over semihosting."""

from __future__ import annotations

import re
import subprocess

import pytest
from deploy_helpers import random_samples, tflm_outputs

from conftest import corpus_path, require_tool
from tinyflow.export.package import package_sources

MODELS = {"wake": "tflm/micro_speech_quantized.tflite", "cmd": "tflm/hello_world_int8.tflite"}
SAMPLES = 3
QEMU_TIMEOUT = 120


def _c_bytes(data: bytes) -> str:
    return ", ".join(str(b) for b in data)


def firmware_main(samples: dict[str, list]) -> str:
    """main.c: each sample through each model in turn; "<name> <hex of output 0>" per invoke."""
    lines = [
        "#include <stdint.h>",
        "#include <string.h>",
        *(f'#include "{n}_model.h"' for n in samples),
        "void tinyflow_mps2_semihost_write(const char *text);",
        "void tinyflow_mps2_semihost_exit(uint32_t code);",
        "static char line[256];  /* outputs here are a few bytes: 2 hex digits each */",
        "static void put(const char *name, const uint8_t *p, uint32_t n) {",
        '  static const char hex[] = "0123456789abcdef";',
        "  char *o = line;",
        "  while (*name) *o++ = *name++;",
        "  *o++ = ' ';",
        "  for (uint32_t i = 0; i < n && o < line + sizeof line - 3; ++i) { *o++ = hex[p[i] >> 4]; *o++ = hex[p[i] & 15]; }",
        "  *o++ = '\\n'; *o = 0;",
        "  tinyflow_mps2_semihost_write(line);",
        "}",
    ]
    for n, s in samples.items():
        data = b"".join(a.tobytes() for sample in s for a in sample)
        lines.append(f"static const uint8_t {n}_in[{len(data)}] = {{{_c_bytes(data)}}};")
    lines += ["int main(void) {"]
    lines += [f"  if ({n}_model_init() != 0) tinyflow_mps2_semihost_exit(2);" for n in samples]
    lines += [f"  for (int k = 0; k < {SAMPLES}; ++k) {{"]
    for n in samples:
        lines += [
            f"    const tinyflow_model_info_t *{n} = {n}_model_info();",
            f"    memcpy({n}_model_input(0), {n}_in + k * {n}->inputs[0].bytes, {n}->inputs[0].bytes);",
            f"    if ({n}_model_invoke(NULL) != 0) tinyflow_mps2_semihost_exit(3);",
            f'    put("{n}", {n}_model_output(0), {n}->outputs[0].bytes);',
        ]
    lines += ["  }", "  tinyflow_mps2_semihost_exit(0);", "  return 0;", "}", ""]
    return "\n".join(lines)


def _write_package(p, root) -> None:
    for rel, data in p.files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


@pytest.mark.firmware
@pytest.mark.qemu
@pytest.mark.parametrize("machine", ["mps2-an386", "mps2-an385", "mps2-an500", "mps2-an505", "mps3-an547", "microbit"])
def test_two_namespaced_models_run_bit_exact_in_one_cortex_m_firmware(tmp_path, machine):
    require_tool("arm-none-eabi-gcc")
    qemu = require_tool("qemu-system-arm")
    from tinyflow.build.arm import MemoryMap, build_firmware

    paths = {n: corpus_path(rel) for n, rel in MODELS.items()}
    samples = {n: random_samples(p, SAMPLES, seed) for seed, (n, p) in enumerate(paths.items())}
    sources, kernels, includes = [], {}, []
    for n, path in paths.items():
        p = package_sources(path, n, "aot")
        _write_package(p, tmp_path / n)
        sources.append(tmp_path / n / f"src/{n}.c")
        includes.append(tmp_path / n / "include")
        # One copy of each kernel: they are the same files, and a firmware links objects, not archives.
        for rel in p.sources():
            if rel.startswith("src/kernels/"):
                kernels.setdefault(rel, tmp_path / n / rel)
    (tmp_path / "main.c").write_text(firmware_main(samples))
    fw = build_firmware(
        [tmp_path / "main.c", *sources, *kernels.values()],
        MemoryMap(flash_bytes=4 << 20, ram_bytes=4 << 20, target=machine),
        include_dirs=includes,
        name="two_models",
    )
    res = subprocess.run(
        [qemu, "-M", machine, "-nographic", "-monitor", "none", "-serial", "null", "-kernel", fw.elf,
         "-semihosting-config", "enable=on,target=native"],
        capture_output=True, text=True, timeout=QEMU_TIMEOUT,
    )  # fmt: skip
    assert res.returncode == 0, res.stdout + res.stderr
    got = {n: b"" for n in MODELS}
    # QEMU sends the semihosting console to stdout or stderr depending on its chardev set-up.
    for name, hexes in re.findall(r"^(\w+) ([0-9a-f]*)$", res.stdout + res.stderr, re.MULTILINE):
        got[name] += bytes.fromhex(hexes)
    for n, path in paths.items():
        assert got[n] == tflm_outputs(path, samples[n]), n
