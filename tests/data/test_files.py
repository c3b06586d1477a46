"""tinyflow.data.files: .npz and .csv files, read as untrusted input within Limits."""

from __future__ import annotations

import numpy as np
import pytest

from tinyflow.data import Limits, load_dataset, split
from tinyflow.errors import DataError


def test_npz_round_trip_and_pickle_refused(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, x=np.ones((4, 3), np.float32), y=np.array([0, 1, 2, 1]))
    ds = load_dataset(str(path))
    assert ds.task == "classification" and ds.x.shape == (4, 3) and ds.num_classes == 3
    bad = tmp_path / "obj.npz"
    np.savez(bad, x=np.array([{"a": 1}], dtype=object), y=np.array([0]))
    with pytest.raises(DataError, match="pickle"):
        load_dataset(str(bad))
    ad = tmp_path / "ad.npz"
    np.savez(ad, x=np.ones((4, 640), np.float32), y=np.array([0, 0, 1, 0]), task="anomaly")
    assert load_dataset(str(ad)).task == "anomaly"
    np.savez(ad, x=np.ones((4, 3), np.float32), y=np.array([0, 0, 1, 0]), task="clustering")
    with pytest.raises(DataError, match="task 'clustering'"):
        load_dataset(str(ad))
    nokeys = tmp_path / "k.npz"
    np.savez(nokeys, a=np.ones(3))
    with pytest.raises(DataError, match="no x, y"):
        load_dataset(str(nokeys))


def test_csv_with_and_without_header(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("label,f1,f2\n0,0.5,1\n1,2,3\n")
    ds = load_dataset(str(path))
    assert ds.x.tolist() == [[0.5, 1.0], [2.0, 3.0]] and ds.y.tolist() == [0, 1]
    reg = tmp_path / "r.csv"
    reg.write_text("0.25,1\n1.5,2\n")
    assert load_dataset(str(reg)).task == "regression"
    ragged = tmp_path / "bad.csv"
    ragged.write_text("0,1,2\n1,2\n")
    with pytest.raises(DataError, match="row 2 has 2 fields"):
        load_dataset(str(ragged))


def test_a_missing_file_is_a_data_error():
    with pytest.raises(DataError, match="does not exist"):
        load_dataset("/nonexistent/x.npz")


# -- hostile files: each one a DataError/UsageError with a hint, never a traceback or a huge allocation --


def _npy_header(shape, descr="<f4") -> bytes:
    """A .npy header that declares `shape` (the data after it may be missing)."""
    head = repr({"descr": descr, "fortran_order": False, "shape": tuple(shape)}).encode()
    head += b" " * (63 - (len(head) + 10) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(head).to_bytes(2, "little") + head


def _zip(path, members: dict):
    import zipfile

    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return str(path)


def test_random_bytes_are_not_a_valid_npz(tmp_path):
    path = tmp_path / "noise.npz"
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(DataError, match=r"is not a valid \.npz file") as info:
        load_dataset(str(path))
    assert "pickle" not in info.value.message and "numpy.savez" in info.value.hint


def test_a_npy_file_named_npz_is_refused(tmp_path):
    path = tmp_path / "x.npz"
    with open(path, "wb") as fh:
        np.save(fh, np.zeros((3, 2), np.float32))
    with pytest.raises(DataError, match=r"is not a valid \.npz file"):
        load_dataset(str(path))


def test_huge_shape_in_a_npy_header_is_refused_before_allocating(tmp_path):
    import tracemalloc

    path = _zip(tmp_path / "huge.npz", {"x.npy": _npy_header((10**6, 10**6)), "y.npy": _npy_header((10**6,), "<i8")})
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match=r"x declares shape \(1000000, 1000000\).*4,000,000,000,000 B"):
            load_dataset(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50 << 20


def test_truncated_array_data_and_non_npy_members(tmp_path):
    short = _zip(
        tmp_path / "short.npz", {"x.npy": _npy_header((100, 3)) + bytes(12), "y.npy": _npy_header((100,), "<i8")}
    )
    with pytest.raises(DataError, match=r"is not a valid \.npz file.*x"):
        load_dataset(short)
    raw = _zip(tmp_path / "raw.npz", {"x.npy": b"just text", "y.npy": _npy_header((1,), "<i8") + bytes(8)})
    with pytest.raises(DataError, match=r"x is not a \.npy array"):
        load_dataset(raw)


def test_limits_are_injectable_and_checked_before_reading(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, x=np.zeros((100, 10), np.float32), y=np.zeros(100, np.int64))
    with pytest.raises(DataError, match="x declares shape"):
        load_dataset(str(path), limits=Limits(array_bytes=1000))
    assert len(load_dataset(str(path))) == 100


@pytest.mark.parametrize(
    "x, y, match",
    [
        (np.zeros((3, 2), np.complex64), np.zeros(3, np.int64), "x has dtype complex64"),
        (np.array(["a", "b"]), np.zeros(2, np.int64), "x has dtype <U1"),
        (np.float32(1.0), np.zeros(1, np.int64), r"x has shape \(\)"),
        (np.zeros((3, 2), np.float32), np.int64(1), r"y has shape \(\)"),
        (np.zeros((3, 2), np.float32), np.zeros((3, 2, 1), np.int64), r"y has shape \(3, 2, 1\)"),
        (np.zeros((3, 2), np.float32), np.array([[0, 1], [1, 1], [0, 0]]), r"y has shape \(3, 2\).*not one-hot"),
        (np.zeros((3, 2), np.float32), np.zeros(3, np.complex64), "y has dtype complex64"),
        (np.zeros((2, 2), np.float32), np.array([0, 10**12]), "label 1000000000000 in sample 1"),
        (np.zeros((2, 2), np.float32), np.array([0, -3]), "label -3 in sample 1"),
        (np.zeros((2, 2), np.float32), np.array([0, 1]), None),
    ],
)
def test_npz_arrays_of_every_shape_and_dtype(tmp_path, x, y, match):
    path = tmp_path / "d.npz"
    np.savez(path, x=x, y=y)
    if match is None:
        assert load_dataset(str(path)).y.tolist() == [0, 1]
        return
    with pytest.raises(DataError, match=match) as info:
        load_dataset(str(path))
    assert info.value.hint


def test_two_d_labels(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, x=np.zeros((3, 2), np.float32), y=np.array([[2], [0], [1]]))
    assert load_dataset(str(path)).y.tolist() == [2, 0, 1]  # (N, 1): squeezed
    np.savez(path, x=np.zeros((3, 2), np.float32), y=np.eye(3, dtype=np.float32)[[2, 0, 1]])
    one_hot = load_dataset(str(path))  # exactly one-hot: argmax
    assert one_hot.task == "classification" and one_hot.y.tolist() == [2, 0, 1] and one_hot.num_classes == 3
    np.savez(path, x=np.zeros((3, 2), np.float32), y=np.array([[0.5, 1.0], [0.0, 2.0], [1.0, 1.0]], np.float32))
    targets = load_dataset(str(path))  # float, not one-hot: k targets
    assert targets.task == "regression" and targets.y.shape == (3, 2)
    tr, va, te = split(targets, seed=0)
    assert len(tr) + len(va) + len(te) == 3


def test_class_names_must_be_a_list(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, x=np.zeros((2, 2), np.float32), y=np.array([0, 1]), class_names=np.array("one"))
    with pytest.raises(DataError, match="class_names"):
        load_dataset(str(path))


def test_csv_field_larger_than_the_csv_module_allows(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text('0,1\n1,"' + "9" * 200_000 + '"\n')
    with pytest.raises(DataError, match="line 2") as info:
        load_dataset(str(path))
    assert info.value.hint


def test_csv_long_line_fails_fast_without_reading_it(tmp_path):
    import tracemalloc

    path = tmp_path / "d.csv"
    with open(path, "w") as fh:
        fh.write("0,1\n1,")
        fh.write("1," * 5_000_000)  # a 10 MB line
        fh.write("1\n")
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match=r"line 2 is longer than 65,536 characters"):
            load_dataset(str(path), limits=Limits(line_chars=65_536))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5 << 20


def test_csv_file_and_value_budgets(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("".join(f"{i % 2},{i},{i}\n" for i in range(1000)))
    with pytest.raises(DataError, match=r"d\.csv is [0-9,]+ B, more than the 1,000 B"):
        load_dataset(str(path), limits=Limits(file_bytes=1000))
    with pytest.raises(DataError, match=r"more than 500 values"):
        load_dataset(str(path), limits=Limits(values=500))
    ds = load_dataset(str(path))
    assert ds.x.shape == (1000, 2) and ds.y.tolist()[:4] == [0, 1, 0, 1]


def test_csv_not_utf8_and_huge_integral_labels(tmp_path):
    bad = tmp_path / "b.csv"
    bad.write_bytes(b"0,1\n\xff\xfe,2\n")
    with pytest.raises(DataError, match="not a readable CSV file"):
        load_dataset(str(bad))
    big = tmp_path / "big.csv"
    big.write_text("1e30,1\n0,2\n")
    assert load_dataset(str(big)).task == "regression"  # not cast to a garbage int64 label
    big.write_text("1e300,1\n0,2\n")
    with pytest.raises(DataError, match=r"y holds values up to 1e\+300, beyond float32's range"):
        load_dataset(str(big))


@pytest.mark.parametrize("suffix", [".csv", ".npz"])
def test_a_dataset_that_is_not_a_regular_file_is_named_for_what_it_is(tmp_path, suffix):
    import os

    fifo, zero = tmp_path / f"f{suffix}", tmp_path / f"z{suffix}"
    os.mkfifo(fifo)
    zero.symlink_to("/dev/zero")
    with pytest.raises(DataError, match=r"f\.(csv|npz) is a FIFO \(named pipe\), not a regular file"):
        load_dataset(str(fifo))
    with pytest.raises(DataError, match=r"z\.(csv|npz) is a character device, not a regular file"):
        load_dataset(str(zero))
