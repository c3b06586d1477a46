"""The model zoo: small models and the four MLPerf Tiny reference architectures (Keras 3).

| name | reference input | parameters at width=1 (incl. BatchNorm statistics) |
|---|---|---|
| mlp | any (flattened) | depends on input and classes |
| tiny_cnn | any HxWxC or HxW (8x8x1 digits) | 9,450 for 8x8x1 and 10 classes |
| ds_cnn | 49x10x1 (MLPerf Tiny KWS) | 24,908 |
| mobilenet_v1 | 96x96x3 (MLPerf Tiny VWW, alpha 0.25) | 221,794 |
| resnet8 | 32x32x3 (MLPerf Tiny IC) | 78,666 |
| autoencoder | 640 (MLPerf Tiny AD) | 269,992 |
| kws_cnn | 49x10 or 49x40 front end features (frames x channels) | 1,908 for 49x40 and 4 classes |

`width` scales every layer's filters/units (the reference's own knob: DS-CNN filters, MobileNet
alpha, ResNet base filters, autoencoder units); width=1 is the reference. The references follow
mlcommons/tiny benchmark/training (same layers, kernel sizes, strides, padding, biases).
TensorFlow/Keras is imported inside the functions so importing this module is cheap.
"""

from __future__ import annotations

from tinyflow.errors import UsageError

# name -> (default input shape, default classes; 0 = reconstruction output of the input size)
REFERENCE = {
    "mlp": ((8, 8, 1), 10),
    "tiny_cnn": ((8, 8, 1), 10),
    "ds_cnn": ((49, 10, 1), 12),
    "mobilenet_v1": ((96, 96, 3), 2),
    "resnet8": ((32, 32, 3), 10),
    "autoencoder": ((640,), 0),
    "kws_cnn": ((49, 40), 4),
}
# The MLPerf Tiny reference parameter counts at width=1 and the reference shapes.
REFERENCE_PARAMS = {"ds_cnn": 24_908, "mobilenet_v1": 221_794, "resnet8": 78_666, "autoencoder": 269_992}


def build_model(
    name: str, input_shape=None, num_classes: int | None = None, width: float = 1.0, seed: int | None = None
):
    """Build an untrained Keras model from the zoo.

    Args:
        name: one of REFERENCE (`mlp`, `tiny_cnn`, `ds_cnn`, `mobilenet_v1`, `resnet8`, `autoencoder`).
        input_shape: one sample's shape without the batch axis; defaults to the reference's.
        num_classes: classifier outputs; defaults to the reference's (ignored by `autoencoder`).
        width: multiplier of every layer's filters/units (1.0 = the reference).
        seed: seed the weight initializers (keras.utils.set_random_seed) for a reproducible model.
    Returns:
        An uncompiled `keras.Model` named `name`.
    """
    if name not in REFERENCE:
        raise UsageError(f"Unknown model '{name}'", "Use one of: " + ", ".join(REFERENCE) + ".")
    if not width > 0:
        raise UsageError(f"width must be positive, got {width}", "Use e.g. --width 0.5 or 1.0.")
    shape = tuple(int(d) for d in (input_shape or REFERENCE[name][0]))
    classes = int(num_classes or REFERENCE[name][1])
    if name in ("tiny_cnn", "ds_cnn", "mobilenet_v1", "resnet8", "kws_cnn") and len(shape) not in (2, 3):
        raise UsageError(
            f"Model '{name}' needs an HxWxC or HxW input, got shape {shape}",
            "Use mlp for flat inputs, or reshape the data.",
        )
    from tinyflow.model.noise import load_tensorflow

    load_tensorflow()  # the builders' `import keras` would print TensorFlow's start-up lines
    if seed is not None:
        import keras

        keras.utils.set_random_seed(seed)
    builder = {
        "mlp": _mlp,
        "tiny_cnn": _tiny_cnn,
        "ds_cnn": _ds_cnn,
        "mobilenet_v1": _mobilenet_v1,
        "resnet8": _resnet8,
        "autoencoder": _autoencoder,
        "kws_cnn": _kws_cnn,
    }[name]
    return builder(shape, classes, width)


def _input(shape):
    """The model input, plus a channel axis for HxW inputs (e.g. 64x3 accelerometer windows)."""
    import keras
    from keras import layers

    inp = keras.Input(shape)
    x = layers.Reshape((*shape, 1), name="add_channel")(inp) if len(shape) == 2 else inp
    return inp, x


def _w(n: int, width: float) -> int:
    return max(1, int(round(n * width)))


def _mlp(shape, classes, width):
    import keras
    from keras import layers

    x = inp = keras.Input(shape)
    if len(shape) > 1:
        x = layers.Flatten()(x)
    x = layers.Dense(_w(32, width), activation="relu", name="dense_1")(x)
    x = layers.Dense(_w(16, width), activation="relu", name="dense_2")(x)
    out = layers.Dense(classes, activation="softmax", name="logits")(x)
    return keras.Model(inp, out, name="mlp")


def _tiny_cnn(shape, classes, width):
    import keras
    from keras import layers

    inp, x = _input(shape)
    x = layers.Conv2D(_w(16, width), 3, padding="same", name="conv_1")(x)
    x = layers.BatchNormalization(name="bn_1")(x)
    x = layers.ReLU(name="relu_1")(x)
    x = layers.Conv2D(_w(32, width), 3, strides=2, padding="same", name="conv_2")(x)
    x = layers.BatchNormalization(name="bn_2")(x)
    x = layers.ReLU(name="relu_2")(x)
    x = layers.MaxPooling2D(2, name="pool")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(_w(32, width), activation="relu", name="dense_1")(x)
    out = layers.Dense(classes, activation="softmax", name="logits")(x)
    return keras.Model(inp, out, name="tiny_cnn")


def _conv_bn_relu(x, filters, kernel, strides, name):
    from keras import layers

    x = layers.Conv2D(filters, kernel, strides=strides, padding="same", name=f"{name}_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def _dw_bn_relu(x, strides, name):
    from keras import layers

    x = layers.DepthwiseConv2D(3, strides=strides, padding="same", name=f"{name}_dw")(x)
    x = layers.BatchNormalization(name=f"{name}_dwbn")(x)
    return layers.ReLU(name=f"{name}_dwrelu")(x)


def _ds_cnn(shape, classes, width):
    """MLPerf Tiny KWS DS-CNN: conv 10x4/2 then 4 depthwise-separable blocks of 64 filters."""
    import keras
    from keras import layers

    filters = _w(64, width)
    inp, x = _input(shape)
    x = _conv_bn_relu(x, filters, (10, 4), 2, "conv0")
    x = layers.Dropout(0.2)(x)
    for i in range(1, 5):
        x = _dw_bn_relu(x, 1, f"block{i}")
        x = _conv_bn_relu(x, filters, 1, 1, f"block{i}_pw")
    x = layers.Dropout(0.4)(x)
    x = layers.AveragePooling2D(pool_size=tuple(x.shape[1:3]), name="avg_pool")(x)
    x = layers.Flatten(name="flatten")(x)
    out = layers.Dense(classes, activation="softmax", name="logits")(x)
    return keras.Model(inp, out, name="ds_cnn")


def _mobilenet_v1(shape, classes, width):
    """MLPerf Tiny VWW MobileNetV1 alpha 0.25: 8 filters at width=1, 13 separable blocks."""
    import keras
    from keras import layers

    base = 32 * 0.25 * width
    inp, x = _input(shape)
    x = _conv_bn_relu(x, _w(base, 1), 3, 2, "conv0")
    # (pointwise filters as multiples of the base, depthwise stride) of the 13 blocks
    plan = [(2, 1), (4, 2), (4, 1), (8, 2), (8, 1), (16, 2)] + [(16, 1)] * 5 + [(32, 2), (32, 1)]
    for i, (mult, stride) in enumerate(plan, start=1):
        x = _dw_bn_relu(x, stride, f"block{i}")
        x = _conv_bn_relu(x, _w(base * mult, 1), 1, 1, f"block{i}_pw")
    x = layers.AveragePooling2D(pool_size=tuple(x.shape[1:3]), name="avg_pool")(x)
    x = layers.Flatten(name="flatten")(x)
    out = layers.Dense(classes, activation="softmax", name="logits")(x)
    return keras.Model(inp, out, name="mobilenet_v1")


def _resnet8(shape, classes, width):
    """MLPerf Tiny IC ResNet-8: a 3x3 stem and three residual stacks of 16, 32, 64 filters."""
    import keras
    from keras import layers

    inp, x = _input(shape)
    x = _conv_bn_relu(x, _w(16, width), 3, 1, "stem")
    for i, (filters, stride) in enumerate([(16, 1), (32, 2), (64, 2)], start=1):
        f = _w(filters, width)
        y = _conv_bn_relu(x, f, 3, stride, f"stack{i}_a")
        y = layers.Conv2D(f, 3, padding="same", name=f"stack{i}_b_conv")(y)
        y = layers.BatchNormalization(name=f"stack{i}_b_bn")(y)
        if stride != 1:  # the reference projects the shortcut with a strided 1x1 conv
            x = layers.Conv2D(f, 1, strides=stride, padding="same", name=f"stack{i}_shortcut")(x)
        x = layers.ReLU(name=f"stack{i}_relu")(layers.Add(name=f"stack{i}_add")([x, y]))
    x = layers.AveragePooling2D(pool_size=tuple(x.shape[1:3]), name="avg_pool")(x)
    x = layers.Flatten(name="flatten")(x)
    out = layers.Dense(classes, activation="softmax", name="logits")(x)
    return keras.Model(inp, out, name="resnet8")


def _autoencoder(shape, classes, width):
    """MLPerf Tiny AD FC autoencoder: 4x128, an 8-unit bottleneck, 4x128, back to the input size."""
    import keras
    from keras import layers

    units, latent = _w(128, width), _w(8, width)
    inp = keras.Input(shape)
    x = layers.Flatten()(inp) if len(shape) > 1 else inp
    sizes = [units] * 4 + [latent] + [units] * 4
    for i, n in enumerate(sizes, start=1):
        x = layers.Dense(n, name=f"dense_{i}")(x)
        x = layers.BatchNormalization(name=f"bn_{i}")(x)
        x = layers.ReLU(name=f"relu_{i}")(x)
    n_out = 1
    for d in shape:
        n_out *= int(d)
    out = layers.Dense(n_out, name="reconstruction")(x)
    if len(shape) > 1:
        out = layers.Reshape(shape)(out)
    return keras.Model(inp, out, name="autoencoder")


def _kws_cnn(shape, classes, width):
    """A small DS-CNN for front end features [frames, channels]: conv 10x4/2, two separable blocks of 16.

    BatchNorm momentum 0.9 (Keras: 0.99): a few hundred clips give a few hundred steps, too few
    for the slower moving averages to settle, and validation then scores chance.
    """
    import keras
    from keras import layers

    filters = _w(16, width)
    inp, x = _input(shape)
    x = layers.Conv2D(filters, (10, 4), strides=2, padding="same", name="conv0_conv")(x)
    x = layers.BatchNormalization(momentum=0.9, name="conv0_bn")(x)
    x = layers.ReLU(name="conv0_relu")(x)
    for i in (1, 2):
        x = layers.DepthwiseConv2D(3, padding="same", name=f"block{i}_dw")(x)
        x = layers.BatchNormalization(momentum=0.9, name=f"block{i}_dwbn")(x)
        x = layers.ReLU(name=f"block{i}_dwrelu")(x)
        x = layers.Conv2D(filters, 1, name=f"block{i}_pw_conv")(x)
        x = layers.BatchNormalization(momentum=0.9, name=f"block{i}_pw_bn")(x)
        x = layers.ReLU(name=f"block{i}_pw_relu")(x)
    x = layers.AveragePooling2D(pool_size=tuple(x.shape[1:3]), name="avg_pool")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dropout(0.2, name="dropout")(x)
    out = layers.Dense(classes, activation="softmax", name="logits")(x)
    return keras.Model(inp, out, name="kws_cnn")
