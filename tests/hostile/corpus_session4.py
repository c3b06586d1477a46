"""Hostile cases for the sensor-to-prediction verbs: capture, classify, monitor, eval on raw
signals (--frontend, --class-names, folders of WAV/CSV), front end sidecars with input_mean and
input_shift, and `firmware generate --mode app`.

Families: played recordings (WAV headers that lie, CSV that is not sensor counts, played files
whose sizes lie, special files), sim:// sensor options, class-name lists, monitor reference
profiles, sidecars, raw-signal dataset folders, unreachable or mute targets (every wait must end
within the harness's limit) and output folders that are files or links. One case per family and
verb, not the cross product: the suite's time budget is tight. Everything is generated here,
deterministically; a played recording runs on sim://host with sensor_pace=fast.
"""

from __future__ import annotations

import functools
import json
import os
import struct
from pathlib import Path

from . import models
from .corpus import FILE_NAMES, write_file
from .corpus_verbs import TONE, _both, _sparse, _wav
from .harness import Case
from .models import C_COMMENT_PAYLOAD, NEWLINE_PAYLOAD

MODEL = "{W}/in/m.tflite"  # micro_speech, with a micro_speech sidecar unless a case says otherwise
SENSOR = "sim://host?sensor_pace=fast&sensor={W}/in/"  # + the recording's file name (and options)
GOOD_WAV = _wav(TONE)
FAST = ("--timeout", "0.2")  # a mute device: each of the 10 attempts gives up after 0.2 s


def _model(sidecar: bytes | None = b'{"frontend": "micro_speech", "version": 1}', name: str = "m.tflite"):
    """A setup writing micro_speech as in/<name>, its sidecar and a good recording in/good.wav."""

    def setup(work: Path) -> None:
        write_file(f"in/{name}", lambda: models.base_bytes("speech"))(work)
        write_file("in/good.wav", GOOD_WAV)(work)
        if sidecar is not None:
            write_file(f"in/{name}.frontend.json", sidecar)(work)

    return setup


def _sidecar(**fields) -> bytes:
    return json.dumps({"frontend": "micro_speech", "version": 1, **fields}).encode()


# -- played recordings -----------------------------------------------------------------------


def _tfps(kind: int = 1, channels: int = 1, rate: int = 16000, frames: int = 100, data: bytes | None = None) -> bytes:
    """A played-sensor file (tinyflow/targets/played.py) whose header may lie about its data."""
    body = bytes(200) if data is None else data
    return struct.pack("<4sHBBII", b"TFPS", 1, kind, channels, rate, frames) + body


def _wav_fmt(fmt_size: int = 16, audio_format: int = 1, bits: int = 16) -> bytes:
    fmt = struct.pack("<HHIIHH", audio_format, 1, 16000, 32000, 2, bits)
    riff = b"WAVEfmt " + struct.pack("<I", fmt_size) + fmt + b"data" + struct.pack("<I", 200) + bytes(200)
    return b"RIFF" + struct.pack("<I", len(riff)) + riff


@functools.lru_cache(maxsize=None)
def _wide() -> bytes:
    """Two CSV rows of 10^6 columns (built when a case is set up, not at import)."""
    return b"1," * 999_999 + b"1\n" + b"2," * 999_999 + b"2\n"


RECORDINGS = {
    # name -> (file name in in/, bytes or a setup, extra URL options, exit 0 allowed)
    "wav-header-only": ("s.wav", GOOD_WAV[:30], "", False),
    "wav-lying-size": ("s.wav", _wav(TONE[:2000], declared=0x7FFFFFF0), "", False),
    "wav-fmt-chunk-4g": ("s.wav", _wav_fmt(fmt_size=0xFFFFFFF0), "", False),
    "wav-float32": ("s.wav", _wav_fmt(audio_format=3, bits=32), "", False),
    "wav-stereo": ("s.wav", _wav(TONE, channels=2), "", False),
    "wav-rate-0": ("s.wav", _wav(TONE, rate=0), "", False),
    "wav-no-frames": ("s.wav", _wav(b""), "", False),
    "wav-sparse-1g": ("s.wav", _sparse("in/s.wav", 1 << 30), "", False),
    "csv-nan": ("s.csv", b"1,2\nnan,3\n", "&sensor_rate=100", False),
    "csv-text": ("s.csv", b"ax,ay\n1,abc\n", "&sensor_rate=100", False),
    "csv-ragged": ("s.csv", b"1,2\n3\n4,5,6\n", "&sensor_rate=100", False),
    "csv-1m-columns": ("s.csv", _wide, "&sensor_rate=100", False),
    "csv-17-channels": ("s.csv", b",".join([b"1"] * 17) + b"\n", "&sensor_rate=100", False),
    "csv-no-rate": ("s.csv", b"1,2\n3,4\n", "", False),
    "tfps-frames-lie": ("s.tfps", _tfps(frames=0xFFFFFFFF), "", False),
    "tfps-short": ("s.tfps", _tfps(frames=1000), "", False),
    "fifo": ("s.wav", lambda w: os.mkfifo(w / "in/s.wav"), "", False),
    "dev-zero": ("s.wav", lambda w: (w / "in/s.wav").symlink_to("/dev/zero"), "", False),
}
# The recordings classify also gets (through the model's front end) -> exit 0 allowed: a recording
# shorter than one window ends the stream before a prediction, which the report says.
CLASSIFY_RECORDINGS = {
    "wav-lying-size": False,
    "wav-no-frames": True,
    "tfps-frames-lie": False,
}


def _recording(name: str):
    fname, data, _, _ = RECORDINGS[name]
    if callable(data) and data is not _wide:  # a setup of W (a special file)
        return data
    return write_file(f"in/{fname}", data)


def _capture(target: str, *extra: str) -> list[str]:
    # one window: a good one-second recording holds exactly that, so odd-but-valid inputs reach the store
    return ["capture", "-t", target, "--label", "yes", "-n", "1", "-o", "{W}/out/store", "--no-progress", *extra]


def _recording_cases() -> list[Case]:
    cases = []
    for name, (fname, _, options, ok) in RECORDINGS.items():
        target = SENSOR + fname + options
        setup = _recording(name)
        cases.append(Case(f"sensor/{name}/capture", _capture(target), setup, allow_ok=ok, timeout=30))
        if name in CLASSIFY_RECORDINGS:
            argv = ["classify", MODEL, "-t", target, "-n", "3"]
            ok = CLASSIFY_RECORDINGS[name]
            cases.append(Case(f"sensor/{name}/classify", argv, _both(_model(), setup), allow_ok=ok, timeout=30))
    return cases


# -- sim:// sensor options -------------------------------------------------------------------

SENSOR_OPTIONS = {
    # name -> (URL options after the sensor, exit 0 allowed)
    "gain-nan": ("&sensor_gain=nan", False),
    "gain-huge": ("&sensor_gain=1e308", True),  # saturates, like a clipping ADC
    "noise-negative": ("&sensor_noise=-1", False),
    "noise-huge": ("&sensor_noise=1e300", True),
    "dropouts-2": ("&sensor_dropouts=2", False),
    "dropouts-0-frames": ("&sensor_dropouts=0.5:0", False),
    "dropouts-all": ("&sensor_dropouts=1:1000000", True),  # all silence
    "pace-unknown": ("&sensor_pace=warp", False),
    "rate-0": ("&sensor_rate=0", False),
    "kind-unknown": ("&sensor_kind=gyro", False),
    "sensor-traversal": ("", False),
}


def _option_cases() -> list[Case]:
    cases = []
    for name, (options, ok) in SENSOR_OPTIONS.items():
        target = SENSOR + "good.wav" + options
        if name in ("pace-unknown", "sensor-traversal"):  # SENSOR sets the pace and the file already
            target = "sim://host?sensor=" + ("{W}/in/good.wav" + options if options else "../../../../etc/passwd")
        cases.append(Case(f"sensor-opt/{name}/capture", _capture(target), _model(None), allow_ok=ok, timeout=30))
    loose = "sim://host?sensor_gain=2"
    cases.append(Case("sensor-opt/no-sensor/capture", _capture(loose), timeout=30))
    return cases


# -- capture's own options ---------------------------------------------------------------------

GOOD = SENSOR + "good.wav"


def _capture_cases() -> list[Case]:
    base = _model(None)
    into = {
        "out-is-file": (["-o", "{W}/out/f"], write_file("out/f", b"mine\n"), False),
        "out-symlink-outside": (["-o", "{W}/out/link"], lambda w: _mkout_link(w, "link", w / "sandbox"), False),
        "continuous-out-is-file": (["--continuous", "-o", "{W}/out/f"], write_file("out/f", b"mine\n"), False),
    }
    cases = []
    for name, (extra, setup, ok) in into.items():
        argv = _capture(GOOD)
        argv[argv.index("-o") : argv.index("-o") + 2] = []  # each case gives its own -o
        precious = ("out/f",) if "file" in name else ()
        cases.append(Case(f"capture/{name}", [*argv, *extra], _both(base, setup), ok, 30, precious=precious))
    labels = {"label-control": "a\x1b[2J\nb", "label-traversal": "../../sandbox", "label-payload": C_COMMENT_PAYLOAD}
    for name, label in labels.items():
        argv = _capture(GOOD)
        argv[argv.index("--label") + 1] = label
        cases.append(Case(f"capture/{name}", argv, base, allow_ok=True, timeout=30))
    cases.append(Case("capture/count-beyond-recording", _capture(GOOD, "-n", "1000"), base, timeout=30))
    sample = ["classify", MODEL, "-t", GOOD, "-n", "2", "--sample-below", "1"]
    outputs = {
        "output-is-file": ("{W}/out/f", write_file("out/f", b"mine\n"), False),
        "output-symlink-outside": ("{W}/out/link", lambda w: _mkout_link(w, "link", w / "sandbox"), False),
    }
    for name, (where, setup, ok) in outputs.items():
        precious = ("out/f",) if "file" in name else ()
        argv = [*sample, "--output", where]
        cases.append(Case(f"classify/{name}", argv, _both(_model(), setup), ok, 30, precious=precious))
    return cases


def _mkout_link(work: Path, name: str, target: Path) -> None:
    (work / "out").mkdir(exist_ok=True)
    (work / "out" / name).symlink_to(target)


# -- unreachable and mute targets --------------------------------------------------------------

UNREACHABLE = {
    # name -> (target, fake device behaviour on a pty or None, the verbs that get it)
    "refused": ("socket://127.0.0.1:1", None, ("capture", "classify", "monitor")),
    "no-port": ("/dev/ttyNOPE0", None, ("capture",)),
    "silent": ("{PTY}", "silent", ("classify",)),
    # answers HELLO, then never the session's new requests: CAPTURE_START, CLASSIFY_START, MONITOR
    "mute-after-hello": ("{PTY}", "hello-silent-infer", ("capture", "classify", "monitor")),
}


def _target_cases() -> list[Case]:
    hello = lambda: models.base_bytes("hello")  # noqa: E731
    setup = _both(_model(), write_file("in/ref.monitor.json", lambda: json.dumps(_reference()).encode()))
    cases = []
    for name, (target, behaviour, verbs) in UNREACHABLE.items():
        device = (behaviour, hello) if behaviour else None
        argvs = {
            "capture": _capture(target, *FAST),
            "classify": ["classify", MODEL, "-t", target, "-n", "2", *FAST],
            "monitor": ["monitor", "-t", target, "-r", "{W}/in/ref.monitor.json", "--once", "--wait", "2", *FAST],
        }
        for verb in verbs:
            cases.append(Case(f"target/{name}/{verb}", argvs[verb], setup, timeout=40, device=device))
    return cases


# -- class names -------------------------------------------------------------------------------

CLASS_NAMES = {
    # name -> (--class-names value, exit 0 allowed on classify)
    "empty": (",,", False),
    "duplicates": ("yes,yes,no,no", False),
    "control": ("a\x1b[2J\x07,b\rc,\x7fd,e", True),  # argv cannot hold NUL
    "quotes-newlines": (f'"q{NEWLINE_PAYLOAD}",{C_COMMENT_PAYLOAD},c\'\\,d', True),
    "10k-names": (",".join(f"c{k}" for k in range(10_000)), False),
    "file-dev-zero": ("@{W}/in/zero.txt", False),
    "file-100k-names": ("@{W}/in/many.txt", False),
    "file-not-utf8": ("@{W}/in/latin1.txt", True),
}


def _names_files(work: Path) -> None:
    (work / "in/zero.txt").symlink_to("/dev/zero")
    (work / "in/many.txt").write_text("".join(f"c{k}\n" for k in range(100_000)))
    (work / "in/latin1.txt").write_bytes(b"caf\xe9\nna\xefve\nyes\nno\n")


def _class_name_cases() -> list[Case]:
    cases = []
    setup = _both(_model(), _names_files)
    for name, (names, ok) in CLASS_NAMES.items():
        classify = ["classify", MODEL, "-t", GOOD, "-n", "2", "--class-names", names]
        cases.append(Case(f"names/{name}/classify", classify, setup, allow_ok=ok, timeout=30))
        if not names.startswith("@"):  # eval takes a list only
            eval_ = ["eval", MODEL, "-t", "sim://host", "--dataset", "{W}/in/wavs", "--class-names", names]
            cases.append(Case(f"names/{name}/eval", [*eval_, "--no-progress"], _both(setup, _wav_folder()), ok, 30))
    return cases


# -- raw-signal dataset folders (eval --frontend) ----------------------------------------------


def _wav_folder(extra: dict | None = None):
    """in/wavs/<label>/<file>: two good takes plus `extra` (name -> bytes or a setup of W)."""

    def setup(work: Path) -> None:
        for rel, data in {"yes/a.wav": GOOD_WAV, "no/b.wav": _wav(TONE[::-1]), **(extra or {})}.items():
            path = work / "in/wavs" / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            data(path) if callable(data) else path.write_bytes(data)

    return setup


def _linked_class(work: Path) -> None:
    (work / "in/wavs").mkdir(parents=True)
    (work / "sandbox/yes.wav").write_bytes(GOOD_WAV)
    (work / "in/wavs/yes").symlink_to(work / "sandbox")


FOLDERS = {
    # name -> (setup of in/wavs, exit 0 allowed)
    "empty": (lambda w: (w / "in/wavs").mkdir(parents=True), False),
    "wav-lying-size": (_wav_folder({"yes/l.wav": _wav(TONE[:100], declared=0x7FFFFFF0)}), False),
    "wav-stereo": (_wav_folder({"no/s.wav": _wav(TONE, channels=2)}), False),
    "wav-8k-rate": (_wav_folder({"no/r.wav": _wav(TONE[:8000], rate=8000)}), False),
    "csv-nan": (_wav_folder({"yes/n.csv": b"1\nnan\n"}), False),
    "csv-1m-columns": (_wav_folder({"yes/w.csv": lambda p: p.write_bytes(_wide())}), False),
    # the only class folder links outside, to takes that would evaluate: followed, eval would pass
    "label-symlink-outside": (_linked_class, False),
    "file-dev-zero": (_wav_folder({"yes/z.wav": lambda p: p.symlink_to("/dev/zero")}), False),
    "label-unknown": (_wav_folder({"maybe/m.wav": GOOD_WAV}), False),
    "label-control": (_wav_folder({"ye\x1b[2Js/c.wav": GOOD_WAV}), False),
}
NAMES4 = "silence,unknown,yes,no"


def _store_8k(work: Path) -> None:
    """A store of two 8 kHz takes (its manifest says so) for a 16 kHz front end."""
    from .corpus_verbs import HEADER, _row, _store

    a, b = _wav(TONE[:16000], rate=8000), _wav(TONE[16000:], rate=8000)
    rows = HEADER + _row("samples/yes/a.wav", a, rate="8000") + _row("samples/no/b.wav", b, label="no", rate="8000")
    _store(rows, {"samples/yes/a.wav": a, "samples/no/b.wav": b})(work)


def _folder_cases() -> list[Case]:
    cases = []
    for name, (setup, ok) in FOLDERS.items():
        argv = ["eval", "{W}/in/bare.tflite", "-t", "sim://host", "--frontend", "micro_speech"]
        argv += ["--class-names", NAMES4, "--dataset", "{W}/in/wavs", "--no-progress"]
        cases.append(Case(f"raw-folder/{name}/eval", argv, _both(_model(None, "bare.tflite"), setup), ok, 30))
    store = ["eval", "{W}/in/bare.tflite", "-t", "sim://host", "--frontend", "micro_speech", "--class-names", NAMES4]
    store += ["--dataset", "{W}/in/store", "--split", "all", "--no-progress"]
    cases.append(Case("raw-store/wav-8k-rate/eval", store, _both(_model(None, "bare.tflite"), _store_8k), timeout=30))
    bare = ["eval", "{W}/in/bare.tflite", "--dataset", "random:2", "--no-progress"]
    for name, extra in {"frontend-unknown": ["--frontend", "fft"], "frontend-on-tflm": ["--frontend", "imu"]}.items():
        cases.append(Case(f"raw-folder/{name}/eval", [*bare, *extra], _model(None, "bare.tflite"), timeout=30))
    return cases


# -- sidecars with input_mean / input_shift ----------------------------------------------------

SIDECARS = {
    # name -> sidecar bytes (micro_speech model: 40 feature columns)
    "mean-with-int8-output": _sidecar(input_mean=[0] * 40, input_shift=[0] * 40),
    "mean-wrong-count": _sidecar(int8_output=False, input_mean=[0] * 7),
    "shift-99": _sidecar(int8_output=False, input_shift=[99] * 40),
    "shift-negative": _sidecar(int8_output=False, input_shift=[-1] * 40),
    "mean-2e31": _sidecar(int8_output=False, input_mean=[2**31] * 40),
    "mean-floats": _sidecar(int8_output=False, input_mean=[0.5] * 40),
    "mean-strings": _sidecar(int8_output=False, input_mean=["*/ int tinyflow_pwned; /*"] * 40),
    "mean-20k": b'{"frontend": "micro_speech", "version": 1, "int8_output": false, "input_mean": ['
    + b"0," * 20_000
    + b"0]}",
    "mean-nested": _sidecar(int8_output=False, input_mean=[[0]] * 40),
    "mean-null": b'{"frontend": "micro_speech", "version": 1, "input_mean": null}',
    "mean-huge-int": b'{"frontend": "micro_speech", "version": 1, "int8_output": false, "input_mean": ['
    + b"9" * 4000
    + b"]}",
    "mean-nan": b'{"frontend": "micro_speech", "version": 1, "int8_output": false, "input_mean": [NaN]}',
}
# Each sidecar on one verb (rotating), so every verb that reads one meets a few.
SIDECAR_VERBS = {
    "eval": ["eval", MODEL, "-t", "sim://host", "--dataset", "random:2", "--no-progress"],
    "classify": ["classify", MODEL, "-t", GOOD, "-n", "1"],
    "fw-app": ["firmware", "generate", MODEL, "-b", "nano33ble", "--mode", "app", "-o", "{W}/out/fw"],
}


def _sidecar_cases() -> list[Case]:
    cases, verbs = [], list(SIDECAR_VERBS)
    for k, (name, data) in enumerate(SIDECARS.items()):
        verb = verbs[k % len(verbs)]
        cases.append(Case(f"sidecar/{name}/{verb}", SIDECAR_VERBS[verb], _model(data), timeout=30))
    return cases


# -- firmware generate --mode app ----------------------------------------------------------------


def _app_cases() -> list[Case]:
    app = ["firmware", "generate", "MODEL", "-b", "nano33ble", "--mode", "app", "-o", "{W}/out/fw"]

    def argv(model: str, *extra: str) -> list[str]:
        return [model if a == "MODEL" else a for a in app] + list(extra)

    cases = [
        Case("app/no-sidecar/fw-generate", argv(MODEL), _model(None)),
        Case("app/eembc/fw-generate", argv(MODEL, "--protocol", "eembc"), _model()),
        Case("app/out-is-file/fw-generate", argv(MODEL)[:-1] + ["{W}/out/f"], _both(_model(), write_file("out/f", b"x"))),
        Case("app/user-callback-kept/fw-generate", argv(MODEL), _both(_model(), _user_callback), allow_ok=True,
             precious=("out/fw/src/on_prediction.c",)),
    ]  # fmt: skip
    for key in ("comment", "newline", "quotes"):
        fname = FILE_NAMES[key]
        cases.append(Case(f"app/filename-{key}/fw-generate", argv(f"{{W}}/in/{fname}"), _model(name=fname), True))
    return cases


def _user_callback(work: Path) -> None:
    write_file("out/fw/src/on_prediction.c", b"/* the user's application */\n")(work)


# -- monitor reference profiles ------------------------------------------------------------------

COLUMNS = 64  # micro_speech's input is 1x1960: the device keeps statistics of its first 64 columns


def _reference(columns: int = COLUMNS, **fields) -> dict:
    doc = {
        "format": "tinyflow-monitor-profile",
        "version": 1,
        "input_dtype": "int8",
        "output_dtype": "int8",
        "feature_dim": 1960,
        "windows": 10,
        "elements": 19600,
        "saturated": 0,
        "confidence_hist": [0] * 15 + [10],
        "class_counts": [0, 0, 10, 0],
        "class_other": 0,
        "class_names": ["silence", "unknown", "yes", "no"],
        "columns": {
            "count": [490] * columns,
            "sum": [0] * columns,
            "sumsq": [0] * columns,
            "hist": [[0] * 15 + [490]] * columns,
        },
    }
    doc.update(fields)
    return doc


def _cols(**fields) -> dict:
    doc = _reference()
    doc["columns"] = {**doc["columns"], **fields}
    return doc


REFERENCES = {
    # name -> bytes of the reference file (or a setup)
    "not-json": b"{columns: 1",
    "nested-100k": b"[" * 100_000,
    "over-10mb": lambda: json.dumps(_reference(source="x" * (10 << 20))).encode(),
    "nan-in-sum": lambda: json.dumps(_cols(sum=[float("nan")] * COLUMNS)).encode(),
    "count-2e70": lambda: json.dumps(_cols(count=[2**70] * COLUMNS)).encode(),
    "sum-2e70": lambda: json.dumps(_cols(sum=[-(2**70)] * COLUMNS)).encode(),
    "hist-rows-mismatch": lambda: json.dumps(_cols(hist=[[0] * 16] * 3)).encode(),
    "hist-row-short": lambda: json.dumps(_cols(hist=[[0] * 15] * COLUMNS)).encode(),
    "columns-1m": lambda: json.dumps(_reference(columns=1)).encode().replace(b"[490]", b"[" + b"1," * 999_999 + b"1]"),
    "classes-1m": lambda: json.dumps(_reference(class_counts=[0] * 1_000_000)).encode(),
    "class-names-objects": lambda: json.dumps(_reference(class_names=[{"a": 1}])).encode(),
    "int-5000-digits": b'{"format": "tinyflow-monitor-profile", "version": 1, "windows": ' + b"9" * 5000 + b"}",
}


def _ref_bytes(data):
    return lambda work: write_file("in/ref.monitor.json", data)(work)


def _reference_cases() -> list[Case]:
    monitor = ["monitor", "-t", "socket://127.0.0.1:1", "-r", "{W}/in/ref.monitor.json", "--once", *FAST]
    cases = [Case(f"reference/{name}/monitor", monitor, _ref_bytes(data)) for name, data in REFERENCES.items()]
    special = {
        "fifo": lambda w: os.mkfifo(w / "in/ref.monitor.json"),
        "dev-zero": lambda w: (w / "in/ref.monitor.json").symlink_to("/dev/zero"),
        "sparse-1g": _sparse("in/ref.monitor.json", 1 << 30),
    }
    cases += [Case(f"reference/{name}/monitor", monitor, setup) for name, setup in special.items()]
    # a good reference whose class names would reach the terminal, against a working device
    names = ["sil\x1b[2J\x1b]0;pwned\x07", f"u{NEWLINE_PAYLOAD}", "yes", "no"]
    live = ["monitor", "-t", GOOD, "-r", "{W}/in/ref.monitor.json", "-m", MODEL, "--once", "--start"]
    calm = "min_windows=1,psi_warn=1e9,psi_alert=1e9,ks_alert=2,confidence_drop=2,class_psi=1e9,saturation_rise=2"
    live += ["--windows", "1", "--wait", "10", "--thresholds", calm]  # no alert: exit 0 is the only success
    ref = _ref_bytes(json.dumps(_reference(class_names=names)).encode())
    cases.append(Case("reference/class-names-control/monitor-live", live, _both(_model(), ref), allow_ok=True))
    thresholds = {"nan": "psi_warn=nan", "unknown": "nope=1"}
    for name, value in thresholds.items():
        argv = [*monitor, "--thresholds", value]
        cases.append(Case(f"reference/thresholds-{name}/monitor", argv, _ref_bytes(json.dumps(_reference()).encode())))
    return cases


# -- sweep configurations and retrain recipes ----------------------------------------------------

SPACE = '[space]\nmodel = ["tiny_cnn"]\n'
SWEEPS = {
    # name -> CONFIG.toml bytes; each must be refused before a trial runs
    "not-toml": b"[sweep\ntrials = ",
    "unknown-key": b'[sweep]\ntrials = 2\nrm_rf = "/"\n',
    "sweep-not-table": b"sweep = 3\n",
    "trials-huge": b"[sweep]\ntrials = 1000000000000\n",
    "trials-string": b'[sweep]\ntrials = "12"\n',
    "timeout-nan": b"[sweep]\ntrial_timeout = nan\n",
    "prune-negative": b"[space]\nprune = [-0.5, 0.5]\n",
    "width-negative": b"[space]\nwidth = [-1.0]\n",
    "resolution-huge": b"[space]\nresolution = [99999999999]\n",
    "space-1000-values": ("[space]\nwidth = [" + ", ".join(f"0.{k:04d}1" for k in range(1000)) + "]\n").encode(),
    "space-duplicates": b"[space]\nprune = [0.5, 0.5]\n",
    "model-unknown": b'[space]\nmodel = ["../../sandbox/x"]\n',
    "board-payload": b'[space]\nboard = ["x */ int tinyflow_pwned; /*"]\n',
    "objectives-unknown": b'[sweep]\nobjectives = ["accuracy", "$(touch pwned)"]\n',
    "objectives-none": b'[sweep]\nobjectives = ["fit"]\n',
    "target-unknown": b'[sweep]\ntarget = "socket://127.0.0.1:1"\n',
    "dataset-empty": b'[sweep]\ndataset = "  "\n',
    "nested-deep": b"[space]\nwidth = " + b"[" * 30_000 + b"]" * 30_000 + b"\n",  # under the 64 KiB bound
    "over-64k": b"# " + b"x" * (80 << 10) + b"\n" + SPACE.encode(),
}


def _sweep_cases() -> list[Case]:
    argv = ["sweep", "{W}/in/sweep.toml", "-o", "{W}/out/sweep", "--serial"]
    cases = [Case(f"sweep/{name}", argv, write_file("in/sweep.toml", data)) for name, data in SWEEPS.items()]
    cases.append(Case("sweep/fifo", argv, lambda w: os.mkfifo(w / "in/sweep.toml")))
    into_file = ["sweep", "{W}/in/sweep.toml", "-o", "{W}/out/f", "--serial"]
    setup = _both(write_file("in/sweep.toml", b"[sweep]\ntrials = 2\n"), write_file("out/f", b"mine\n"))
    cases.append(Case("sweep/out-is-file", into_file, setup, precious=("out/f",)))
    return cases


RECIPE = {"format": "tinyflow-recipe/1", "dataset": "{W}/in/store", "train": {}, "prune": {}, "quantize": {}}
RECIPES = {
    # name -> recipe bytes; each must be refused before TensorFlow trains anything
    "not-json": b"{format: 1",
    "list": b"[1, 2, 3]",
    "nested-deep": b"[" * 60_000,  # under the 64 KiB bound
    "parts-list": json.dumps({**RECIPE, "train": [1]}).encode(),
    "value-list": json.dumps({**RECIPE, "train": {"epochs": [1]}}).encode(),
    "value-nan": json.dumps({**RECIPE, "train": {"epochs": float("nan")}}).encode(),
    "runtime-unknown": json.dumps({**RECIPE, "runtime": "*/ evil"}).encode(),
    "dataset-traversal": json.dumps({**RECIPE, "dataset": "../../sandbox"}).encode(),
    "not-utf8": b'{"format": "\xff"}',
}


def _retrain_setup(recipe) -> callable:
    """model.keras (never loaded: the recipe is refused first), its int8 .tflite, the recipe, a store."""

    def setup(work: Path) -> None:
        write_file("in/model.keras", b"PK\x03\x04 not loaded")(work)
        write_file("in/model.tflite", lambda: models.base_bytes("hello"))(work)
        if recipe is not None:
            data = recipe if isinstance(recipe, bytes) else recipe(work)
            write_file("in/model.keras.recipe.json", data.replace(b"{W}", str(work).encode()))(work)
        _wav_store(work)

    return setup


def _wav_store(work: Path) -> None:
    from .corpus_verbs import HEADER, _row, _store

    _store(HEADER + _row("samples/yes/a.wav", GOOD_WAV), {"samples/yes/a.wav": GOOD_WAV})(work)


def _retrain_cases() -> list[Case]:
    argv = ["retrain", "{W}/in/model.keras", "--dataset", "{W}/in/store", "-o", "{W}/out/r"]
    cases = [Case(f"recipe/{name}/retrain", argv, _retrain_setup(data)) for name, data in RECIPES.items()]
    special = {
        "missing": None,
        "fifo": lambda w: os.mkfifo(w / "in/model.keras.recipe.json"),
    }
    for name, extra in special.items():
        cases.append(Case(f"recipe/{name}/retrain", argv, _both(_retrain_setup(None), extra or (lambda w: None))))
    good = json.dumps(RECIPE).encode()
    new_data = {"new-is-file": "{W}/in/model.tflite", "new-random": "random:99999999999"}
    for name, spec in new_data.items():
        cases.append(Case(f"recipe/{name}/retrain", [*argv[:3], spec, *argv[4:]], _retrain_setup(good)))
    return cases


# -- train --frontend / --teacher and quantize --qat: refused before TensorFlow trains ---------------

TONE8K = _wav(TONE[:16000], rate=8000)  # TONE is bytes: 8000 frames, one second at 8 kHz


def _csv_folder(work: Path) -> None:
    for rel, text in {"yes/a.csv": b"1,2,3\nnan,1,1\n" * 8, "no/b.csv": b"1,2,3\n4,5,6\n" * 8}.items():
        write_file(f"in/wavs/{rel}", text)(work)


TRAIN_DATA = {
    # name -> (setup of in/wavs, --frontend)
    "wav-lying-size": (_wav_folder({"yes/l.wav": _wav(TONE[:100], declared=0x7FFFFFF0)}), "micro_speech"),
    # every take at 8 kHz for a 16 kHz front end (these keys replace the good takes): trained on,
    # it would make a model of the wrong features
    "wav-8k-rate": (_wav_folder({"yes/a.wav": TONE8K, "no/b.wav": _wav(TONE[16000:], rate=8000)}), "micro_speech"),
    "csv-nan-imu": (_csv_folder, "imu"),
    "empty": (lambda w: (w / "in/wavs").mkdir(parents=True), "mfcc"),
}


def _train_cases() -> list[Case]:
    cases = []
    for name, (setup, frontend) in TRAIN_DATA.items():
        argv = ["train", "--data", "{W}/in/wavs", "--frontend", frontend, "-o", "{W}/out/m.keras", "--epochs", "1"]
        cases.append(Case(f"train-frontend/{name}", argv, setup, timeout=60))
    teachers = {
        "fifo": lambda w: os.mkfifo(w / "in/t.keras"),
        "dev-zero": lambda w: (w / "in/t.keras").symlink_to("/dev/zero"),
    }
    for name, setup in teachers.items():
        argv = ["train", "--data", "digits", "--teacher", "{W}/in/t.keras", "-o", "{W}/out/m.keras", "--epochs", "1"]
        cases.append(Case(f"train-teacher/{name}", argv, setup, timeout=60))
    qat = ["quantize", "{W}/in/t.keras", "--data", "digits", "--qat", "-o", "{W}/out/m.tflite"]
    cases.append(Case("quantize-qat/fifo", qat, teachers["fifo"], timeout=60))
    return cases


def session4_cases() -> list[Case]:
    """Every case of this module, in a stable order."""
    return (
        _recording_cases()
        + _option_cases()
        + _capture_cases()
        + _target_cases()
        + _class_name_cases()
        + _folder_cases()
        + _sidecar_cases()
        + _app_cases()
        + _reference_cases()
        + _sweep_cases()
        + _retrain_cases()
        + _train_cases()
    )
