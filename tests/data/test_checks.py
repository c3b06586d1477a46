"""`tinyflow data check`: planted problems are found; a clean store passes; errors exit 1."""

from __future__ import annotations

import shutil
from dataclasses import replace

import numpy as np
from click.testing import CliRunner
from store_samples import imu, make_store

from tinyflow.cli.main import cli
from tinyflow.data.checks import check_store
from tinyflow.data.store import create_store, open_store


def run_check(*args):
    result = CliRunner().invoke(cli, ["data", "check", *map(str, args)])
    return result.exit_code, result.output


def codes(report, level=None):
    return {f.code for f in report.findings if level is None or f.level == level}


def test_a_clean_store_passes(tmp_path):
    make_store(tmp_path / "s", n=60)
    report = check_store(tmp_path / "s")
    assert report.findings == [] and report.samples == 60
    assert sum(report.balance["a"].values()) == 30
    code, out = run_check(tmp_path / "s")
    assert code == 0 and "0 error(s), 0 warning(s)" in out


def test_a_planted_cross_split_duplicate_is_leakage_and_an_error(tmp_path):
    make_store(tmp_path / "s", n=30)
    with open_store(tmp_path / "s") as store:
        train = next(e for e in store.entries if e.split == "train")
        copy = replace(train, path="samples/copied/again.csv", split="test")
        (tmp_path / "s" / "samples" / "copied").mkdir()
        shutil.copy(tmp_path / "s" / train.path, tmp_path / "s" / copy.path)
        store.entries.append(copy)
    report = check_store(tmp_path / "s")
    assert codes(report, "error") == {"leakage"}
    assert "test/train" in report.errors[0].message and "samples/copied/again.csv" in report.errors[0].message
    code, out = run_check(tmp_path / "s")
    assert code == 1 and out.splitlines()[-1].startswith("Error: ") and "is in test/train" in out.splitlines()[-1]


def test_a_planted_ten_to_one_imbalance_is_flagged(tmp_path):
    with create_store(tmp_path / "s") as store:
        for i in range(110):
            store.add_sample(imu(i), "common" if i < 100 else "rare")
    report = check_store(tmp_path / "s")
    balance = [f.message for f in report.findings if f.code == "balance"]
    assert any("imbalanced 10.0:1: common has 100 samples, rare has 10" in m for m in balance), balance
    assert run_check(tmp_path / "s")[0] == 0  # a warning ...
    code, out = run_check(tmp_path / "s", "--strict")  # ... that --strict fails on
    assert code == 1 and "imbalanced 10.0:1" in out


def test_near_duplicates_across_splits_are_found_but_not_unrelated_samples(tmp_path):
    make_store(tmp_path / "s", n=40)
    with open_store(tmp_path / "s") as store:
        train = next(e for e in store.entries if e.split == "train")
        x = store.read(train).data.astype(np.float32)
        louder = x * 1.3 + np.random.default_rng(0).normal(0, 0.01, x.shape).astype(np.float32)
        store.add_sample(louder, train.label, split="test")
    report = check_store(tmp_path / "s")
    near = [f for f in report.findings if f.code == "near-duplicate"]
    assert len(near) == 1 and "1 held-out sample(s)" in near[0].message and train.path in near[0].message
    assert not report.errors


def test_nan_rate_mismatch_and_shapes_are_errors(tmp_path):
    with create_store(tmp_path / "s") as store:
        bad = imu(1)
        bad[3, 1] = np.nan
        store.add_sample(bad, "a", sensor="imu", sample_rate=50)
        store.add_sample(imu(2), "b", sensor="imu", sample_rate=100)
        store.add_sample(imu(3, length=7), "b", sensor="imu", sample_rate=50)
    report = check_store(tmp_path / "s")
    assert {"nan", "sample-rate", "shape"} <= codes(report, "error")
    assert any("1 NaN or infinite" in f.message for f in report.findings)


def test_audio_clipping_silence_and_a_loudness_shortcut_are_warnings(tmp_path):
    rng = np.random.default_rng(0)
    with create_store(tmp_path / "s") as store:
        for _ in range(6):
            quiet = (rng.normal(0, 300, 1600)).astype(np.int16)
            store.add_sample(quiet, "no", sensor="audio", sample_rate=16000)
            loud = np.clip(rng.normal(0, 20000, 1600), -32768, 32767).astype(np.int16)
            store.add_sample(loud, "yes", sensor="audio", sample_rate=16000)
        store.add_sample(np.zeros(1600, np.int16), "no", sensor="audio", sample_rate=16000)
    report = check_store(tmp_path / "s")
    found = {f.code: f.message for f in report.findings}
    assert "clipping" in found and "6 sample(s) clip" in found["clipping"]
    assert "silence" in found and "1 sample(s) are silent" in found["silence"]
    assert any(f.code == "bias" and "yes is 3" in f.message and "dB louder" in f.message for f in report.findings)
    assert not report.errors


def test_a_class_recorded_on_its_own_device_is_a_bias_warning(tmp_path):
    with create_store(tmp_path / "s") as store:
        for i in range(20):
            store.add_sample(imu(i), "a" if i % 2 else "b", device="board-1" if i % 2 else "board-2")
    report = check_store(tmp_path / "s")
    bias = [f.message for f in report.findings if f.code == "bias"]
    assert any("a was recorded only on ['board-1']" in m for m in bias), bias


def test_files_missing_from_the_manifest_and_json_output(tmp_path):
    make_store(tmp_path / "s", n=10)
    (tmp_path / "s" / "samples" / "a" / "stray.csv").write_text("ch0\n1\n")
    result = CliRunner().invoke(cli, ["data", "check", str(tmp_path / "s"), "--json"])
    assert result.exit_code == 0 and '"code": "orphans"' in result.output and '"errors": 0' in result.output
