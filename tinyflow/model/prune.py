"""Pruning for Keras 3 models (tensorflow-model-optimization only supports Keras 2).

- `prune_unstructured`: magnitude pruning of Conv2D/DepthwiseConv2D/Dense kernels during
  fine-tuning, with TF-MOT's polynomial-decay schedule; masks live in a callback and are gone
  afterwards, leaving plain zeros that survive int8 conversion (symmetric weights, zero point 0).
- `prune_structured`: removes whole Conv2D filters and Dense units with the smallest L1 norms,
  rebuilds a smaller dense model (slicing the BatchNorm, DepthwiseConv2D, Flatten and Dense/Conv
  consumers to match; convolutions added together in residual blocks keep the same channels)
  and fine-tunes it.

Only structured pruning shrinks flash, RAM and latency on a microcontroller: TFLM stores and
multiplies every weight, zero or not, so unstructured sparsity saves nothing there unless the
weights are compressed (e.g. zipped for OTA updates, or a runtime with sparse kernels).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tinyflow.data import Dataset
from tinyflow.errors import ModelError, UsageError

PRUNABLE = ("Conv2D", "DepthwiseConv2D", "Dense")
# Layers that keep channels where they are: a channel subset flows through them unchanged.
PASS_THROUGH = (
    "ReLU",
    "Activation",
    "Dropout",
    "MaxPooling2D",
    "AveragePooling2D",
    "GlobalAveragePooling2D",
    "GlobalMaxPooling2D",
    "ZeroPadding2D",
    "LeakyReLU",
    "SpatialDropout2D",
)


def polynomial_sparsity(step: int, begin: int, end: int, initial: float, final: float, power: float = 3) -> float:
    """TF-MOT's PolynomialDecay: sparsity rises from `initial` to `final` between steps begin..end."""
    if step <= begin:
        return initial
    if step >= end:
        return final
    frac = (step - begin) / max(1, end - begin)
    return final + (initial - final) * (1 - frac) ** power


def _kernels(model):
    """(layer, kernel variable) of every prunable layer."""
    return [(layer, _kernel(layer)) for layer in model.layers if type(layer).__name__ in PRUNABLE]


def _kernel(layer):
    # Keras 3 names every kernel `kernel`, DepthwiseConv2D's too (tf.keras 2 said `depthwise_kernel`).
    kernel = getattr(layer, "depthwise_kernel", None)
    return layer.kernel if kernel is None else kernel


def _magnitude_mask(w: np.ndarray, sparsity: float) -> np.ndarray:
    k = int(round(sparsity * w.size))
    mask = np.ones(w.size, dtype=w.dtype)
    if k > 0:
        mask[np.argsort(np.abs(w).ravel(), kind="stable")[:k]] = 0
    return mask.reshape(w.shape)


def _pruning_callback(model, begin: int, end: int, initial: float, final: float, frequency: int):
    import keras

    class MagnitudePruning(keras.callbacks.Callback):
        """Recompute magnitude masks every `frequency` steps; apply them after every batch."""

        def __init__(self):
            super().__init__()
            self.step = 0
            self.masks = {}

        def _update_masks(self):
            s = polynomial_sparsity(self.step, begin, end, initial, final)
            for _layer, var in _kernels(model):
                self.masks[var.path] = _magnitude_mask(np.asarray(var.numpy()), s)

        def _apply(self):
            for _, var in _kernels(model):
                if var.path in self.masks:
                    var.assign(var.numpy() * self.masks[var.path])

        def on_train_batch_end(self, batch, logs=None):
            self.step += 1
            if self.step >= begin and (self.step - begin) % frequency == 0 or not self.masks:
                self._update_masks()
            self._apply()

    return MagnitudePruning()


def prune_unstructured(
    model,
    train_ds: Dataset,
    val_ds: Dataset | None = None,
    sparsity: float = 0.5,
    epochs: int = 4,
    batch_size: int = 32,
    lr: float = 5e-4,
    seed: int = 0,
    frequency: int = 10,
    verbose: bool = False,
):
    """Magnitude-prune `model` in place while fine-tuning; each kernel ends at exactly `sparsity` zeros.

    The schedule ramps from 0 to `sparsity` over the first 70% of the steps, then holds.
    Returns:
        The same model, its kernels sparse, with no masks or wrappers left.
    """
    import keras

    from tinyflow.model.train import compile_for, targets

    if not 0 <= sparsity < 1:
        raise UsageError(f"Sparsity must be in [0, 1), got {sparsity}", "Use e.g. --sparsity 0.5.")
    keras.utils.set_random_seed(seed)
    steps = epochs * int(np.ceil(len(train_ds) / batch_size))
    cb = _pruning_callback(model, 0, int(0.7 * steps), 0.0, sparsity, frequency)
    compile_for(model, train_ds.task, lr)
    if epochs > 0:
        model.fit(
            train_ds.x,
            targets(model, train_ds),
            batch_size=batch_size,
            epochs=epochs,
            verbose=0,
            callbacks=[cb] + _progress(verbose, epochs),
            shuffle=True,
            validation_data=None if not val_ds else (val_ds.x, targets(model, val_ds)),
        )
    for _, var in _kernels(model):  # final masks at exactly the target sparsity
        var.assign(var.numpy() * _magnitude_mask(var.numpy(), sparsity))
    return model


def _progress(verbose: bool, epochs: int) -> list:
    if not verbose:
        return []
    from tinyflow.model.train import StderrProgress

    return [StderrProgress(epochs)]


MERGE = ("Add", "Subtract", "Multiply", "Maximum", "Minimum", "Average")


def _graph(model) -> list:
    """(layer, input tensors, output tensor) in topological order; each layer must be called once."""
    out = []
    for layer in model.layers:
        if type(layer).__name__ == "InputLayer":
            continue
        if len(layer._inbound_nodes) != 1:
            raise ModelError(
                f"Layer '{layer.name}' of '{model.name}' is used {len(layer._inbound_nodes)} times",
                "Structured pruning needs each layer called once; use unstructured pruning.",
            )
        node = layer._inbound_nodes[0]
        out.append((layer, list(node.input_tensors), node.output_tensors[0]))
    return out


def _channel_groups(model) -> tuple[dict, dict, set]:
    """Which tensors share one channel space: merges (Add...) tie their inputs' producers together.

    Returns:
        (tensor id -> group, Conv2D/Dense name -> group, groups that must keep every channel),
        groups being union-find roots given by `find`.
    """
    parent: dict[str, str] = {}

    def find(g):
        while parent.setdefault(g, g) != g:
            g = parent[g]
        return g

    frozen = {"input"}
    group = {id(t): "input" for t in model.inputs}
    producer = {}
    for layer, ins, out in _graph(model):
        kind = type(layer).__name__
        src = [find(group[id(t)]) for t in ins]
        if kind in ("Conv2D", "Dense"):
            g = producer[layer.name] = layer.name
        elif kind in MERGE:
            g = src[0]
            for other in src[1:]:
                parent[find(other)] = find(g)
        elif (
            kind in PASS_THROUGH
            or kind == "BatchNormalization"
            or (kind == "DepthwiseConv2D" and layer.depth_multiplier == 1)
        ):
            g = src[0]
        else:  # a new channel layout (Flatten, depth multiplier, Reshape...): derived, never chosen
            g = f"{layer.name}:out"
            frozen.add(g)
            if kind not in ("Flatten", "DepthwiseConv2D"):
                frozen.update(src)  # unknown layers cannot take a pruned input either
        group[id(out)] = g
    frozen.update(group[id(t)] for t in model.outputs)
    roots = {find(g) for g in frozen}
    return {k: find(v) for k, v in group.items()}, {k: find(v) for k, v in producer.items()}, roots


def structured_plan(model, ratio: float) -> dict[str, np.ndarray]:
    """Which output channels each prunable Conv2D/Dense keeps: the (1-ratio) largest by L1 norm.

    Layers whose outputs meet in an Add form one group and keep the same channels, ranked by
    their summed L1 norms. Groups reaching the model output are never pruned.
    """
    _, producer, frozen = _channel_groups(model)
    norms: dict[str, np.ndarray] = {}
    for layer in model.layers:
        g = producer.get(layer.name)
        if g is None or g in frozen:
            continue
        kernel = np.asarray(layer.kernel.numpy())
        n = np.abs(kernel).reshape(-1, kernel.shape[-1]).sum(axis=0)
        norms[g] = norms[g] + n if g in norms else n
    keep = {
        g: np.sort(np.argsort(-n, kind="stable")[: max(1, int(round(len(n) * (1 - ratio))))]) for g, n in norms.items()
    }
    return {name: keep[g] for name, g in producer.items() if g in keep}


def prune_structured(
    model,
    ratio: float = 0.5,
    train_ds: Dataset | None = None,
    val_ds: Dataset | None = None,
    epochs: int = 10,
    batch_size: int = 32,
    lr: float = 1e-3,
    seed: int = 0,
    verbose: bool = False,
):
    """Remove `ratio` of the filters/units of every Conv2D/Dense (but the output), then fine-tune.

    Residual models work too: convolutions whose outputs are added keep the same channels.
    Returns:
        A new, smaller Keras model (fine-tuned when `train_ds` is given).
    """
    import keras

    from tinyflow.model.train import train

    if not 0 <= ratio < 1:
        raise UsageError(f"Structured pruning ratio must be in [0, 1), got {ratio}", "Use e.g. --ratio 0.5.")
    plan = structured_plan(model, ratio)
    inputs = [keras.Input(t.shape[1:]) for t in model.inputs]
    # tensor id -> (new tensor, surviving channels as indices into the original ones; None = all)
    tensors = {id(t): (new, None) for t, new in zip(model.inputs, inputs)}
    for layer, ins, out in _graph(model):
        srcs = [tensors[id(t)] for t in ins]
        if len(srcs) > 1:
            keeps = [k for _, k in srcs]
            if type(layer).__name__ not in MERGE or any(not _same(keeps[0], k) for k in keeps[1:]):
                raise ModelError(
                    f"Structured pruning cannot merge differently pruned inputs at '{layer.name}' "
                    f"({type(layer).__name__})",
                    "Use unstructured pruning for this model.",
                )
            new = type(layer).from_config(layer.get_config())
            tensors[id(out)] = (new([x for x, _ in srcs]), keeps[0])
            continue
        new, weights, keep = _shrink(layer, srcs[0][1], plan.get(layer.name))
        x = new(srcs[0][0])
        if weights:
            new.set_weights(weights)
        tensors[id(out)] = (x, keep)
    outputs = [tensors[id(t)][0] for t in model.outputs]
    small = keras.Model(
        inputs if len(inputs) > 1 else inputs[0], outputs if len(outputs) > 1 else outputs[0], name=model.name
    )
    if train_ds is not None and epochs > 0:
        train(
            small,
            train_ds,
            val_ds,
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            seed=seed,
            patience=max(3, epochs // 3),
            verbose=verbose,
        )
    return small


def _same(a, b) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and np.array_equal(a, b))


def _shrink(layer, keep, out_keep):
    """A new layer for input channels `keep` (None = all) and output channels `out_keep`.

    Returns:
        (new layer, its sliced weights, channels kept in its output)
    """
    kind = type(layer).__name__
    cfg = layer.get_config()
    weights = [np.asarray(w) for w in layer.get_weights()]
    if kind in ("Conv2D", "Dense"):
        kernel = weights[0] if keep is None else np.take(weights[0], keep, axis=-2)
        rest = weights[1:]
        if out_keep is not None:
            kernel = np.take(kernel, out_keep, axis=-1)
            rest = [w[out_keep] for w in rest]
            cfg["filters" if kind == "Conv2D" else "units"] = len(out_keep)
        return type(layer).from_config(cfg), [kernel, *rest], out_keep
    if kind == "DepthwiseConv2D":
        mult = int(cfg.get("depth_multiplier", 1))
        if keep is None:
            return type(layer).from_config(cfg), weights, None
        out = (np.asarray(keep)[:, None] * mult + np.arange(mult)).ravel()
        sliced = [np.take(weights[0], keep, axis=2)] + [w[out] for w in weights[1:]]
        return type(layer).from_config(cfg), sliced, out
    if kind == "BatchNormalization":
        sliced = weights if keep is None else [w[keep] for w in weights]
        return type(layer).from_config(cfg), sliced, keep
    if kind == "Flatten":
        if keep is None:
            return type(layer).from_config(cfg), [], None
        spatial = int(np.prod(layer.input.shape[1:-1]))
        channels = int(layer.input.shape[-1])
        flat = (np.arange(spatial)[:, None] * channels + np.asarray(keep)[None, :]).ravel()
        return type(layer).from_config(cfg), [], flat
    if kind in PASS_THROUGH or (keep is None and not weights):
        return type(layer).from_config(cfg), weights, keep
    raise ModelError(
        f"Structured pruning cannot pass pruned channels through layer '{layer.name}' ({kind})",
        "Prune a model built from Conv2D/DepthwiseConv2D/Dense/BatchNorm/pooling/Flatten layers.",
    )


@dataclass
class LayerPrune:
    """One prunable layer before and after pruning."""

    name: str
    kind: str
    params_before: int
    params_after: int
    sparsity: float  # fraction of zero weights in the kernel after pruning
    int8_bytes_before: int = 0  # in an int8 .tflite: 1 byte per weight + 4 per (int32) bias
    int8_bytes_after: int = 0

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class PruneReport:
    """Per-layer sparsity and parameters, int8 model bytes and accuracy before/after pruning."""

    method: str
    layers: list[LayerPrune] = field(default_factory=list)
    int8_bytes_before: int = 0
    int8_bytes_after: int = 0
    metrics_before: dict[str, float] = field(default_factory=dict)
    metrics_after: dict[str, float] = field(default_factory=dict)
    arena_before: int | None = None
    arena_after: int | None = None
    metrics_on: str = "float model, test split"  # what metrics_before/after measured (measure())
    note: str = (
        "Only structured pruning shrinks flash, RAM and latency on an MCU; unstructured sparsity "
        "does not unless the weights are compressed."
    )

    @property
    def params_before(self) -> int:
        return sum(l.params_before for l in self.layers)

    @property
    def params_after(self) -> int:
        return sum(l.params_after for l in self.layers)

    def to_dict(self) -> dict:
        d = {k: v for k, v in self.__dict__.items() if k != "layers"}
        d.update(
            layers=[l.to_dict() for l in self.layers], params_before=self.params_before, params_after=self.params_after
        )
        return d

    def __str__(self) -> str:
        rows = [
            f"{self.method} pruning",
            f"{'layer':<16} {'kind':<16} {'params':>16} {'int8 bytes':>16} {'sparsity':>9}",
        ]
        for l in self.layers:
            rows.append(
                f"{l.name:<16} {l.kind:<16} {l.params_before:>6,} -> {l.params_after:>6,} "
                f"{l.int8_bytes_before:>6,} -> {l.int8_bytes_after:>6,} {l.sparsity:>8.1%}"
            )
        rows.append(f"{'total':<33} {self.params_before:>6,} -> {self.params_after:>6,}")
        if self.int8_bytes_before:
            rows.append(f"int8 model bytes: {self.int8_bytes_before:,} -> {self.int8_bytes_after:,}")
        if self.arena_before:
            rows.append(f"TFLM arena bytes: {self.arena_before:,} -> {self.arena_after:,}")
        for k in self.metrics_before:
            after = self.metrics_after.get(k, float("nan"))
            rows.append(f"{k} ({self.metrics_on}): {self.metrics_before[k]:.4f} -> {after:.4f}")
        rows.append(f"Note: {self.note}")
        return "\n".join(rows)


def compare(before, after, method: str) -> PruneReport:
    """Per-layer parameters and sparsity of two models with the same layer names."""
    after_layers = {l.name: l for l in after.layers}
    rows = []
    for layer, _ in _kernels(before):
        new = after_layers.get(layer.name)
        if new is None:
            continue
        _, var = next((l, v) for l, v in _kernels(after) if l.name == layer.name)
        w = np.asarray(var.numpy())
        rows.append(
            LayerPrune(
                layer.name,
                type(layer).__name__,
                int(layer.count_params()),
                int(new.count_params()),
                float(np.mean(w == 0)),
                _int8_bytes(layer),
                _int8_bytes(new),
            )
        )
    return PruneReport(method, rows)


def _int8_bytes(layer) -> int:
    """Bytes of a layer's weights in an int8 .tflite: int8 kernel, int32 bias (BatchNorm folds in)."""
    kernel = _kernel(layer)
    n_out = int(kernel.shape[-1]) * (int(kernel.shape[-2]) if type(layer).__name__ == "DepthwiseConv2D" else 1)
    return int(np.prod(kernel.shape)) + 4 * n_out


def measure(
    report: PruneReport,
    before,
    after,
    test: Dataset,
    calibration: np.ndarray | None = None,
    arena: bool = False,
    split: str = "test",
) -> PruneReport:
    """Fill in float metrics before/after on `test`; int8 model bytes when `calibration` is given,
    and the measured TFLM arena of both int8 models when `arena` is true too.

    `split` names the part of the dataset `test` is, for the report's labels."""
    from tinyflow.model.quantize import to_tflite
    from tinyflow.model.train import evaluate

    report.metrics_before, report.metrics_after = evaluate(before, test), evaluate(after, test)
    report.metrics_on = f"float model, {split} split"
    if calibration is not None:
        old, new = to_tflite(before, calibration), to_tflite(after, calibration)
        report.int8_bytes_before, report.int8_bytes_after = len(old), len(new)
        if arena:
            from tinyflow.runtimes import tflm

            report.arena_before = tflm.measure_arena(old).arena_bytes
            report.arena_after = tflm.measure_arena(new).arena_bytes
    return report
