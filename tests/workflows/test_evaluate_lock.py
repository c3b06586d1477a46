"""One run per report folder: two real processes, an OS lock, released however the holder ends."""

import json
import os
import selectors
import signal
import subprocess
import sys
import time

import pytest

from conftest import corpus_path
from tinyflow.errors import UsageError
from tinyflow.workflows.journal import LOCK_NAME, lock_folder

HELLO = "tflm/hello_world_int8.tflite"

# A run that stops after 3 of its 12 samples, holding the folder with its journal open, until
# its stdin has a line: the second process below meets it mid-run, deterministically.
HOLDER = """
import sys
from tinyflow import EvalConfig, evaluate, events

def gate(event):
    if isinstance(event, events.Progress) and event.done == 3:
        print("holding", flush=True)
        sys.stdin.readline()

with events.subscribe(gate):
    r = evaluate(EvalConfig(sys.argv[1], dataset="random:12", report_dir=sys.argv[2]))
print("done", r.samples, r.agreement["exact_match_rate"], r.link["duplicated"], flush=True)
"""

LOCKER = (
    "import sys; from tinyflow.workflows.journal import lock_folder\n"
    "with lock_folder(sys.argv[1]):\n    print('holding', flush=True); sys.stdin.readline()\n"
)


def _start(code, *args):
    return subprocess.Popen(
        [sys.executable, "-c", code, *map(str, args)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _read_line(proc, seconds=120.0) -> str:
    """The child's next stdout line, or fail after `seconds` (never wait forever on a child)."""
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    try:
        if not sel.select(timeout=seconds):
            proc.kill()
            pytest.fail(f"no line from the child in {seconds} s")
    finally:
        sel.close()
    line = proc.stdout.readline()
    if not line:
        proc.wait(10)
        pytest.fail(f"the child ended: {proc.stderr.read()[-800:]}")
    return line.strip()


def _finish(proc):
    try:
        out, err = proc.communicate("go\n", timeout=120)
    finally:
        proc.kill()
    return out, err


def test_a_second_eval_into_a_busy_folder_is_refused_and_changes_nothing(tmp_path):
    model, out = corpus_path(HELLO), tmp_path / "rep"
    holder = _start(HOLDER, model, out)
    try:
        assert _read_line(holder) == "holding"
        journal = (out / "journal.jsonl").read_bytes()
        for extra in ([], ["--resume"]):
            second = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "tinyflow.cli.main",
                    "eval",
                    str(model),
                    "-d",
                    "random:12",
                    "--report",
                    str(out),
                    "--no-progress",
                    *extra,
                ],
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert second.returncode == 2, second.stderr
            errors = [ln for ln in second.stderr.splitlines() if ln.startswith("Error: ")]
            assert errors == [
                f"Error: Another tinyflow eval (PID {holder.pid}) is using the report folder {out}. "
                "Wait for it to finish (or stop it), or pass another --report directory."
            ]
            assert "Traceback" not in second.stderr
            assert (out / "journal.jsonl").read_bytes() == journal  # the second run wrote nothing
        stdout, err = _finish(holder)
    finally:
        holder.kill()
    assert holder.returncode == 0, err[-800:]
    assert stdout.split() == ["done", "12", "1.0", "0"]
    lines = (out / "journal.jsonl").read_text().splitlines()
    assert sorted(json.loads(x)["i"] for x in lines[1:]) == list(range(12))
    assert json.loads((out / "report.json").read_text())["link"]["journal_damaged"] == 0


def test_the_lock_is_released_when_the_holder_ends_or_is_killed(tmp_path):
    holder = _start(LOCKER, tmp_path)
    try:
        assert _read_line(holder) == "holding"
        with pytest.raises(UsageError, match=rf"\(PID {holder.pid}\)"):
            with lock_folder(tmp_path):
                pass
        holder.send_signal(signal.SIGKILL)  # no clean-up at all: the OS drops the lock
        holder.wait(30)
    finally:
        holder.kill()
    assert (tmp_path / LOCK_NAME).read_text().strip() == str(holder.pid)  # a stale file does not block
    with lock_folder(tmp_path):
        assert (tmp_path / LOCK_NAME).read_text().strip() == str(os.getpid())
    holder = _start(LOCKER, tmp_path)  # and the next process gets it again
    try:
        assert _read_line(holder) == "holding"
        _finish(holder)
    finally:
        holder.kill()
    assert holder.returncode == 0


def test_the_lock_is_released_when_the_run_fails(tmp_path):
    with pytest.raises(RuntimeError):
        with lock_folder(tmp_path):
            raise RuntimeError("the run failed")
    started = time.monotonic()
    with lock_folder(tmp_path):
        pass
    assert time.monotonic() - started < 1.0


def test_the_lock_file_is_not_followed_through_a_symlink(tmp_path):
    target = tmp_path / "elsewhere.txt"
    target.write_text("keep me")
    (tmp_path / "rep").mkdir()
    (tmp_path / "rep" / LOCK_NAME).symlink_to(target)
    with pytest.raises(UsageError, match="Cannot write"):
        with lock_folder(tmp_path / "rep"):
            pass
    assert target.read_text() == "keep me"
