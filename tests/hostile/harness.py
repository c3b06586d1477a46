"""Run hostile cases: one `python -m tinyflow.cli.main ...` child per case, bounded in time and
memory, in its own work folder whose files outside the output folder are checked afterwards.

Work folder of a case (`W`): `W/in/` its inputs, `W/sandbox/` files that nothing may touch
(`victim.txt`, and the canary a payload would create), `W/out/` the only place the command may
write. The child runs with cwd `W` in its own session, so a timeout kills everything it started.
"""

from __future__ import annotations

import os
import re
import resource
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from . import checks
from .models import CORPUS_DIR

ROOT = Path(__file__).resolve().parents[2]
# The tinyflow source tree the children import (PYTHONPATH): this checkout unless told otherwise,
# e.g. a `git archive` of an older commit to show the corpus catches what that commit got wrong.
TREE = Path(os.environ.get("TINYFLOW_HOSTILE_TREE") or ROOT)
RSS_LIMIT = 2 << 30  # the guarantee: every case stays under 2 GiB resident
AS_LIMIT = 16 << 30  # backstop for a runaway allocation the RSS watch is too slow to see
POLL = 0.1
VICTIM = "sandbox/victim.txt"
CANARY = "sandbox/pwned"
CATEGORIES = [
    ("traceback", "tracebacks"),
    ("crash", "crashes (killed by a signal)"),
    ("hang", "hangs (timeout)"),
    ("over-memory", "over-memory (RSS >= 2 GiB)"),
    ("changed-outside", "files changed outside the output folder"),
    ("data-lost", "data lost"),
    ("payload", "payloads escaped or executed"),
    ("unclean-error", "unclean errors (not one Error line with a hint)"),
    ("unexpected-success", "unexpected successes (exit 0)"),
    ("bad-exit-code", "other exit codes"),
    ("wrong-result", "wrong results"),
    ("left-running", "processes left running"),
]


@dataclass
class Case:
    """One hostile input and the command that gets it; see the module docstring for `W`.

    argv: tinyflow's arguments; `{W}` is the work folder, `{M}` the model corpus, `{PTY}` the
    fake device's port. allow_ok: exit 0 is acceptable (a valid-but-odd input).
    """

    id: str
    argv: list[str]
    setup: Callable[[Path], None] | None = None
    allow_ok: bool = False
    timeout: float = 20.0
    device: tuple[str, Callable[[], bytes]] | None = None  # (behaviour, model bytes it claims to run)
    precious: tuple[str, ...] = ()  # files under W that must survive byte for byte
    journal: tuple[str, Callable[[], set]] | None = None  # (path under W, records that must survive)
    check: Callable[[Path, int], list[str]] | None = None  # more problems, from W and the exit code
    marks: tuple[str, ...] = ()


@dataclass
class Result:
    """How one case ended."""

    id: str
    command: str
    code: int | None
    seconds: float
    peak_rss: int
    problems: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    tail: str = ""
    cpu: float = 0.0  # user + system seconds of the command and the processes it waited for

    @property
    def status(self) -> str:
        if self.problems:
            return "failed"
        return "allowed-success" if self.code == 0 else "clean-error"

    def describe(self) -> str:
        lines = [
            f"{self.id}: {', '.join(self.problems) or self.status} (exit {self.code}, {self.seconds:.1f} s, "
            f"peak RSS {self.peak_rss / 2**20:.0f} MiB)",
            f"  $ {self.command}",
        ]
        lines += [f"  {d}" for d in self.details]
        lines += [f"  | {line}" for line in self.tail.splitlines()]
        return "\n".join(lines)


def work_dir(base: Path, case_id: str) -> Path:
    return base / re.sub(r"[^A-Za-z0-9._-]+", "_", case_id)


def command_line(case: Case, work: Path, pty: str = "{PTY}") -> list[str]:
    subst = {"{W}": str(work), "{M}": str(CORPUS_DIR), "{PTY}": pty}
    args = []
    for arg in case.argv:
        for key, value in subst.items():
            arg = arg.replace(key, value)
        args.append(arg)
    return [sys.executable, "-m", "tinyflow.cli.main", *args]


def prepare(case: Case, base: Path) -> Path:
    """Create the case's work folder and inputs."""
    work = work_dir(base, case.id)
    for sub in ("in", "sandbox"):
        (work / sub).mkdir(parents=True, exist_ok=True)
    (work / VICTIM).write_text("a file the user cares about\n")
    if case.setup is not None:
        case.setup(work)
    return work


def run_case(case: Case, base: Path, keep: bool = False) -> Result:
    """Prepare, run and judge one case."""
    work = prepare(case, base)
    device = None
    try:
        if case.device is not None:
            from .pty_devices import FakeDevice

            device = FakeDevice(case.device[0], case.device[1]())
            device.start()
        argv = command_line(case, work, device.path if device else "{PTY}")
        return _judge(case, work, argv)
    finally:
        if device is not None:
            device.stop()
        if not keep:
            remove_tree(work)


def _judge(case: Case, work: Path, argv: list[str]) -> Result:
    out = work / "out"
    before = checks.snapshot(work, out)
    precious = {p: checks.file_digest(work / p) for p in (*case.precious, VICTIM)}
    keep_records = set()
    if case.journal:
        keep_records = checks.journal_records(work / case.journal[0]) & case.journal[1]()
    code, seconds, peak, cpu, flags, text = _spawn(argv, work, case.timeout)
    problems = list(flags)
    if "hang" not in flags and "over-memory" not in flags:
        problems += checks.output_problems(code, text, case.allow_ok)
    details = []
    moved = checks.changed(before, checks.snapshot(work, out))
    if moved:
        problems.append("changed-outside")
        details.append("changed outside out/: " + ", ".join(moved[:6]))
    lost = [p for p, digest in precious.items() if digest is not None and checks.file_digest(work / p) != digest]
    if case.journal:
        missing = keep_records - checks.journal_records(work / case.journal[0])
        if missing:
            lost.append(f"{len(missing)} of {len(keep_records)} valid journal records")
    if lost:
        problems.append("data-lost")
        details.append("lost: " + ", ".join(lost))
    escaped = checks.payload_problems(out) + ([f"{CANARY} was created"] if (work / CANARY).exists() else [])
    if escaped:
        problems.append("payload")
        details += escaped[:4]
    if case.check is not None and code is not None:
        extra = case.check(work, code)
        problems += [p.split(":")[0] for p in extra]
        details += extra
    tail = "\n".join(text.strip().splitlines()[-6:])[-1500:]
    cmd = "cd {W} && " + shlex.join(["tinyflow", *argv[3:]]).replace(str(work), "{W}")
    return Result(case.id, cmd, code, seconds, peak, sorted(set(problems), key=problems.index), details, tail, cpu)


def _spawn(argv: list[str], work: Path, timeout: float):
    """Run argv; returns (exit code or None, seconds, peak RSS bytes, CPU seconds, problem flags, output)."""
    env = dict(
        os.environ,
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONPATH=os.pathsep.join(p for p in (str(TREE), os.environ.get("PYTHONPATH", "")) if p),
    )
    env.pop("PYTEST_CURRENT_TEST", None)
    logs = work.parent / f".{work.name}.log"
    flags: list[str] = []
    start = time.monotonic()
    with open(logs, "w+b") as log:
        proc = subprocess.Popen(
            argv, cwd=work, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env, start_new_session=True
        )
        try:
            resource.prlimit(proc.pid, resource.RLIMIT_AS, (AS_LIMIT, AS_LIMIT))
        except (OSError, ValueError):
            pass
        done = threading.Event()
        watcher = threading.Thread(target=_watch, args=(proc.pid, start + timeout, done, flags), daemon=True)
        watcher.start()
        _, status, usage = os.wait4(proc.pid, 0)
        done.set()
        watcher.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.monotonic() - start
        if _linger(proc.pid):
            flags.append("left-running")
        log.seek(0)
        text = log.read(4 << 20).decode("utf-8", "replace")
    logs.unlink()
    peak = usage.ru_maxrss * 1024
    if peak >= RSS_LIMIT and "over-memory" not in flags:
        flags.append("over-memory")
    code = None if "hang" in flags else proc.returncode
    return code, seconds, peak, usage.ru_utime + usage.ru_stime, flags, text


def _watch(pgid: int, deadline: float, done: threading.Event, flags: list[str]) -> None:
    """Kill the case's process group at its deadline or when it grows past RSS_LIMIT."""
    while not done.wait(POLL):
        if time.monotonic() > deadline:
            flags.append("hang")
        elif sum(rss for _, rss, _ in _group(pgid)) >= RSS_LIMIT:
            flags.append("over-memory")
        else:
            continue
        _kill(pgid)
        return


def _group(pgid: int):
    """(pid, rss bytes, state) of every process in process group `pgid`."""
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            yield int(entry), int(fields[21]) * page, fields[0].decode()


def _linger(pgid: int) -> bool:
    """True when something the command started still runs a second after it exited (then killed)."""
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        if not [pid for pid, _, state in _group(pgid) if state != "Z"]:
            return False
        time.sleep(0.05)
    _kill(pgid)
    return True


def _kill(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def remove_tree(path: Path) -> None:
    """Delete a work folder, even one a case made read-only."""

    def unlock(func, target, _exc):
        try:
            os.chmod(os.path.dirname(target), 0o755)
            os.chmod(target, 0o755)
        except OSError:
            pass
        func(target)

    if path.exists():
        shutil.rmtree(path, onexc=unlock) if sys.version_info >= (3, 12) else shutil.rmtree(path, onerror=unlock)


def run_all(
    cases: list[Case],
    base: Path,
    workers: int = 2,
    keep: bool = False,
    on_result: Callable[[Result], None] | None = None,
) -> dict[str, Result]:
    """Run `cases` on a pool of `workers` threads (each case in its own child process)."""
    results: dict[str, Result] = {}
    base.mkdir(parents=True, exist_ok=True)

    def one(case: Case) -> Result:
        try:
            result = run_case(case, base, keep)
        except Exception as exc:  # a harness bug must name its case, not abort the whole run
            result = Result(case.id, "(harness)", None, 0.0, 0, ["harness-error"], [f"{type(exc).__name__}: {exc}"])
        if on_result is not None:
            on_result(result)
        return result

    # Long cases first (TensorFlow, devices that may hang), so the pool does not end on one alone.
    ordered = sorted(cases, key=lambda c: (0 if "tf" in c.marks else 1 if c.device else 2, -c.timeout))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for result in pool.map(one, ordered):
            results[result.id] = result
    return results


def totals(results: dict[str, Result], seconds: float | None = None) -> list[tuple[str, str]]:
    """(label, value) rows of the totals table."""
    res = list(results.values())
    rows = [
        ("cases", len(res)),
        ("clean errors", sum(r.status == "clean-error" for r in res)),
        ("allowed successes", sum(r.status == "allowed-success" for r in res)),
    ]
    rows += [(label, sum(key in r.problems for r in res)) for key, label in CATEGORIES]
    if any("harness-error" in r.problems for r in res):
        rows.append(("harness errors", sum("harness-error" in r.problems for r in res)))
    rows.append(("failing cases", sum(r.status == "failed" for r in res)))
    rows.append(("largest peak RSS", f"{max((r.peak_rss for r in res), default=0) / 2**20:.0f} MiB"))
    if seconds is not None:
        rows.append(("wall time", f"{seconds:.0f} s"))
    return [(label, str(value)) for label, value in rows]


def format_totals(rows: list[tuple[str, str]]) -> str:
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label:<{width}}  {value:>8}" for label, value in rows)
