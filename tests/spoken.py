"""Test helpers for the audio path: micro_speech (the corpus model) with a front-end sidecar beside
it, and a recording of spoken words (espeak-ng, one word per second) to play as a sensor."""

from __future__ import annotations

import shutil
import wave
from pathlib import Path

import numpy as np

from conftest import corpus_path, require_tool

RATE = 16_000
VOICES = ("en-us+m1", "en+f2", "en-gb-scotland+m3")


def micro_speech_beside(folder: Path, name: str = "micro_speech.tflite", **settings) -> Path:
    """A copy of micro_speech_quantized.tflite in `folder` with a micro_speech sidecar next to it."""
    from tinyflow.frontends import MicroSpeechConfig, write_sidecar

    model = folder / name
    shutil.copyfile(corpus_path("tflm/micro_speech_quantized.tflite"), model)
    write_sidecar(model, MicroSpeechConfig(**settings))
    return model


def write_wav(path: Path, signal: np.ndarray, rate: int = RATE) -> Path:
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(rate)
        f.writeframes(np.asarray(signal, np.int16).tobytes())
    return path


def spoken_words(path: Path, words) -> np.ndarray:
    """`words` spoken one per second (voices in turn) into the WAV `path`; returns the signal."""
    require_tool("espeak-ng")
    require_tool("sox")
    from tinyflow.data.synth import speak

    parts = []
    for i, word in enumerate(words):
        clip = speak(word, VOICES[i % len(VOICES)])[: RATE - 2000]
        second = np.zeros(RATE, np.int16)
        second[1000 : 1000 + len(clip)] = clip
        parts.append(second)
    signal = np.concatenate(parts)
    write_wav(path, signal)
    return signal
