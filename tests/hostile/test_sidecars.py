"""Hostile front end sidecars (`<model>.frontend.json`): read_sidecar must return a checked
configuration or raise a TinyflowError, never another exception, and read at most its ceiling.

These call read_sidecar directly (fast, no TensorFlow, no compiler); the verbs that read sidecars
(eval, classify, firmware generate --mode app) get hostile sidecars through the harness in
corpus_session4.py.
"""

from __future__ import annotations

import json
import os

import pytest

from tinyflow.errors import TinyflowError
from tinyflow.frontends.config import SIDECAR_LIMIT, read_sidecar, sidecar_path

GOOD = {"frontend": "mfcc", "version": 1}


def _with(**fields) -> bytes:
    return json.dumps({**GOOD, **fields}).encode()


SIDECARS = {
    "not-json": b"{frontend: mfcc",
    "not-utf8": b'{"frontend": "\xff\xfe"}',
    "empty": b"",
    "top-level-list": b"[1, 2, 3]",
    "nested-60k": b"[" * 60_000,
    "over-limit": b" " * (SIDECAR_LIMIT + 1) + json.dumps(GOOD).encode(),
    "int-5000-digits": b'{"frontend": "mfcc", "sample_rate": ' + b"9" * 5000 + b"}",
    "float-1e400": b'{"frontend": "mfcc", "upper_hz": 1e400}',
    "nan": b'{"frontend": "mfcc", "lower_hz": NaN}',
    "frontend-list": b'{"frontend": ["mfcc"]}',
    "frontend-object": b'{"frontend": {"a": 1}}',
    "frontend-unknown": _with(frontend="../../etc/passwd"),
    "version-2": _with(version=2),
    "version-list": b'{"frontend": "mfcc", "version": [1]}',
    "unknown-key": _with(evil="*/ int tinyflow_pwned; /*"),
    "bool-for-int": _with(sample_rate=True),
    "string-for-int": _with(sample_rate="16000"),
    "negative": _with(num_mfcc=-1),
    "huge": _with(num_mel_bins=10**9),
    "cross-field": _with(num_mfcc=64, num_mel_bins=1),
    "imu-scale-huge-list": json.dumps({"frontend": "imu", "scale_q15": [1] * 10_000}).encode(),
    "imu-features-unknown": json.dumps({"frontend": "imu", "features": ["rms", "evil"]}).encode(),
    "imu-window-3": json.dumps({"frontend": "imu", "window": 3, "step": 1}).encode(),
}


@pytest.mark.parametrize("name", sorted(SIDECARS))
def test_hostile_sidecar_is_refused_cleanly(tmp_path, name):
    model = tmp_path / "m.tflite"
    sidecar_path(model).write_bytes(SIDECARS[name])
    with pytest.raises(TinyflowError) as err:
        read_sidecar(model)
    assert err.value.args and len(str(err.value)) < 1000  # one short line, not the whole file


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "dir", "symlink-outside"])
def test_sidecar_special_files_are_refused(tmp_path, kind):
    model = tmp_path / "m.tflite"
    path = sidecar_path(model)
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dev-zero":
        path.symlink_to("/dev/zero")
    elif kind == "dir":
        path.mkdir()
    else:
        (tmp_path / "victim.json").write_bytes(json.dumps(GOOD).encode())
        path.symlink_to(tmp_path / "victim.json")
        assert read_sidecar(model) is not None  # a symlink to a good file is read like the file
        return
    with pytest.raises(TinyflowError):
        read_sidecar(model)


def test_good_sidecar_is_read(tmp_path):
    model = tmp_path / "m.tflite"
    sidecar_path(model).write_bytes(_with(num_mfcc=13))
    assert read_sidecar(model).num_mfcc == 13
