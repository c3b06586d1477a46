"""libFuzzer + ASan/UBSan on the device core (frame parser and dispatcher), for a bounded time.

30 s per protocol under CI=true, 5 s locally; any crash, leak or sanitizer report fails.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from conftest import IN_CI, require_tool
from tinyflow.build.cc import CBuild, build_executable
from tinyflow.resources import firmware_dir

pytestmark = [pytest.mark.fuzz, pytest.mark.firmware]

FUZZ_SECONDS = int(os.environ.get("TINYFLOW_FUZZ_SECONDS", 30 if IN_CI else 5))
FLAGS = [
    "-std=c99",
    "-g",
    "-O1",
    "-fsanitize=fuzzer,address,undefined",
    "-fno-sanitize-recover=undefined",
    "-Wall",
    "-Wextra",
    "-Werror",
]


@pytest.mark.parametrize("protocol", ["binary", "eembc"])
def test_fuzz_device_core(protocol, tmp_path):
    require_tool("clang")
    fw = firmware_dir()
    defines = {
        "TINYFLOW_RX_BYTES": 256,
        "FAKE_IN0_BYTES": 300,
        "FAKE_IN1_BYTES": 190,
        "TINYFLOW_EEMBC_MAX_RUNS": 3,
        "TINYFLOW_PROTOCOL_EEMBC": int(protocol == "eembc"),
    }
    build = CBuild(
        sources=[fw / "fuzz" / "fuzz_device.c", *sorted((fw / "src").glob("*.c")), fw / "tests" / "fake_model.c"],
        include_dirs=[fw / "include"],
        defines=defines,
        cflags=FLAGS,
        ldflags=FLAGS[3:5],
        compiler="clang",
    )
    exe = build_executable(build, f"fuzz_device_{protocol}")
    work = tmp_path / "corpus"
    work.mkdir()
    # libFuzzer's RSS limit reads getrusage's peak RSS, which Linux carries across execve: started
    # straight from this pytest process (over 1 GB once TensorFlow is loaded) the fuzzer would
    # report an out-of-memory on its first check. `sh` forks, so the fuzzer starts with its own peak.
    proc = subprocess.run(
        [
            "sh",
            "-c",
            '"$0" "$@"; exit $?',
            str(exe),
            f"-max_total_time={FUZZ_SECONDS}",
            "-timeout=10",
            "-rss_limit_mb=1024",
            f"-artifact_prefix={tmp_path}/",
            str(work),
            str(fw / "fuzz" / "corpus" / protocol),
        ],
        capture_output=True,
        text=True,
        timeout=FUZZ_SECONDS + 120,
    )
    tail = "\n".join(proc.stderr.splitlines()[-25:])
    assert proc.returncode == 0, f"libFuzzer found a problem:\n{tail}"
    assert "Done" in proc.stderr and not list(tmp_path.glob("crash-*")), tail
