"""`tinyflow data synth-kws`: spoken keywords synthesized offline, written as a dataset store.

Each word is spoken by espeak-ng (Debian package espeak-ng) in many voices: an English accent
(American, British, Scottish, Received Pronunciation, Lancaster, West Midlands, Caribbean) with a
voice variant (male m1-m7, female f1-f5), at a speed and pitch drawn per sample: 84 voices. sox
resamples it to 16 kHz mono int16 (no dither, so it is repeatable); numpy places it in a 1 s
window at a random offset, mixes in background noise (white, pink or brown, sometimes mains hum)
at a random SNR and changes the level. Everything is drawn from one seeded generator: the same
arguments give the same bytes, so the same store version.

Voices are split, not samples: the test and val voices never speak in train, so the test
accuracy measures speakers the model has not heard (the leakage keyword datasets guard against
by speaker).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field

import numpy as np

from tinyflow.data.dataset import check_seed
from tinyflow.data.store import create_store
from tinyflow.errors import ToolchainError, UsageError

# "en", not "en-gb": espeak-ng ignores a +variant on the name en-gb (and en-us-nyc speaks as en-us),
# which would put one voice under several names, in train and test alike (a test checks the pool)
ACCENTS = ("en-us", "en", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-029")
VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5")
RATE = 16_000
TIMEOUT = 30.0  # seconds for one espeak-ng or sox run (a word takes ~10 ms)
MAX_WORD_BYTES = 1 << 20  # espeak-ng's WAV of one word is ~40 KB
MAX_WORDS, MAX_REPEATS = 64, 1000
_TOOLS_HINT = "Install them: sudo apt-get install espeak-ng sox (or ./run setup)."


@dataclass
class SynthReport:
    store: str
    words: list[str]
    voices: dict[str, list[str]] = field(default_factory=dict)  # split -> voices
    samples: int = 0
    version: str = ""

    def to_dict(self) -> dict:
        return dict(self.__dict__)

    def __str__(self) -> str:
        per = ", ".join(f"{s} {len(v)} voices" for s, v in self.voices.items())
        return (
            f"Synthesized {self.samples} samples of {', '.join(self.words)} into {self.store} ({per}); "
            f"version {self.version[:16]}"
        )


def voices_by_split(count: int, seed: int, val: float = 0.15, test: float = 0.2) -> dict[str, list[str]]:
    """`count` voices (accent+variant) drawn with `seed`, dealt into disjoint train/val/test sets."""
    every = [f"{a}+{v}" for a in ACCENTS for v in VARIANTS]
    if not 3 <= count <= len(every):
        raise UsageError(
            f"Asked for {count} voices; there are {len(every)} ({len(ACCENTS)} accents x {len(VARIANTS)} variants)",
            f"Use 3 to {len(every)} voices (train, val and test each need one).",
        )
    rng = np.random.default_rng([check_seed(seed), 1])
    chosen = [every[i] for i in rng.permutation(len(every))[:count]]
    n_test, n_val = max(1, round(count * test)), max(1, round(count * val))
    return {"train": chosen[n_test + n_val :], "val": chosen[n_test : n_test + n_val], "test": chosen[:n_test]}


def synth_kws(
    words: list[str], out: str | os.PathLike, *, voices: int = 24, repeats: int = 2, seed: int = 0
) -> SynthReport:
    """Write `repeats` samples of every word in every voice into the store `out`.

    Raises:
        UsageError: bad words or counts. ToolchainError: espeak-ng or sox missing or failing.
    """
    words = [_check_word(w) for w in words]
    if not 1 <= len(words) <= MAX_WORDS or len(set(words)) != len(words):
        raise UsageError(f"Got {len(words)} words, or one twice", f"Give 1 to {MAX_WORDS} different words.")
    if not 1 <= repeats <= MAX_REPEATS:
        raise UsageError(f"Asked for {repeats} repeats", f"Use 1 to {MAX_REPEATS} samples per word and voice.")
    _require_tools()
    by_split = voices_by_split(voices, seed)
    rng = np.random.default_rng([check_seed(seed), 2])
    store = create_store(out)
    report = SynthReport(str(out), words, by_split)
    with store:
        for split, names in by_split.items():
            for voice in names:
                for word in words:
                    for _ in range(repeats):
                        clip = speak(word, voice, speed=int(rng.integers(120, 221)), pitch=int(rng.integers(20, 81)))
                        sample = mix(clip, rng)
                        store.add_sample(
                            sample, word, sensor="audio", sample_rate=RATE, device=f"espeak-ng:{voice}",
                            captured_at="synthetic", split=split, group=voice,
                        )  # fmt: skip
                        report.samples += 1
    report.version = store.version
    return report


def speak(word: str, voice: str, speed: int = 160, pitch: int = 50) -> np.ndarray:
    """`word` spoken by espeak-ng, resampled by sox: int16 mono at 16 kHz."""
    wav = _run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "--stdout", word])
    # -D: no dither, -R: repeatable; raw little-endian int16 out (a piped WAV header has no length)
    raw = _run(["sox", "-D", "-R", "-t", "wav", "-", "-t", "raw", "-r", str(RATE), "-e", "signed", "-b", "16",
                "-c", "1", "-L", "-"], wav)  # fmt: skip
    return np.frombuffer(raw[: len(raw) // 2 * 2], dtype="<i2").astype(np.int16)


def mix(clip: np.ndarray, rng: np.random.Generator, seconds: float = 1.0) -> np.ndarray:
    """`clip` at a random offset in a window of `seconds`, with background noise and a level change."""
    width = int(RATE * seconds)
    voice = clip.astype(np.float64)[:width] / 32768.0
    out = np.zeros(width)
    start = int(rng.integers(0, width - len(voice) + 1))
    out[start : start + len(voice)] = voice
    noise = _noise(rng, width)
    speech_rms = float(np.sqrt(np.mean(voice**2))) if len(voice) else 0.0
    snr_db = rng.uniform(5.0, 30.0)
    out += noise * speech_rms / 10 ** (snr_db / 20)
    out *= 10 ** (rng.uniform(-18.0, 0.0) / 20)  # the speaker near or far from the microphone
    return np.clip(np.round(out * 32768.0), -32768, 32767).astype(np.int16)


def _noise(rng: np.random.Generator, n: int) -> np.ndarray:
    """Unit-RMS background noise: white, pink or brown, with mains hum one time in four."""
    white = rng.standard_normal(n)
    kind = rng.integers(3)
    if kind == 1:  # pink: 1/f power, shaped in the frequency domain
        spectrum = np.fft.rfft(white)
        spectrum[1:] /= np.sqrt(np.arange(1, len(spectrum)))
        white = np.fft.irfft(spectrum, n)
    elif kind == 2:  # brown: integrated white noise, its drift removed
        white = np.cumsum(white)
        white -= np.linspace(white[0], white[-1], n)
    if rng.random() < 0.25:
        hum = rng.choice([50.0, 60.0])
        white = white / np.std(white) + 2 * np.sin(2 * np.pi * hum * np.arange(n) / RATE + rng.uniform(0, 6.3))
    return white / max(float(np.std(white)), 1e-12)


def _check_word(word: str) -> str:
    word = word.strip()
    # letters, spaces, apostrophes and hyphens: espeak-ng reads the text, and it becomes a label
    if not word or len(word) > 40 or not all(c.isalpha() or c in " '-" for c in word) or word.startswith("-"):
        raise UsageError(f"Cannot synthesize the word {word[:40]!r}", "Give words of letters, e.g. yes,no,up,down.")
    return word


def _require_tools() -> None:
    missing = [tool for tool in ("espeak-ng", "sox") if shutil.which(tool) is None]
    if missing:
        raise ToolchainError(f"synth-kws needs {' and '.join(missing)}, which is not installed", _TOOLS_HINT)


def _run(argv: list[str], data: bytes | None = None) -> bytes:
    try:
        done = subprocess.run(argv, input=data, capture_output=True, timeout=TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ToolchainError(f"{argv[0]} did not run ({type(exc).__name__})", _TOOLS_HINT) from None
    if done.returncode != 0 or not done.stdout or len(done.stdout) > MAX_WORD_BYTES:
        err = done.stderr.decode("utf-8", "replace").strip().splitlines()[:1]
        raise ToolchainError(
            f"{argv[0]} failed (exit {done.returncode}, {len(done.stdout)} bytes out){': ' + err[0] if err else ''}",
            "Check that espeak-ng knows the voice (espeak-ng --voices=en) and sox reads WAV.",
        )
    return done.stdout
