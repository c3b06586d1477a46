"""The resume journal: checksummed lines, damaged lines re-measured, atomic rewrites, config binding."""

import json
import os

import pytest

from tinyflow.errors import UsageError
from tinyflow.workflows.journal import Entry, Journal

CONFIG = {
    "model_sha256": "ab" * 32,
    "dataset": "random:10",
    "target": "sim://tflm",
    "samples": 10,
    "output_bytes": [2, 1],
}


def _entry(i):
    return Entry(
        index=i,
        outputs=[bytes([i, 255 - i]), b"\x00"],
        ticks=100 + i,
        microseconds=1.5 * i,
        wall=0.01,
        counters=(i % 2, 0, 0),
    )


def _journal(path, n=5, config=CONFIG):
    with Journal.open(path, config, resume=False) as j:
        for i in range(n):
            j.record(_entry(i))
    return path


def _replace_line(path, k, new: bytes):
    """Put `new` in place of line k (0 = the header) of the journal at `path`."""
    lines = path.read_bytes().split(b"\n")
    lines[k] = new
    path.write_bytes(b"\n".join(lines))


def test_round_trip_and_resume(tmp_path):
    path = _journal(tmp_path / "journal.jsonl", 3)
    with Journal.open(path, CONFIG, resume=True) as j:
        assert sorted(j.entries) == [0, 1, 2] and j.damaged == 0
        assert j.entries[1] == _entry(1)
        j.record(_entry(3))
    lines = path.read_text().splitlines()
    assert json.loads(lines[0])["config"] == CONFIG and len(lines) == 5
    assert all("crc" in json.loads(line) for line in lines[1:])


def test_torn_last_line_is_dropped_and_the_file_replaced(tmp_path):
    path = _journal(tmp_path / "journal.jsonl", 2)
    text = path.read_text()
    path.write_text(text[: len(text) - 7])  # the process died in the middle of line 2
    with Journal.open(path, CONFIG, resume=True) as j:
        assert sorted(j.entries) == [0] and j.damaged == 1
        j.record(_entry(1))
    with Journal.open(path, CONFIG, resume=True) as j:
        assert sorted(j.entries) == [0, 1] and j.damaged == 0 and j.duplicates == 0


def _other_model_line(tmp_path):
    other = _journal(tmp_path / "other.jsonl", 3, dict(CONFIG, model_sha256="cd" * 32))
    return other.read_bytes().split(b"\n")[3]  # its record 2: well formed, checksum of another run


def _flipped_output_byte(line: bytes) -> bytes:
    record = json.loads(line)
    assert record["out"][0] == "Av0="  # bytes [2, 253] ...
    record["out"][0] = "A/0="  # ... become [3, 253]: one bit flipped
    return json.dumps(record).encode()


BAD_LINES = {
    "truncated JSON": lambda line, tmp: line[: len(line) // 2],
    "wrong types": lambda line, tmp: b'{"i": "2", "out": 3, "ticks": [], "us": {}, "wall": null, "c": "x", "crc": "z"}',
    "missing keys": lambda line, tmp: b'{"i": 2}',
    "huge numbers": lambda line, tmp: line.replace(b'"ticks":102', b'"ticks":' + b"9" * 5000),
    "huge float": lambda line, tmp: line.replace(b'"us":3.0', b'"us":1e999'),
    "NaN": lambda line, tmp: line.replace(b'"us":3.0', b'"us":NaN'),
    "non-UTF-8 bytes": lambda line, tmp: b"\xff\xfe" + line,
    "flipped output byte": lambda line, tmp: _flipped_output_byte(line),
    "a 10 MB line": lambda line, tmp: b"A" * (10 << 20),
    "deep nesting": lambda line, tmp: b"[" * 200_000,
    "not an object": lambda line, tmp: b"[1, 2, 3]",
    "blank": lambda line, tmp: b"",
    "record of another model": lambda line, tmp: _other_model_line(tmp),
}


@pytest.mark.parametrize("kind", list(BAD_LINES))
def test_a_damaged_middle_line_loses_only_itself(tmp_path, kind):
    path = _journal(tmp_path / "journal.jsonl", 5)
    line = path.read_bytes().split(b"\n")[3]  # record 2
    _replace_line(path, 3, BAD_LINES[kind](line, tmp_path))
    with Journal.open(path, CONFIG, resume=True) as j:
        assert sorted(j.entries) == [0, 1, 3, 4] and j.damaged == 1  # every later good record kept
        assert j.entries[4] == _entry(4)
        j.record(_entry(2))  # the damaged one, measured again
    with Journal.open(path, CONFIG, resume=True) as j:
        assert sorted(j.entries) == [0, 1, 2, 3, 4] and j.damaged == 0


def test_damage_is_never_repaired_in_place(tmp_path):
    path = _journal(tmp_path / "journal.jsonl", 4)
    _replace_line(path, 2, b"garbage")
    before = path.read_bytes()
    os.link(path, tmp_path / "old")  # a second name for the old file's contents
    with Journal.open(path, CONFIG, resume=True) as j:
        assert j.damaged == 1
    assert (tmp_path / "old").read_bytes() == before  # the old file was not truncated or rewritten
    assert os.stat(path).st_ino != os.stat(tmp_path / "old").st_ino
    assert b"garbage" not in path.read_bytes() and not list(tmp_path.glob("*.tmp*"))


def test_starting_over_replaces_the_journal_atomically(tmp_path):
    path = _journal(tmp_path / "journal.jsonl", 2)
    os.link(path, tmp_path / "old")
    before = path.read_bytes()
    with Journal.open(path, dict(CONFIG, dataset="digits"), resume=False) as j:
        assert j.entries == {}
    assert len(path.read_text().splitlines()) == 1 and (tmp_path / "old").read_bytes() == before


def test_conflicting_records_of_one_sample_are_both_measured_again(tmp_path):
    path = _journal(tmp_path / "journal.jsonl", 3)
    other = Entry(index=1, outputs=[b"\x07\x07", b"\x01"], ticks=5, microseconds=1.0)
    with open(path, "a") as fh:
        fh.write(other.to_line(json.loads(path.read_text().splitlines()[0])["fingerprint"]) + "\n")
        fh.write(path.read_text().splitlines()[1] + "\n")  # record 0 again, identical
    with Journal.open(path, CONFIG, resume=True) as j:
        assert sorted(j.entries) == [0, 2] and j.damaged == 3


def test_a_valid_looking_record_outside_the_run_is_damage(tmp_path):
    path = _journal(tmp_path / "journal.jsonl", 2)
    fp = json.loads(path.read_text().splitlines()[0])["fingerprint"]
    with open(path, "a") as fh:
        fh.write(Entry(index=10, outputs=[b"\x00\x00", b"\x00"], ticks=1, microseconds=1.0).to_line(fp) + "\n")
        fh.write(Entry(index=3, outputs=[b"\x00", b"\x00"], ticks=1, microseconds=1.0).to_line(fp) + "\n")
    with Journal.open(path, CONFIG, resume=True) as j:
        assert sorted(j.entries) == [0, 1] and j.damaged == 2  # index past the end; wrong output size


def test_duplicate_record_is_counted_not_written(tmp_path):
    with Journal.open(tmp_path / "j", CONFIG, resume=False) as j:
        j.record(_entry(0))
        j.record(_entry(0))
        assert j.duplicates == 1
    assert len((tmp_path / "j").read_text().splitlines()) == 2


def test_resume_with_other_config_is_refused(tmp_path):
    path = tmp_path / "journal.jsonl"
    Journal.open(path, CONFIG, resume=False).close()
    other = dict(CONFIG, dataset="random:20")
    with pytest.raises(UsageError, match="different configuration.*dataset: journal random:10, now random:20"):
        Journal.open(path, other, resume=True)


@pytest.mark.parametrize("first", [b"hello", b"\xff\xfe\x00", b"[" * 100_000, b"x" * (5 << 20), b'{"a": NaN}'])
def test_resume_of_foreign_file_is_refused(tmp_path, first):
    path = tmp_path / "journal.jsonl"
    path.write_bytes(first + b"\n")
    with pytest.raises(UsageError, match="not a tinyflow evaluation journal"):
        Journal.open(path, CONFIG, resume=True)


def test_a_damaged_header_is_refused(tmp_path):
    path = _journal(tmp_path / "journal.jsonl", 2)
    _replace_line(path, 0, path.read_bytes().split(b"\n")[0].replace(b"random:10", b"random:11"))
    with pytest.raises(UsageError, match="header of .* is damaged.*Run without --resume"):
        Journal.open(path, CONFIG, resume=True)


def test_an_old_journal_without_checksums_cannot_be_verified(tmp_path):
    path = tmp_path / "journal.jsonl"
    path.write_text(
        json.dumps({"tinyflow_journal": 1, "config": CONFIG, "fingerprint": "x"})
        + "\n"
        + '{"i": 0, "out": ["AP8=", "AA=="], "ticks": 100, "us": 0.0, "wall": 0.01, "c": [0, 0, 0]}\n'
    )
    with pytest.raises(UsageError, match=r"no checksums.*cannot be verified\. Run without --resume"):
        Journal.open(path, CONFIG, resume=True)


def test_without_resume_an_old_journal_is_replaced(tmp_path):
    path = _journal(tmp_path / "journal.jsonl", 1)
    with Journal.open(path, dict(CONFIG, dataset="digits"), resume=False) as j:
        assert j.entries == {}
    assert len(path.read_text().splitlines()) == 1
