"""The build cache is bounded (LRU, size limit, eviction on insert), cleans its temporaries on every
exit path and after killed builds, is safe for two processes building the same entry, and has
`tinyflow cache info|clean`.

The "compiler" is a shell script that writes its -o file (optionally after a pause), so these
tests need no toolchain.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from tinyflow.build import cache
from tinyflow.build import cc as cc_mod
from tinyflow.build.cc import CBuild, build_executable
from tinyflow.cli.main import cli
from tinyflow.errors import ToolchainError, UsageError

FAKE_CC = """#!/bin/sh
out=""
while [ $# -gt 0 ]; do [ "$1" = -o ] && out=$2; shift; done
[ -n "$FAKE_CC_SLEEP" ] && sleep "$FAKE_CC_SLEEP"
[ -n "$FAKE_CC_FAIL" ] && { echo "a.c:1: error: $FAKE_CC_FAIL" >&2; exit 1; }
head -c "${FAKE_CC_BYTES:-1000}" /dev/zero > "$out"
"""
HOUR = 3600


@pytest.fixture
def root(tmp_path, monkeypatch):
    monkeypatch.setenv("TINYFLOW_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("TINYFLOW_CACHE_MAX", raising=False)
    for var in ("FAKE_CC_SLEEP", "FAKE_CC_FAIL", "FAKE_CC_BYTES"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path / "cache"


@pytest.fixture
def fake_cc(tmp_path) -> str:
    path = tmp_path / "fake-cc"
    path.write_text(FAKE_CC)
    path.chmod(0o755)
    return str(path)


def _build(fake_cc: str, tmp_path: Path, tag: str) -> CBuild:
    src = tmp_path / f"{tag}.c"
    src.write_text(f"/* {tag} */ int main(void) {{ return 0; }}\n")
    return CBuild(sources=[src], compiler=fake_cc)


def _entry(root: Path, name: str, nbytes: int, age_s: float) -> Path:
    path = root / "build" / name
    path.mkdir(parents=True)
    (path / "program").write_bytes(b"\0" * nbytes)
    stamp = time.time() - age_s
    os.utime(path, (stamp, stamp))
    return path


def _leftovers(root: Path) -> list[str]:
    return [p.name for p in root.rglob("*.tmp*")]


def test_eviction_removes_least_recently_used_entries_down_to_the_limit(root, monkeypatch):
    old = _entry(root, "a-" + "1" * 24, 400_000, 5 * HOUR)
    mid = _entry(root, "b-" + "2" * 24, 400_000, 3 * HOUR)
    new = _entry(root, "c-" + "3" * 24, 400_000, 2 * HOUR)
    monkeypatch.setenv("TINYFLOW_CACHE_MAX", "1M")
    removed = cache.evict()
    assert [e.path for e in removed] == [old]
    assert not old.exists() and mid.exists() and new.exists()


def test_inserting_an_entry_evicts_and_a_hit_counts_as_a_use(root, fake_cc, tmp_path, monkeypatch):
    monkeypatch.setenv("TINYFLOW_CACHE_MAX", "1500K")
    monkeypatch.setenv("FAKE_CC_BYTES", "600000")
    first = build_executable(_build(fake_cc, tmp_path, "first"), "first")
    second = build_executable(_build(fake_cc, tmp_path, "second"), "second")
    for exe in (first, second):
        os.utime(exe.parent, (time.time() - 2 * HOUR,) * 2)
    os.utime(second.parent, (time.time() - 3 * HOUR,) * 2)  # second is older ...
    assert build_executable(_build(fake_cc, tmp_path, "first"), "first") == first  # ... first is used again
    third = build_executable(_build(fake_cc, tmp_path, "third"), "third")  # 1.8 MB > 1.5 MB: evict one
    assert first.exists() and third.exists() and not second.exists()
    assert sum(e.nbytes for e in cache.list_entries()) <= 1500 << 10


def test_recently_used_entries_are_kept_even_over_the_limit(root, monkeypatch):
    fresh = _entry(root, "d-" + "4" * 24, 300_000, 10)
    monkeypatch.setenv("TINYFLOW_CACHE_MAX", "1K")
    assert cache.evict() == [] and fresh.exists()  # a running build may still read it


def test_a_failed_or_interrupted_build_leaves_no_temporary(root, fake_cc, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_CC_FAIL", "boom")
    with pytest.raises(ToolchainError, match="boom"):
        build_executable(_build(fake_cc, tmp_path, "bad"), "bad")
    monkeypatch.delenv("FAKE_CC_FAIL")

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(cc_mod.subprocess, "run", interrupted)
    with pytest.raises(KeyboardInterrupt):
        build_executable(_build(fake_cc, tmp_path, "ctrl-c"), "ctrl_c")
    assert _leftovers(root) == [] and cache.list_entries() == []


def test_stale_temporaries_are_swept_and_live_ones_kept(root):
    build = root / "build"
    (build / "ld").mkdir(parents=True)
    dead = build / f"x-{'5' * 24}.tmp999999999-abc"  # its process is gone
    old = build / "qemu-src"
    old.mkdir()
    old_tmp = old / "m-abc.tmp"  # no pid, over an hour old
    old_tmp.mkdir()
    os.utime(old_tmp, (time.time() - 2 * HOUR,) * 2)
    mine = build / "ld" / f"y.ld.tmp{os.getpid()}-def"  # a build of this process, in progress
    live = build / f"z-{'6' * 24}.tmp1-ghi"  # pid 1 is alive
    dead.mkdir()
    live.mkdir()
    mine.write_text("x")
    assert cache.sweep_temporaries() == 2
    assert not dead.exists() and not old_tmp.exists() and mine.exists() and live.exists()


CHILD = """
import sys
from pathlib import Path
from tinyflow.build.cc import CBuild, build_executable
print(build_executable(CBuild(sources=[Path(sys.argv[1])], compiler=sys.argv[2]), sys.argv[3]))
"""


def _child(src: Path, fake_cc: str, name: str, **env) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(src), fake_cc, name],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
        start_new_session=True,
    )


def test_a_killed_build_leaves_nothing_behind_after_the_next_run(root, fake_cc, tmp_path):
    victim = _child(_build(fake_cc, tmp_path, "victim").sources[0], fake_cc, "victim", FAKE_CC_SLEEP="30")
    deadline = time.monotonic() + 60
    while not _leftovers(root) and time.monotonic() < deadline and victim.poll() is None:
        time.sleep(0.05)
    assert _leftovers(root), victim.communicate()
    os.killpg(victim.pid, signal.SIGKILL)  # the build and its compiler
    victim.wait(timeout=30)
    build_executable(_build(fake_cc, tmp_path, "next"), "next")
    assert _leftovers(root) == []


def test_two_processes_building_the_same_entry_both_succeed(root, fake_cc, tmp_path):
    src = _build(fake_cc, tmp_path, "same").sources[0]
    procs = [_child(src, fake_cc, "same", FAKE_CC_SLEEP="1") for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    paths = {out.strip() for out, _ in outs}
    assert len(paths) == 1 and Path(paths.pop()).stat().st_size == 1000
    assert len(cache.list_entries()) == 1 and _leftovers(root) == []


def test_cache_info_and_clean_from_the_cli(root):
    _entry(root, "a-" + "1" * 24, 2 << 20, HOUR)
    arena = root / "arena" / ("f" * 64 + ".json")
    arena.parent.mkdir()
    arena.write_text("{}")
    (root / "notes.txt").write_text("mine")  # not the cache's: never deleted
    (root / "build" / "README").write_text("mine too")
    runner = CliRunner()
    info = runner.invoke(cli, ["cache", "info"])
    assert info.exit_code == 0, info.output
    assert f"location:    {root}" in info.output and "entries:     2" in info.output and "2.0 MiB" in info.output
    cleaned = runner.invoke(cli, ["cache", "clean", "--json"])
    assert cleaned.exit_code == 0, cleaned.output
    assert '"removed": 2' in cleaned.output and '"entries": 0' in cleaned.output
    assert (root / "notes.txt").exists() and (root / "build" / "README").exists() and not arena.exists()


def test_a_bad_size_limit_is_one_usage_error(root, monkeypatch):
    monkeypatch.setenv("TINYFLOW_CACHE_MAX", "lots")
    with pytest.raises(UsageError, match="TINYFLOW_CACHE_MAX='lots' is not a size"):
        cache.size_limit()
    result = CliRunner().invoke(cli, ["cache", "info"])
    assert result.exit_code == 2 and result.output.count("Error:") == 1
    monkeypatch.setenv("TINYFLOW_CACHE_MAX", "1.5G")
    assert cache.size_limit() == int(1.5 * (1 << 30))
