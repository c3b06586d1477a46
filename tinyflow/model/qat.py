"""Quantization-aware training for Keras 3 (tensorflow-model-optimization only supports Keras 2).

`qat_model(model)` clones a trained float model into a graph that computes what the TFLM int8
kernels compute, in float:

- Conv2D / DepthwiseConv2D / Dense with the BatchNormalization after them folded in (frozen
  moving statistics, as the converter folds them), the folded kernel fake-quantized per output
  channel, symmetric, narrow range (-127..127, zero point 0: what TFLM's per-channel kernels take);
- the bias rounded to int32 steps of input scale x weight scale (the converter's bias scale);
- ReLU/ReLU6 fused: only the activation's output is quantized, as the fused int8 kernel clamps;
- per-tensor asymmetric int8 activations with moving min/max ranges (fake quantization with a
  straight-through gradient); pooling, flatten, reshape and dropout keep their input's scale;
  softmax outputs use TFLM's fixed scale 1/256, zero point -128.

After `fine_tune`, `tinyflow.model.quantize.to_tflite(qat, qat=True)` converts the graph through
the existing int8 path: the converter reads the learned ranges from the FakeQuant ops, so the
int8 model runs with exactly the scales QAT trained with (no representative dataset).
"""

from __future__ import annotations

import functools

import numpy as np

from tinyflow.data import Dataset
from tinyflow.errors import ModelError

WEIGHTED = ("Conv2D", "DepthwiseConv2D", "Dense")
# Layers that move values without rescaling them: int8 output scale = input scale in TFLite.
PASS_THROUGH = ("MaxPooling2D", "AveragePooling2D", "Flatten", "Reshape", "Dropout")
SUPPORTED = (*WEIGHTED, "BatchNormalization", "ReLU", "Add", "Activation", *PASS_THROUGH, "InputLayer")
MOMENTUM = 0.99  # of the moving activation ranges, per training step


def _relu_cap(layer) -> float | None | bool:
    """The clamp of a ReLU-like layer or activation: None (plain ReLU), 6.0 (ReLU6), False if not one."""
    name = type(layer).__name__
    if name == "ReLU":
        cfg = layer.get_config()
        if cfg.get("negative_slope") or cfg.get("threshold"):
            return False
        cap = cfg.get("max_value")
        return None if cap is None else float(cap) if float(cap) == 6.0 else False
    if name == "Activation":
        return _activation_cap(layer.get_config().get("activation"))
    return False


def _activation_cap(act) -> float | None | bool:
    act = act if isinstance(act, str) else getattr(act, "__name__", str(act))
    return {"relu": None, "relu6": 6.0}.get(act, False)


@functools.lru_cache(maxsize=None)
def _layers():
    """The QAT layer classes (defined lazily: importing this module must not load TensorFlow)."""
    import keras
    import tensorflow as tf

    class ActQuant(keras.layers.Layer):
        """Per-tensor asymmetric int8 fake quantization with moving min/max (straight-through gradient)."""

        def __init__(self, fixed=None, enabled=True, **kw):
            super().__init__(**kw)
            self.fixed, self.enabled = fixed, enabled

        def build(self, shape):
            lo, hi = self.fixed or (0.0, 0.0)
            self.min = self.add_weight(shape=(), initializer=keras.initializers.Constant(lo), trainable=False)
            self.max = self.add_weight(shape=(), initializer=keras.initializers.Constant(hi), trainable=False)
            self.seen = self.add_weight(shape=(), initializer="zeros", trainable=False)

        def observe(self, x):
            """Update the moving range from a batch (the first batch sets it)."""
            if self.fixed:
                return
            lo = tf.minimum(tf.reduce_min(x), 0.0)  # the range must hold 0 (exact zero point)
            hi = tf.maximum(tf.reduce_max(x), 0.0)
            first = tf.cast(self.seen > 0, x.dtype)
            m = MOMENTUM * first
            self.min.assign(m * self.min + (1 - m) * lo)
            self.max.assign(m * self.max + (1 - m) * hi)
            self.seen.assign(1.0)

        def call(self, x, training=None):
            if training:
                self.observe(tf.stop_gradient(x))
            if not self.enabled:
                return x
            hi = tf.maximum(self.max, self.min + 1e-6)  # a dead tensor (all zeros) still gets a scale
            return tf.quantization.fake_quant_with_min_max_vars(x, self.min, hi, num_bits=8)

        def scale(self):
            return (tf.maximum(self.max, self.min + 1e-6) - self.min) / 255.0

    class FoldedQuant(keras.layers.Layer):
        """Conv2D/DepthwiseConv2D/Dense + folded BatchNorm + int8 weights and int32 bias + fused ReLU."""

        def __init__(self, kind, conv_cfg, in_quant, has_bn, cap, relu, enabled=True, **kw):
            super().__init__(**kw)
            self.kind, self.conv_cfg, self.has_bn = kind, conv_cfg, has_bn
            self.cap, self.relu, self.enabled = cap, relu, enabled
            # A callable, not the layer: Keras would track the producer's variables twice.
            self._in_scale = in_quant.scale if in_quant is not None else None

        def build(self, shape):
            pass  # weights are added by `load` from the float layers

        def load(self, layer, bn):
            kernel = np.asarray(layer.kernel)
            self.kernel = self.add_weight(shape=kernel.shape, initializer="zeros", name="kernel")
            self.kernel.assign(kernel)
            n = self._channels(kernel)
            bias = np.asarray(layer.bias) if layer.use_bias else np.zeros(n, np.float32)
            self.bias = self.add_weight(shape=(n,), initializer="zeros", name="bias")
            self.bias.assign(bias)
            if bn is not None:
                self.eps = float(bn.epsilon)
                for attr in ("gamma", "beta", "moving_mean", "moving_variance"):
                    var = getattr(bn, attr, None)
                    value = np.asarray(var) if var is not None else np.full(n, 1.0 if attr == "gamma" else 0.0)
                    w = self.add_weight(shape=(n,), initializer="zeros", name=attr, trainable=attr in ("gamma", "beta"))
                    w.assign(value.astype(np.float32))
                    setattr(self, f"bn_{attr}", w)
            self.built = True

        def _channels(self, kernel):
            if self.kind == "DepthwiseConv2D":
                return kernel.shape[2] * kernel.shape[3]
            return kernel.shape[-1]

        def folded(self):
            """(kernel, bias) with the BatchNorm folded in; kernel's last axis is the output channel."""
            k, b = self.kernel, self.bias
            if self.kind == "DepthwiseConv2D":  # [kh, kw, in, mult] -> one output channel per (in, mult)
                k = tf.reshape(k, (*k.shape[:2], 1, -1))
            if self.has_bn:
                factor = self.bn_gamma * tf.math.rsqrt(self.bn_moving_variance + self.eps)
                k = k * factor
                b = self.bn_beta + (b - self.bn_moving_mean) * factor
            return k, b

        def quantized(self):
            k, b = self.folded()
            if not self.enabled:
                return k, b
            axes = list(range(len(k.shape) - 1))
            m = tf.maximum(tf.stop_gradient(tf.reduce_max(tf.abs(k), axis=axes)), 1e-8)
            if self.kind == "Dense":
                # FULLY_CONNECTED keeps weights [out, in]: quantize along axis 0 of the transpose, or
                # the converter has to transpose a per-channel tensor (and refuses to)
                # (V3: the per-axis kernel of V4 wants scalar ranges when they are given)
                k = tf.raw_ops.QuantizeAndDequantizeV3(
                    input=tf.transpose(k),
                    input_min=-m,
                    input_max=m,
                    num_bits=8,
                    signed_input=True,
                    range_given=True,
                    narrow_range=True,
                    axis=0,
                )
            else:
                k = tf.quantization.fake_quant_with_min_max_vars_per_channel(k, -m, m, num_bits=8, narrow_range=True)
            # int32 bias in steps of input scale x weight scale; straight-through for the rounding
            step = tf.stop_gradient(self._in_scale() * m / 127.0)
            b = b + tf.stop_gradient(tf.round(b / step) * step - b)
            return k, b

        def call(self, x):
            k, b = self.quantized()
            cfg = self.conv_cfg
            if self.kind == "Dense":
                y = tf.matmul(x, k, transpose_b=self.enabled)
            elif self.kind == "Conv2D":
                y = tf.nn.conv2d(x, k, cfg["strides"], cfg["padding"].upper(), dilations=cfg["dilation_rate"])
            else:
                y = tf.nn.depthwise_conv2d(
                    x,
                    tf.reshape(k, self.kernel.shape),
                    (1, *cfg["strides"], 1),
                    cfg["padding"].upper(),
                    dilations=cfg["dilation_rate"],
                )
            y = tf.nn.bias_add(y, b)
            if self.relu:
                y = tf.nn.relu(y) if self.cap is None else tf.nn.relu6(y)
            return y

    return ActQuant, FoldedQuant


def _inputs(layer) -> list:
    inp = layer.input
    return list(inp) if isinstance(inp, (list, tuple)) else [inp]


def _refuse(layer, why: str):
    return ModelError(
        f"QAT cannot quantize layer '{layer.name}' ({type(layer).__name__}): {why}",
        "QAT supports Conv2D, DepthwiseConv2D, Dense, BatchNormalization after them, ReLU/ReLU6, Add, "
        "pooling, Flatten, Reshape and Dropout; use `tinyflow quantize` without --qat for this model.",
    )


def _check_supported(model) -> None:
    """Refuse, in one error naming the layer, what the QAT graph cannot simulate."""
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ModelError(
            f"QAT needs a model with one input and one output, '{model.name}' has "
            f"{len(model.inputs)} and {len(model.outputs)}",
            "Quantize it without --qat.",
        )
    for layer in model.layers:
        kind = type(layer).__name__
        if kind not in SUPPORTED:
            raise _refuse(layer, "no int8 simulation for this layer type")
        if len(getattr(layer, "_inbound_nodes", [])) > 1:
            raise _refuse(layer, "the layer is shared (called more than once)")
        cfg = layer.get_config()
        if cfg.get("data_format", "channels_last") != "channels_last":
            raise _refuse(layer, "only channels_last is supported")
        if kind in WEIGHTED and cfg.get("activation", "linear") not in ("linear", "relu", "relu6", "softmax"):
            raise _refuse(layer, f"fused activation '{cfg.get('activation')}' has no int8 simulation")
        if kind in ("ReLU", "Activation") and _relu_cap(layer) is False:
            if not (kind == "Activation" and cfg.get("activation") in ("linear", "softmax")):
                raise _refuse(layer, "only ReLU, ReLU6 and softmax activations are simulated")


def qat_model(model, enabled: bool = True):
    """Clone a trained float Keras model into its QAT graph (weights copied, BatchNorm folded).

    Args:
        enabled: False builds the same folded graph without any fake quantization (a float twin:
            equal to `model` up to float rounding, which tests the folding).
    Raises:
        ModelError: one line naming the first layer the QAT graph cannot simulate.
    """
    import keras

    _check_supported(model)
    act_quant, _ = _layers()
    consumers: dict[int, list] = {}
    for layer in model.layers:
        for t in _inputs(layer):
            consumers.setdefault(id(t), []).append(layer)
    inp = keras.Input(model.input_shape[1:], name="input")
    q = act_quant(enabled=enabled, name="input_quant")
    # old tensor id -> (new tensor, the ActQuant whose scale the int8 tensor has)
    new = {id(model.inputs[0]): (q(inp), q)}
    absorbed: set[int] = set()
    for layer in model.layers:
        if type(layer).__name__ == "InputLayer" or id(layer) in absorbed:
            continue
        tail, y, quant = _clone(layer, [new[id(t)] for t in _inputs(layer)], consumers, enabled)
        absorbed.update(id(x) for x in tail[:-1])
        absorbed.add(id(tail[-1]))
        new[id(tail[-1].output)] = (y, quant)
    return keras.Model(inp, new[id(model.outputs[0])][0], name=f"{model.name}_qat")


def _sole(tensor, consumers) -> object | None:
    users = consumers.get(id(tensor), [])
    return users[0] if len(users) == 1 else None


def _fused_relu(tensor, consumers):
    """(relu layer, cap) when the only consumer of `tensor` is a ReLU/ReLU6, else (None, None)."""
    nxt = _sole(tensor, consumers)
    if nxt is not None and type(nxt).__name__ in ("ReLU", "Activation") and _relu_cap(nxt) is not False:
        return nxt, _relu_cap(nxt)
    return None, None


def _clone(layer, ins, consumers, enabled):
    """Rebuild one float layer (plus the BatchNorm/ReLU it absorbs) in the QAT graph.

    Returns (the float layers consumed, last one last; the new output tensor; its ActQuant).
    """
    import keras

    act_quant, folded_quant = _layers()
    kind = type(layer).__name__
    x, in_q = ins[0]
    if kind in PASS_THROUGH:
        return [layer], type(layer).from_config(layer.get_config())(x), in_q
    if kind == "BatchNormalization":
        raise _refuse(layer, "BatchNormalization must directly follow a Conv2D, DepthwiseConv2D or Dense to fold")
    if kind in ("ReLU", "Activation"):
        if layer.get_config().get("activation") == "softmax":
            return [layer], *_softmax(x, layer.name, enabled)
        if layer.get_config().get("activation") == "linear":
            return [layer], x, in_q
        y = type(layer).from_config(layer.get_config())(x)
        q = act_quant(enabled=enabled, name=f"{layer.name}_quant")
        return [layer], q(y), q
    if kind == "Add":
        relu, cap = _fused_relu(layer.output, consumers)
        y = keras.layers.Add(name=layer.name)([t for t, _ in ins])
        tail = [layer]
        if relu is not None:
            y = keras.layers.ReLU(max_value=cap, name=relu.name)(y)
            tail.append(relu)
        q = act_quant(enabled=enabled, name=f"{tail[-1].name}_quant")
        return tail, q(y), q
    cfg = layer.get_config()
    act = cfg.get("activation", "linear")
    tail, bn, relu, cap = [layer], None, act in ("relu", "relu6"), 6.0 if act == "relu6" else None
    if act == "linear":
        nxt = _sole(layer.output, consumers)
        if nxt is not None and type(nxt).__name__ == "BatchNormalization":
            bn = nxt
            tail.append(bn)
        relu_layer, cap = _fused_relu(tail[-1].output, consumers)
        if relu_layer is not None:
            relu = True
            tail.append(relu_layer)
    fq = folded_quant(kind, cfg, in_q, bn is not None, cap, relu, enabled=enabled, name=layer.name)
    fq.load(layer, bn)
    q = act_quant(enabled=enabled, name=f"{tail[-1].name}_quant")
    y = q(fq(x))
    if act == "softmax":
        return tail, *_softmax(y, f"{layer.name}_softmax", enabled)
    return tail, y, q


def _softmax(x, name, enabled):
    import keras

    act_quant, _ = _layers()
    y = keras.layers.Softmax(name=name)(x)
    q = act_quant(fixed=(0.0, 255.0 / 256.0), enabled=enabled, name=f"{name}_quant")  # TFLM: 1/256, zp -128
    return q(y), q


def fine_tune(
    qat,
    train_ds: Dataset,
    val_ds: Dataset | None,
    calibration: np.ndarray,
    epochs: int = 3,
    lr: float = 1e-3,
    seed: int = 0,
    verbose: bool = True,
):
    """Set the activation ranges from `calibration`, then train the QAT graph `epochs` epochs.

    lr 1e-3 (Adam) is what docs/optimization.md measured (`tinyflow quantize --qat` uses it); on a
    few hundred samples a lower rate keeps a model PTQ already quantizes well from drifting.

    Returns the TrainReport (the best epoch's weights and ranges are kept).
    """
    import keras

    from tinyflow.model import train

    keras.utils.set_random_seed(seed)
    qat(np.asarray(calibration, np.float32), training=True)  # the first batch sets every range
    return train.train(qat, train_ds, val_ds, epochs=epochs, lr=lr, seed=seed, patience=epochs, verbose=verbose)
