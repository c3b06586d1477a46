"""The hostile corpus: every case, generated in code and deterministic. `all_cases()` is the list.

Families here: models (broken bytes, flatbuffer mutations, odd-but-valid models, payloads in
tensor names and file names, special files) and datasets. Journals, project folders, devices
and command-line options are in corpus_env.py; the newer verbs in corpus_verbs.py; capture,
classify, monitor, raw-signal eval and their inputs in corpus_session4.py.
"""

from __future__ import annotations

import os
import random
import zipfile
from pathlib import Path

import numpy as np

from . import models
from .harness import CANARY, Case

HELLO = "{M}/tflm/hello_world_int8.tflite"
SPEECH = "{M}/tflm/micro_speech_quantized.tflite"
M_IN = "{W}/in/model.tflite"
# Each verb as a user would type it; MODEL is replaced by the model path.
VERBS = {
    "inspect": ["inspect", "MODEL", "--no-arena"],
    "inspect-fit": ["inspect", "MODEL", "-b", "nano33ble", "--check"],
    "export": ["export", "MODEL", "-o", "{W}/out"],
    "compile": ["compile", "MODEL", "-o", "{W}/out"],
    "fw-tflm": ["firmware", "generate", "MODEL", "-b", "nano33ble", "-o", "{W}/out"],
    "fw-aot": ["firmware", "generate", "MODEL", "-b", "nano33ble", "-r", "aot", "-o", "{W}/out"],
    "eval": ["eval", "MODEL", "--dataset", "random:3", "--no-progress"],
    "profile": ["profile", "MODEL"],
    "eval-host": ["eval", "MODEL", "-t", "sim://host", "--dataset", "random:2", "--no-progress"],
}
# Model kind (see models.py) -> {verb: exit 0 allowed}.
KIND_VERBS = {
    "bad": {"inspect-fit": False, "compile": False, "eval": False},
    "invalid": {"inspect-fit": True, "compile": False, "eval": False},
    "compiled": {"inspect-fit": True, "compile": False, "eval": True},
    "odd": {v: True for v in ("inspect", "export", "compile", "fw-tflm", "eval")},
}
BUILDER_VERBS = ("inspect", "export", "compile", "fw-tflm", "eval", "profile")


def verb(name: str, model: str, *extra: str) -> list[str]:
    return [model if a == "MODEL" else a for a in VERBS[name]] + list(extra)


def write_file(rel: str, data) -> callable:
    """A setup that writes `data` (bytes, or a function returning bytes) at W/rel."""

    def setup(work: Path) -> None:
        path = work / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data() if callable(data) else data)

    return setup


def _model_cases() -> list[Case]:
    cases = []
    for name, (fn, kind) in models.BYTE_CASES.items():
        # export copies bytes into C: a few kinds of garbage show whether it looks at them first.
        verbs = ("inspect", "eval") + (("export",) if name in ("empty", "random-4k", "keras-zip", "text") else ())
        for v in verbs:
            cases.append(
                Case(f"model/{name}/{v}", verb(v, M_IN), write_file("in/model.tflite", fn), allow_ok=kind == "odd")
            )
    for name, (_, _, kind) in models.MUTATIONS.items():
        data = lambda n=name: models.mutated(n)  # noqa: E731 (binds this loop's name)
        for v, ok in KIND_VERBS[kind].items():
            cases.append(Case(f"model/{name}/{v}", verb(v, M_IN), write_file("in/model.tflite", data), allow_ok=ok))
    for name, (fn, _kind) in models.builder_models().items():
        for v in BUILDER_VERBS:
            cases.append(Case(f"model/{name}/{v}", verb(v, M_IN), write_file("in/model.tflite", fn), allow_ok=True))
    for v in ("eval-host", "profile"):
        argv = verb(v, M_IN) + (["-t", "sim://host"] if v == "profile" else [])
        cases.append(
            Case(
                f"model/c-payload-name/{v}",
                argv,
                lambda w: write_file("in/model.tflite", models.payload_model(str(w / CANARY)))(w),
                allow_ok=True,
                timeout=90,
                marks=("firmware",),
            )
        )
    return cases


# File names a user may download; the model inside is hello_world.
FILE_NAMES = {
    "newline": "m\ntinyflow_pwned_line = 1\n[env:tinyflow_pwned]\n#.tflite",
    "comment": "m */ int tinyflow_pwned; /* .tflite",
    "quotes": "m\"'\\`$(touch pwned)`;.tflite",
    "unicode": "m\u00f6del\u2603 \U0001d11e\u202e.tflite",
    "dash": "-m.tflite",
    "spaces": "my model (v2) [final].tflite",
    "long": "a" * 240 + ".tflite",
}


def _file_name_cases() -> list[Case]:
    cases = []
    for key, fname in FILE_NAMES.items():
        setup = write_file(f"in/{fname}", lambda: models.base_bytes("hello"))
        for v in ("inspect", "export", "compile", "fw-tflm"):
            cases.append(Case(f"filename/{key}/{v}", verb(v, f"{{W}}/in/{fname}"), setup, allow_ok=True))
    fname = FILE_NAMES["comment"]
    cases.append(
        Case(
            "filename/comment/eval-host",
            verb("eval-host", f"{{W}}/in/{fname}"),
            write_file(f"in/{fname}", lambda: models.base_bytes("hello")),
            allow_ok=True,
            timeout=90,
            marks=("firmware",),
        )
    )
    return cases


def _special(kind: str):
    def setup(work: Path) -> None:
        path = work / "in" / "model.tflite"
        if kind == "dir":
            path.mkdir()
        elif kind == "fifo":
            os.mkfifo(path)
        elif kind == "unreadable":
            path.write_bytes(models.base_bytes("hello"))
            path.chmod(0)
            if os.geteuid() == 0:  # root reads anything: use a file the kernel refuses even to root
                path.unlink()
                path.symlink_to("/proc/sys/vm/drop_caches")
        elif kind == "dangling":
            path.symlink_to(work / "in" / "missing.tflite")
        elif kind == "loop":
            path.symlink_to(path)
        elif kind == "dev-zero":
            path.symlink_to("/dev/zero")

    return setup


def _special_file_cases() -> list[Case]:
    return [
        Case(f"file/{kind}/{v}", verb(v, M_IN), _special(kind), timeout=20)
        for kind in ("dir", "fifo", "unreadable", "dangling", "loop", "dev-zero")
        for v in ("inspect", "compile", "eval")
    ]


# -- datasets ------------------------------------------------------------------------------


class _Pwn:
    """Unpickling this runs a shell command: a .npz must never be loaded with pickle."""

    def __init__(self, canary: str):
        self.canary = canary

    def __reduce__(self):
        return (os.system, (f"touch {self.canary}",))


def _npz(**arrays):
    def make(work: Path) -> None:
        path = work / "in" / "data.npz"
        built = {k: (v(work) if callable(v) else v) for k, v in arrays.items()}
        np.savez(path, **built)

    return make


def _pickled(work: Path) -> np.ndarray:
    arr = np.empty(2, dtype=object)
    arr[0], arr[1] = _Pwn(str(work / CANARY)), _Pwn(str(work / CANARY))
    return arr


def _fake_npy_header(work: Path) -> None:
    header = b"{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000, 1), }"
    header = header.ljust(118) + b"\n"
    npy = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + bytes(64)
    with zipfile.ZipFile(work / "in" / "data.npz", "w") as z:
        z.writestr("x.npy", npy)
        z.writestr("y.npy", npy)


def _csv(text: str | bytes):
    return write_file("in/data.csv", text.encode() if isinstance(text, str) else text)


R = np.random.default_rng(0)
X5 = R.standard_normal((5, 1)).astype(np.float32)
XS = R.standard_normal((6, 1960)).astype(np.float32)
DATASETS = {
    # name -> (dataset spec, setup, model, allow_ok, extra args)
    "npz-pickle": ("{W}/in/data.npz", _npz(x=_pickled, y=np.array([0, 1])), HELLO, False, ()),
    "npz-random": ("{W}/in/data.npz", write_file("in/data.npz", random.Random(5).randbytes(2048)), HELLO, False, ()),
    "npz-truncated": ("{W}/in/data.npz", None, HELLO, False, ()),
    "npz-no-y": ("{W}/in/data.npz", _npz(x=X5), HELLO, False, ()),
    "npz-strings": ("{W}/in/data.npz", _npz(x=np.array(["a", "b"]), y=np.array([0, 1])), HELLO, False, ()),
    "npz-nan": ("{W}/in/data.npz", _npz(x=np.array([[np.nan]] * 5, np.float32), y=np.zeros(5)), HELLO, False, ()),
    "npz-inf": ("{W}/in/data.npz", _npz(x=np.array([[np.inf]] * 5, np.float32), y=np.zeros(5)), HELLO, False, ()),
    "npz-nan-y": ("{W}/in/data.npz", _npz(x=X5, y=np.array([np.nan] * 5)), HELLO, False, ()),
    "npz-empty": ("{W}/in/data.npz", _npz(x=np.zeros((0, 1), np.float32), y=np.zeros(0, np.int64)), HELLO, False, ()),
    "npz-mismatch": ("{W}/in/data.npz", _npz(x=X5, y=np.zeros(3, np.int64)), HELLO, False, ()),
    "npz-2d-labels": ("{W}/in/data.npz", _npz(x=XS, y=np.zeros((6, 3), np.int64)), SPEECH, False, ()),
    "npz-label-12": ("{W}/in/data.npz", _npz(x=XS, y=np.array([0, 1, 2, 3, 12, 1])), SPEECH, False, ()),
    "npz-label-3000": (
        "{W}/in/data.npz",
        _npz(x=XS, y=np.array([0, 1, 2, 3000, 3, 1])),
        SPEECH,
        False,
        ("--report", "{W}/out"),
    ),
    "npz-negative-labels": ("{W}/in/data.npz", _npz(x=XS, y=np.array([0, -1, 2, 3, 1, 1])), SPEECH, False, ()),
    "npz-wrong-shape": (
        "{W}/in/data.npz",
        _npz(x=np.zeros((5, 7), np.float32), y=np.zeros(5, np.int64)),
        HELLO,
        False,
        (),
    ),
    "npz-huge-header": ("{W}/in/data.npz", _fake_npy_header, HELLO, False, ()),
    "npz-bad-task": (
        "{W}/in/data.npz",
        _npz(x=X5, y=np.zeros(5, np.int64), task=np.array("*/evil\n")),
        HELLO,
        False,
        (),
    ),
    "npz-1d-x": ("{W}/in/data.npz", _npz(x=X5[:, 0], y=X5[:, 0]), HELLO, True, ()),
    "csv-huge-field": ("{W}/in/data.csv", _csv("1," + "7" * 300_000 + "\n"), HELLO, False, ()),
    "csv-not-utf8": ("{W}/in/data.csv", _csv(b"label,x\n1,\xff\xfe\xe9\n"), HELLO, False, ()),
    "csv-nan": ("{W}/in/data.csv", _csv("0,nan\n1,0.5\n"), HELLO, False, ()),
    "csv-inf": ("{W}/in/data.csv", _csv("0,1e999\n1,0.5\n"), HELLO, False, ()),
    "csv-ragged": ("{W}/in/data.csv", _csv("0,1\n1,2,3\n"), HELLO, False, ()),
    "csv-header-only": ("{W}/in/data.csv", _csv("label,x\n"), HELLO, False, ()),
    "csv-empty": ("{W}/in/data.csv", _csv(""), HELLO, False, ()),
    "csv-one-column": ("{W}/in/data.csv", _csv("1\n2\n"), HELLO, False, ()),
    "csv-nul": ("{W}/in/data.csv", _csv(b"0,1\x00\n1,2\n"), HELLO, False, ()),
    "csv-text-field": ("{W}/in/data.csv", _csv("0,abc\n"), HELLO, False, ()),
    "csv-label-12": (
        "{W}/in/data.csv",
        _csv("".join(f"{k},{','.join(['0.5'] * 1960)}\n" for k in (0, 12, 3))),
        SPEECH,
        False,
        (),
    ),
    "random-0": ("random:0", None, HELLO, False, ()),
    "random-neg": ("random:-1", None, HELLO, False, ()),
    "random-huge": ("random:99999999999999999999", None, HELLO, False, ()),
    "random-huge-limit": ("random:99999999999999999999", None, HELLO, True, ("--limit", "3")),
    "random-abc": ("random:abc", None, HELLO, False, ()),
    "random-empty": ("random:", None, HELLO, False, ()),
    "random-float": ("random:5.5", None, HELLO, False, ()),
    "random-exp": ("random:1e3", None, HELLO, False, ()),
    "unknown-name": ("nope", None, HELLO, False, ()),
    "unknown-case": ("Digits", None, HELLO, False, ()),
    "empty-spec": ("", None, HELLO, False, ()),
    "traversal": ("../../etc/passwd", None, HELLO, False, ()),
    "missing-csv": ("{W}/in/missing.csv", None, HELLO, False, ()),
    "dir-npz": ("{W}/in/d.npz", lambda w: (w / "in" / "d.npz").mkdir(), HELLO, False, ()),
    "fifo-csv": ("{W}/in/f.csv", lambda w: os.mkfifo(w / "in" / "f.csv"), HELLO, False, ()),
    "txt-file": ("{W}/in/data.txt", write_file("in/data.txt", b"1,2\n"), HELLO, False, ()),
    "digits-on-hello": ("digits", None, HELLO, False, ()),
    "gestures-on-speech": ("gestures", None, SPEECH, False, ()),
    "sine-on-hello": ("sine", None, HELLO, True, ()),
}


def _truncated_npz(work: Path) -> None:
    _npz(x=X5, y=np.zeros(5, np.int64))(work)
    path = work / "in" / "data.npz"
    path.write_bytes(path.read_bytes()[:300])


def _dataset_cases() -> list[Case]:
    cases = []
    for name, (spec, setup, model, ok, extra) in DATASETS.items():
        setup = _truncated_npz if name == "npz-truncated" else setup
        cases.append(
            Case(
                f"data/{name}/eval",
                ["eval", model, "--dataset", spec, "--no-progress", *extra],
                setup,
                allow_ok=ok,
                timeout=20,
            )
        )
    # train/prune/quantize only where the data is refused before TensorFlow does any work.
    for name in ("npz-pickle", "npz-nan", "npz-2d-labels", "csv-huge-field", "csv-not-utf8", "random-huge"):
        spec, setup, _, _, _ = DATASETS[name]
        cases.append(
            Case(
                f"data/{name}/train",
                ["train", "--data", spec, "-o", "{W}/out/m.keras", "--epochs", "1"],
                setup,
                timeout=60,
            )
        )
    return cases


def all_cases() -> list[Case]:
    """Every hostile case, in a stable order."""
    from .corpus_env import env_cases
    from .corpus_session4 import session4_cases
    from .corpus_verbs import verb_cases

    cases = _model_cases() + _file_name_cases() + _special_file_cases() + _dataset_cases() + env_cases()
    cases += verb_cases() + session4_cases()
    ids = [c.id for c in cases]
    assert len(ids) == len(set(ids)), "duplicate case ids"
    return cases
