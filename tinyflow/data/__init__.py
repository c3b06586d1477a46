"""Datasets without TensorFlow: one spec parser, built-in sets, user files, validation, splits, random inputs.

Public API (kept stable; `from tinyflow.data import X`):

- `parse_spec(text)` -> `DatasetSpec`: the one parser of `--data`/`--dataset` (a built-in name,
  a `.npz`/`.csv` path, or `random:N`); every verb's dataset goes through it.
- `load_dataset(spec, seed=0)` -> `Dataset(x, y, task, class_names, name)`: `digits`, `sine`,
  `gestures`, a `.npz` file or a `.csv` file (`random:N` is refused: it has no samples of its own).
- `validate(ds, input_shape=None, num_classes=None)`: raise DataError for unusable data.
- `split(ds, seed=0, val=0.15, test=0.15)`: deterministic (stratified for classification).
- `representative(ds, n=100, seed=0)`: a calibration subset of `x` for int8 quantization.
- `random_samples(count, inputs, seed)`: the lazy seeded inputs of `random:N`.

Modules: `spec` (the parser), `dataset` (the type and its checks), `builtin`, `files` (.npz/.csv
within `Limits`), `splits`, `samples` (lazy and random samples). The dataset store and capture
will join as `store`.
"""

from tinyflow.data.builtin import BUILTIN, GESTURES, load_builtin, load_digits, make_gestures, make_sine
from tinyflow.data.dataset import MAX_CLASSES, TASKS, Dataset, check_labels, check_seed, validate
from tinyflow.data.files import Limits, load_file
from tinyflow.data.samples import Samples, random_sample, random_samples
from tinyflow.data.spec import MAX_RANDOM_SAMPLES, DatasetSpec, load_dataset, parse_spec
from tinyflow.data.splits import representative, split

__all__ = [
    "BUILTIN",
    "GESTURES",
    "MAX_CLASSES",
    "MAX_RANDOM_SAMPLES",
    "TASKS",
    "Dataset",
    "DatasetSpec",
    "Limits",
    "Samples",
    "check_labels",
    "check_seed",
    "load_builtin",
    "load_dataset",
    "load_digits",
    "load_file",
    "make_gestures",
    "make_sine",
    "parse_spec",
    "random_sample",
    "random_samples",
    "representative",
    "split",
    "validate",
]
