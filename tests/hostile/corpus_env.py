"""Hostile cases around the model: evaluation journals, project folders, devices on a pty and
command-line options (non-finite numbers, unknown boards and URLs, unwritable outputs).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

from . import checks, harness
from .corpus import HELLO, write_file
from .harness import VICTIM, Case
from .models import CORPUS_DIR, NEWLINE_PAYLOAD, base_bytes
from .pty_devices import BEHAVIOURS

JOURNAL = "out/journal.jsonl"
SAMPLES = 20
RESUME = ["eval", HELLO, "--dataset", f"random:{SAMPLES}", "--report", "{W}/out", "--resume", "--no-progress"]


# -- journals ------------------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def base_journal() -> bytes:
    """A complete journal of hello_world on random:20, written by the tinyflow under test."""
    with tempfile.TemporaryDirectory(prefix="tinyflow-hostile-journal-") as tmp:
        argv = [
            sys.executable,
            "-m",
            "tinyflow.cli.main",
            "eval",
            str(CORPUS_DIR / "tflm/hello_world_int8.tflite"),
            "--dataset",
            f"random:{SAMPLES}",
            "--report",
            f"{tmp}/r",
            "--no-progress",
        ]
        env = dict(os.environ, PYTHONPATH=str(harness.TREE))
        subprocess.run(argv, check=True, capture_output=True, timeout=120, env=env, cwd=tmp)
        return (Path(tmp) / "r" / "journal.jsonl").read_bytes()


def base_records() -> set:
    with tempfile.NamedTemporaryFile() as fh:
        fh.write(base_journal())
        fh.flush()
        return checks.journal_records(Path(fh.name))


def _lines() -> list[bytes]:
    return base_journal().split(b"\n")  # header, SAMPLES records, "" after the last newline


def _replace_line(k: int, new: bytes):
    def make() -> bytes:
        lines = _lines()
        lines[k] = new
        return b"\n".join(lines)

    return make


def _edit_record(k: int, **fields):
    def make() -> bytes:
        lines = _lines()
        obj = json.loads(lines[k])
        obj.update(fields)
        lines[k] = json.dumps(obj, separators=(",", ":")).encode()
        return b"\n".join(lines)

    return make


def _flip_output(k: int):
    def make() -> bytes:
        lines = _lines()
        obj = json.loads(lines[k])
        out = bytearray(base64.b64decode(obj["out"][0]))
        out[0] ^= 0x01
        obj["out"][0] = base64.b64encode(bytes(out)).decode()
        lines[k] = json.dumps(obj, separators=(",", ":")).encode()
        return b"\n".join(lines)

    return make


def _damage_byte(k: int):
    def make() -> bytes:
        lines = _lines()
        line = bytearray(lines[k])
        line[len(line) // 2] = ord("}")
        lines[k] = bytes(line)
        return b"\n".join(lines)

    return make


JOURNALS = {
    # name -> (journal bytes function, extra argv, allow_ok)
    "intact": (base_journal, (), True),
    "damaged-middle": (_damage_byte(5), (), True),
    "bad-base64": (_edit_record(5, out=["!!not base64!!"]), (), True),
    "flipped-output": (_flip_output(5), (), True),
    "index-string": (_edit_record(5, i="five"), (), True),
    "index-negative": (_edit_record(5, i=-3), (), True),
    "index-past-end": (_edit_record(5, i=999), (), True),
    "index-huge": (_edit_record(5, i=10**30), (), True),
    "index-float": (_edit_record(5, i=2.5), (), True),
    "ticks-null": (_edit_record(5, ticks=None), (), True),
    "out-number": (_edit_record(5, out=5), (), True),
    "out-missing": (_replace_line(5, b'{"i":4,"ticks":1,"us":1.0}'), (), True),
    "counters-text": (_edit_record(5, c="xyz"), (), True),
    "array-line": (_replace_line(5, b"[1,2,3]"), (), True),
    "duplicate-line": (lambda: b"\n".join(_lines()[:6] + [_lines()[3]] + _lines()[6:]), (), True),
    "binary-junk": (
        lambda: b"\n".join(_lines()[:6] + [random.Random(1).randbytes(300).replace(b"\n", b" ")] + _lines()[6:]),
        (),
        True,
    ),
    "nul-line": (_replace_line(5, bytes(200)), (), True),
    "long-line": (lambda: b"\n".join(_lines()[:6] + [b"x" * (4 << 20)] + _lines()[6:]), (), True),
    "not-utf8": (_replace_line(5, b'{"i":4,"out":["\xff\xfe"]}'), (), True),
    "truncated-tail": (lambda: base_journal()[:-25], (), True),
    "truncated-header": (lambda: base_journal()[:40], (), True),
    "header-only": (lambda: b"\n".join(_lines()[:1]) + b"\n", (), True),
    "other-model": (base_journal, ("MODEL",), False),
    "other-dataset": (base_journal, ("DATASET",), False),
}


def _journal_case(name: str, make, extra, ok) -> Case:
    argv = list(RESUME)
    if "MODEL" in extra:
        argv[1] = "{M}/tflm/micro_speech_quantized.tflite"
    if "DATASET" in extra:
        argv[3] = f"random:{SAMPLES + 1}"
    return Case(
        f"journal/{name}/eval-resume",
        argv,
        write_file(JOURNAL, make),
        allow_ok=ok,
        timeout=30,
        journal=(JOURNAL, base_records),
        check=_exact_result,
    )


def _exact_result(work: Path, code: int) -> list[str]:
    """sim://tflm is the reference itself: a successful resume must agree exactly on every sample."""
    if code != 0:
        return []
    try:
        report = json.loads((work / "out" / "report.json").read_text())
        rate, samples = report["agreement"]["exact_match_rate"], report["samples"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return [f"wrong-result: exit 0 but out/report.json is unusable ({exc})"]
    if rate != 1.0 or samples != SAMPLES:
        return [f"wrong-result: resumed report has exact match {rate} on {samples} of {SAMPLES} samples"]
    return []


def _journal_cases() -> list[Case]:
    cases = [_journal_case(name, *spec) for name, spec in JOURNALS.items()]

    def journal_dir(work: Path) -> None:
        (work / JOURNAL).mkdir(parents=True)

    def journal_link(work: Path) -> None:
        (work / "out").mkdir()
        (work / JOURNAL).symlink_to(work / VICTIM)

    cases.append(Case("journal/is-directory/eval-resume", RESUME, journal_dir))
    cases.append(Case("journal/symlink-outside/eval-resume", RESUME, journal_link))
    cases.append(
        Case("journal/symlink-outside/eval", [a for a in RESUME if a != "--resume"], journal_link, allow_ok=True)
    )
    cases.append(
        Case(
            "journal/report-is-file/eval",
            ["eval", HELLO, "--dataset", "random:3", "--report", "{W}/in/file", "--no-progress"],
            write_file("in/file", b"mine\n"),
            precious=("in/file",),
        )
    )
    return cases


# -- project folders -----------------------------------------------------------------------

FW = ["firmware", "generate", HELLO, "-b", "nano33ble", "-o", "{W}/out"]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _manifest(entries):
    """A setup writing out/.tinyflow/manifest.json; `entries(work)` gives its `files` value."""

    def setup(work: Path) -> None:
        (work / "out" / ".tinyflow").mkdir(parents=True)
        files = entries(work)
        text = files if isinstance(files, (str, bytes)) else json.dumps({"tinyflow": "0.1.0", "files": files})
        (work / "out" / ".tinyflow" / "manifest.json").write_bytes(text.encode() if isinstance(text, str) else text)

    return setup


def _with_link(rel: str, target: str, listed: bool):
    """A generated-looking project where out/<rel> is a symlink to W/<target>."""

    def setup(work: Path) -> None:
        files = {rel: _sha(work / target) if listed and (work / target).is_file() else "0" * 64}
        _manifest(lambda w: files)(work)
        link = work / "out" / rel
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(work / target)

    return setup


def _project_cases() -> list[Case]:
    victim = lambda w: _sha(w / VICTIM)  # noqa: E731
    manifests = {
        "dotdot": lambda w: {"../sandbox/victim.txt": victim(w)},
        "absolute": lambda w: {str(w / VICTIM): victim(w)},
        "dotdot-middle": lambda w: {"lib/../../sandbox/victim.txt": victim(w)},
        "dot-entry": lambda w: {"..": "0" * 64, "": "0" * 64, ".": "0" * 64},
        "not-json": lambda w: "{not json",
        "json-list": lambda w: "[]",
        "files-list": lambda w: '{"files": ["a", "b"]}',
        "files-null": lambda w: '{"files": null}',
        "files-numbers": lambda w: {"README.md": 5, "platformio.ini": None},
        "binary": lambda w: random.Random(2).randbytes(512),
        "nul-path": lambda w: {"src/\u0000main.cpp": "0" * 64},
    }
    cases = [Case(f"project/manifest-{k}/fw-generate", FW, _manifest(v), allow_ok=True) for k, v in manifests.items()]
    links = {
        "dangling-symlink": ("platformio.ini", "sandbox/new.ini", False),
        "symlink-to-victim": ("README.md", VICTIM, True),
        "symlink-dir": ("lib", "sandbox", False),
    }
    cases += [Case(f"project/{k}/fw-generate", FW, _with_link(*v), allow_ok=True) for k, v in links.items()]

    def manifest_is_dir(work: Path) -> None:
        (work / "out" / ".tinyflow" / "manifest.json").mkdir(parents=True)

    cases.append(Case("project/manifest-is-dir/fw-generate", FW, manifest_is_dir, allow_ok=True))
    cases.append(
        Case(
            "project/out-is-file/fw-generate",
            FW[:-1] + ["{W}/in/file"],
            write_file("in/file", b"x"),
            precious=("in/file",),
        )
    )
    cases.append(
        Case(
            "project/user-files/fw-generate",
            FW,
            write_file("out/notes.txt", b"mine\n"),
            allow_ok=False,
            precious=("out/notes.txt",),
        )
    )
    compile_ = ["compile", HELLO, "-o", "{W}/out", "--no-tflm-arena"]
    user_c = "out/hello_world_int8.c"
    cases.append(
        Case("project/user-model-c/compile", compile_, write_file(user_c, b"/* my own code */\n"), precious=(user_c,))
    )
    cases.append(
        Case(
            "project/user-header/compile",
            compile_,
            write_file("out/include/tinyflow/model.h", b"/* mine */\n"),
            precious=("out/include/tinyflow/model.h",),
        )
    )

    def kernels_link(work: Path) -> None:
        (work / "out").mkdir()
        (work / "out" / "kernels").symlink_to(work / "sandbox")

    cases.append(Case("project/kernels-symlink/compile", compile_, kernels_link, allow_ok=True))
    return cases


# -- devices on a pty ----------------------------------------------------------------------


def _device_cases() -> list[Case]:
    hello = lambda: base_bytes("hello")  # noqa: E731
    eval_ = ["eval", HELLO, "--target", "{PTY}", "--dataset", "random:5", "--timeout", "0.5", "--no-progress"]
    cases = [Case(f"device/{b}/eval", eval_, device=(b, hello)) for b in BEHAVIOURS]
    # A short --timeout: with the default 5 s, profile's 10 HELLO attempts take 50 s to give up.
    for b in ("silent", "hello-silent-infer"):
        argv = ["profile", HELLO, "--target", "{PTY}", "--timeout", "0.5"]
        cases.append(Case(f"device/{b}/profile", argv, device=(b, hello)))
    cases.append(Case("device/zeros/eval-report", eval_ + ["--report", "{W}/out"], device=("zeros", hello)))
    return cases


# -- command-line options ------------------------------------------------------------------

EVAL3 = ["eval", HELLO, "--dataset", "random:3", "--no-progress"]
CLI = {
    # name -> (argv, allow_ok, marks)
    "timeout-nan": (EVAL3 + ["--timeout", "nan"], False, ()),
    "timeout-inf": (EVAL3 + ["--timeout", "inf"], False, ()),
    "timeout-neg-inf": (EVAL3 + ["--timeout", "-inf"], False, ()),
    "timeout-negative": (EVAL3 + ["--timeout", "-1"], False, ()),
    "timeout-zero": (EVAL3 + ["--timeout", "0"], False, ()),
    "timeout-1e309": (EVAL3 + ["--timeout", "1e309"], False, ()),
    "window-zero": (EVAL3 + ["--window", "0"], False, ()),
    "limit-zero": (EVAL3 + ["--limit", "0"], False, ()),
    "baud-nan": (EVAL3 + ["--baud", "nan"], False, ()),
    "faults-ber-nan": (EVAL3 + ["--inject-faults", "ber=nan"], False, ()),
    "faults-drop-nan": (EVAL3 + ["--inject-faults", "drop=nan"], False, ()),
    "faults-ber-inf": (EVAL3 + ["--inject-faults", "ber=inf"], False, ()),
    "faults-ber-2": (EVAL3 + ["--inject-faults", "ber=2"], False, ()),
    "faults-reset-negative": (EVAL3 + ["--inject-faults", "reset_every=-1"], False, ()),
    "faults-reset-nan": (EVAL3 + ["--inject-faults", "reset_every=nan"], False, ()),
    "faults-unknown-key": (EVAL3 + ["--inject-faults", "bogus=1"], False, ()),
    "faults-no-value": (EVAL3 + ["--inject-faults", "ber"], False, ()),
    "faults-garbage-1": (EVAL3 + ["--inject-faults", "garbage=1"], True, ()),
    "seed-huge": (EVAL3 + ["--seed", "99999999999999999999"], True, ()),
    "target-host-bad-board": (EVAL3 + ["-t", "sim://host?board=nope"], False, ("firmware",)),
    "target-tflm-bad-board": (EVAL3 + ["-t", "sim://tflm?board=nope"], False, ()),
    "target-tflm-bad-key": (EVAL3 + ["-t", "sim://tflm?bord=nano33ble"], False, ()),
    "target-host-bad-key": (EVAL3 + ["-t", "sim://host?bord=nano33ble"], False, ("firmware",)),
    "target-qemu-bad-board": (EVAL3 + ["-t", "sim://qemu-m4?board=nope"], False, ("qemu",)),
    "target-unknown-sim": (EVAL3 + ["-t", "sim://nope"], False, ()),
    "target-sim-empty": (EVAL3 + ["-t", "sim://"], False, ()),
    "target-empty": (EVAL3 + ["-t", ""], False, ()),
    "target-socket-refused": (EVAL3 + ["-t", "socket://127.0.0.1:1", "--timeout", "0.5"], False, ()),
    "target-socket-empty": (EVAL3 + ["-t", "socket://"], False, ()),
    "target-rfc2217-refused": (EVAL3 + ["-t", "rfc2217://127.0.0.1:1"], False, ()),
    "target-loop": (EVAL3 + ["-t", "loop://", "--timeout", "0.5"], False, ()),
    "target-spy-bad": (EVAL3 + ["-t", "spy://nope"], False, ()),
    "target-hwgrep-none": (EVAL3 + ["-t", "hwgrep://no-such-port-anywhere"], False, ()),
    "target-dev-null": (EVAL3 + ["-t", "/dev/null", "--timeout", "0.5"], False, ()),
    "target-missing-port": (EVAL3 + ["-t", "/dev/ttyNOPE0"], False, ()),
    "target-regular-file": (EVAL3 + ["-t", "{W}/in/file"], False, ()),
    "inspect-unknown-board": (["inspect", HELLO, "-b", "nope"], False, ()),
    "inspect-board-traversal": (["inspect", HELLO, "-b", "../../pyproject"], False, ()),
    "fw-unknown-board": (["firmware", "generate", HELLO, "-b", "nope", "-o", "{W}/out"], False, ()),
    "fw-empty-board": (["firmware", "generate", HELLO, "-b", "", "-o", "{W}/out"], False, ()),
    "boards-show-unknown": (["boards", "show", "nope"], False, ()),
    "boards-show-traversal": (["boards", "show", "../boards/nano33ble"], False, ()),
    "profile-unknown-board": (["profile", HELLO, "-b", "nope"], False, ()),
    "profile-unknown-target": (["profile", HELLO, "-t", "sim://nope"], False, ()),
    "export-unwritable": (["export", HELLO, "-o", "/proc/tinyflow-hostile"], False, ()),
    "compile-unwritable": (["compile", HELLO, "-o", "/proc/tinyflow-hostile"], False, ()),
    "fw-unwritable": (["firmware", "generate", HELLO, "-b", "nano33ble", "-o", "/proc/tinyflow-hostile"], False, ()),
    "eval-report-unwritable": (EVAL3 + ["--report", "/proc/tinyflow-hostile"], False, ()),
    "profile-report-unwritable": (["profile", HELLO, "--report", "/proc/tinyflow-hostile"], False, ()),
    "export-out-is-file": (["export", HELLO, "-o", "{W}/in/file"], False, ()),
    "train-out-unwritable": (["train", "--data", "digits", "-o", "/proc/tinyflow-hostile/m.keras"], False, ()),
    "export-name-comment": (["export", HELLO, "-o", "{W}/out", "--name", "x */ int tinyflow_pwned; /*"], True, ()),
    "export-name-newline": (["export", HELLO, "-o", "{W}/out", "--name", NEWLINE_PAYLOAD], True, ()),
    "export-name-traversal": (["export", HELLO, "-o", "{W}/out", "--name", "../sandbox/evil"], True, ()),
    "compile-name-traversal": (["compile", HELLO, "-o", "{W}/out", "--name", "../sandbox/evil"], True, ()),
    "compile-name-newline": (["compile", HELLO, "-o", "{W}/out", "--name", NEWLINE_PAYLOAD], True, ()),
    "compile-name-empty": (["compile", HELLO, "-o", "{W}/out", "--name", ""], True, ()),
    "fw-name-newline": (
        ["firmware", "generate", HELLO, "-b", "nano33ble", "-o", "{W}/out", "--name", NEWLINE_PAYLOAD],
        True,
        (),
    ),
    "fw-name-quotes": (
        ["firmware", "generate", HELLO, "-b", "nano33ble", "-r", "aot", "-o", "{W}/out", "--name", "a\"b\\c'd*/e"],
        True,
        (),
    ),
    "fw-arena-huge": (
        ["firmware", "generate", HELLO, "-b", "nano33ble", "-o", "{W}/out", "--arena-bytes", str(2**62)],
        False,
        (),
    ),
    "train-lr-nan": (
        ["train", "--data", "sine", "-m", "mlp", "--lr", "nan", "--epochs", "1", "-o", "{W}/out/m.keras"],
        False,
        ("tf",),
    ),
    "prune-tflite": (["prune", HELLO, "--data", "sine", "--ratio", "0.5", "-o", "{W}/out/p.keras"], False, ("tf",)),
}


def _cli_cases() -> list[Case]:
    return [
        Case(
            f"cli/{name}",
            argv,
            write_file("in/file", b"x\n"),
            allow_ok=ok,
            marks=marks,
            timeout=120 if "tf" in marks else 20,
        )
        for name, (argv, ok, marks) in CLI.items()
    ]


def env_cases() -> list[Case]:
    return _journal_cases() + _project_cases() + _device_cases() + _cli_cases()
