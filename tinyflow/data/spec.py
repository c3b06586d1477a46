"""The one dataset-spec parser: what `--data`/`--dataset` of every verb (train, prune, quantize, eval, demo) means.

A spec is one of:

- a built-in name: `digits`, `sine`, `gestures`, `basic-motions` (tinyflow.data.builtin);
- a path ending in `.npz` or `.csv` (tinyflow.data.files);
- a dataset store: a folder holding a manifest.csv (tinyflow.data.store);
- `random:N`: N seeded random tensors shaped like a model's inputs (tinyflow.data.samples), with no
  labels. Only `eval` takes it (agreement and latency of third-party models that come without
  data); train, prune and quantize refuse it, since there is nothing to learn, calibrate on or
  score against. A file or folder that exists under that name is read instead (`random:5.csv`).

`parse_spec` reads the text and at most whether a path exists and a folder holds a manifest (no
file is opened);
`load_dataset` turns a spec into a Dataset.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from tinyflow.data.builtin import BUILTIN, load_builtin
from tinyflow.data.dataset import Dataset, check_seed
from tinyflow.data.files import SUFFIXES, Limits, load_file
from tinyflow.data.store import MANIFEST, is_store
from tinyflow.errors import UsageError

RANDOM = "random:"
# random:N's largest N: evaluation keeps every sample's results in memory for its report.
MAX_RANDOM_SAMPLES = 1_000_000
_CHOICES = ", ".join(BUILTIN) + ", a path to a .npz or .csv file, or a dataset store folder"


@dataclass(frozen=True)
class DatasetSpec:
    """A parsed dataset spec: `kind` is builtin, file, store or random."""

    text: str  # as the user wrote it
    kind: str
    name: str  # the built-in name, the file's stem, or the text of random:N
    path: Path | None = None  # kind file or store
    count: int | None = None  # kind random: N

    def __str__(self) -> str:
        return self.text


def parse_spec(spec: str | DatasetSpec, *, allow_random: bool = True) -> DatasetSpec:
    """Parse a dataset spec (a built-in name, a .npz/.csv path, or random:N).

    Args:
        allow_random: False where data with labels is needed (train, prune, quantize).
    Raises:
        UsageError: an unknown name or file type, a malformed or too large random:N, or random:N
            where it is not allowed.
    """
    if isinstance(spec, DatasetSpec):
        parsed = spec
    else:
        parsed = _parse(str(spec), allow_random)
    if parsed.kind == "random" and not allow_random:
        raise UsageError(
            f"Dataset {_short(parsed.text)} is random model inputs without labels: only `tinyflow eval` takes it",
            f"Train, prune and quantize on {_CHOICES}.",
        )
    return parsed


def _parse(text: str, allow_random: bool) -> DatasetSpec:
    if text in BUILTIN:
        return DatasetSpec(text, "builtin", text)
    # An existing file or folder is the path it names, so `random:5.csv` on disk is read; random:N
    # is the random inputs only when no such path exists (write ./random:5 to mean a path).
    if text.startswith(RANDOM) and not os.path.lexists(text):
        return DatasetSpec(text, "random", text, count=_random_count(text))
    path = Path(text)
    if is_store(path):
        return DatasetSpec(text, "store", path.resolve().name, path=path)
    if path.is_dir():
        raise UsageError(
            f"{_short(text)} is a folder but not a dataset store (it has no {MANIFEST})",
            "Make one from folders of WAV/CSV files with `tinyflow data import`.",
        )
    if path.suffix.lower() in SUFFIXES:
        return DatasetSpec(text, "file", path.stem, path=path)
    choices = f"{_CHOICES}, or random:N (eval only)" if allow_random else _CHOICES
    raise UsageError(f"Unknown dataset '{_short(text)}'", f"Use one of {choices}.")


def _random_count(text: str) -> int:
    digits = text[len(RANDOM) :]
    # ASCII digits only: int() would also take "+5", " 5", "1_000" and other scripts' digits
    if not (digits.isascii() and digits.isdigit()) or not digits.lstrip("0"):
        raise UsageError(
            f"Bad dataset spec {_short(text)!r}: random:N needs a positive sample count",
            "Write e.g. --dataset random:100.",
        )
    # compared as text first: a 5,000-digit N is refused without converting it
    if len(digits.lstrip("0")) > len(str(MAX_RANDOM_SAMPLES)) or int(digits) > MAX_RANDOM_SAMPLES:
        raise UsageError(
            f"random:N allows at most {MAX_RANDOM_SAMPLES:,} samples, got {_short(text)}",
            "Ask for fewer samples: each one's results are kept for the report.",
        )
    return int(digits)


def _short(text: str, most: int = 60) -> str:
    """A spec quoted in a message, cut: it is untrusted text of any length."""
    return text if len(text) <= most else text[: most - 3] + "..."


def load_dataset(spec: str | DatasetSpec, seed: int = 0, n: int | None = None, limits: Limits | None = None) -> Dataset:
    """Load a built-in dataset by name or a user file (.npz or .csv).

    Args:
        spec: a built-in name, a path to a `.npz`/`.csv` file or a store folder (or a parsed spec).
        seed: seed for the generated sets (`sine`, `gestures`); ignored by real data.
        n: number of samples for generated sets (defaults: sine 1000, gestures 1500).
        limits: bounds on what is read from a file (default `Limits()`).
    Raises:
        UsageError: unknown name or file type, random:N (it has no samples of its own), a
            negative seed. DataError: the file is unreadable, malformed or over `limits`, or its
            data is unusable (see `validate`).
    """
    check_seed(seed)
    parsed = parse_spec(spec, allow_random=False)
    if parsed.kind == "builtin":
        return load_builtin(parsed.name, seed, n)
    if parsed.kind == "store":
        from tinyflow.data.store_dataset import load_store

        return load_store(parsed.path)
    return load_file(parsed.path, limits, hint=f"Give an existing .npz or .csv file, or one of: {', '.join(BUILTIN)}")
