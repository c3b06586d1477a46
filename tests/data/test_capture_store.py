"""The done-when of capture (issue 12): 3 labels x 10 windows captured from a played WAV and a played
CSV on sim://host and sim://qemu-m4, with and without injected faults, are exactly the played
frames, none lost and none duplicated; the device's timestamps follow the sensor's rate."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import corpus_path, require_tool
from tinyflow.cli.main import cli
from tinyflow.data.sample_files import encode_sample
from tinyflow.data.store import open_store

LABELS = ("yes", "no", "up")
WINDOWS = 10
FAULTS = "ber=2e-4,drop=1e-4,dup=1e-4,garbage=0.02,seed=5"
AUDIO = {"suffix": "wav", "rate": 16000, "seconds": 0.1, "channels": 1}
IMU = {"suffix": "csv", "rate": 100, "seconds": 0.2, "channels": 6}


def write_source(folder, kind: dict, seed: int):
    """A recording of exactly 10 windows (the capture must use all of it), and its frames."""
    width = int(round(kind["seconds"] * kind["rate"]))
    rng = np.random.default_rng(seed)
    frames = rng.integers(-32768, 32768, (WINDOWS * width, kind["channels"]), dtype=np.int16)
    path = folder / f"{seed}.{kind['suffix']}"
    path.write_bytes(encode_sample(frames, kind["suffix"], sample_rate=kind["rate"]))
    return path, frames, width


def capture(target: str, out, label: str, kind: dict, *extra: str) -> dict:
    args = ["-q", "capture", "-t", target, "--label", label, "--count", str(WINDOWS)]
    args += ["--seconds", str(kind["seconds"]), "-o", str(out), "--json", "--timeout", "2", *extra]
    r = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert r.exit_code == 0, r.output
    return json.loads(r.output)


def check_store(out, sources: dict, kind: dict, tps: int | None = None) -> None:
    store = open_store(out)
    stamps = [json.loads(line) for line in (out / ".captures.jsonl").read_text().splitlines()]
    by_path = {s["path"]: s for s in stamps}
    for label, (frames, width) in sources.items():
        entries = [e for e in store.entries if e.label == label]
        assert len(entries) == WINDOWS
        got = {by_path[e.path]["first_frame"]: e for e in entries}
        assert sorted(got) == [i * width for i in range(WINDOWS)]
        ticks = [by_path[got[i * width].path]["device_ticks64"] for i in range(WINDOWS)]
        rate = by_path[entries[0].path]["ticks_per_second"]
        assert np.allclose(np.diff(ticks), width * rate / kind["rate"], atol=1)  # the device's clock
        for i in range(WINDOWS):
            entry = got[i * width]
            want = frames[i * width : (i + 1) * width]
            assert (entry.sensor, entry.sample_rate) == ("audio" if kind is AUDIO else "imu", kind["rate"])
            raw = (out / entry.path).read_bytes()
            assert raw == encode_sample(want, kind["suffix"], sample_rate=kind["rate"])  # byte for byte
            assert np.array_equal(store.read(entry).data, want)


def run_case(tmp_path, base: str, kind: dict, faults: bool, *extra: str) -> None:
    out, sources, bad_frames = tmp_path / "store", {}, 0
    for seed, label in enumerate(LABELS):
        path, frames, width = write_source(tmp_path, kind, seed)
        query = f"sensor={path}&sensor_pace=fast" + ("&sensor_rate=100" if kind is IMU else "")
        sep = "&" if "?" in base else "?"
        report = capture(
            f"{base}{sep}{query}", out, label, kind, *extra, *(["--inject-faults", FAULTS] if faults else [])
        )
        assert (report["windows"], report["added"], report["lost"], report["duplicated"]) == (WINDOWS, WINDOWS, 0, 0)
        bad_frames += report["link"]["crc_errors"]
        sources[label] = (frames, width)
    assert (bad_frames > 0) == faults  # the faults were there, and every frame got through them
    check_store(out, sources, kind)


@pytest.mark.firmware
@pytest.mark.parametrize("faults", [False, True], ids=["clean", "faults"])
@pytest.mark.parametrize("kind", [AUDIO, IMU], ids=["wav", "csv"])
def test_capture_on_sim_host_equals_the_played_source(tmp_path, kind, faults):
    require_tool("cc")
    run_case(tmp_path, "sim://host", kind, faults)


@pytest.mark.arm
@pytest.mark.qemu
@pytest.mark.parametrize(("kind", "faults"), [(AUDIO, False), (IMU, True)], ids=["wav", "csv-faults"])
def test_capture_on_sim_qemu_equals_the_played_source(tmp_path, kind, faults):
    require_tool("qemu-system-arm")
    model = corpus_path("tflm/hello_world_int8.tflite")
    run_case(tmp_path, "sim://qemu-m4", kind, faults, "--model", str(model))


@pytest.mark.firmware
def test_a_continuous_take_is_cut_by_data_segment(tmp_path):
    require_tool("cc")
    kind = {**IMU, "seconds": 1.0}
    path, frames, _ = write_source(tmp_path, kind, 9)
    target = f"sim://host?sensor={path}&sensor_pace=fast&sensor_rate=100"
    args = ["-q", "capture", "-t", target, "--label", "walk", "--continuous", "--seconds", "3"]
    r = CliRunner().invoke(cli, [*args, "-o", str(tmp_path / "takes"), "--json"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    report = json.loads(r.output)
    assert (report["frames"], report["lost"], report["duplicated"]) == (300, 0, 0)
    take = report["take"]
    seg = ["-q", "data", "segment", take, "-o", str(tmp_path / "s"), "--label", "walk", "--rate", "100"]
    r = CliRunner().invoke(cli, [*seg, "--seconds", "1", "--overlap", "0", "--json"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    store = open_store(tmp_path / "s")
    got = sorted((store.read(e).data for e in store.entries), key=lambda a: a[0].tolist())
    want = sorted((frames[i : i + 100] for i in range(0, 300, 100)), key=lambda a: a[0].tolist())
    assert len(got) == 3 and all(np.array_equal(g, w) for g, w in zip(got, want))


@pytest.mark.firmware
def test_a_stream_shorter_than_asked_keeps_the_windows_and_says_so(tmp_path):
    require_tool("cc")
    path, _, _ = write_source(tmp_path, AUDIO, 1)
    target = f"sim://host?sensor={path}&sensor_pace=fast"
    args = ["capture", "-t", target, "--label", "yes", "--count", "12", "--seconds", "0.1", "-o", str(tmp_path / "s")]
    r = CliRunner().invoke(cli, [*args, "--no-progress"], catch_exceptions=False)
    assert r.exit_code == 1
    assert r.output.strip().splitlines()[-1] == (
        f"Error: The sensor stream ended after 10 of 12 window(s) of yes (kept in {tmp_path / 's'}). "
        "Play a longer recording, or ask for fewer windows with --count."
    )
    assert len(open_store(tmp_path / "s").entries) == 10


def test_a_target_without_a_sensor_is_one_error_line(tmp_path):
    require_tool("cc")
    args = ["capture", "-t", "sim://host", "--label", "yes", "-o", str(tmp_path / "s"), "--no-progress"]
    r = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert r.exit_code == 1
    assert (
        r.output.strip()
        .splitlines()[-1]
        .startswith("Error: The device's sensor did not open (no sensor). On sim://host")
    )


def test_qemu_without_a_model_is_refused_before_building(tmp_path):
    args = ["capture", "-t", "sim://qemu-m4", "--label", "yes", "-o", str(tmp_path / "s")]
    r = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert r.exit_code == 2
    assert r.output.strip().splitlines()[-1] == (
        "Error: sim://qemu-m4 runs a firmware built for a model, and none was given. Pass --model MODEL.tflite."
    )


def test_a_bad_sensor_option_is_one_usage_line_before_any_build(tmp_path, monkeypatch):
    import tinyflow.workflows.device as device

    monkeypatch.setattr(device, "build_for", lambda *a, **k: pytest.fail("built despite a bad option"))
    args = ["capture", "-t", "sim://host?sensor_gain=2", "--label", "yes", "-o", str(tmp_path / "s")]
    r = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert r.exit_code == 2
    assert r.output.strip().splitlines()[-1] == (
        "Error: sim://host?sensor_gain=2 gives sensor_gain without a sensor to play. Add ?sensor=FILE.wav|FILE.csv."
    )
