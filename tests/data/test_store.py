"""tinyflow.data.store: content-addressed samples, stable splits, the version, and a store as a dataset spec."""

from __future__ import annotations

import csv
import hashlib
import io
import wave

import numpy as np
import pytest
from store_samples import imu, make_store

from tinyflow.data import load_dataset, parse_spec, split
from tinyflow.data.sample_files import decode_sample, encode_sample
from tinyflow.data.store import MANIFEST, create_store, open_store, split_for
from tinyflow.errors import DataError, UsageError


def test_a_store_is_plain_files_and_a_manifest_anyone_can_read(tmp_path):
    make_store(tmp_path / "s", n=4)
    rows = list(csv.DictReader(open(tmp_path / "s" / MANIFEST)))
    assert [set(r) for r in rows[:1]] == [
        {"path", "label", "sha256", "sensor", "sample_rate", "device", "captured_at", "split", "group"}
    ]
    for row in rows:
        raw = (tmp_path / "s" / row["path"]).read_bytes()
        assert hashlib.sha256(raw).hexdigest() == row["sha256"]
        assert row["path"].startswith(f"samples/{row['label']}/") and row["path"].endswith(".csv")
        assert raw.startswith(b"ch0,ch1,ch2\n") and row["sample_rate"] == "50"


def test_wav_samples_round_trip_bit_exactly_and_carry_their_rate():
    audio = (np.sin(np.arange(1600) / 5) * 20000).astype(np.int16)
    raw = encode_sample(audio, "wav", sample_rate=16000)
    with wave.open(io.BytesIO(raw)) as w:  # the standard library reads it: no tinyflow needed
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (16000, 1, 2)
    got = decode_sample(raw, "wav", "x.wav")
    assert np.array_equal(got.data[:, 0], audio) and got.sample_rate == 16000


def test_the_same_sample_is_stored_once_and_cannot_change_label(tmp_path):
    with create_store(tmp_path / "s") as store:
        first, added = store.add_sample(imu(1), "a", sensor="imu")
        again, added_again = store.add_sample(imu(1), "a", sensor="imu")
        assert added and not added_again and again == first
        with pytest.raises(DataError, match="already in .* with label 'a', not 'b'"):
            store.add_sample(imu(1), "b", sensor="imu")
    assert len(open_store(tmp_path / "s").entries) == 1


def test_adding_samples_never_moves_existing_ones_between_splits(tmp_path):
    make_store(tmp_path / "s", n=60)
    before = {e.sha256: e.split for e in open_store(tmp_path / "s").entries}
    assert set(before.values()) == {"train", "val", "test"}
    with open_store(tmp_path / "s") as store:
        for i in range(100, 160):
            store.add_sample(imu(i), "c", sensor="imu")
    after = {e.sha256: e.split for e in open_store(tmp_path / "s").entries}
    assert len(after) == 120 and all(after[sha] == s for sha, s in before.items())


def test_a_group_never_straddles_splits():
    splits = {split_for(f"speaker-{i}") for i in range(200)}
    assert splits == {"train", "val", "test"}
    assert len({split_for("speaker-7") for _ in range(5)}) == 1


def test_samples_of_one_group_share_a_split(tmp_path):
    with create_store(tmp_path / "s") as store:
        entries = [store.add_sample(imu(i), "a", group=f"take-{i % 5}")[0] for i in range(50)]
    for g in range(5):
        assert len({e.split for e in entries if e.group == f"take-{g}"}) == 1


def test_the_version_is_the_manifest_hash_and_changes_with_any_sample(tmp_path):
    store = make_store(tmp_path / "s", n=6)
    assert store.version == hashlib.sha256((tmp_path / "s" / MANIFEST).read_bytes()).hexdigest()
    with open_store(tmp_path / "s") as again:
        assert again.version == store.version
        again.add_sample(imu(99), "a")
    assert open_store(tmp_path / "s").version != store.version


def test_a_store_folder_is_a_dataset_spec_with_its_splits_and_version(tmp_path):
    store = make_store(tmp_path / "s", n=40)
    spec = parse_spec(str(tmp_path / "s"))
    assert (spec.kind, spec.name) == ("store", "s")
    ds = load_dataset(str(tmp_path / "s"), seed=5)
    assert ds.x.shape == (40, 20, 3) and ds.class_names == ["a", "b"] and ds.version == store.version
    train, val, test = split(ds, seed=123)  # the manifest's split, whatever the seed
    by_sha = {e.sha256: e.split for e in store.entries}
    assert len(test) == sum(s == "test" for s in by_sha.values()) and len(test) > 0
    assert len(train) + len(val) + len(test) == 40
    assert np.array_equal(split(ds, seed=1)[2].x, test.x)


def test_a_folder_without_a_manifest_is_refused_as_a_dataset(tmp_path):
    with pytest.raises(UsageError, match="is a folder but not a dataset store"):
        parse_spec(str(tmp_path))


def test_samples_of_different_lengths_are_refused_with_what_to_do(tmp_path):
    with create_store(tmp_path / "s") as store:
        store.add_sample(imu(1, 20), "a")
        store.add_sample(imu(2, 20), "b")
        store.add_sample(imu(3, 31), "b")
    with pytest.raises(DataError, match=r"2 shapes: 2 are \(20, 3\) but .* is \(31, 3\).*tinyflow data segment"):
        load_dataset(str(tmp_path / "s"))


def test_reassigning_splits_is_stable_and_follows_the_fractions(tmp_path):
    make_store(tmp_path / "s", n=200)
    with open_store(tmp_path / "s") as store:
        counts = store.reassign_splits(0.0, 0.5)
    assert counts["val"] == 0 and 70 < counts["test"] < 130
    assert open_store(tmp_path / "s").test == 0.5  # later samples use the new fractions


def test_eval_on_a_store_scores_its_test_split_and_records_its_version(tmp_path):
    import json

    from click.testing import CliRunner

    from conftest import corpus_path
    from tinyflow.cli.main import cli

    with create_store(tmp_path / "s") as store:
        for i in range(40):  # hello_world takes one float: x, labelled by the sign of sin(x)
            store.add_sample(np.array([[i * 0.15]], np.float32), "high" if np.sin(i * 0.15) > 0 else "low")
    model = corpus_path("tflm/hello_world_int8.tflite")
    result = CliRunner().invoke(cli, ["eval", str(model), "-d", str(tmp_path / "s"), "--json", "--no-progress"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["dataset"] == f"s/test@{store.version[:16]}"
    assert report["samples"] == sum(e.split == "test" for e in store.entries)
