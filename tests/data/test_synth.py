"""`tinyflow data synth-kws`: real speech from espeak-ng, seeded, voices kept apart between splits."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import require_tool
from tinyflow.cli.main import cli
from tinyflow.data import load_dataset, split
from tinyflow.data import synth as synth_module
from tinyflow.data.store import open_store
from tinyflow.data.synth import RATE, mix, speak, synth_kws, voices_by_split
from tinyflow.errors import ToolchainError, UsageError


@pytest.fixture
def tools():
    require_tool("espeak-ng")
    require_tool("sox")


def test_speech_is_real_audio_that_differs_by_word(tools):
    yes, no = speak("yes", "en-us+m1"), speak("no", "en-us+m1")
    assert yes.dtype == np.int16 and 0.2 * RATE < len(yes) < RATE  # a short word at 16 kHz
    assert np.abs(yes).max() > 3000  # loud enough to be speech, not silence
    assert not np.array_equal(yes[: len(no)], no[: len(yes)])
    slow = speak("yes", "en-us+m1", speed=120)
    assert len(slow) > len(speak("yes", "en-us+m1", speed=220))


def test_synth_kws_writes_a_store_that_loads_offline_and_is_reproducible(tools, tmp_path):
    words = ["yes", "no", "up", "down"]
    report = synth_kws(words, tmp_path / "a", voices=6, repeats=1, seed=3)
    again = synth_kws(words, tmp_path / "b", voices=6, repeats=1, seed=3)
    other = synth_kws(words, tmp_path / "c", voices=6, repeats=1, seed=4)
    assert report.version == again.version != other.version
    assert (tmp_path / "a" / "manifest.csv").read_bytes() == (tmp_path / "b" / "manifest.csv").read_bytes()
    ds = load_dataset(str(tmp_path / "a"))
    assert ds.x.shape == (24, RATE, 1) and ds.class_names == sorted(words) and ds.version == report.version
    assert all(len(p) for p in split(ds))


def test_voices_never_cross_splits(tools, tmp_path):
    synth_kws(["on", "off"], tmp_path / "s", voices=8, repeats=2, seed=0)
    voices: dict[str, set[str]] = {}
    for e in open_store(tmp_path / "s").entries:
        voices.setdefault(e.split, set()).add(e.group)
    assert set(voices) == {"train", "val", "test"}
    assert not (voices["train"] & voices["test"]) and not (voices["train"] & voices["val"])
    assert not (voices["val"] & voices["test"])


def test_every_voice_of_the_pool_sounds_different(tools):
    # espeak-ng ignores a variant on some voice names (en-gb+f1 == en-gb+m1) and en-us-nyc speaks
    # as en-us: such a pool would hold the same voice under several names, in train and in test
    from tinyflow.data.synth import ACCENTS, VARIANTS

    heard = {}
    for voice in (f"{a}+{v}" for a in ACCENTS for v in VARIANTS):
        heard.setdefault(speak("no", voice).tobytes(), []).append(voice)
    assert [names for names in heard.values() if len(names) > 1] == []


def test_voice_sets_are_disjoint_and_seeded():
    a, b = voices_by_split(24, seed=1), voices_by_split(24, seed=1)
    assert a == b and voices_by_split(24, seed=2) != a
    assert sum(map(len, a.values())) == len(set().union(*a.values())) == 24
    with pytest.raises(UsageError):
        voices_by_split(2, seed=0)


def test_mixing_adds_noise_and_changes_level_within_int16():
    clip = (np.sin(np.arange(8000) / 3) * 10000).astype(np.int16)
    one, two = mix(clip, np.random.default_rng(0)), mix(clip, np.random.default_rng(1))
    assert one.shape == (RATE,) and one.dtype == np.int16 and not np.array_equal(one, two)
    assert np.array_equal(one, mix(clip, np.random.default_rng(0)))
    assert np.count_nonzero(one) > 15000  # noise fills the window around the 8000-sample word


@pytest.mark.parametrize("word", ["--help", "", "a" * 50, "yes;rm"])
def test_words_that_are_not_words_are_refused(word, tmp_path):
    with pytest.raises(UsageError, match="Cannot synthesize"):
        synth_kws([word], tmp_path / "s", voices=3)


def test_missing_tools_say_how_to_install_them(monkeypatch, tmp_path):
    monkeypatch.setattr(synth_module.shutil, "which", lambda name: None)
    with pytest.raises(ToolchainError, match="needs espeak-ng and sox") as info:
        synth_kws(["yes"], tmp_path / "s")
    assert "apt-get install espeak-ng sox" in info.value.hint


def test_the_cli_writes_the_store(tools, tmp_path):
    result = CliRunner().invoke(
        cli, ["data", "synth-kws", "--words", "yes,no", "-o", str(tmp_path / "s"), "--voices", "3", "--repeats", "1"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Synthesized 6 samples of yes, no into")
    check = CliRunner().invoke(cli, ["data", "check", str(tmp_path / "s")])
    assert check.exit_code == 0 and "0 error(s)" in check.output
