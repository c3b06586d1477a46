"""Drift math on known distributions (PSI and KS checked against scipy), thresholds, verdicts, and
the reference profile file (untrusted on read)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tinyflow.errors import DataError
from tinyflow.monitor.drift import Thresholds, compare, ks, psi, shares
from tinyflow.monitor.profile import BINS, load_profile, save_profile
from tinyflow.monitor.reference import confidence_bins, observe


def _hist(values: np.ndarray) -> np.ndarray:
    return np.bincount((values.astype(np.int64) + 128) >> 4, minlength=BINS)


def test_psi_is_the_symmetric_kl_divergence_of_the_smoothed_shares():
    special = pytest.importorskip("scipy.special")
    rng = np.random.default_rng(0)
    a = _hist(np.clip(rng.normal(0, 30, 5000), -128, 127))
    b = _hist(np.clip(rng.normal(20, 40, 5000), -128, 127))
    p, q = shares(a), shares(b)
    want = special.rel_entr(q, p).sum() + special.rel_entr(p, q).sum()
    assert psi(a, b) == pytest.approx(want, rel=1e-12) and psi(a, b) == pytest.approx(psi(b, a))
    assert psi(a, a) == 0.0


def test_psi_of_known_distributions():
    # Uniform against 3/32 in the lower 8 bins and 1/32 in the upper 8: PSI = ln(3) / 4 exactly
    # (8/32 ln(3/2) + 8/32 ln 2); a million samples make the half-count smoothing negligible.
    n = 1_000_000
    uniform = np.full(BINS, n / 16)
    tilted = np.array([3 * n / 32] * 8 + [n / 32] * 8)
    assert psi(uniform, tilted) == pytest.approx(np.log(3) / 4, rel=1e-4)
    # A normal shifted by d standard deviations: PSI ~ d^2 for small d (symmetric KL of two normals).
    rng = np.random.default_rng(1)
    base = _hist(np.clip(rng.normal(0, 16, 400_000), -128, 127))
    moved = _hist(np.clip(rng.normal(8, 16, 400_000), -128, 127))  # d = 0.5
    assert psi(base, moved) == pytest.approx(0.25, rel=0.2)


def test_ks_equals_scipy_two_sample_statistic_of_the_binned_values():
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(2)
    a = np.clip(rng.normal(0, 30, 3000), -128, 127)
    b = np.clip(rng.normal(15, 25, 2000), -128, 127)
    binned_a, binned_b = (a.astype(np.int64) + 128) >> 4, (b.astype(np.int64) + 128) >> 4
    want = stats.ks_2samp(binned_a, binned_b).statistic
    assert ks(_hist(a), _hist(b)) == pytest.approx(want, abs=1e-12) and want > 0.1
    assert ks(_hist(a), np.zeros(BINS)) == 0.0


def _profile(x, probs):
    q = np.clip(np.round(x / 0.05), -128, 127).astype(np.int8)
    out = np.clip(np.round(np.asarray(probs) * 256) - 128, -128, 127).astype(np.int8)
    return observe(q, out, output_scale=1 / 256, output_zero_point=-128)


def _data(n, seed, gain=1.0, noise=0.0, confident=0.9):
    rng = np.random.default_rng(seed)
    x = (np.linspace(-2, 2, 4) + rng.normal(0, 1, (n, 10, 4))) * gain + rng.normal(0, noise or 1e-9, (n, 10, 4))
    probs = np.zeros((n, 3))
    probs[np.arange(n), rng.integers(0, 3, n)] = confident
    return x, probs


def test_verdicts_on_clean_and_drifted_data():
    ref = _profile(*_data(500, 0))
    clean = compare(ref, _profile(*_data(100, 1)))
    assert clean.verdict == "ok" and clean.drift_score < 0.1, clean
    gained = compare(ref, _profile(*_data(100, 2, gain=1.6)))
    assert gained.verdict == "alert" and gained.drift_score > 0.25 and any("PSI" in r for r in gained.reasons)
    unsure = compare(ref, _profile(*_data(100, 3, confident=0.4)))
    assert unsure.verdict == "alert" and unsure.confidence_drop > 0.4 and any("confidence" in r for r in unsure.reasons)
    assert unsure.low_confidence_now == 1.0 and unsure.low_confidence_ref == 0.0
    few = compare(ref, _profile(*_data(3, 4)))
    assert few.verdict == "too-few"
    lenient = compare(
        ref,
        _profile(*_data(100, 2, gain=1.6)),
        Thresholds.parse("psi_alert=50,ks_alert=1,confidence_drop=1,class_psi=9"),
    )
    assert lenient.verdict == "warn"
    d = gained.to_dict()
    assert d["drift_score"] == gained.drift_score and len(d["features"]) == 4 and d["verdict"] == "alert"


def test_class_prior_shift_alerts():
    x, probs = _data(300, 5)
    ref = _profile(x, probs)
    skewed = probs.copy()
    skewed[:, :] = 0
    skewed[:, 0] = 0.9  # every prediction is class 0 now
    report = compare(ref, _profile(x[:100], skewed[:100]))
    assert report.class_psi > 0.25 and report.verdict == "alert" and report.class_mix_now[0] == 1.0


def test_thresholds_parse_refuses_unknown_names_and_bad_values():
    assert Thresholds.parse("psi_alert=0.3, min_windows=5") == Thresholds(psi_alert=0.3, min_windows=5)
    for bad in ("psi=1", "psi_alert=x", "ks_alert=-1", "ks_alert=nan"):
        with pytest.raises(DataError):
            Thresholds.parse(bad)


def test_confidence_bins_follow_the_c_rule():
    conf = np.array([-0.5, 0.0, 0.0624, 0.0625, 0.5, 0.99, 1.0, 7.0, np.nan], np.float32)
    assert confidence_bins(conf).tolist() == [0, 0, 0, 1, 8, 15, 15, 15, 0]


def test_profile_file_round_trip_and_hostile_files(tmp_path):
    ref = _profile(*_data(50, 6))
    ref.class_names = ["a", "b", "c"]
    path = tmp_path / "m.monitor.json"
    save_profile(ref, path)
    back = load_profile(path)
    for name in ("count", "sum", "sumsq", "hist", "confidence_hist", "class_counts"):
        assert np.array_equal(getattr(back, name), getattr(ref, name)), name
    assert back.class_names == ["a", "b", "c"] and compare(ref, back).drift_score == 0.0
    doc = json.loads(path.read_text())
    hostile = [
        "not json",
        json.dumps({**doc, "format": "other"}),
        json.dumps({**doc, "windows": -1}),
        json.dumps({**doc, "input_dtype": "complex"}),
        json.dumps({**doc, "confidence_hist": [1] * 3}),
        json.dumps({**doc, "columns": {**doc["columns"], "hist": doc["columns"]["hist"][:1]}}),
        json.dumps({**doc, "columns": {**doc["columns"], "sum": ["1"] * 4}}),
        json.dumps({**doc, "class_counts": [True, 1, 2]}),
    ]
    for i, text in enumerate(hostile):
        bad = tmp_path / f"bad{i}.monitor.json"
        bad.write_text(text)
        with pytest.raises(DataError):
            load_profile(bad)
    huge = tmp_path / "huge.monitor.json"
    huge.write_bytes(b" " * (9 << 20))
    with pytest.raises(DataError):
        load_profile(huge)


def test_quantize_writes_the_reference_from_its_calibration_samples(tmp_path):
    """What `tinyflow quantize` calls after writing the int8 model: the reference profile of the
    calibration draw of the train split, next to the model, with the dataset's class names."""
    from monitor_helpers import classifier_model, float_samples, quantize

    from tinyflow.data import load_dataset, representative, split, validate
    from tinyflow.monitor.reference import reference_profile, write_calibration_reference

    model = tmp_path / "clf_int8.tflite"
    model.write_bytes(classifier_model())
    data = tmp_path / "d.npz"
    x = float_samples(120, 3)
    np.savez(data, x=x, y=np.arange(120) % 4, class_names=np.array(["a", "b", "c", "d"]))
    path = write_calibration_reference(model, str(data), samples=50, seed=1)
    assert path == tmp_path / "clf_int8.monitor.json"
    written = load_profile(path)
    train = split(validate(load_dataset(str(data), seed=1)), seed=1)[0]
    want = reference_profile(model, representative(train, 50, 1))
    assert written.windows == 50 and np.array_equal(written.hist, want.hist) and written.class_names[:1] in (["a"], [])
    assert np.array_equal(
        written.hist, reference_profile(model, quantize(representative(train, 50, 1)), quantized=True).hist
    )


def test_consecutive_readings_are_subtracted_and_a_reboot_starts_over():
    from tinyflow.monitor.run import minus

    x, probs = _data(60, 7)
    first, both = _profile(x[:20], probs[:20]), _profile(x, probs)
    delta = minus(both, first)
    later = _profile(x[20:], probs[20:])
    assert delta.windows == 40 and np.array_equal(delta.hist, later.hist) and np.array_equal(delta.sum, later.sum)
    assert np.array_equal(delta.class_counts, later.class_counts) and delta.elements == later.elements
    rebooted = _profile(x[20:50], probs[20:50])  # same epoch 0, more windows, but fewer of some values
    rebooted.windows = 50
    assert minus(rebooted, first) is rebooted
    reset = _profile(x[:5], probs[:5])
    reset.epoch = 1
    assert minus(reset, first) is reset and minus(both, None) is both
