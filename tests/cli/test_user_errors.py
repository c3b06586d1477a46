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


@pytest.mark.parametrize("verb", [
    ["export"], ["compile", "--no-tflm-arena"], ["firmware", "generate", "--board", "nano33ble", "--runtime", "aot"],
])
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
    assert _error_line(res) == f"Error: Output {tmp_path / 'm.h5'} does not end in .keras. " \
                               "Name the output <name>.keras (Keras 3 needs it)."
    assert not (tmp_path / "m.h5").exists()


def test_demo_output_under_a_file(blocker):
    res = _run("demo", "-o", blocker / "demo", "--epochs", "1")
    assert res.exit_code == 2 and "Error: Cannot write" in _error_line(res)


@pytest.mark.parametrize("content, message", [
    (b"hello\n", "Error: Not a .tflite file, or a truncated one: only 6 bytes"),
    (b"PK\x03\x04" + bytes(60), "Error: Not a .tflite file: it is a zip archive (a .keras model?). "
                                "Convert it first: tinyflow quantize"),
])
def test_inspect_names_what_the_file_is(tmp_path, content, message):
    path = tmp_path / "model.tflite"
    path.write_bytes(content)
    res = _run("inspect", path, "--no-arena")
    assert res.exit_code == 1
    assert _error_line(res).startswith(message)


def _npz(path, x, y):
    np.savez(path, x=x, y=y)
    return path


@pytest.mark.parametrize("x, y, message", [
    (np.full((4, 1), np.nan, np.float32), np.zeros(4, np.float32), "has 4 NaN and 0 inf values in x"),
    (np.zeros((10, 1), np.float32), np.zeros(7, np.float32), "has 10 samples in x but 7 labels in y"),
    (np.zeros((0, 1), np.float32), np.zeros(0, np.float32), "is empty (x has shape (0, 1))"),
])
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
    from tinyflow.firmware import writer

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
    res = CliRunner().invoke(cli, ["eval", str(model), "-d", "random:2", "--no-progress",
                                   "--report", str(tmp_path / "r"), "--resume"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert f"notice: no journal in {tmp_path / 'r'} to resume; starting from the first sample." in res.stderr


def test_an_unexpected_os_error_is_one_error_line(monkeypatch):
    import tinyflow.boards

    def broken(*_a, **_k):
        raise OSError(28, "No space left on device", "/some/where")

    monkeypatch.setattr(tinyflow.boards, "list_boards", broken)
    res = _run("boards", "list")
    assert res.exit_code == 1
    assert _error_line(res) == ("Error: /some/where: No space left on device. "
                                "Check the path, its permissions and the free space, then run again.")
