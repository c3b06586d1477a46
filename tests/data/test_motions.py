"""The built-in basic-motions: real smartwatch IMU recordings read offline from the installed aeon package."""

from __future__ import annotations

import socket

import numpy as np
import pytest

from tinyflow.data import BUILTIN, load_dataset, motions, split
from tinyflow.errors import DataError


@pytest.fixture
def offline(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("basic-motions must not touch the network")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_basic_motions_loads_offline_with_its_published_split(offline):
    assert "basic-motions" in BUILTIN
    ds = load_dataset("basic-motions")
    assert ds.x.shape == (80, 100, 6) and ds.x.dtype == np.float32
    assert ds.class_names == ["Badminton", "Running", "Standing", "Walking"]
    assert np.bincount(ds.y).tolist() == [20, 20, 20, 20]
    train, val, test = split(ds, seed=9)
    assert len(test) == 40 and np.bincount(test.y).tolist() == [10, 10, 10, 10]  # the published TEST file
    assert len(train) + len(val) == 40 and 0 < len(val) < 20
    # real recordings: the first TRAIN case's accelerometer x starts 0.079106, 0.079106, -0.903497
    assert np.allclose(ds.x[0, :3, 0], [0.079106, 0.079106, -0.903497])
    # running moves the wrist far more than standing
    energy = [float(np.std(ds.x[ds.y == c][..., :3])) for c in range(4)]
    assert energy[1] > 3 * energy[2]


def test_the_split_is_the_same_on_every_load():
    a, b = load_dataset("basic-motions"), load_dataset("basic-motions", seed=4)
    assert np.array_equal(a.splits, b.splits) and np.array_equal(a.x, b.x)


def test_a_missing_aeon_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(motions.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(DataError, match="aeon package.*not installed") as info:
        load_dataset("basic-motions")
    assert "pip install aeon" in info.value.hint


def test_a_damaged_ts_file_is_refused(tmp_path):
    bad = tmp_path / "x.ts"
    bad.write_text("@problemName X\n@data\n1,2,3:4,5,6:a\n1,2:3,4:b\n")
    with pytest.raises(DataError, match="different lengths"):
        motions.read_ts(bad)
    bad.write_text("@data\n1,zz,3:a\n")
    with pytest.raises(DataError, match="line 2 has a value that is not a number"):
        motions.read_ts(bad)


def test_loading_imports_neither_aeon_nor_tensorflow():
    # aeon pulls in numba and pandas (seconds of start-up): its files are read, the package is not run
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from tinyflow.cli.main import main\n"
        "try:\n    main(['data', 'info', 'basic-motions'])\nexcept SystemExit as exc:\n    assert not exc.code\n"
        "print('HEAVY', sorted({m.split('.')[0] for m in sys.modules} & {'aeon', 'numba', 'pandas', 'tensorflow'}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "HEAVY []" in proc.stdout, (proc.stdout[-500:], proc.stderr[-1000:])
    assert "Badminton" in proc.stdout
