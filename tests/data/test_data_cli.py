"""`tinyflow data info|split|import|segment`: folders in, stores out, one line per failure."""

from __future__ import annotations

import json
import wave

import numpy as np
from click.testing import CliRunner
from store_samples import make_store

from tinyflow.cli.main import cli
from tinyflow.data import load_dataset
from tinyflow.data.segment import energy_segments, fixed_windows
from tinyflow.data.store import open_store


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def write_wav(path, samples: np.ndarray, rate: int = 16000) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(rate)
        w.writeframes(samples.astype("<i2").tobytes())


def tone(freq: float, n: int = 4000, amp: float = 8000) -> np.ndarray:
    return (np.sin(2 * np.pi * freq * np.arange(n) / 16000) * amp).astype(np.int16)


def test_import_takes_label_folders_and_split_folders(tmp_path):
    src = tmp_path / "src"
    for i in range(3):
        write_wav(src / "yes" / f"{i}.wav", tone(300 + 50 * i))
        write_wav(src / "no" / f"{i}.wav", tone(900 + 50 * i))
    write_wav(src / "test" / "yes" / "t.wav", tone(333))
    write_wav(src / "no" / "copy.wav", tone(900))  # the same recording twice
    (src / "no" / "notes.txt").write_text("ignored")
    result = invoke("data", "import", src, "-o", tmp_path / "s")
    assert result.exit_code == 0, result.output
    assert "Imported into" in result.output and "no 3, yes 4 (7 samples, 1 duplicate(s) skipped)" in result.output
    store = open_store(tmp_path / "s")
    assert {e.label for e in store.entries} == {"yes", "no"}
    assert next(e for e in store.entries if e.sha256 and e.split == "test" and e.label == "yes")
    assert all(e.sensor == "audio" and e.sample_rate == 16000 for e in store.entries)
    ds = load_dataset(str(tmp_path / "s"))
    got = sorted(np.round(ds.x[:, :3, 0] * 32768).astype(int).tolist())  # bit-exact samples
    assert sorted(tone(f)[:3].tolist() for f in (300, 350, 400, 900, 950, 1000, 333)) == got


def test_import_of_csv_time_series_keeps_channels_and_rate(tmp_path):
    src = tmp_path / "src" / "wave"
    src.mkdir(parents=True)
    (src / "a.csv").write_text("ax,ay,az\n0.5,1,-2\n0.25,1,-2\n")
    (src / "b.csv").write_text("1,2,3\n4,5,6\n")  # no header
    result = invoke("data", "import", tmp_path / "src", "-o", tmp_path / "s", "--rate", "50", "--device", "watch")
    assert result.exit_code == 0, result.output
    store = open_store(tmp_path / "s")
    assert {(e.sensor, e.sample_rate, e.device) for e in store.entries} == {("imu", 50.0, "watch")}
    texts = sorted((tmp_path / "s" / e.path).read_text() for e in store.entries)
    assert texts == ["ax,ay,az\n0.5,1.0,-2.0\n0.25,1.0,-2.0\n", "ch0,ch1,ch2\n1,2,3\n4,5,6\n"]


def test_import_refuses_a_broken_recording_with_one_line(tmp_path):
    (tmp_path / "src" / "yes").mkdir(parents=True)
    (tmp_path / "src" / "yes" / "bad.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    result = invoke("data", "import", tmp_path / "src", "-o", tmp_path / "s")
    assert result.exit_code == 1 and result.output.strip().splitlines()[-1].startswith("Error: ")
    assert "bad.wav is not a valid .wav sample" in result.output
    empty = invoke("data", "import", tmp_path / "src" / "yes", "-o", tmp_path / "t")
    assert empty.exit_code == 2 and "No .wav or .csv files in label folders" in empty.output


def test_segment_cuts_words_out_of_a_long_audio_take(tmp_path):
    take = np.zeros(16000 * 6, np.int16)
    for start, freq in [(8000, 440), (40000, 550), (72000, 660)]:
        take[start : start + 4000] = tone(freq)
    audio = take[:, None]
    windows = energy_segments(audio, 16000, seconds=1.0)
    assert len(windows) == 3 and all(w.shape == (16000, 1) for w in windows)
    for w in windows:  # each word is centred in its window
        loud = np.flatnonzero(np.abs(w[:, 0]) > 1000)
        assert 6000 - 200 < loud[0] < 6000 + 200
    write_wav(tmp_path / "take.wav", take)
    result = invoke("data", "segment", tmp_path / "take.wav", "-o", tmp_path / "s", "--label", "beep")
    assert result.exit_code == 0 and "into 3 window(s) of beep: 3 added" in result.output, result.output
    entries = open_store(tmp_path / "s").entries
    assert len({e.group for e in entries}) == 1 and len({e.split for e in entries}) == 1  # one take, one split


def test_segment_cuts_fixed_overlapping_windows_of_an_imu_take(tmp_path):
    data = np.arange(100 * 3).reshape(100, 3)
    windows = fixed_windows(data, 20, overlap=0.5)
    assert len(windows) == 9 and np.array_equal(windows[1][0], data[10])
    lines = "\n".join(",".join(map(str, row)) for row in data.tolist())
    (tmp_path / "take.csv").write_text("ax,ay,az\n" + lines + "\n")
    result = invoke("data", "segment", tmp_path / "take.csv", "-o", tmp_path / "s", "--label", "walk", "--rate", "20")
    assert result.exit_code == 0 and "into 9 window(s)" in result.output, result.output
    ds = load_dataset(str(tmp_path / "s"))
    assert ds.x.shape == (9, 20, 3)
    quiet = tmp_path / "quiet.wav"
    write_wav(quiet, (tone(440, 16000) // 1000).astype(np.int16))  # about -50 dBFS
    result = invoke("data", "segment", quiet, "-o", tmp_path / "q", "--label", "beep")
    assert result.exit_code == 0 and "Nothing was cut: a WAV take needs sound above --threshold-db" in result.output
    norate = invoke("data", "segment", tmp_path / "take.csv", "-o", tmp_path / "s", "--label", "walk")
    assert norate.exit_code == 2 and "Pass --rate HZ" in norate.output


def test_info_and_split(tmp_path):
    store = make_store(tmp_path / "s", n=30)
    info = invoke("data", "info", tmp_path / "s", "--json")
    doc = json.loads(info.output)
    assert info.exit_code == 0 and doc["kind"] == "store" and doc["version"] == store.version
    assert sum(sum(c.values()) for c in doc["classes"].values()) == 30 and doc["sample_rates"] == {"50 Hz": 30}
    result = invoke("data", "split", tmp_path / "s", "--val", "0", "--test", "0.5")
    assert result.exit_code == 0 and ", val 0, " in result.output
    after = open_store(tmp_path / "s")
    assert after.version != store.version and {e.split for e in after.entries} == {"train", "test"}
    bad = invoke("data", "split", tmp_path / "s", "--val", "0.6", "--test", "0.5")
    assert bad.exit_code == 2 and "Split fractions" in bad.output
    assert "basic-motions (builtin)" in invoke("data", "info", "basic-motions").output
