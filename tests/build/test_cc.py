"""Host builds: a missing sanitizer/libFuzzer runtime is named with its package, not blamed on tinyflow."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

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


def test_staged_sources_appear_whole_are_reused_and_touched(tmp_path, monkeypatch):
    from tinyflow.build import cache
    from tinyflow.build.cc import cache_dir, stage_sources

    monkeypatch.setenv("TINYFLOW_CACHE", str(tmp_path / "cache"))
    paths = stage_sources({"m.c": "int m;\n", "m.h": "extern int m;\n"}, "model-src")
    assert [p.name for p in paths] == ["m.c", "m.h"] and paths[0].read_text() == "int m;\n"
    assert paths[0].parent.parent == cache_dir() / "model-src"
    used = []
    monkeypatch.setattr("tinyflow.build.cc.touch", used.append)
    assert stage_sources({"m.h": "extern int m;\n", "m.c": "int m;\n"}, "model-src") == paths
    assert used == [paths[0].parent] and not list(tmp_path.rglob("*.tmp*"))
    assert stage_sources({"m.c": "int n;\n"}, "model-src")[0].parent != paths[0].parent
    assert cache.list_entries()  # the staged folders are cache entries (bounded, evicted by LRU)


def test_qemu_firmware_never_compiles_a_leftover_of_a_killed_staging(tmp_path, monkeypatch):
    """A run killed while staging left `<folder>.tmp` with a stray .c file; the next build must not
    compile it (it used to rename the leftover into place and glob *.c)."""
    import hashlib

    from tests.conftest import corpus_path
    from tinyflow.build import arm
    from tinyflow.build.cc import cache_dir
    from tinyflow.compile import compile_model
    from tinyflow.workflows.device import build_qemu_firmware

    monkeypatch.setenv("TINYFLOW_CACHE", str(tmp_path / "cache"))
    data = corpus_path("tflm/hello_world_int8.tflite").read_bytes()
    compiled = compile_model(data, name="model")
    h = hashlib.sha256(data)
    for fname, text in sorted(compiled.sources.items()):
        h.update(fname.encode() + b"\0" + text.encode())
    for leftover in (cache_dir() / "qemu-src" / f"model-{h.hexdigest()[:16]}.tmp", cache_dir() / "qemu-src" / "x.tmp"):
        leftover.mkdir(parents=True)
        (leftover / "stale.c").write_text("#error stale\n")
    seen = {}
    fake_link = lambda sources, *a, **k: SimpleNamespace(elf=seen.setdefault("sources", sources), memory=None)  # noqa: E731
    monkeypatch.setattr(arm, "build_firmware", fake_link)
    build_qemu_firmware(data, "nano33ble", name="model")
    assert seen["sources"] and all(p.name != "stale.c" for p in map(Path, seen["sources"]))
