"""CLI: failures a user can cause end in one `Error: ...` line with exit code 1 or 2, no traceback."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import corpus_path
from tinyflow.cli.main import cli


def _run(*args):
    # catch_exceptions=False: a traceback (an uncaught exception) fails the test instead of hiding.
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def _error_line(res) -> str:
    lines = [ln for ln in res.output.splitlines() if ln.startswith("Error: ")]
    assert len(lines) == 1, res.output
    assert "Traceback" not in res.output
    return lines[0]


@pytest.fixture
def blocker(tmp_path):
    """A plain file where the user's output folder should go."""
    path = tmp_path / "notes.txt"
    path.write_text("not a folder")
    return path


@pytest.mark.parametrize(
    "verb",
    [
        ["export"],
        ["compile", "--no-tflm-arena"],
        ["firmware", "generate", "--board", "nano33ble", "--runtime", "aot"],
    ],
)
def test_output_folder_under_a_file_is_a_usage_error(verb, blocker):
    model = corpus_path("tflm/hello_world_int8.tflite")
    res = _run(*verb, model, "-o", blocker / "out")
    assert res.exit_code == 2, res.output
    assert _error_line(res).startswith(f"Error: Cannot write {blocker / 'out'}: a file is in the way")


@pytest.mark.parametrize("verb", [["train", "-m", "mlp"], ["quantize", "MODEL"], ["prune", "MODEL", "--ratio", "0.5"]])
def test_bad_model_output_fails_before_any_training(verb, blocker, tmp_path):
    keras_file = tmp_path / "m.keras"
    keras_file.write_bytes(b"PK\x03\x04")  # never loaded: the output check comes first
    args = [keras_file if a == "MODEL" else a for a in verb]
    res = _run(*args, "-d", "digits", "-o", blocker / "m.keras")
    assert res.exit_code == 2, res.output
    assert _error_line(res).startswith(f"Error: Cannot write {blocker}: a file is in the way")


def test_train_output_without_keras_suffix_fails_first(tmp_path):
    res = _run("train", "-d", "digits", "-m", "mlp", "-o", tmp_path / "m.h5")
    assert res.exit_code == 2
    assert (
        _error_line(res) == f"Error: Output {tmp_path / 'm.h5'} does not end in .keras. "
        "Name the output <name>.keras (Keras 3 needs it)."
    )
    assert not (tmp_path / "m.h5").exists()


def test_demo_output_under_a_file(blocker):
    res = _run("demo", "-o", blocker / "demo", "--epochs", "1")
    assert res.exit_code == 2 and "Error: Cannot write" in _error_line(res)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"hello\n", "Error: Not a .tflite file, or a truncated one: only 6 bytes"),
        (
            b"PK\x03\x04" + bytes(60),
            "Error: Not a .tflite file: it is a zip archive (a .keras model?). Convert it first: tinyflow quantize",
        ),
    ],
)
def test_inspect_names_what_the_file_is(tmp_path, content, message):
    path = tmp_path / "model.tflite"
    path.write_bytes(content)
    res = _run("inspect", path, "--no-arena")
    assert res.exit_code == 1
    assert _error_line(res).startswith(message)


def _npz(path, x, y):
    np.savez(path, x=x, y=y)
    return path


@pytest.mark.parametrize(
    "x, y, message",
    [
        (np.full((4, 1), np.nan, np.float32), np.zeros(4, np.float32), "has 4 NaN and 0 inf values in x"),
        (np.zeros((10, 1), np.float32), np.zeros(7, np.float32), "has 10 samples in x but 7 labels in y"),
        (np.zeros((0, 1), np.float32), np.zeros(0, np.float32), "is empty (x has shape (0, 1))"),
    ],
)
def test_eval_refuses_unusable_npz(tmp_path, x, y, message):
    data = _npz(tmp_path / "bad.npz", x, y)
    res = _run("eval", corpus_path("tflm/hello_world_int8.tflite"), "-d", data, "--no-progress")
    assert res.exit_code == 1, res.output
    assert message in _error_line(res)


def test_train_refuses_nan_npz_before_building_a_model(tmp_path):
    x = np.zeros((20, 3), np.float32)
    x[5, 1] = np.inf
    data = _npz(tmp_path / "inf.npz", x, np.zeros(20, np.int64))
    res = _run("train", "-d", data, "-m", "mlp", "-o", tmp_path / "m.keras")
    assert res.exit_code == 1
    assert "has 0 NaN and 1 inf values in x (first in sample 5)" in _error_line(res)
    assert not (tmp_path / "m.keras").exists()


def test_firmware_rerun_after_a_half_written_project(tmp_path, monkeypatch):
    from tinyflow.export.platformio import writer

    real, calls = writer._write_one, []

    def fail_third(root, rel, data, old_sha, result):
        calls.append(rel)
        if len(calls) == 3:
            raise OSError(28, "No space left on device", str(root / rel))
        return real(root, rel, data, old_sha, result)

    model, out = corpus_path("tflm/hello_world_int8.tflite"), tmp_path / "fw"
    monkeypatch.setattr(writer, "_write_one", fail_third)
    res = _run("firmware", "generate", model, "--board", "nano33ble", "--runtime", "aot", "-o", out)
    assert res.exit_code == 2 and "No space left on device" in _error_line(res)
    monkeypatch.setattr(writer, "_write_one", real)
    res = _run("firmware", "generate", model, "--board", "nano33ble", "--runtime", "aot", "-o", out)
    assert res.exit_code == 0, res.output
    assert (out / "platformio.ini").is_file() and not list(out.rglob("*.tinyflow-new"))


def test_eval_report_under_a_file_is_a_usage_error(blocker):
    model = corpus_path("tflm/hello_world_int8.tflite")
    res = _run("eval", model, "-d", "random:2", "--no-progress", "--report", blocker / "rep")
    assert res.exit_code == 2, res.output
    assert _error_line(res).startswith(f"Error: Cannot write {blocker / 'rep'}: a file is in the way")


def test_resume_without_a_journal_says_it_starts_over(tmp_path):
    model = corpus_path("tflm/hello_world_int8.tflite")
    res = CliRunner().invoke(
        cli,
        ["eval", str(model), "-d", "random:2", "--no-progress", "--report", str(tmp_path / "r"), "--resume"],
        catch_exceptions=False,
    )
    assert res.exit_code == 0, res.output
    assert f"notice: no journal in {tmp_path / 'r'} to resume; starting from the first sample." in res.stderr


def test_an_unexpected_os_error_is_one_error_line(monkeypatch):
    import tinyflow.boards

    def broken(*_a, **_k):
        raise OSError(28, "No space left on device", "/some/where")

    monkeypatch.setattr(tinyflow.boards, "list_boards", broken)
    res = _run("boards", "list")
    assert res.exit_code == 1
    assert _error_line(res) == (
        "Error: /some/where: No space left on device. "
        "Check the path, its permissions and the free space, then run again."
    )


# -- numbers from the command line: finite, in range, one usage error line --

HELLO = "tflm/hello_world_int8.tflite"


@pytest.mark.parametrize(
    "value, message",
    [
        ("nan", "'nan' is not a finite number"),
        ("inf", "'inf' is not a finite number"),
        ("-inf", "'-inf' is not a finite number"),
        ("-1", "-1.0 is not in the range 0.1<=x<=3600"),
        ("0", "0.0 is not in the range 0.1<=x<=3600"),
        ("1e300", "is not in the range 0.1<=x<=3600"),
        ("soon", "'soon' is not a valid float"),
    ],
)
def test_eval_timeout_must_be_a_finite_number_in_range(value, message):
    res = _run("eval", corpus_path(HELLO), "-d", "random:2", "--no-progress", "--timeout", value)
    assert res.exit_code == 2, res.output
    assert message in _error_line(res)


@pytest.mark.parametrize(
    "verb, option, value",
    [
        (["prune", "MODEL", "-d", "digits"], "--ratio", "nan"),
        (["prune", "MODEL", "-d", "digits"], "--sparsity", "nan"),
        (["train", "-d", "digits"], "--width", "inf"),
        (["train", "-d", "digits"], "--width", "nan"),
        (["train", "-d", "digits"], "--lr", "nan"),
        (["train", "-d", "digits"], "--lr", "inf"),
    ],
)
def test_every_float_option_refuses_non_finite_numbers(tmp_path, verb, option, value):
    keras_file = tmp_path / "m.keras"
    keras_file.write_bytes(b"PK\x03\x04")  # never loaded: the option is refused first
    args = [keras_file if a == "MODEL" else a for a in verb]
    res = _run(*args, option, value, "-o", tmp_path / "out.keras")
    assert res.exit_code == 2, res.output
    assert f"'{value}' is not a finite number" in _error_line(res)


def test_every_float_option_uses_the_finite_type():
    """No verb may declare a float option that accepts nan or inf (click.FLOAT and FloatRange do)."""
    import click

    from tinyflow.cli._common import FiniteFloat
    from tinyflow.cli.main import VERBS, cli

    def commands(cmd):
        yield cmd
        for sub in getattr(cmd, "commands", {}).values():
            yield from commands(sub)

    ctx = click.Context(cli)
    floats = []
    for name in VERBS:
        for cmd in commands(cli.get_command(ctx, name)):
            for p in cmd.params:
                if isinstance(p.type, (click.types.FloatParamType, click.FloatRange)):
                    floats.append((cmd.name, p.name, isinstance(p.type, FiniteFloat)))
    assert floats and all(finite for _, _, finite in floats), floats


def test_eval_seed_must_not_be_negative():
    res = _run("eval", corpus_path(HELLO), "-d", "random:2", "--no-progress", "--seed", "-1")
    assert res.exit_code == 2, res.output
    assert "--seed" in _error_line(res)


def test_eval_labels_outside_the_model_classes(tmp_path):
    data = _npz(tmp_path / "d.npz", np.zeros((10, 1), np.float32), np.r_[np.zeros(9, np.int64), 2])
    res = _run("eval", corpus_path(HELLO), "-d", data, "--no-progress", "--report", tmp_path / "rep")
    # hello_world has one output value: a "classifier" of classes 0 and 1 at most
    assert res.exit_code == 1, res.output
    assert "must be in [0, 1] (the model's first output" in _error_line(res)
    assert "label 2 in sample 9" in _error_line(res)
    assert not (tmp_path / "rep" / "report.html").exists()


@pytest.mark.parametrize(
    "spec, message",
    [
        ("random:99999999999999999999", "random:N allows at most 1,000,000 samples"),
        ("random:-5", "random:N needs a positive sample count"),
    ],
)
def test_eval_random_count_is_bounded(spec, message):
    res = _run("eval", corpus_path(HELLO), "-d", spec, "--no-progress")
    assert res.exit_code == 2, res.output
    assert message in _error_line(res)


@pytest.mark.parametrize("content", [b"\x00" * 64, b"PK\x03\x04garbage", bytes(range(256)) * 40])
def test_eval_random_bytes_as_npz(tmp_path, content):
    data = tmp_path / "d.npz"
    data.write_bytes(content)
    res = _run("eval", corpus_path(HELLO), "-d", data, "--no-progress")
    assert res.exit_code == 1, res.output
    assert "is not a valid .npz file" in _error_line(res) and "pickle" not in _error_line(res)


def test_eval_two_d_labels(tmp_path):
    bad = _npz(tmp_path / "d.npz", np.zeros((3, 1), np.float32), np.array([[0, 1], [1, 1], [0, 0]]))
    res = _run("eval", corpus_path(HELLO), "-d", bad, "--no-progress")
    assert res.exit_code == 1, res.output
    assert "y has shape (3, 2) and is not one-hot" in _error_line(res)


def test_eval_resume_of_an_old_journal(tmp_path):
    import json

    rep = tmp_path / "rep"
    rep.mkdir()
    (rep / "journal.jsonl").write_text(json.dumps({"tinyflow_journal": 1, "config": {}, "fingerprint": "x"}) + "\n")
    res = _run("eval", corpus_path(HELLO), "-d", "random:2", "--no-progress", "--report", rep, "--resume")
    assert res.exit_code == 2, res.output
    assert _error_line(res).endswith(
        "so its records cannot be verified. Run without --resume to measure every sample again."
    )


@pytest.mark.parametrize(
    "verb",
    [
        ["train", "--data", "digits"],
        ["prune", "MODEL", "--data", "digits"],
        ["quantize", "MODEL", "--data", "digits"],
        ["demo"],
    ],
)
@pytest.mark.parametrize("seed", ["-1", str(2**32)])
def test_seed_outside_numpy_range_is_a_usage_error(tmp_path, verb, seed):
    """numpy takes seeds in [0, 2**32): others were a traceback from deep inside training."""
    keras_file = tmp_path / "m.keras"
    keras_file.write_bytes(b"PK\x03\x04")  # never loaded: the option is refused first
    args = [keras_file if a == "MODEL" else a for a in verb]
    res = _run(*args, "--seed", seed, "-o", tmp_path / "out")
    assert res.exit_code == 2, res.output
    assert "--seed" in _error_line(res)


# -- untrusted text (custom-op codes, device replies) cannot split the Error line or forge output --


def test_control_characters_in_an_error_stay_on_its_one_line(monkeypatch):
    import tinyflow.boards
    from tinyflow.errors import LinkError

    def hostile(*_a, **_k):
        raise LinkError("Device said: bad\nError: forged line\x1b[2J\r", "Reset the board\n[env:pwned]")

    monkeypatch.setattr(tinyflow.boards, "list_boards", hostile)
    res = _run("boards", "list")
    assert res.exit_code == 1
    assert res.output.count("\n") == 1 and "\x1b" not in res.output and "\r" not in res.output
    assert _error_line(res) == (
        "Error: Device said: bad\\x0aError: forged line\\x1b[2J\\x0d. Reset the board\\x0a[env:pwned]"
    )


def _custom_op_model(tmp_path, code: str):
    from tinyflow.tflite.writer import ModelBuilder, pack

    mb = ModelBuilder()
    x, y = mb.tensor([1, 4], "int8", scale=0.1, zero_point=0), mb.tensor([1, 4], "int8", scale=0.1, zero_point=0)
    mb.op("RELU", [x], [y])
    model = mb.model([x], [y])
    model.operatorCodes[0].builtinCode = model.operatorCodes[0].deprecatedBuiltinCode = 32  # CUSTOM
    model.operatorCodes[0].customCode = code
    model.subgraphs[0].operators[0].builtinOptionsType, model.subgraphs[0].operators[0].builtinOptions = 0, None
    path = tmp_path / "custom.tflite"
    path.write_bytes(pack(model))
    return path


def test_a_custom_op_code_with_newlines_is_shown_on_one_line(tmp_path):
    model = _custom_op_model(tmp_path, "x\n[env:pwned]\nError: forged\x1b]0;title\x07")
    res = _run("compile", model, "-o", tmp_path / "out", "--no-tflm-arena")
    assert res.exit_code == 1
    assert _error_line(res).startswith("Error: Op CUSTOM:x\\x0a[env:pwned]\\x0aError: forged\\x1b]0;title\\x07 is not")
    res = _run("inspect", model, "--no-arena")
    assert res.exit_code == 0, res.output
    assert not any(line.startswith(("[env:", "Error: forged")) for line in res.output.splitlines()), res.output
    assert "\x1b" not in res.output and "\x07" not in res.output
    assert "CUSTOM:x\\x0a[env:pwned]" in res.output


# -- model files that are not regular files: refused at once by every verb, never read --


@pytest.mark.parametrize(
    "verb",
    [
        ["inspect", "--no-arena"],
        ["compile", "--no-tflm-arena", "-o", "out"],
        ["eval", "-d", "random:2", "--no-progress"],
        ["profile"],
        ["export", "-o", "out"],
    ],
)
def test_a_fifo_as_the_model_is_refused_without_hanging(tmp_path, verb):
    import os
    import subprocess
    import sys

    fifo = tmp_path / "f.tflite"
    os.mkfifo(fifo)
    # A subprocess with a deadline: reading a FIFO with no writer used to block forever.
    res = subprocess.run(
        [sys.executable, "-m", "tinyflow.cli.main", verb[0], str(fifo), *verb[1:]],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 1, res.stderr
    assert res.stderr.splitlines() == [
        f"Error: Model file {fifo} is a FIFO (named pipe), not a regular file. Give the path of a file on disk."
    ]
