"""`tinyflow data info`: what a dataset holds (a store from its manifest alone, any other spec loaded)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from tinyflow.data.manifest import SPLITS
from tinyflow.data.spec import load_dataset, parse_spec
from tinyflow.data.splits import split
from tinyflow.data.store import open_store
from tinyflow.report import key_values, table


@dataclass
class DataInfo:
    """Samples per class and split, and for a store its version, sensors, rates and devices."""

    name: str
    kind: str
    samples: int
    version: str | None = None
    task: str = "classification"
    sample_shape: list[int] | None = None
    classes: dict[str, dict[str, int]] = field(default_factory=dict)  # label -> split -> count
    sensors: dict[str, int] = field(default_factory=dict)
    sample_rates: dict[str, int] = field(default_factory=dict)
    devices: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return dict(self.__dict__)

    def __str__(self) -> str:
        pairs = [("dataset", f"{self.name} ({self.kind})"), ("samples", self.samples), ("task", self.task)]
        if self.version:
            pairs.append(("version", self.version))
        if self.sample_shape is not None:
            pairs.append(("sample shape", str(tuple(self.sample_shape))))
        for what in ("sensors", "sample_rates", "devices"):
            seen = getattr(self, what)
            if seen:
                shown = ", ".join(f"{k or '-'} ({n})" for k, n in list(seen.items())[:8])
                pairs.append((what.replace("_", " "), shown + (" ..." if len(seen) > 8 else "")))
        rows = [[label, *(c.get(s, 0) for s in SPLITS), sum(c.values())] for label, c in self.classes.items()]
        out = key_values(pairs)
        return out + ("\n" + table(["class", *SPLITS, "total"], rows) if rows else "")


def describe(spec: str, seed: int = 0) -> DataInfo:
    """Summarize the dataset `spec`: a store from its manifest (no sample is read), others loaded."""
    parsed = parse_spec(spec, allow_random=False)
    if parsed.kind == "store":
        store = open_store(parsed.path)
        classes: dict[str, Counter] = {}
        for e in store.entries:
            classes.setdefault(e.label, Counter())[e.split] += 1
        return DataInfo(
            parsed.name,
            "store",
            len(store.entries),
            store.version,
            classes={k: dict(classes[k]) for k in sorted(classes)},
            sensors=dict(Counter(e.sensor for e in store.entries)),
            sample_rates=dict(Counter(f"{e.sample_rate:g} Hz" for e in store.entries)),
            devices=dict(Counter(e.device for e in store.entries)),
        )
    ds = load_dataset(parsed, seed=seed)
    info = DataInfo(ds.name, parsed.kind, len(ds), ds.version, ds.task, list(ds.input_shape))
    if ds.task == "classification":
        parts = dict(zip(SPLITS, split(ds, seed=seed)))
        for i, label in enumerate(ds.class_names):
            info.classes[label] = {s: int(np.sum(p.y == i)) for s, p in parts.items()}
    return info
