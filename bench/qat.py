"""PTQ vs QAT int8 accuracy, and distillation vs plain training, side by side in one run.

Each quantization case trains a float model (seeded), then measures on its test split, all int8
numbers on the TFLM reference kernels:
- PTQ: the float model converted with 200 representative samples (tinyflow quantize);
- PTQ after float fine-tuning: the same extra epochs QAT gets, in float (the control: any gain
  of QAT beyond it comes from training against the int8 arithmetic, not from training longer);
- QAT: the float model fine-tuned as a QAT graph (tinyflow.model.qat), converted with its ranges.
"Recovered" is (QAT - PTQ) / (float - PTQ), shown where PTQ loses at least 1 point.

`python -m bench qat` (registered section) or `python bench/qat.py` alone (prints the table).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SEED = 0
QAT_EPOCHS = 5
QAT_LR = 1e-3
STRESS_SCALE = 64.0


def stress_data(seed: int = SEED):
    """digits at its raw scale (0..16, not normalised), split like every command splits."""
    from tinyflow.data import Dataset, load_dataset, split

    ds = load_dataset("digits")
    raw = Dataset(ds.x * 16.0, ds.y, ds.task, list(ds.class_names), "digits-raw")
    return split(raw, seed=seed)


def stress_model(tr, va, seed: int = SEED, epochs: int = 30):
    """A depthwise-heavy net without BatchNorm, trained in float, then given one wide channel.

    Without BatchNorm nothing keeps channel ranges alike; here one depthwise channel's filter is
    scaled up `STRESS_SCALE` times and its pointwise consumer scaled down as much: the float
    function is the same, but the per-tensor int8 range of that activation now spans a channel
    64x wider than the rest (the range imbalance data-free quantization papers find in
    MobileNets' depthwise layers).
    """
    import keras
    from keras import layers

    from tinyflow.model import train

    keras.utils.set_random_seed(seed)
    inp = keras.Input(tr.input_shape)
    x = layers.DepthwiseConv2D(3, depth_multiplier=8, padding="same", name="dw1")(inp)
    x = layers.ReLU(name="relu1")(x)
    x = layers.DepthwiseConv2D(3, padding="same", name="dw2")(x)
    x = layers.ReLU(name="relu2")(x)
    x = layers.Conv2D(16, 1, name="pw2")(x)
    x = layers.ReLU(name="relu3")(x)
    x = layers.DepthwiseConv2D(3, strides=2, padding="same", name="dw3")(x)
    x = layers.ReLU(name="relu4")(x)
    x = layers.Conv2D(32, 1, name="pw3")(x)
    x = layers.ReLU(name="relu5")(x)
    x = layers.AveragePooling2D(tuple(x.shape[1:3]), name="pool")(x)
    x = layers.Flatten(name="flatten")(x)
    out = layers.Dense(tr.num_classes, activation="softmax", name="logits")(x)
    model = keras.Model(inp, out, name="dw_stress")
    train.train(model, tr, va, epochs=epochs, seed=seed, patience=epochs, verbose=False)
    _widen_channel(model, STRESS_SCALE)
    return model


def _widen_channel(model, scale: float) -> None:
    """Scale the strongest channel of dw2 by `scale` and its weights in pw2 by 1/scale (same function)."""
    dw, pw = model.get_layer("dw2"), model.get_layer("pw2")
    k, b = (np.asarray(v) for v in dw.get_weights())
    c = int(np.argmax(np.abs(k).reshape(-1, k.shape[2] * k.shape[3]).max(axis=0)))
    flat = k.reshape(*k.shape[:2], -1)
    flat[..., c] *= scale
    b = b.copy()
    b[c] *= scale
    dw.set_weights([flat.reshape(k.shape), b])
    w, pb = (np.asarray(v) for v in pw.get_weights())
    w = w.copy()
    w[:, :, c, :] /= scale  # ReLU is positively homogeneous: relu(s x) / s = relu(x)
    pw.set_weights([w, pb])


def _accuracy(pred: np.ndarray, ds) -> float:
    return float(np.mean(np.argmax(pred, axis=-1) == ds.y))


def _copy(model):
    import keras

    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    return clone


def compare(name: str, model, tr, va, te, epochs: int = QAT_EPOCHS, seed: int = SEED) -> dict:
    """float, PTQ, PTQ after float fine-tuning, QAT: accuracies on `te` (int8 on TFLM)."""
    from tinyflow.data import representative
    from tinyflow.model import qat, train
    from tinyflow.model.quantize import to_tflite
    from tinyflow.runtimes import tflm

    t0 = time.perf_counter()
    calib = representative(tr, 200, seed)
    row = {"case": name, "epochs": epochs, "float": _accuracy(model.predict(te.x, verbose=0), te)}
    row["ptq"] = _accuracy(tflm.run_float(to_tflite(model, calib), te.x), te)
    tuned = _copy(model)
    train.train(tuned, tr, va, epochs=epochs, lr=QAT_LR, seed=seed, patience=epochs, verbose=False)
    row["ptq_tuned"] = _accuracy(tflm.run_float(to_tflite(tuned, calib), te.x), te)
    q = qat.qat_model(model)
    qat.fine_tune(q, tr, va, calib, epochs=epochs, lr=QAT_LR, seed=seed, verbose=False)
    row["qat"] = _accuracy(tflm.run_float(to_tflite(q, qat=True), te.x), te)
    loss = row["float"] - row["ptq"]
    row["recovered"] = (row["qat"] - row["ptq"]) / loss if loss >= 0.01 else None
    row["seconds"] = time.perf_counter() - t0
    return row


def _zoo_case(name: str, model_name: str, splits, epochs: int, lr: float = 1e-3, width: float = 1.0, batch=32):
    from tinyflow.model import train, zoo

    tr, va, te = splits
    model = zoo.build_model(model_name, tr.input_shape, tr.num_classes, width=width, seed=SEED)
    train.train(model, tr, va, epochs=epochs, lr=lr, batch_size=batch, seed=SEED, patience=8, verbose=False)
    return compare(name, model, tr, va, te)


def _store_splits(task: str, frontend: str, tmp: Path):
    """Featurized splits of a demo task's store (kws: synthesized speech; har: basic-motions IMU)."""
    from tinyflow.workflows.demo_tasks import featurize, make_store

    store = make_store(task, tmp / task, SEED)
    return featurize(store, frontend, SEED)[1]


def quantization_cases(quick: bool = False) -> list[dict]:
    """Every PTQ vs QAT row; a case that cannot run here (missing espeak-ng) becomes a row saying why."""
    import tempfile

    from tinyflow.data import load_dataset, split

    rows = []
    digits = split(load_dataset("digits"), seed=SEED)
    cases = [
        ("digits / tiny_cnn", lambda tmp: _zoo_case("digits / tiny_cnn", "tiny_cnn", digits, 12)),
        ("digits / mlp", lambda tmp: _zoo_case("digits / mlp", "mlp", digits, 20)),
        (
            "basic-motions IMU (imu front end) / mlp",
            lambda tmp: _zoo_case(
                "basic-motions IMU (imu) / mlp", "mlp", _store_splits("har", "imu", tmp), 20, 3e-3, 1.0, 8
            ),
        ),
        (
            "synth-kws audio (micro_speech front end) / kws_cnn",
            lambda tmp: _zoo_case(
                "synth-kws (micro_speech) / kws_cnn",
                "kws_cnn",
                _store_splits("kws", "micro_speech", tmp),
                20,
                3e-3,
                2.0,
            ),
        ),
        ("stress: depthwise net, raw inputs, no BN", lambda tmp: _stress_case()),
    ]
    if quick:
        cases = [cases[0], cases[-1]]
    with tempfile.TemporaryDirectory(prefix="tinyflow-bench-qat-") as tmp:
        for name, run_case in cases:
            print(f"bench qat: {name} ...", file=sys.stderr, flush=True)
            try:
                rows.append(run_case(Path(tmp)))
            except Exception as exc:  # e.g. espeak-ng missing for kws: report it, keep the other rows
                rows.append({"case": name, "error": f"{type(exc).__name__}: {str(exc)[:160]}"})
    return rows


def _stress_case() -> dict:
    tr, va, te = stress_data()
    return compare(
        "stress: depthwise, raw 0..16 inputs, no BN, one channel 64x wider", stress_model(tr, va), tr, va, te
    )


# (dataset, teacher (zoo name, width, epochs), student (zoo name, width), student epochs, student lr)
DISTILL_CASES = [
    ("digits", ("tiny_cnn", 2.0, 20), ("mlp", 0.5), 30, 3e-3),
    ("gestures", ("tiny_cnn", 1.0, 15), ("mlp", 0.25), 20, 3e-3),
]
TEMPERATURE, ALPHA = 4.0, 0.5


def distillation(quick: bool = False) -> list[dict]:
    """Small students with and without a teacher: same seed, epochs and learning rate."""
    from tinyflow.data import load_dataset, split
    from tinyflow.model import train, zoo

    rows = []
    for data, (t_name, t_width, t_epochs), (s_name, s_width), epochs, lr in DISTILL_CASES[: 1 if quick else None]:
        print(f"bench qat: distillation on {data} ...", file=sys.stderr, flush=True)
        tr, va, te = split(load_dataset(data), seed=SEED)
        t0 = time.perf_counter()
        teacher = zoo.build_model(t_name, tr.input_shape, tr.num_classes, width=t_width, seed=SEED)
        train.train(teacher, tr, va, epochs=t_epochs, seed=SEED, verbose=False)
        row = {"data": data, "teacher": f"{t_name} width {t_width:g}", "student": f"{s_name} width {s_width:g}"}
        row.update(epochs=epochs, lr=lr, teacher_accuracy=train.evaluate(teacher, te)["accuracy"])
        row["teacher_params"] = int(teacher.count_params())
        for key, kwargs in (
            ("plain", {}),
            ("distilled", {"teacher": teacher, "temperature": TEMPERATURE, "alpha": ALPHA}),
        ):
            student = zoo.build_model(s_name, tr.input_shape, tr.num_classes, width=s_width, seed=SEED)
            train.train(student, tr, va, epochs=epochs, lr=lr, seed=SEED, patience=epochs, verbose=False, **kwargs)
            row[key] = train.evaluate(student, te)["accuracy"]
            row["params"] = int(student.count_params())
        row["seconds"] = time.perf_counter() - t0
        rows.append(row)
    return rows


def run(quick: bool = False) -> dict:
    return {"quantization": quantization_cases(quick), "distillation": distillation(quick)}


def _pct(v) -> str:
    return f"{100 * v:.1f}" if isinstance(v, float) else "n/a"


def markdown(results: dict) -> str:
    lines = [
        f"Test-split accuracy (%); int8 on the TFLM reference kernels; seed {SEED}; QAT and the float "
        f"control fine-tune {QAT_EPOCHS} epochs at lr {QAT_LR:g}.",
        "",
        "| case | float | int8 PTQ | int8 PTQ after float fine-tuning | int8 QAT | QAT recovers of the PTQ loss | time |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results["quantization"]:
        if "error" in r:
            lines.append(f"| {r['case']} | not measured: {r['error']} | | | | | |")
            continue
        rec = "PTQ loses < 1 point" if r["recovered"] is None else f"{100 * r['recovered']:.0f}%"
        lines.append(
            f"| {r['case']} | {_pct(r['float'])} | {_pct(r['ptq'])} | {_pct(r['ptq_tuned'])} | {_pct(r['qat'])} "
            f"| {rec} | {r['seconds']:.0f} s |"
        )
    lines += [
        "",
        f"Distillation: temperature {TEMPERATURE:g}, alpha {ALPHA:g} (weight of the label loss); student with and "
        f"without the teacher trained with the same seed ({SEED}), epochs and learning rate; test-split accuracy (%).",
        "",
        "| data | teacher (params, accuracy) | student (params) | epochs | student on labels | student distilled | time |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for d in results["distillation"]:
        lines.append(
            f"| {d['data']} | {d['teacher']} ({d['teacher_params']:,}, {_pct(d['teacher_accuracy'])}) "
            f"| {d['student']} ({d['params']:,}) | {d['epochs']} | {_pct(d['plain'])} | {_pct(d['distilled'])} "
            f"| {d['seconds']:.0f} s |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    print(markdown(run(quick="--quick" in sys.argv)))
