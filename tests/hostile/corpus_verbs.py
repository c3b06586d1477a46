"""Hostile cases for the newer verbs: deploy, data, mlperf, runs / --track, boards bench.

Families: hostile models and file names on deploy/boards bench/mlperf (one case per family and
verb, not the cross product: the model families are covered in full by corpus.py), hostile
dataset stores (manifest.csv rows, sample files, store.json), hostile recordings for
`data import` / `data segment`, hostile MLPerf runner folders (y_labels.csv and .bin files),
hostile tracking URIs, and option values. Everything is generated here, deterministically.
"""

from __future__ import annotations

import functools
import hashlib
import os
import struct
from pathlib import Path

import numpy as np

from . import models
from .corpus import FILE_NAMES, HELLO, M_IN, write_file
from .harness import CANARY, Case
from .models import C_COMMENT_PAYLOAD, NEWLINE_PAYLOAD

KWS = "{M}/mlperf_tiny/kws_ref_model.tflite"
KWS_BYTES = 49 * 10  # the input tensor of kws_ref_model: 1x49x10x1 int8
STORE_IN = "{W}/in/store"
STORE_OUT = "{W}/out/store"
DEPLOY = {
    # name -> deploy arguments after MODEL
    "cmake": ["-f", "cmake"],
    "arduino-tflm": ["-f", "arduino-library", "--runtime", "tflm"],
    "esp-idf": ["-f", "esp-idf"],
    "zephyr-tflm": ["-f", "zephyr", "--runtime", "tflm"],
    "c": ["-f", "c", "--no-tflm-arena"],
}


def _deploy(fmt: str, model: str, *extra: str) -> list[str]:
    return ["deploy", model, *DEPLOY[fmt], "-o", "{W}/out", *extra]


# -- models and file names -----------------------------------------------------------------

# One hostile model per family for each verb: (source, name, kind); kind "bad" must be refused.
MODEL_PICKS = [
    ("bytes", "trunc-half", "bad"),
    ("bytes", "random-tfl3", "bad"),
    ("bytes", "vector-length-huge", "odd"),
    ("mutation", "op-input-oob", "bad"),
    ("mutation", "fc-missing-weights", "invalid"),
    ("mutation", "gib-input", "bad"),
    ("mutation", "opcode-custom", "invalid"),
    ("mutation", "names-comment-escape", "odd"),
    ("mutation", "names-newline", "odd"),
    ("mutation", "description-payload", "odd"),
]


def _model_bytes(source: str, name: str):
    if source == "bytes":
        return models.BYTE_CASES[name][0]
    return lambda: models.mutated(name)


def _model_cases() -> list[Case]:
    """Each model pick on one deploy format (rotating), a few on boards bench and mlperf run."""
    cases, formats = [], list(DEPLOY)
    for k, (source, name, kind) in enumerate(MODEL_PICKS):
        setup = write_file("in/model.tflite", _model_bytes(source, name))
        ok = kind != "bad"
        fmt = formats[k % len(formats)]
        cases.append(Case(f"deploy/model-{name}/{fmt}", _deploy(fmt, M_IN), setup, allow_ok=ok))
        if k % 2 == 0:
            bench = ["boards", "bench", M_IN, "-b", "nano33ble"]
            cases.append(Case(f"bench/model-{name}", bench, setup, allow_ok=ok))
        if kind == "bad" and k % 2:  # serve runs until interrupted: only models it must refuse
            serve = ["mlperf", "serve", M_IN, "--benchmark", "kws01"]
            cases.append(Case(f"mlperf/model-{name}/serve", serve, setup, timeout=30))
        if k % 3 == 0:
            run = ["mlperf", "run", M_IN, "--benchmark", "kws01", "--target", "sim://tflm", "--dataset", "{W}/in/ds"]
            cases.append(Case(f"mlperf/model-{name}/run", run, _both(setup, _runner_folder()), timeout=30))
    for k, (key, fname) in enumerate(FILE_NAMES.items()):
        setup = write_file(f"in/{fname}", lambda: models.base_bytes("hello"))
        fmt = formats[k % len(formats)]
        cases.append(Case(f"deploy/filename-{key}/{fmt}", _deploy(fmt, f"{{W}}/in/{fname}"), setup, allow_ok=True))
    return cases


def _both(*setups):
    def setup(work: Path) -> None:
        for s in setups:
            s(work)

    return setup


# Values of deploy --name: each must be refused or sanitised (checked by the payload scan).
NAMES = {
    "comment": C_COMMENT_PAYLOAD,
    "newline": NEWLINE_PAYLOAD,
    "traversal": "../sandbox/evil",
    "absolute": "/tmp/tinyflow-hostile-evil",
    "empty": "",
    "keyword": "int",
    "digits": "123",
    "long": "n" * 5000,
    "cmake-injection": "x)\nexecute_process(COMMAND touch pwned)\n#",
    "kconfig-injection": "x\nconfig TINYFLOW_PWNED\n\tbool y",
}


def _name_cases() -> list[Case]:
    formats = ["cmake", "zephyr-tflm", "arduino-tflm", "esp-idf", "c"]
    cases = []
    for k, (key, name) in enumerate(NAMES.items()):
        fmt = formats[k % len(formats)]
        cases.append(Case(f"deploy/name-{key}/{fmt}", _deploy(fmt, HELLO, "--name", name), allow_ok=True))
    return cases


# -- dataset stores ------------------------------------------------------------------------


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _wav(frames: bytes, rate: int = 16000, channels: int = 1, declared: int | None = None) -> bytes:
    """A 16-bit PCM WAV; `declared` is the data size the header claims (default: the truth)."""
    size = len(frames) if declared is None else declared
    fmt = struct.pack("<HHIIHH", 1, channels, rate, (rate * 2 * channels) & 0xFFFFFFFF, (2 * channels) & 0xFFFF, 16)
    riff = b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", size) + frames
    return b"RIFF" + struct.pack("<I", min(len(riff), 0xFFFFFFFF)) + riff


TONE = (np.sin(np.arange(16000) * 0.05) * 8000).astype("<i2").tobytes()
HEADER = "path,label,sha256,sensor,sample_rate,device,captured_at,split,group\n"


def _row(path: str, data: bytes, label: str = "yes", rate: str = "16000", split: str = "train", sha=None) -> str:
    return f"{path},{label},{sha or _sha(data)},audio,{rate},,,{split},\n"


def _store(manifest, samples: dict[str, bytes] | None = None, meta: bytes | None = None, where: str = "in/store"):
    """A setup writing a store: `manifest` text or bytes (or a function of the work folder)."""

    def setup(work: Path) -> None:
        root = work / where
        root.mkdir(parents=True, exist_ok=True)
        text = manifest() if callable(manifest) else manifest
        (root / "manifest.csv").write_bytes(text.encode() if isinstance(text, str) else text)
        for rel, data in (samples or {}).items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(data() if callable(data) else data)
        if meta is not None:
            (root / "store.json").write_bytes(meta)

    return setup


def _good(extra_rows: str = "", extra_samples: dict | None = None, **kw):
    """Two good samples plus the hostile rows/files."""
    a, b = _wav(TONE), _wav(TONE[::-1])
    rows = HEADER + _row("samples/yes/a.wav", a) + _row("samples/no/b.wav", b, label="no", split="test")
    manifest = (lambda: rows + extra_rows()) if callable(extra_rows) else rows + extra_rows
    return _store(manifest, {"samples/yes/a.wav": a, "samples/no/b.wav": b, **(extra_samples or {})}, **kw)


def _link(rel: str, target):
    def setup(work: Path) -> None:
        path = work / "in/store" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.symlink_to(target(work) if callable(target) else target)

    return setup


def _sparse(rel: str, size: int):
    def setup(work: Path) -> None:
        with open(work / rel, "wb") as fh:
            fh.truncate(size)

    return setup


@functools.lru_cache(maxsize=None)
def _wide_csv(columns: int = 10**7) -> bytes:
    """One CSV line of `columns` numbers (built when a case is set up, not at import)."""
    # by repetition: a list of 10^7 strings would take the harness (and so each forked child's
    # ru_maxrss) past 800 MiB
    return (b"17," * columns)[:-1] + b"\n"


@functools.lru_cache(maxsize=None)
def _dense_csv() -> bytes:
    return (b"1," * 33_000_000)[:-1] + b"\n"


LIE = _wav(TONE[:2000], declared=0x7FFFFFF0)
STORES = {
    # name -> setup of in/store
    "traversal": _good(_row("../../sandbox/victim.wav", b"x")),
    "absolute": _good(_row("/etc/passwd.wav", b"x")),
    "backslash": _good(_row("samples\\..\\..\\x.wav", b"x")),
    "wrong-sha": _good(_row("samples/yes/c.wav", b"", sha="0" * 64), {"samples/yes/c.wav": _wav(TONE[:100])}),
    "sha-uppercase": _good(_row("samples/yes/c.wav", b"", sha="A" * 64), {"samples/yes/c.wav": _wav(TONE[:100])}),
    "missing-sample": _good(_row("samples/yes/gone.wav", b"gone")),
    "wav-lying-size": _good(_row("samples/yes/lie.wav", LIE), {"samples/yes/lie.wav": LIE}),
    "wav-65535-channels": _good(
        _row("samples/yes/ch.wav", _wav(TONE[:4], channels=65535)),
        {"samples/yes/ch.wav": _wav(TONE[:4], channels=65535)},
    ),
    "wav-rate-0": _good(_row("samples/yes/r0.wav", _wav(TONE, rate=0)), {"samples/yes/r0.wav": _wav(TONE, rate=0)}),
    "csv-10m-columns": _good(
        lambda: f"samples/yes/w.csv,yes,{_sha(_wide_csv())},imu,50,,,train,\n", {"samples/yes/w.csv": _wide_csv}
    ),
    # the densest CSV line a store accepts by size (64 MiB): 33 M one-digit columns
    "csv-33m-columns": _good(
        lambda: f"samples/yes/d.csv,yes,{_sha(_dense_csv())},imu,50,,,train,\n", {"samples/yes/d.csv": _dense_csv}
    ),
    "npy-pickle": _good(
        _row("samples/yes/p.npy", b"", sha="1" * 64),
        {
            "samples/yes/p.npy": b"\x93NUMPY\x01\x00v\x00{'descr': '|O', 'fortran_order': False, 'shape': (2,), }"
            + b" " * 50
            + b"\n"
        },
    ),
    "npy-huge-shape": _good(
        _row("samples/yes/h.npy", b"", sha="2" * 64),
        {
            "samples/yes/h.npy": b"\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999), }".ljust(
                128, b" "
            )[:127]
            + b"\n"
        },
    ),
    "rate-negative": _good(_row("samples/yes/a2.wav", b"z", rate="-16000")),
    "rate-nan": _good(_row("samples/yes/a2.wav", b"z", rate="nan")),
    "rate-huge": _good(_row("samples/yes/a2.wav", b"z", rate="1e308")),
    "split-unknown": _good(_row("samples/yes/a2.wav", b"z", split="holdout")),
    "label-control": _good(_row("samples/yes/a2.wav", b"z", label="a\x1b[2Jb")),
    "label-huge": _good(_row("samples/yes/a2.wav", b"z", label="L" * 100_000)),
    "label-payload": _good(
        f'samples/yes/a2.wav,"{C_COMMENT_PAYLOAD}",{_sha(_wav(TONE[:50]))},audio,16000,,,train,\n',
        {"samples/yes/a2.wav": _wav(TONE[:50])},
    ),
    "ragged-row": _good("samples/yes/a2.wav,yes\n"),
    "unclosed-quote": _good('"samples/yes/a2.wav,yes,' + "0" * 64 + ",audio,1,,,train,\n"),
    "nul-bytes": _good("samples/yes/\x00.wav,yes," + "0" * 64 + ",audio,1,,,train,\n"),
    "not-utf8": _store(HEADER.encode() + b"samples/yes/\xff\xfe.wav,yes," + b"0" * 64 + b",audio,1,,,train,\n"),
    "bom": _store(b"\xef\xbb\xbf" + HEADER.encode()),
    "wrong-header": _store("path,label\nsamples/a.wav,yes\n"),
    "empty-manifest": _store(b""),
    "header-only": _store(HEADER),
    "huge-field": _store(HEADER + "samples/a.wav," + "y" * 300_000 + "\n"),
    "duplicate-rows": _good(_row("samples/yes/a.wav", _wav(TONE)) * 3),
    "same-sample-two-labels": _good(_row("samples/no/a.wav", _wav(TONE), label="no"), {"samples/no/a.wav": _wav(TONE)}),
    "meta-bad-json": _good(meta=b"{not json"),
    "meta-nan": _good(meta=b'{"val": NaN, "test": 0.1}'),
    "meta-fractions": _good(meta=b'{"val": 0.9, "test": 0.9}'),
    "meta-huge": _good(meta=b"[" * 200_000),
    "manifest-symlink": _both(_store(HEADER), lambda w: _relink(w / "in/store/manifest.csv", w / "sandbox/victim.txt")),
    "manifest-dir": lambda w: (w / "in/store/manifest.csv").mkdir(parents=True),
    "manifest-fifo": lambda w: ((w / "in/store").mkdir(parents=True), os.mkfifo(w / "in/store/manifest.csv")),
    "manifest-sparse-1g": _both(
        lambda w: (w / "in/store").mkdir(parents=True), _sparse("in/store/manifest.csv", 1 << 30)
    ),
    "sample-symlink-outside": _both(
        _good(_row("samples/yes/s.wav", _wav(TONE[:10]))),
        _link("samples/yes/s.wav", lambda w: w / "sandbox/victim.txt"),
    ),
    "sample-symlink-dev-zero": _both(_good(_row("samples/yes/z.wav", b"x")), _link("samples/yes/z.wav", "/dev/zero")),
    "sample-fifo": _both(_good(_row("samples/yes/f.wav", b"x")), lambda w: os.mkfifo(w / "in/store/samples/yes/f.wav")),
    "sample-sparse-1g": _both(
        _good(_row("samples/yes/big.wav", b"x")), _sparse("in/store/samples/yes/big.wav", 1 << 30)
    ),
    "samples-dir-symlink": _both(
        _store(HEADER + _row("samples/yes/v.wav", b"x")),
        _link("samples/yes", lambda w: w / "sandbox"),
    ),
}


def _relink(path: Path, target: Path) -> None:
    path.unlink()
    path.symlink_to(target)


# Verbs on a store: read-only ones on in/store; `data split` rewrites the store, so its store is a
# copy under out/ (the same setup, written there).
STORE_VERBS = {
    "info": ["data", "info", STORE_IN],
    "check": ["data", "check", STORE_IN, "--json"],
    "eval": ["eval", "{M}/tflm/micro_speech_quantized.tflite", "--dataset", STORE_IN, "--no-progress"],
}
STORE_SPLIT = ("traversal", "wrong-sha", "not-utf8", "manifest-symlink", "sample-symlink-outside", "meta-nan")


STORE_INFO = ("traversal", "absolute", "not-utf8", "unclosed-quote", "huge-field", "meta-huge", "manifest-fifo")
# Stores whose every sample is fine: `data check` may pass them (exit 0); any other must be flagged.
STORE_CLEAN = ("header-only", "duplicate-rows", "wav-rate-0")


def _check_verdict(work: Path, code: int) -> list[str]:
    """`data check` on a damaged store must not exit 0 without naming a problem."""
    name = work.name.split("_", 1)[1].rsplit("_", 1)[0]
    if code == 0 and name not in STORE_CLEAN:
        return ["wrong-result: data check passed a damaged store"]
    return []


STORE_EVAL = ("traversal", "wav-lying-size", "csv-10m-columns", "sample-symlink-dev-zero")


def _store_cases() -> list[Case]:
    """Every store on `data check` (which reads every sample), the manifest-level ones on `data
    info` too (which reads the manifest only), a few on eval and split."""
    cases = []
    for name, setup in STORES.items():
        cases.append(Case(f"store/{name}/check", STORE_VERBS["check"], setup, allow_ok=True, check=_check_verdict))
        if name in STORE_INFO:
            cases.append(Case(f"store/{name}/info", STORE_VERBS["info"], setup, allow_ok=True))
    for name in STORE_EVAL:
        cases.append(Case(f"store/{name}/eval", STORE_VERBS["eval"], STORES[name]))
    for name in STORE_SPLIT:
        cases.append(Case(f"store/{name}/split", ["data", "split", STORE_OUT], _in_out(STORES[name]), allow_ok=True))
    return cases


def _in_out(setup):
    """Run a setup written for in/store, then move its store under out/ (symlinks kept)."""

    def moved(work: Path) -> None:
        setup(work)
        (work / "out").mkdir(exist_ok=True)
        os.rename(work / "in/store", work / "out/store")

    return moved


# -- recordings: data import and data segment ----------------------------------------------

RECORDINGS = {
    # name -> (file name under SRC/LABEL/, bytes)
    "wav-lying-size": ("a.wav", LIE),
    "wav-truncated-header": ("a.wav", _wav(TONE)[:30]),
    "wav-8bit": ("a.wav", _wav(TONE)[:34] + b"\x08\x00" + _wav(TONE)[36:]),
    "wav-float-format": ("a.wav", _wav(TONE)[:20] + b"\x03\x00" + _wav(TONE)[22:]),
    "wav-random": ("a.wav", np.random.default_rng(7).bytes(5000)),
    "csv-10m-columns": ("a.csv", _wide_csv),
    "csv-not-utf8": ("a.csv", b"x,y\n1,\xff\xfe\n"),
    "csv-nan": ("a.csv", b"x,y\n1,nan\n2,inf\n"),
    "csv-huge-field": ("a.csv", b"x\n" + b"9" * 300_000 + b"\n"),
    "csv-ragged": ("a.csv", b"x,y\n1,2\n3\n"),
    "csv-empty": ("a.csv", b""),
}


def _recording(name: str, label: str = "yes"):
    fname, data = RECORDINGS[name]
    return write_file(f"in/src/{label}/{fname}", data)


IMPORT = ["data", "import", "{W}/in/src", "-o", STORE_OUT, "--rate", "50"]


def _recording_cases() -> list[Case]:
    cases = []
    for k, (name, (fname, _)) in enumerate(RECORDINGS.items()):
        cases.append(Case(f"recording/{name}/import", IMPORT, _recording(name), allow_ok=True))
        if k % 2:
            continue
        take = ["data", "segment", f"{{W}}/in/src/yes/{fname}", "-o", STORE_OUT, "--label", "yes", "--rate", "50"]
        cases.append(Case(f"recording/{name}/segment", take, _recording(name), allow_ok=True))
    good = _recording("wav-lying-size")
    links = {
        "label-newline": write_file("in/src/a\nb/x.wav", _wav(TONE)),
        "label-payload": write_file(f"in/src/{C_COMMENT_PAYLOAD.replace('/', '_')}/x.wav", _wav(TONE)),
        "file-symlink-outside": lambda w: (
            (w / "in/src/yes").mkdir(parents=True),
            (w / "in/src/yes/v.wav").symlink_to(w / "sandbox/victim.txt"),
        ),
        "file-dev-zero": lambda w: (
            (w / "in/src/yes").mkdir(parents=True),
            (w / "in/src/yes/z.wav").symlink_to("/dev/zero"),
        ),
        "file-fifo": lambda w: ((w / "in/src/yes").mkdir(parents=True), os.mkfifo(w / "in/src/yes/f.wav")),
        "empty-source": lambda w: (w / "in/src").mkdir(parents=True),
        "source-is-file": write_file("in/src", b"x"),
    }
    for name, setup in links.items():
        cases.append(Case(f"recording/{name}/import", IMPORT, setup, allow_ok=True))
    into_file = [*IMPORT[:4], "{W}/in/file", *IMPORT[5:]]
    cases.append(Case("recording/out-is-file/import", into_file, _both(good, write_file("in/file", b"x"))))
    not_store = ["data", "import", "{W}/in/src", "-o", "{W}/out/user"]
    cases.append(
        Case(
            "recording/out-not-a-store/import",
            not_store,
            _both(good, write_file("out/user/mine.txt", b"mine")),
            precious=("out/user/mine.txt",),
        )
    )
    for name in ("take-fifo", "take-dev-zero", "take-missing"):
        setup = {
            "take-fifo": lambda w: os.mkfifo(w / "in/take.wav"),
            "take-dev-zero": lambda w: (w / "in/take.wav").symlink_to("/dev/zero"),
            "take-missing": None,
        }[name]
        take = ["data", "segment", "{W}/in/take.wav", "-o", STORE_OUT, "--label", "yes"]
        cases.append(Case(f"recording/{name}/segment", take, setup))
    for name, setup in {"take-wav-1g": _silent_wav(1 << 30), "take-wav-120m": _silent_wav(120 << 20)}.items():
        argv = ["data", "segment", "{W}/in/take.wav", "-o", STORE_OUT, "--label", "yes"]
        cases.append(Case(f"recording/{name}/segment", argv, setup, allow_ok=True, timeout=30))
    cases.append(
        Case(
            "recording/take-sparse-2g/segment",
            ["data", "segment", "{W}/in/take.wav", "-o", STORE_OUT, "--label", "yes"],
            _sparse("in/take.wav", 2 << 30),
        )
    )
    return cases


def _silent_wav(size: int):
    """A take of `size` bytes of silence (a sparse file: nothing is written but the header)."""

    def setup(work: Path) -> None:
        header = bytearray(_wav(b"", declared=size - 44))
        header[4:8] = struct.pack("<I", size - 8)  # the RIFF size too: a consistent file
        with open(work / "in/take.wav", "wb") as fh:
            fh.write(header)
            fh.truncate(size)

    return setup


# -- MLPerf runner folders -----------------------------------------------------------------


def _runner_folder(rows=None, files=None, size: int = KWS_BYTES):
    """A setup writing in/ds: y_labels.csv `rows` (default: 3 good rows) and its .bin files."""
    rng = np.random.default_rng(3)
    data = {f"s{k}.bin": rng.integers(-128, 128, size, dtype=np.int8).tobytes() for k in range(3)}
    if files is not None:
        data = files
    text = rows if rows is not None else "".join(f"s{k}.bin,12,{k},0,0\n" for k in range(3))

    def setup(work: Path) -> None:
        ds = work / "in" / "ds"
        ds.mkdir(parents=True, exist_ok=True)
        (ds / "y_labels.csv").write_bytes(text.encode() if isinstance(text, str) else text)
        for name, raw in data.items():
            (ds / name).write_bytes(raw)

    return setup


RUNNER = {
    # name -> (setup, allow_ok)
    "good": (_runner_folder(), True),
    "truncated-bin": (_runner_folder(size=100), False),
    "empty-bin": (_runner_folder(size=0), False),
    "oversized-bin": (_runner_folder(size=KWS_BYTES * 3), False),
    "labels-missing": (lambda w: (w / "in/ds").mkdir(parents=True), False),
    "labels-empty": (_runner_folder(""), False),
    "labels-text": (_runner_folder("s0.bin,twelve,zero,0,0\n"), False),
    "labels-negative-class": (_runner_folder("s0.bin,12,-1,0,0\n"), False),
    "labels-class-out-of-range": (_runner_folder("s0.bin,12,400,0,0\n"), False),
    "labels-classes-zero": (_runner_folder("s0.bin,0,0,0,0\n"), False),
    "labels-classes-huge": (_runner_folder("s0.bin,99999999999,0,0,0\n"), False),
    "labels-negative-sizes": (_runner_folder("s0.bin,12,0,-490,-1\n"), False),
    "labels-huge-sizes": (_runner_folder("s0.bin,12,0,99999999999999,1\n"), False),
    "labels-stride-1": (_runner_folder("s0.bin,12,0,2,1\n"), False),
    "labels-traversal": (_runner_folder("../../sandbox/victim.txt,12,0,0,0\n"), False),
    "labels-absolute": (_runner_folder("/etc/passwd,12,0,0,0\n"), False),
    "labels-missing-file": (_runner_folder("nope.bin,12,0,0,0\n"), False),
    "labels-not-utf8": (_runner_folder(b"s0.bin\xff,12,0,0,0\n"), False),
    "labels-nul": (_runner_folder(b"s0.bin\x00,12,0,0,0\n"), False),
    "labels-huge-field": (_runner_folder("s0.bin," + "1" * 300_000 + ",0,0,0\n"), False),
    "labels-is-dir": (lambda w: (w / "in/ds/y_labels.csv").mkdir(parents=True), False),
    "labels-fifo": (lambda w: ((w / "in/ds").mkdir(parents=True), os.mkfifo(w / "in/ds/y_labels.csv")), False),
    "labels-sparse-1g": (
        _both(lambda w: (w / "in/ds").mkdir(parents=True), _sparse("in/ds/y_labels.csv", 1 << 30)),
        False,
    ),
    "bin-dev-zero": (
        _both(_runner_folder("z.bin,12,0,0,0\n", {}), lambda w: (w / "in/ds/z.bin").symlink_to("/dev/zero")),
        False,
    ),
    "bin-symlink-outside": (
        _both(
            _runner_folder("v.bin,12,0,0,0\n", {}), lambda w: (w / "in/ds/v.bin").symlink_to(w / "sandbox/victim.txt")
        ),
        False,
    ),
    "bin-sparse-1g": (_both(_runner_folder("b.bin,12,0,0,0\n", {}), _sparse("in/ds/b.bin", 1 << 30)), False),
}


def _mlperf_cases() -> list[Case]:
    run = ["mlperf", "run", KWS, "--benchmark", "kws01", "--dataset", "{W}/in/ds"]
    cases = []
    for name, (setup, ok) in RUNNER.items():
        cases.append(Case(f"mlperf/{name}/run-tflm", [*run, "--target", "sim://tflm"], setup, allow_ok=ok, timeout=30))
    for name in ("truncated-bin", "labels-class-out-of-range", "labels-huge-sizes"):
        setup = RUNNER[name][0]
        argv = [*run, "--mode", "performance", "--target", "sim://host"]
        cases.append(Case(f"mlperf/{name}/run-perf-host", argv, setup, timeout=90, marks=("firmware",)))
    opts = {
        "ad-on-kws": (["mlperf", "run", KWS, "--benchmark", "ad01", "--target", "sim://tflm"], False),
        "vww-on-hello": (["mlperf", "dataset", HELLO, "--benchmark", "vww01", "--out", "{W}/out/ds"], False),
        "bad-target": (["mlperf", "run", KWS, "--benchmark", "kws01", "--target", "sim://nope"], False),
        "target-refused": (
            [
                "mlperf",
                "run",
                KWS,
                "--benchmark",
                "kws01",
                "--dataset",
                "{W}/in/ds",
                "--target",
                "socket://127.0.0.1:1",
            ],
            False,
        ),
        "results-unwritable": (
            [*run, "--target", "sim://tflm", "--results", "/proc/tinyflow-hostile/results.json"],
            False,
        ),
        "results-is-dir": ([*run, "--target", "sim://tflm", "--results", "{W}/in"], False),
        "per-class-0": (
            ["mlperf", "dataset", KWS, "--benchmark", "kws01", "--out", "{W}/out/ds", "--per-class", "0"],
            False,
        ),
        "dataset-out-is-file": (["mlperf", "dataset", KWS, "--benchmark", "kws01", "--out", "{W}/in/file"], False),
        "benchmark-unknown": (["mlperf", "run", KWS, "--benchmark", "zz01"], False),
        # serve runs until interrupted: each of these must be refused before it serves
        "serve-unknown-target": (["mlperf", "serve", KWS, "--benchmark", "kws01", "-t", "sim://nope"], False),
        "serve-tflm": (["mlperf", "serve", KWS, "--benchmark", "kws01", "-t", "sim://tflm"], False),
        "serve-unknown-board": (["mlperf", "serve", KWS, "--benchmark", "kws01", "-b", "nope"], False),
        "serve-protocol-set": (
            ["mlperf", "serve", KWS, "--benchmark", "kws01", "-t", "sim://host?protocol=native"],
            False,
        ),
        "serve-serial-port": (["mlperf", "serve", KWS, "--benchmark", "kws01", "-t", "/dev/ttyNOPE0"], False),
    }
    for name, (argv, ok) in opts.items():
        setup = _both(_runner_folder(), write_file("in/file", b"x"))
        cases.append(Case(f"mlperf/opt-{name}", argv, setup, allow_ok=ok, timeout=30))
    return cases


# -- tracking --------------------------------------------------------------------------------


def _outputs_written(work: Path, code: int) -> list[str]:
    """--track failing must not cost the verb's own outputs."""
    if not any(p.is_file() for p in (work / "out").rglob("*")):
        return ["wrong-result: the verb's outputs were not written when tracking failed"]
    return []


TRACK_URIS = {
    "refused": "http://127.0.0.1:1",
    "https-refused": "https://127.0.0.1:1/",
    "unroutable-port": "http://127.0.0.1:0",
    "bad-scheme": "ftp://example.invalid/x",
    "garbage": "::::",
    "empty": "",
    "sqlite-victim": "sqlite:///sandbox/victim.txt",
    "sqlite-unwritable": "sqlite:////proc/tinyflow-hostile/x.db",
    "sqlite-dev-null": "sqlite:////dev/null",
    "file-proc": "file:///proc/tinyflow-hostile",
    "newline": "http://127.0.0.1:1/\nX-Evil: 1",
}


TRACK_EXPORT = ("refused", "bad-scheme", "sqlite-victim", "sqlite-unwritable", "newline")


def _tracking_cases() -> list[Case]:
    """Bad tracking URIs: `runs list` on each, and a verb (export) on a few: it must fail fast
    with one line and still write its own outputs."""
    cases = []
    for name, uri in TRACK_URIS.items():
        if name in TRACK_EXPORT:
            export = ["--track", uri, "export", HELLO, "-o", "{W}/out"]
            cases.append(Case(f"track/{name}/export", export, check=_outputs_written, timeout=30))
        cases.append(Case(f"track/{name}/runs-list", ["--track", uri, "runs", "list"], timeout=30))
    cases.append(Case("track/refused/runs-compare", ["--track", TRACK_URIS["refused"], "runs", "compare", "abcdef"]))
    local = ["--track", "sqlite:///out/m.db", "runs"]
    for name, ids in {
        "unknown-id": ["abcdef123"],
        "short-prefix": ["ab"],
        "traversal-id": ["../../etc/passwd"],
        "quote-id": ["abcdef' OR '1'='1"],
        "many-ids": [f"{k:032x}" for k in range(2000)],
    }.items():
        cases.append(Case(f"track/local-{name}/runs-compare", [*local, "compare", *ids], timeout=30))
    cases.append(Case("track/local-empty/runs-list", [*local, "list"], allow_ok=True, timeout=30))
    cases.append(Case("track/local-limit-0/runs-list", [*local, "list", "--limit", "0"], timeout=30))
    cases.append(
        Case(
            "track/store-is-garbage/runs-list",
            ["--track", "sqlite:///out/m.db", "runs", "list"],
            write_file("out/m.db", b"SQLite format 3\x00" + bytes(range(256)) * 20),
            timeout=30,
        )
    )
    return cases


# -- other options ---------------------------------------------------------------------------

OPTIONS = {
    # name -> (argv, allow_ok)
    "deploy-unknown-format": (["deploy", HELLO, "-f", "nope", "-o", "{W}/out"], False),
    "deploy-runtime-on-c": (["deploy", HELLO, "-f", "c", "--runtime", "tflm", "-o", "{W}/out"], False),
    "deploy-out-is-file": (["deploy", HELLO, "-f", "cmake", "-o", "{W}/in/file"], False),
    "deploy-out-unwritable": (["deploy", HELLO, "-f", "cmake", "-o", "/proc/tinyflow-hostile"], False),
    "deploy-bad-board": (["deploy", HELLO, "-f", "c", "--board", "../../etc/passwd", "-o", "{W}/out"], False),
    "deploy-user-files": (["deploy", HELLO, "-f", "cmake", "-o", "{W}/out", "--name", "m"], False),
    "bench-unknown-board": (["boards", "bench", HELLO, "-b", "nope"], False),
    "bench-board-traversal": (["boards", "bench", HELLO, "-b", "../boards/nano33ble"], False),
    "bench-missing-model": (["boards", "bench", "{W}/in/none.tflite"], False),
    "info-unknown": (["data", "info", "nope"], False),
    "info-random-huge": (["data", "info", "random:99999999999999999999"], False),
    "info-seed-negative": (["data", "info", "digits", "--seed", "-1"], False),
    "split-fractions": (["data", "split", STORE_OUT, "--val", "0.6", "--test", "0.6"], False),
    "split-nan": (["data", "split", STORE_OUT, "--val", "nan"], False),
    "check-near-nan": (["data", "check", STORE_IN, "--near", "nan"], False),
    "segment-seconds-nan": (
        ["data", "segment", "{W}/in/file", "-o", STORE_OUT, "--label", "x", "--seconds", "nan"],
        False,
    ),
    "segment-label-empty": (["data", "segment", "{W}/in/take.wav", "-o", STORE_OUT, "--label", ""], False),
    "import-rate-inf": (["data", "import", "{W}/in/src", "-o", STORE_OUT, "--rate", "inf"], False),
    "synth-voices-huge": (["data", "synth-kws", "--words", "yes", "-o", STORE_OUT, "--voices", "99999999999"], False),
    "synth-voices-2": (["data", "synth-kws", "--words", "yes", "-o", STORE_OUT, "--voices", "2"], False),
    "synth-words-empty": (["data", "synth-kws", "--words", ",,,", "-o", STORE_OUT, "--voices", "3"], False),
    "synth-words-option": (["data", "synth-kws", "--words", "-w,--version", "-o", STORE_OUT, "--voices", "3"], False),
    "synth-words-many": (
        ["data", "synth-kws", "--words", ",".join(f"w{k}" for k in range(10_000)), "-o", STORE_OUT, "--voices", "3"],
        False,
    ),
    "synth-words-huge": (["data", "synth-kws", "--words", "y" * 100_000, "-o", STORE_OUT, "--voices", "3"], False),
    "synth-out-is-file": (["data", "synth-kws", "--words", "yes", "-o", "{W}/in/file", "--voices", "3"], False),
    "eval-min-accuracy-nan": (["eval", HELLO, "--dataset", "random:3", "--min-accuracy", "nan"], False),
    "eval-min-accuracy-2": (["eval", HELLO, "--dataset", "random:3", "--min-accuracy", "2"], False),
    "eval-min-agreement-neg": (["eval", HELLO, "--dataset", "random:3", "--min-agreement", "-1"], False),
    "eval-max-latency-inf": (["eval", HELLO, "--dataset", "random:3", "--max-latency-ms", "inf"], False),
    "eval-max-latency-0": (["eval", HELLO, "--dataset", "random:3", "--max-latency-ms", "0"], False),
    "eval-min-accuracy-fails": (["eval", HELLO, "--dataset", "sine", "--limit", "3", "--min-agreement", "1"], True),
}


def _option_cases() -> list[Case]:
    base = _both(write_file("in/file", b"x\n"), _good(where="out/store"), _good(), _recording("wav-lying-size"))
    user = write_file("out/CMakeLists.txt", b"# the user's own build\n")
    cases = []
    for name, (argv, ok) in OPTIONS.items():
        setup = _both(base, user) if name == "deploy-user-files" else base
        precious = ("out/CMakeLists.txt",) if name == "deploy-user-files" else ()
        cases.append(Case(f"opt/{name}", argv, setup, allow_ok=ok, precious=precious, timeout=30))
    return cases


def verb_cases() -> list[Case]:
    """Every case of this module, in a stable order."""
    return (
        _model_cases()
        + _name_cases()
        + _store_cases()
        + _recording_cases()
        + _mlperf_cases()
        + _tracking_cases()
        + _option_cases()
    )


__all__ = ["verb_cases", "CANARY"]
