"""Pruning: schedule, structured rebuild exactness, unstructured zeros surviving int8."""

from __future__ import annotations

import numpy as np
import pytest
import trained_models

from tinyflow.errors import ModelError, UsageError
from tinyflow.model.prune import polynomial_sparsity


@pytest.fixture(scope="module")
def digits_splits():
    return trained_models.digits_splits()


@pytest.fixture(scope="module")
def trained_cnn(tf):
    return trained_models.trained_cnn()


def test_polynomial_schedule_matches_tfmot_shape():
    assert polynomial_sparsity(0, 10, 110, 0.0, 0.8) == 0.0
    assert polynomial_sparsity(200, 10, 110, 0.0, 0.8) == 0.8
    mid = polynomial_sparsity(60, 10, 110, 0.0, 0.8)
    assert mid == pytest.approx(0.8 * (1 - 0.5**3))
    steps = [polynomial_sparsity(s, 0, 100, 0.1, 0.9) for s in range(0, 101, 5)]
    assert all(b >= a for a, b in zip(steps, steps[1:]))


def copy_model(model):
    import keras

    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    return clone


def _zero_half_the_filters(model):
    """Zero half of the output filters of each prunable Conv2D/Dense except the output layer.

    The zeroed channels depend only on the channel count, so convolutions added together in a
    residual block (same count) lose the same channels, as structured pruning requires.
    """
    dropped = {}
    for layer in model.layers[:-1]:
        if type(layer).__name__ in ("Conv2D", "Dense"):
            k, b = layer.get_weights()
            n = k.shape[-1]
            gone = np.random.default_rng(n).choice(n, n - int(round(n * 0.5)), replace=False)
            k[..., gone] = 0
            b[gone] = 0
            layer.set_weights([k, b])
            dropped[layer.name] = gone
    return dropped


@pytest.mark.tf
@pytest.mark.parametrize(
    "name, shape, width",
    [
        ("tiny_cnn", (8, 8, 1), 1.0),  # Conv2D -> BatchNorm -> MaxPool -> Flatten -> Dense
        ("ds_cnn", (49, 10, 1), 0.25),  # Conv2D -> BatchNorm -> DepthwiseConv2D -> 1x1 Conv2D
        ("autoencoder", (640,), 0.25),  # Dense -> BatchNorm chains
        ("resnet8", (32, 32, 3), 0.5),  # residual Adds tie the channels of their producers
    ],
)
def test_structured_rebuild_is_exact_when_dropped_filters_are_dead(tf, name, shape, width):
    # Untrained BatchNorm is the identity and biases start at zero, so zeroed filters carry
    # exactly nothing: removing them (and their consumers' inputs) must not change the output.
    from tinyflow.model import prune, zoo

    model = zoo.build_model(name, shape, 4 if name != "autoencoder" else None, width=width, seed=1)
    dropped = _zero_half_the_filters(model)
    x = np.random.default_rng(2).normal(size=(4, *shape)).astype(np.float32)
    small = prune.prune_structured(model, ratio=0.5)
    assert np.allclose(small.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-4)
    for lname, gone in dropped.items():
        layer = small.get_layer(lname)
        assert layer.get_weights()[0].shape[-1] == model.get_layer(lname).get_weights()[0].shape[-1] - len(gone)
    assert small.count_params() < 0.6 * model.count_params()


@pytest.mark.tf
def test_structured_refuses_what_it_cannot_rebuild(tf):
    import keras

    from tinyflow.model import prune, zoo

    inp = keras.Input((8,))
    a = keras.layers.Dense(8, name="a")(inp)
    b = keras.layers.Dense(8, name="b")(inp)
    cat = keras.layers.Concatenate(name="cat")([a, b])
    with pytest.raises(ModelError, match="differently pruned inputs at 'cat' \\(Concatenate\\)"):
        prune.prune_structured(keras.Model(inp, keras.layers.Dense(2)(cat)))
    with pytest.raises(UsageError, match="got 1.5"):
        prune.prune_structured(zoo.build_model("mlp"), ratio=1.5)


@pytest.mark.tf
def test_residual_groups_keep_the_same_channels(tf):
    from tinyflow.model import prune, zoo

    plan = prune.structured_plan(zoo.build_model("resnet8", seed=0), 0.5)
    assert np.array_equal(plan["stem_conv"], plan["stack1_b_conv"])
    assert np.array_equal(plan["stack2_b_conv"], plan["stack2_shortcut"])
    assert "logits" not in plan and len(plan["stack3_a_conv"]) == 32


@pytest.mark.tf
def test_structured_shrinks_int8_bytes_and_report(tf, trained_cnn, digits_splits):
    from tinyflow.data import representative
    from tinyflow.model import prune

    tr, va, te = digits_splits
    small = prune.prune_structured(trained_cnn, 0.5, tr, va, epochs=4)
    report = prune.measure(
        prune.compare(trained_cnn, small, "structured"), trained_cnn, small, te, representative(tr, 50)
    )
    assert report.int8_bytes_after < 0.7 * report.int8_bytes_before
    conv2 = next(l for l in report.layers if l.name == "conv_2")
    assert (conv2.params_before, conv2.params_after) == (3 * 3 * 16 * 32 + 32, 3 * 3 * 8 * 16 + 16)
    assert (conv2.int8_bytes_before, conv2.int8_bytes_after) == (3 * 3 * 16 * 32 + 4 * 32, 3 * 3 * 8 * 16 + 4 * 16)
    assert report.metrics_after["accuracy"] > 0.8
    assert "Only structured pruning shrinks flash" in str(report)
    assert report.to_dict()["params_after"] == report.params_after


@pytest.mark.tf
def test_unstructured_zeros_survive_int8(tf, trained_cnn, digits_splits):
    from tinyflow.data import representative
    from tinyflow.model import prune
    from tinyflow.model.quantize import to_tflite
    from tinyflow.tflite import read_model

    tr, va, te = digits_splits
    sparse = prune.prune_unstructured(copy_model(trained_cnn), tr, va, sparsity=0.6, epochs=2)
    report = prune.compare(trained_cnn, sparse, "unstructured")
    assert [round(l.sparsity, 2) for l in report.layers] == [0.6] * 4
    assert report.params_before == report.params_after
    m = read_model(to_tflite(sparse, representative(tr, 50)))
    ops = [op for op in m.ops if op.name in ("CONV_2D", "FULLY_CONNECTED")]
    weights = [m.tensors[op.inputs[1]] for op in ops]
    assert len(weights) == 4
    in_file = [m.tensors[op.inputs[1]].nbytes + m.tensors[op.inputs[2]].nbytes for op in ops]
    assert in_file == [l.int8_bytes_after for l in report.layers]
    for t in weights:
        assert t.type_name == "INT8" and np.all(t.zero_point == 0)
        # BatchNorm folding scales weights, it does not fill zeros: round(0.6 * n) zeros at least
        assert np.sum(t.data == 0) >= round(0.6 * t.size)
