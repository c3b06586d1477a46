"""Datasets without TensorFlow: one spec parser, built-in sets, user files, validation, splits, random inputs.

Public API (kept stable; `from tinyflow.data import X`):

- `parse_spec(text)` -> `DatasetSpec`: the one parser of `--data`/`--dataset` (a built-in name,
  a `.npz`/`.csv` path, a store folder, or `random:N`); every verb's dataset goes through it.
- `load_dataset(spec, seed=0)` -> `Dataset(x, y, task, class_names, name, splits, version)`:
  `digits`, `sine`, `gestures`, `basic-motions`, a `.npz` or `.csv` file, or a store (`random:N`
  is refused: it has no samples of its own).
- `validate(ds, input_shape=None, num_classes=None)`: raise DataError for unusable data.
- `split(ds, seed=0, val=0.15, test=0.15)`: deterministic (stratified for classification); data
  that comes split (a store, basic-motions) keeps its own split.
- `create_store(dir)` / `open_store(dir)` -> `Store`: `add_sample(...)` (what capture writes
  through), `save()`, `version`; `check_store(dir)` -> `CheckReport` (docs/data.md).
- `representative(ds, n=100, seed=0)`: a calibration subset of `x` for int8 quantization.
- `random_samples(count, inputs, seed)`: the lazy seeded inputs of `random:N`.

Modules: `spec` (the parser), `dataset` (the type and its checks), `builtin`, `motions`
(basic-motions from aeon), `files` (.npz/.csv within `Limits`), `splits`, `samples` (lazy and
random samples), `store` (the dataset store), `sample_files` (WAV/CSV/NPY codecs),
`store_dataset` (a store as a Dataset), `checks` (`data check`), `info`, `importer`, `segment`,
`synth` (synth-kws with espeak-ng). Capture from a board will write through `Store.add_sample`.
"""

from tinyflow.data.builtin import BUILTIN, GESTURES, load_builtin, load_digits, make_gestures, make_sine
from tinyflow.data.checks import CheckReport, check_store
from tinyflow.data.dataset import MAX_CLASSES, TASKS, Dataset, check_labels, check_seed, validate
from tinyflow.data.files import Limits, load_file
from tinyflow.data.manifest import Entry
from tinyflow.data.samples import Samples, random_sample, random_samples
from tinyflow.data.spec import MAX_RANDOM_SAMPLES, DatasetSpec, load_dataset, parse_spec
from tinyflow.data.splits import representative, split
from tinyflow.data.store import Store, create_store, is_store, open_store, split_for
from tinyflow.data.store_dataset import load_store

__all__ = [
    "BUILTIN",
    "CheckReport",
    "Dataset",
    "DatasetSpec",
    "Entry",
    "GESTURES",
    "Limits",
    "MAX_CLASSES",
    "MAX_RANDOM_SAMPLES",
    "Samples",
    "Store",
    "TASKS",
    "check_labels",
    "check_seed",
    "check_store",
    "create_store",
    "is_store",
    "load_builtin",
    "load_dataset",
    "load_digits",
    "load_file",
    "load_store",
    "make_gestures",
    "make_sine",
    "open_store",
    "parse_spec",
    "random_sample",
    "random_samples",
    "representative",
    "split",
    "split_for",
    "validate",
]
