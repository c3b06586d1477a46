"""The built-in datasets: digits (real, bundled with scikit-learn), sine and gestures (generated, seeded),
basic-motions (real smartwatch IMU recordings shipped with aeon: tinyflow.data.motions)."""

from __future__ import annotations

import numpy as np

from tinyflow.data.dataset import Dataset, check_seed
from tinyflow.errors import UsageError

BUILTIN = ("digits", "sine", "gestures", "basic-motions")
GESTURES = ("idle", "wave", "punch", "circle", "lift")


def load_builtin(name: str, seed: int = 0, n: int | None = None) -> Dataset:
    """The built-in dataset `name` (one of BUILTIN); `n` samples of a generated one (defaults: sine 1000, gestures 1500)."""
    if name == "digits":
        return load_digits()
    if name == "sine":
        return make_sine(n or 1000, seed)
    if name == "gestures":
        return make_gestures(n or 1500, seed)
    if name == "basic-motions":
        from tinyflow.data.motions import load_basic_motions

        return load_basic_motions()
    raise UsageError(f"Unknown built-in dataset {name[:60]!r}", "Use one of " + ", ".join(BUILTIN) + ".")


def load_digits() -> Dataset:
    """scikit-learn's 1797 scanned 8x8 handwritten digits, pixels scaled to [0, 1], shape (8, 8, 1)."""
    from sklearn.datasets import load_digits as sklearn_digits  # bundled with scikit-learn: no download

    raw = sklearn_digits()
    x = (raw.images.astype(np.float32) / 16.0)[..., None]
    return Dataset(x, raw.target.astype(np.int64), "classification", [str(i) for i in range(10)], "digits")


def make_sine(n: int = 1000, seed: int = 0, noise: float = 0.1) -> Dataset:
    """The TinyML hello-world: y = sin(x) + noise, x uniform in [0, 2*pi), shape (n, 1)."""
    rng = np.random.default_rng(check_seed(seed))
    x = rng.uniform(0.0, 2 * np.pi, size=(n, 1)).astype(np.float32)
    y = (np.sin(x[:, 0]) + rng.normal(0.0, noise, size=n)).astype(np.float32)
    return Dataset(x, y, "regression", [], "sine")


def make_gestures(n: int = 1500, seed: int = 0, length: int = 64, rate_hz: float = 50.0) -> Dataset:
    """Synthetic 3-axis accelerometer windows (in g) of five classes: idle plus four gestures.

    Each window is `length` samples at `rate_hz` (default 64 at 50 Hz, 1.28 s), shape (length, 3).
    The device frame is randomly oriented (yaw/pitch/roll up to ~25 degrees) so gravity (1 g) is
    spread over the axes; the motion is drawn in the user frame and rotated the same way.

    - idle: only gravity, a slow drift and sensor noise.
    - wave: side-to-side oscillation along x, 1.5-3 Hz, 0.4-1.2 g.
    - punch: a sharp forward push then a brake along y (a Gaussian derivative), 1.5-3.5 g.
    - circle: x and z in quadrature (a circle in the vertical plane), 0.8-1.6 Hz, 0.3-0.9 g.
    - lift: up then down along z (a slow raised bump), 0.4-1.0 g.

    Per sample the amplitude, speed, onset time and orientation vary; every window gets white
    noise (sigma 0.02-0.06 g), a per-axis bias (+-0.03 g) and occasional spikes. Seeded: the
    same (n, seed) gives the same data. Classes are balanced (n // 5 each, the rest to idle).
    """
    rng = np.random.default_rng(check_seed(seed))
    t = np.arange(length, dtype=np.float64) / rate_hz
    labels = np.arange(n) % len(GESTURES)
    rng.shuffle(labels)
    x = np.empty((n, length, 3), dtype=np.float32)
    for i, label in enumerate(labels):
        motion = _gesture_motion(GESTURES[label], t, rng)
        rot = _rotation(rng, max_deg=25.0)
        signal = (motion + np.array([0.0, 0.0, 1.0])) @ rot.T
        signal += rng.normal(0.0, rng.uniform(0.02, 0.06), size=signal.shape)
        signal += rng.uniform(-0.03, 0.03, size=3)
        if rng.random() < 0.1:
            signal[rng.integers(length), rng.integers(3)] += rng.choice([-1, 1]) * rng.uniform(0.3, 0.8)
        x[i] = signal
    return Dataset(x, labels.astype(np.int64), "classification", list(GESTURES), "gestures")


def _gesture_motion(kind: str, t: np.ndarray, rng) -> np.ndarray:
    """Linear acceleration (user frame, in g) of one gesture over times `t`."""
    out = np.zeros((len(t), 3))
    dur = t[-1]
    onset = rng.uniform(0.1, 0.35) * dur
    if kind == "idle":
        out += rng.normal(0.0, 0.01, size=3) * t[:, None] / dur  # slow drift of a resting hand
    elif kind == "wave":
        f, a = rng.uniform(1.5, 3.0), rng.uniform(0.4, 1.2)
        env = np.clip((t - onset) / 0.15, 0, 1)
        out[:, 0] = a * env * np.sin(2 * np.pi * f * (t - onset))
    elif kind == "punch":
        a, w = rng.uniform(1.5, 3.5), rng.uniform(0.05, 0.1)
        c = onset + rng.uniform(0.1, 0.3)
        out[:, 1] = -a * (t - c) / w * np.exp(0.5 - 0.5 * ((t - c) / w) ** 2)
    elif kind == "circle":
        f, a = rng.uniform(0.8, 1.6), rng.uniform(0.3, 0.9)
        phase = 2 * np.pi * f * t + rng.uniform(0, 2 * np.pi)
        out[:, 0], out[:, 2] = a * np.cos(phase), a * np.sin(phase)
    elif kind == "lift":
        a, w = rng.uniform(0.4, 1.0), rng.uniform(0.15, 0.3)
        c = onset + rng.uniform(0.2, 0.4)
        out[:, 2] = a * (1 - ((t - c) / w) ** 2) * np.exp(-0.5 * ((t - c) / w) ** 2)
    return out


def _rotation(rng, max_deg: float) -> np.ndarray:
    """A random rotation matrix with each Euler angle within +-max_deg."""
    a, b, c = np.deg2rad(rng.uniform(-max_deg, max_deg, size=3))
    rz = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    ry = np.array([[np.cos(b), 0, np.sin(b)], [0, 1, 0], [-np.sin(b), 0, np.cos(b)]])
    rx = np.array([[1, 0, 0], [0, np.cos(c), -np.sin(c)], [0, np.sin(c), np.cos(c)]])
    return rz @ ry @ rx
