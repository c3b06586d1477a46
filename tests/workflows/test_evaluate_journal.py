"""The resume journal: fsync'd lines, torn tails, config mismatch refused."""

import json

import numpy as np
import pytest

from tinyflow.errors import UsageError
from tinyflow.workflows.journal import Entry, Journal

CONFIG = {"model_sha256": "ab" * 32, "dataset": "random:10", "target": "sim://tflm"}


def _entry(i):
    return Entry(index=i, outputs=[bytes([i, 255 - i]), b"\x00"], ticks=100 + i, microseconds=1.5 * i,
                 wall=0.01, counters=(i % 2, 0, 0))


def test_round_trip_and_resume(tmp_path):
    path = tmp_path / "journal.jsonl"
    with Journal.open(path, CONFIG, resume=False) as j:
        for i in range(3):
            j.record(_entry(i))
    with Journal.open(path, CONFIG, resume=True) as j:
        assert sorted(j.entries) == [0, 1, 2]
        assert j.entries[1] == _entry(1)
        j.record(_entry(3))
    lines = path.read_text().splitlines()
    assert json.loads(lines[0])["config"] == CONFIG and len(lines) == 5


def test_torn_last_line_is_dropped_and_cut(tmp_path):
    path = tmp_path / "journal.jsonl"
    with Journal.open(path, CONFIG, resume=False) as j:
        j.record(_entry(0))
        j.record(_entry(1))
    text = path.read_text()
    path.write_text(text[: len(text) - 7])  # the process died in the middle of line 2
    with Journal.open(path, CONFIG, resume=True) as j:
        assert sorted(j.entries) == [0]
        j.record(_entry(1))
    with Journal.open(path, CONFIG, resume=True) as j:
        assert sorted(j.entries) == [0, 1] and j.duplicates == 0


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


def test_resume_of_foreign_file_is_refused(tmp_path):
    path = tmp_path / "journal.jsonl"
    path.write_text("hello\n")
    with pytest.raises(UsageError, match="not a tinyflow evaluation journal"):
        Journal.open(path, CONFIG, resume=True)


def test_without_resume_an_old_journal_is_replaced(tmp_path):
    path = tmp_path / "journal.jsonl"
    with Journal.open(path, CONFIG, resume=False) as j:
        j.record(_entry(0))
    with Journal.open(path, dict(CONFIG, dataset="digits"), resume=False) as j:
        assert j.entries == {}
    assert len(path.read_text().splitlines()) == 1
