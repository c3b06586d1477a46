"""Played sensors (tinyflow/targets/played.py): the file format, WAV/CSV sources, deterministic
perturbations, hostile files, and the sim:// options that ask for them (checked before any build)."""

from __future__ import annotations

import io
import wave

import numpy as np
import pytest

from tinyflow.errors import DataError, UsageError
from tinyflow.targets import parse_sim_url
from tinyflow.targets.played import (
    HEADER,
    KINDS,
    Perturb,
    Played,
    decode_played,
    encode_played,
    load_recording,
    perturb,
    prepare_sensor,
    write_played,
)


def wav_bytes(audio: np.ndarray, rate: int = 16000, channels: int = 1) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(audio.astype("<i2").tobytes())
    return buf.getvalue()


@pytest.fixture
def audio():
    return np.random.default_rng(0).integers(-32768, 32768, 1000, dtype=np.int16)


def test_the_file_is_a_16_byte_header_then_interleaved_int16_le():
    data = np.array([[1, -2], [300, -32768]], dtype=np.int16)
    raw = encode_played(Played(data, KINDS["imu"], 100))
    assert raw[:16] == b"TFPS\x01\x00\x02\x02" + (100).to_bytes(4, "little") + (2).to_bytes(4, "little")
    assert raw[16:] == bytes.fromhex("0100feff2c010080")
    back = decode_played(raw)
    assert (back.kind, back.rate_hz) == (2, 100) and np.array_equal(back.data, data)


def test_a_wav_plays_as_audio_sample_for_sample(tmp_path, audio):
    (tmp_path / "a.wav").write_bytes(wav_bytes(audio))
    played = write_played(tmp_path / "a.wav", tmp_path / "a.tfps")
    assert (played.kind, played.rate_hz, played.channels) == (1, 16000, 1)
    assert np.array_equal(decode_played((tmp_path / "a.tfps").read_bytes()).data[:, 0], audio)


def test_a_csv_plays_its_columns_at_the_rate_given(tmp_path):
    (tmp_path / "m.csv").write_text("ax,ay,az\n1,2,3\n-4,5,-32768\n")
    played = load_recording(tmp_path / "m.csv", kind="adc", rate_hz=50)
    assert (played.kind, played.rate_hz) == (3, 50)
    assert played.data.tolist() == [[1, 2, 3], [-4, 5, -32768]]
    with pytest.raises(UsageError, match="sample rate is not in the file"):
        load_recording(tmp_path / "m.csv")


@pytest.mark.parametrize(
    "text, match",
    [("a\n1.5\n", "not int16 sensor counts"), ("a\n40000\n", "not int16 sensor counts")],
)
def test_a_csv_of_values_no_sensor_gives_is_refused(tmp_path, text, match):
    (tmp_path / "m.csv").write_text(text)
    with pytest.raises(DataError, match=match):
        load_recording(tmp_path / "m.csv", rate_hz=100)


def test_stereo_wav_is_refused_with_the_conversion_to_do(tmp_path, audio):
    (tmp_path / "s.wav").write_bytes(wav_bytes(audio, channels=2))
    with pytest.raises(DataError, match="2 audio channels; a played microphone is mono"):
        load_recording(tmp_path / "s.wav")


def test_perturbations_are_deterministic_and_do_what_they_say(audio):
    base = Played(audio.reshape(-1, 1), 1, 16000)
    assert perturb(base, Perturb()) is base
    gained = perturb(base, Perturb(gain=0.5, offset=10))
    assert np.array_equal(gained.data, np.clip(np.rint(audio * 0.5 + 10), -32768, 32767).reshape(-1, 1))
    loud = perturb(base, Perturb(gain=4.0)).data
    assert loud.max() == 32767 and loud.min() == -32768  # saturated like an ADC, not wrapped
    a, b = perturb(base, Perturb(noise=100, seed=3)), perturb(base, Perturb(noise=100, seed=3))
    assert np.array_equal(a.data, b.data) and not np.array_equal(a.data, base.data)
    assert not np.array_equal(a.data, perturb(base, Perturb(noise=100, seed=4)).data)
    dropped = perturb(base, Perturb(dropout_rate=0.01, dropout_frames=20, seed=1)).data[:, 0]
    zeroed = dropped == 0
    assert 40 <= zeroed.sum() <= 400 and np.array_equal(dropped[~zeroed], audio[~zeroed])


@pytest.mark.parametrize(
    "raw, match",
    [
        (b"TFPS", "shorter than the 16 B"),
        (HEADER.pack(b"RIFF", 1, 1, 1, 16000, 0), "not a version 1 played-sensor file"),
        (HEADER.pack(b"TFPS", 1, 9, 1, 16000, 0), "sensor kind 9"),
        (HEADER.pack(b"TFPS", 1, 1, 0, 16000, 0), "0 channels"),
        (HEADER.pack(b"TFPS", 1, 1, 1, 0, 0), "0 Hz"),
        (HEADER.pack(b"TFPS", 1, 1, 16, 16000, 0xFFFFFFFF), "more than the"),  # refused before allocating
        (HEADER.pack(b"TFPS", 1, 1, 1, 16000, 5) + b"\x00" * 8, "declares 5 frames"),
    ],
)
def test_hostile_played_files_are_one_data_error(raw, match):
    with pytest.raises(DataError, match=match):
        decode_played(raw)


def test_sim_urls_take_the_sensor_options_and_check_them_first(tmp_path, audio):
    wav = tmp_path / "a.wav"
    wav.write_bytes(wav_bytes(audio))
    url = f"sim://host?fake=1&sensor={wav}&sensor_gain=0.5&sensor_noise=3&sensor_dropouts=0.01:8&sensor_pace=fast"
    name, params = parse_sim_url(url)
    assert name == "host" and params["sensor_dropouts"] == "0.01:8"
    argv = prepare_sensor(params, tmp_path)
    assert argv == ["--sensor", str(tmp_path / "sensor.tfps"), "--sensor-pace", "fast"]
    played = decode_played((tmp_path / "sensor.tfps").read_bytes())
    assert not np.array_equal(played.data[:, 0], audio)  # perturbed
    assert parse_sim_url(f"sim://qemu-m4?sensor={wav}")[1]["sensor"] == str(wav)


@pytest.mark.parametrize(
    "query, match",
    [
        ("sensor=/no/such.wav", "is not an existing .wav, .csv or .tfps file"),
        ("sensor={wav}&sensor_gain=nan", "sensor_gain=nan is not a number"),
        ("sensor={wav}&sensor_noise=-1", "sensor_noise=-1 is not a number >= 0"),
        ("sensor={wav}&sensor_dropouts=2", "is not a rate\\[:frames\\]"),
        ("sensor={wav}&sensor_dropouts=0.1:0", "is not a rate\\[:frames\\]"),
        ("sensor={wav}&sensor_pace=slow", "sensor_pace=slow is not one of realtime, fast"),
        ("sensor={wav}&sensor_rate=0", "sensor_rate=0 must be a whole number between 1 and 1000000"),
        ("sensor_gain=2", "gives sensor_gain without a sensor to play"),
    ],
)
def test_bad_sensor_options_are_one_usage_error(tmp_path, audio, query, match):
    wav = tmp_path / "a.wav"
    wav.write_bytes(wav_bytes(audio))
    with pytest.raises(UsageError, match=match):
        parse_sim_url("sim://host?" + query.format(wav=wav))


def test_simulators_without_a_played_sensor_refuse_the_option(tmp_path):
    with pytest.raises(UsageError, match="does not take the option 'sensor'"):
        parse_sim_url(f"sim://tflm?sensor={tmp_path}/a.wav")


def test_a_recording_over_the_size_bound_is_refused_before_it_is_read(tmp_path, monkeypatch):
    from tinyflow.targets import played

    monkeypatch.setitem(played.MAX_SOURCE_BYTES, ".csv", 100)
    (tmp_path / "big.csv").write_text("a\n" + "1\n" * 100)
    with pytest.raises(DataError, match="big.csv"):
        load_recording(tmp_path / "big.csv", rate_hz=100)
