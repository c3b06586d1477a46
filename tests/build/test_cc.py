"""Host builds: a missing sanitizer/libFuzzer runtime is named with its package, not blamed on tinyflow."""

from __future__ import annotations

import pytest

from tinyflow.build.cc import CBuild, build_executable
from tinyflow.errors import ToolchainError

# What Debian 12's clang prints without libclang-rt-14-dev (a Recommends, skipped by --no-install-recommends).
LD_ERROR = """/usr/bin/ld: cannot find /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a: No such file or directory
/usr/bin/ld: cannot find /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.asan-x86_64.a: No such file or directory
clang: error: linker command failed with exit code 1 (use -v to see invocation)
"""


@pytest.fixture
def clang_without_runtime(tmp_path, monkeypatch):
    monkeypatch.setenv("TINYFLOW_CACHE", str(tmp_path / "cache"))
    (tmp_path / "ld-error.txt").write_text(LD_ERROR)
    fake = tmp_path / "clang"
    fake.write_text(f"#!/bin/sh\ncat {tmp_path / 'ld-error.txt'} >&2\nexit 1\n")
    fake.chmod(0o755)
    return str(fake)


def test_missing_sanitizer_runtime_names_the_package_to_install(clang_without_runtime, tmp_path):
    src = tmp_path / "f.c"
    src.write_text("int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }\n")
    build = CBuild(sources=[src], compiler=clang_without_runtime, cflags=["-fsanitize=fuzzer,address,undefined"])
    with pytest.raises(ToolchainError) as info:
        build_executable(build, "fuzz_target")
    err = info.value
    assert "runtime libclang_rt.fuzzer-x86_64.a is not installed" in err.message
    assert "apt-get install --no-install-recommends libclang-rt-14-dev" in err.hint and "./run setup" in err.hint
    assert "tinyflow bug" not in str(err)
    assert not list((tmp_path / "cache").rglob("*.tmp*"))
