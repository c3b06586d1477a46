"""Test signals: random and synthesized int16 clips covering silence, tones, chirps, clipping, noise."""

from __future__ import annotations

import numpy as np


def synth(rng: np.random.Generator, n: int, rate: int) -> np.ndarray:
    """One synthesized clip: a random mix of tones, a chirp, noise bursts and silence, maybe clipped."""
    t = np.arange(n) / rate
    kind = rng.integers(0, 6)
    if kind == 0:
        x = np.zeros(n)
    elif kind == 1:
        x = sum(
            rng.uniform(0, 1) * np.sin(2 * np.pi * rng.uniform(50, rate / 2) * t + rng.uniform(0, 6)) for _ in range(3)
        )
    elif kind == 2:
        f0, f1 = rng.uniform(50, rate / 2, 2)
        x = np.sin(2 * np.pi * (f0 * t + (f1 - f0) * t**2 / (2 * max(t[-1], 1e-3))))
    elif kind == 3:  # a vowel-like pulse train through a crude formant
        pulses = (np.arange(n) % int(rate / rng.uniform(80, 300)) == 0).astype(float)
        x = np.convolve(pulses, np.sin(2 * np.pi * rng.uniform(300, 3000) * t[:200]) * np.exp(-t[:200] * 400))[:n]
    elif kind == 4:
        x = rng.normal(0, 1, n) * (np.sin(2 * np.pi * rng.uniform(0.5, 5) * t) > 0)
    else:
        x = np.sign(np.sin(2 * np.pi * rng.uniform(50, 2000) * t))  # square wave, full scale
    x = x / max(np.abs(x).max(), 1e-9) * rng.choice([0.0, 1e-4, 0.01, 0.3, 1.0, 3.0])
    return np.clip(np.round(x * 32767), -32768, 32767).astype(np.int16)


def clips(count: int, seed: int = 0, rate: int = 16000, max_len: int | None = None) -> list[np.ndarray]:
    """`count` clips alternating uniform random int16 (random amplitude) and synthesized signals."""
    rng = np.random.default_rng(seed)
    max_len = max_len or rate + rate // 4
    out = []
    for i in range(count):
        n = int(rng.integers(0, max_len))
        if i % 2:
            out.append(synth(rng, n, rate))
        else:
            amp = int(rng.choice([0, 1, 7, 300, 5000, 32767]))
            out.append(rng.integers(-amp, amp + 1, n).astype(np.int16))
    return out
