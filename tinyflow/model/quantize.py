"""Full-integer int8 post-training quantization and its report (float vs LiteRT vs TFLM, per-layer SQNR).

Conversion goes `model.export()` (a SavedModel with a batch-1 signature, so the converter emits
no SHAPE/STRIDED_SLICE/PACK ops) -> `tf.lite.TFLiteConverter.from_saved_model`, with a
representative dataset, int8 builtins only, int8 input and output and per-channel weights
(the converter's default for CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field

import numpy as np

from tinyflow import runtimes
from tinyflow.data import Dataset
from tinyflow.errors import ModelError
from tinyflow.model.noise import silenced
from tinyflow.runtimes import litert, tflm


def to_tflite(model, calibration: np.ndarray | None = None, qat: bool = False) -> bytes:
    """Convert a Keras model to .tflite bytes: int8 when `calibration` samples are given, else float32.

    Args:
        calibration: float samples (e.g. `tinyflow.data.representative(train, 200)`), fed one by one.
        qat: `model` is a QAT graph (tinyflow.model.qat): int8 with the ranges its FakeQuant ops
            learned; a representative dataset would make the converter calibrate them over again.
    """
    import tensorflow as tf

    from tinyflow.model.train import quiet_tf

    quiet_tf()
    spec = [tf.TensorSpec((1, *model.input_shape[1:]), tf.float32, name="input")]
    with tempfile.TemporaryDirectory(prefix="tinyflow-export-") as tmp:
        model.export(tmp, format="tf_saved_model", input_signature=spec, verbose=False)
        conv = tf.lite.TFLiteConverter.from_saved_model(tmp)
        if qat:  # no INT8-only op set: the converter would then demand a representative dataset
            conv.optimizations = [tf.lite.Optimize.DEFAULT]
            conv.inference_input_type = tf.int8
            conv.inference_output_type = tf.int8
        elif calibration is not None:
            calib = np.asarray(calibration, np.float32)
            if len(calib) == 0:
                raise ModelError("The calibration set is empty", "Give representative samples (e.g. 100-500).")
            conv.optimizations = [tf.lite.Optimize.DEFAULT]
            conv.representative_dataset = lambda: ([s[None]] for s in calib)
            conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            conv.inference_input_type = tf.int8
            conv.inference_output_type = tf.int8
        try:
            with silenced():  # the converter's `fully_quantize: ...` lines; replayed if it fails
                return bytes(conv.convert())
        except Exception as exc:  # the converter raises ConverterError, RuntimeError, ValueError
            first = str(exc).strip().splitlines()[0][:200]
            raise ModelError(
                f"TFLite conversion of '{model.name}' failed: {first}",
                "Use layers with int8 TFLite builtins (see docs/pipeline.md).",
            ) from None


@dataclass
class LayerError:
    """Quantization error of one op's output: SQNR in dB of int8 (dequantized) vs float.

    `sqnr_db` is cumulative (everything up to this op); `drop_db` is how much SQNR this op loses
    relative to its worst input, i.e. the error it adds itself. The worst layer has the largest drop.
    """

    index: int
    op: str
    tensor: str
    sqnr_db: float
    drop_db: float = 0.0

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class QuantizeReport:
    """Float vs int8 on the test split, model sizes, and per-layer quantization error."""

    float_metrics: dict[str, float]
    litert_metrics: dict[str, float]
    tflm_metrics: dict[str, float]
    float_bytes: int
    int8_bytes: int
    samples: int
    layers: list[LayerError] = field(default_factory=list)
    # LiteRT's optimized kernels vs the TFLM reference kernels on the same int8 model
    litert_tflm_identical: float = 1.0  # fraction of samples with identical int8 outputs
    litert_tflm_max_steps: int = 0  # largest output difference, in int8 steps
    layer_samples: int = 0  # test samples the per-layer SQNR was measured on
    qat_epochs: int = 0  # > 0: the int8 model came from quantization-aware training (tinyflow.model.qat)

    @property
    def worst_layer(self) -> LayerError | None:
        return max(self.layers, key=lambda e: e.drop_db) if self.layers else None

    def to_dict(self) -> dict:
        d = {k: v for k, v in self.__dict__.items() if k != "layers"}
        d["layers"] = [e.to_dict() for e in self.layers]
        d["worst_layer"] = self.worst_layer.to_dict() if self.worst_layer else None
        return d

    def __str__(self) -> str:
        rows = [f"{'metric':<10} {'float':>9} {'int8 LiteRT':>12} {'int8 TFLM':>10}"]
        for k in self.float_metrics:
            rows.append(
                f"{k:<10} {self.float_metrics[k]:>9.4f} {self.litert_metrics.get(k, float('nan')):>12.4f} "
                f"{self.tflm_metrics.get(k, float('nan')):>10.4f}"
            )
        rows.append(
            f"model bytes: float {self.float_bytes:,} -> int8 {self.int8_bytes:,} ({self.samples} test samples)"
        )
        if self.qat_epochs:
            rows.append(f"int8 ranges and weights from quantization-aware training ({self.qat_epochs} epochs)")
        rows.append(
            f"LiteRT vs TFLM: {self.litert_tflm_identical:.1%} of outputs identical, "
            f"at most {self.litert_tflm_max_steps} int8 steps apart (TFLM is the reference)"
        )
        if self.layers:
            rows.append(f"{'#':>3} {'op':<18} {'SQNR dB':>8} {'drop dB':>8}  tensor")
            worst = self.worst_layer
            for e in self.layers:
                mark = "  <- worst" if e is worst else ""
                rows.append(f"{e.index:>3} {e.op:<18} {e.sqnr_db:>8.1f} {e.drop_db:>8.1f}  {e.tensor[:40]}{mark}")
        return "\n".join(rows)


def quantize(model, calibration: np.ndarray, test: Dataset, layer_samples: int = 16, qat_model=None):
    """Quantize to int8 and measure it.

    Args:
        calibration: representative float samples for the int8 ranges.
        qat_model: a fine-tuned QAT graph of `model` (tinyflow.model.qat): the int8 model is
            converted from it with its learned ranges; the float metrics stay `model`'s.
        test: the test split; metrics are measured with Keras (float), LiteRT and TFLM (int8).
        layer_samples: test samples used for the per-layer SQNR.
    Returns:
        (int8 .tflite bytes, QuantizeReport)
    """
    from tinyflow.model.train import evaluate, metrics_of, targets

    int8 = to_tflite(qat_model, qat=True) if qat_model is not None else to_tflite(model, calibration)
    flt = to_tflite(model)
    want = targets(model, test)
    lite, micro = litert.run_float(int8, test.x), tflm.run_float(int8, test.x)
    steps = np.rint(np.abs(lite - micro) / _output_scale(int8)).reshape(len(test), -1)
    report = QuantizeReport(
        float_metrics=evaluate(model, test),
        litert_metrics=metrics_of(lite, test, want),
        tflm_metrics=metrics_of(micro, test, want),
        float_bytes=len(flt),
        int8_bytes=len(int8),
        samples=len(test),
        layers=layer_errors(flt, int8, test.x[:layer_samples]),
        layer_samples=min(layer_samples, len(test)),
        litert_tflm_identical=float(np.mean(steps.max(axis=1) == 0)) if len(test) else 1.0,
        litert_tflm_max_steps=int(steps.max()) if steps.size else 0,
    )
    return int8, report


def _output_scale(model_bytes: bytes) -> float:
    from tinyflow.tflite import read_model

    m = read_model(model_bytes)
    scale = m.tensors[m.outputs[0]].scale
    return float(scale[0]) if len(scale) and scale[0] else 1.0


def layer_errors(float_bytes: bytes, int8_bytes: bytes, x: np.ndarray) -> list[LayerError]:
    """SQNR of each int8 op output against the matching op of the float model (LiteRT, all tensors kept).

    Ops are matched in execution order after dropping QUANTIZE/DEQUANTIZE, which only the int8
    model has; if the op sequences still differ, no per-layer errors are reported.
    """
    f_ops, q_ops = _ops(float_bytes), _ops(int8_bytes)
    if [o["op_name"] for o in f_ops] != [o["op_name"] for o in q_ops] or len(x) == 0:
        return []
    fi, qi = litert.litert_interpreter(float_bytes, True), litert.litert_interpreter(int8_bytes, True)
    f_in, q_in = fi.get_input_details()[0], qi.get_input_details()[0]
    # int8 tensor index -> (float tensor index): the model input, then each op's first output
    pairs = {q_in["index"]: f_in["index"]}
    pairs.update({qo["outputs"][0]: fo["outputs"][0] for fo, qo in zip(f_ops, q_ops)})
    signal = dict.fromkeys(pairs, 0.0)
    noise = dict.fromkeys(pairs, 0.0)
    for sample in np.asarray(x, np.float32):
        fi.set_tensor(f_in["index"], sample[None])
        qi.set_tensor(q_in["index"], runtimes.quantize_input(sample[None], q_in))
        fi.invoke()
        qi.invoke()
        for qt, ft in pairs.items():
            ref = fi.get_tensor(ft).astype(np.float64)
            scale, zp = qi._get_tensor_details(qt, 0)["quantization"]
            got = runtimes.dequantize(qi.get_tensor(qt), scale, zp).astype(np.float64)
            if got.shape != ref.shape:
                return []
            signal[qt] += float(np.sum(ref**2))
            noise[qt] += float(np.sum((ref - got) ** 2))
    sqnr = {t: float(min(10 * np.log10(max(signal[t], 1e-30) / max(noise[t], 1e-30)), 200.0)) for t in pairs}
    out = []
    for qo in q_ops:
        t = qo["outputs"][0]
        before = min((sqnr[i] for i in qo["inputs"] if i in sqnr), default=sqnr[t])
        name = qi._get_tensor_details(t, 0)["name"]
        out.append(LayerError(int(qo["index"]), qo["op_name"], name, sqnr[t], before - sqnr[t]))
    return out


def _ops(model_bytes: bytes) -> list[dict]:
    interp = litert.litert_interpreter(model_bytes)
    return [o for o in interp._get_ops_details() if o["op_name"] not in ("QUANTIZE", "DEQUANTIZE")]
