"""A store is untrusted input: hostile manifests and sample files are refused with one line, never followed."""

from __future__ import annotations

import io
import os
import shutil
import struct
import wave

import pytest
from click.testing import CliRunner
from store_samples import imu, make_store

from tinyflow.cli.main import cli
from tinyflow.data import load_dataset
from tinyflow.data import manifest as manifest_module
from tinyflow.data import store as store_module
from tinyflow.data.manifest import COLUMNS
from tinyflow.data.store import MANIFEST, create_store
from tinyflow.errors import DataError, UsageError

HEADER = ",".join(COLUMNS) + "\n"
SHA = "0" * 64


def one_line_error(*args) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, lines[-1] if lines else ""


def write_manifest(root, *rows: str) -> None:
    root.mkdir(exist_ok=True)
    (root / MANIFEST).write_text(HEADER + "".join(r + "\n" for r in rows))


@pytest.mark.parametrize(
    "path",
    ["../outside.csv", "/etc/passwd.csv", "samples/../../x.csv", "samples//x.csv", "samples\\..\\x.csv", "./x.csv"],
)
def test_paths_outside_the_store_are_refused(tmp_path, path):
    (tmp_path / "outside.csv").write_text("ch0\n1\n")
    write_manifest(tmp_path / "s", f'"{path}",a,{SHA},imu,0,,,train,')
    code, line = one_line_error("data", "check", str(tmp_path / "s"))
    assert code == 1 and "outside the store" in line and line.startswith("Error: "), line


def test_a_symbolic_link_in_the_store_is_not_followed(tmp_path):
    secret = tmp_path / "secret.csv"
    secret.write_text("ch0\n42\n")
    (tmp_path / "s" / "samples").mkdir(parents=True)
    os.symlink(secret, tmp_path / "s" / "samples" / "x.csv")
    write_manifest(tmp_path / "s", f"samples/x.csv,a,{SHA},imu,0,,,train,")
    with pytest.raises(DataError, match="is a symbolic link"):
        load_dataset(str(tmp_path / "s"))


def test_a_manifest_that_is_a_symbolic_link_is_not_followed(tmp_path):
    (tmp_path / "s").mkdir()
    (tmp_path / "elsewhere.csv").write_text(HEADER)
    os.symlink(tmp_path / "elsewhere.csv", tmp_path / "s" / MANIFEST)
    code, line = one_line_error("data", "info", str(tmp_path / "s"))
    assert code == 1 and "manifest.csv is a symbolic link" in line, line


def test_a_sample_whose_bytes_changed_is_refused(tmp_path):
    store = make_store(tmp_path / "s", n=4)
    victim = tmp_path / "s" / store.entries[0].path
    victim.write_bytes(victim.read_bytes().replace(b"\n", b"\n0,0,0\n", 1))
    with pytest.raises(DataError, match="changed since it was added"):
        load_dataset(str(tmp_path / "s"))
    code, line = one_line_error("data", "check", str(tmp_path / "s"))
    assert code == 1 and "changed since it was added" in line, line


def test_a_huge_manifest_is_refused_before_it_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "MAX_MANIFEST_BYTES", 1000)
    write_manifest(tmp_path / "s", *[f"samples/{i}.csv,a,{SHA},imu,0,,,train," for i in range(100)])
    code, line = one_line_error("data", "info", str(tmp_path / "s"))
    assert code == 1 and "more than the 1,000 B tinyflow reads" in line, line


def test_too_many_rows_and_huge_fields_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(manifest_module, "MAX_ROWS", 3)
    write_manifest(tmp_path / "s", *[f"samples/{i}.csv,a,{SHA},imu,0,,,train," for i in range(5)])
    assert "more than 3 rows" in one_line_error("data", "info", str(tmp_path / "s"))[1]
    write_manifest(tmp_path / "t", f"samples/0.csv,{'x' * 300},{SHA},imu,0,,,train,")
    assert "too long" in one_line_error("data", "info", str(tmp_path / "t"))[1]
    write_manifest(tmp_path / "u", f"samples/0.csv,a,{SHA},imu,1e400,,,train,")
    assert "sample rate" in one_line_error("data", "info", str(tmp_path / "u"))[1]


def test_a_huge_sample_file_is_refused_before_it_is_read(tmp_path, monkeypatch):
    store = make_store(tmp_path / "s", n=2)
    monkeypatch.setattr(store_module, "MAX_SAMPLE_BYTES", 100)
    with pytest.raises(DataError, match="more than the 100 B tinyflow reads"):
        store.read(store.entries[0])


def test_a_wav_header_declaring_more_frames_than_it_holds_is_refused(tmp_path):
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000)
        w.writeframes(b"\0\0" * 10)
    raw = bytearray(buf.getvalue())
    raw[40:44] = struct.pack("<I", 0x7FFFFFF0)  # the data chunk claims 2 GB
    from tinyflow.data.sample_files import decode_sample

    with pytest.raises(DataError, match="not a valid .wav sample|declares"):
        decode_sample(bytes(raw), "wav", "x.wav")


@pytest.mark.parametrize(
    "row, message",
    [
        ("samples/a.csv,a,NOTAHASH,imu,0,,,train,", "is not a SHA-256"),
        (f"samples/a.csv,a,{SHA},imu,0,,,holdout,", "unknown split"),
        (f"samples/a.exe,a,{SHA},imu,0,,,train,", "not a .wav, .csv or .npy"),
        (f"samples/a.csv,,{SHA},imu,0,,,train,", "the label is empty"),
        ("samples/a.csv,a", "has 2 fields"),
    ],
)
def test_malformed_rows_are_refused_naming_the_line(tmp_path, row, message):
    write_manifest(tmp_path / "s", row)
    code, line = one_line_error("data", "info", str(tmp_path / "s"))
    assert code == 1 and message in line and "line 2" in line, line


def test_a_manifest_that_is_not_one_is_refused(tmp_path):
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / MANIFEST).write_bytes(b"\xff\xfe not utf-8")
    code, line = one_line_error("data", "info", str(tmp_path / "s"))
    assert code == 1 and "not a readable CSV manifest" in line
    (tmp_path / "s" / MANIFEST).write_text("file,class\n")
    assert "does not start with the header" in one_line_error("data", "info", str(tmp_path / "s"))[1]


def test_a_good_store_next_to_a_hostile_one_still_loads(tmp_path):
    make_store(tmp_path / "good", n=4)
    assert len(load_dataset(str(tmp_path / "good"))) == 4
    assert imu(0).shape == (20, 3)


def test_adding_never_writes_through_a_link_planted_in_the_store(tmp_path):
    store = make_store(tmp_path / "s", n=2, labels=("a",))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.rmtree(tmp_path / "s" / "samples" / "b", ignore_errors=True)
    os.symlink(elsewhere, tmp_path / "s" / "samples" / "b")
    with pytest.raises(UsageError, match="is a symbolic link"):
        store.add_sample(imu(50), "b")
    assert list(elsewhere.iterdir()) == []


def test_a_store_is_not_made_in_a_folder_of_other_files(tmp_path):
    (tmp_path / "mine.txt").write_text("a user's file")
    with pytest.raises(UsageError, match="is not empty and is not a dataset store"):
        create_store(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.txt"]
