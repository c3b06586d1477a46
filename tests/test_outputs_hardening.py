"""outputs.atomic_write survives a crash: the data reaches the disk before the rename, the rename
reaches the disk after it, and nothing is left behind on a failure."""

from __future__ import annotations

import os
import stat

import pytest

from tinyflow import outputs


def _record_fsyncs(monkeypatch) -> list[str]:
    """Replace os.fsync by one that records what kind of object each descriptor names."""
    calls: list[str] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        calls.append("dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real(fd)

    monkeypatch.setattr(outputs.os, "fsync", fsync)
    return calls


def test_atomic_write_fsyncs_file_then_folder(tmp_path, monkeypatch):
    calls = _record_fsyncs(monkeypatch)
    target = tmp_path / "model.c"
    digest = outputs.atomic_write(target, [b"int a;", b"\n"])
    assert target.read_bytes() == b"int a;\n"
    assert digest == outputs.file_sha256(target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    if os.name == "posix":
        assert calls == ["file", "dir"]
    else:  # Windows cannot open a folder to sync it
        assert calls == ["file"]


def test_atomic_write_keeps_mode_of_replaced_file(tmp_path, monkeypatch):
    _record_fsyncs(monkeypatch)
    target = tmp_path / "run.sh"
    target.write_bytes(b"old")
    target.chmod(0o755)
    outputs.atomic_write(target, b"new")
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o755


def test_atomic_write_fsync_failure_leaves_old_file_and_no_temporary(tmp_path, monkeypatch):
    def fsync(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(outputs.os, "fsync", fsync)
    target = tmp_path / "model.h"
    target.write_bytes(b"old")
    with pytest.raises(OSError):
        outputs.atomic_write(target, b"new")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.h"]


def test_atomic_write_chunk_failure_leaves_no_temporary(tmp_path):
    def chunks():
        yield b"part"
        raise RuntimeError("generator failed")

    with pytest.raises(RuntimeError):
        outputs.atomic_write(tmp_path / "x.bin", chunks())
    assert list(tmp_path.iterdir()) == []


def test_prune_removes_only_unedited_recorded_files(tmp_path):
    root = tmp_path / "out"
    outputs.write_outputs({"a.c": b"a", "b.c": b"b", "sub/c.c": b"c"}, root)
    (root / "b.c").write_bytes(b"edited")
    (root / "mine.c").write_bytes(b"user")
    outputs.write_outputs({"d.c": b"d"}, root, prune=True)
    assert sorted(p.name for p in root.iterdir() if p.is_file()) == ["b.c", "d.c", "mine.c"]
    assert not (root / "sub" / "c.c").exists()
    assert set(outputs.load_manifest(root)) == {"b.c", "d.c"}  # the edited file stays the user's


def test_prune_never_deletes_through_a_link(tmp_path):
    root, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    outputs.write_outputs({"sub/a.c": b"a"}, root)
    elsewhere.mkdir()
    (elsewhere / "a.c").write_bytes(b"a")  # same content as recorded
    (root / "sub" / "a.c").unlink()
    (root / "sub").rmdir()
    (root / "sub").symlink_to(elsewhere)
    outputs.write_outputs({"b.c": b"b"}, root, prune=True)
    assert (elsewhere / "a.c").read_bytes() == b"a"
