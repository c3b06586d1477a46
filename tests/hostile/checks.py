"""What the harness checks after each hostile case: the one-line error, file snapshots, lost
journal records and payloads that escaped into generated text.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import stat
import tokenize
from pathlib import Path

TRACEBACK_MARKS = ("Traceback (most recent call last)", "Fatal Python error")
MAX_HASH_BYTES = 64 << 20  # larger files are compared by size and mtime only
PAYLOAD_WORD = "tinyflow_pwned"
# The payload as a token of its own: a sanitised identifier that merely contains it
# (`g_x_int_tinyflow_pwned_92c1_model_data`) is the escaping working, not failing.
PAYLOAD_TOKEN = re.compile(r"(?<![A-Za-z0-9_$])tinyflow_pwned(?:_line)?(?![A-Za-z0-9_$])")
PAYLOAD_LINE = re.compile(
    r"^\s*(tinyflow_pwned_line\b|\[env:tinyflow_pwned\]|#\s*include\s+\"/etc/passwd\")", re.MULTILINE
)


# -- the error line -----------------------------------------------------------------------


def error_lines(text: str) -> list[str]:
    """Lines that start with `Error:` (progress bars end lines with \\r, so split on it too)."""
    return [line for line in re.split(r"[\r\n]+", text) if line.startswith("Error:")]


def has_hint(line: str, text: str, code: int) -> bool:
    """True when the Error line says what to do: a sentence after the first one, or (exit 2 from
    click's own parser) the `Try '... --help' for help.` line click prints above it."""
    body = line[len("Error:") :].strip()
    if re.search(r"[.!?]['\")\]`]?\s+\S{2,}", body):
        return True
    return code == 2 and "--help' for help" in text


def output_problems(code: int, text: str, allow_ok: bool) -> list[str]:
    """Problems with how the command ended, from its exit code and its stdout+stderr."""
    problems = []
    if any(mark in text for mark in TRACEBACK_MARKS):
        problems.append("traceback")
    if code < 0:
        problems.append("crash")
    elif code == 0:
        if not allow_ok:
            problems.append("unexpected-success")
    elif code in (1, 2):
        lines = error_lines(text)
        if len(lines) != 1 or not has_hint(lines[0], text, code):
            problems.append("unclean-error")
    else:
        problems.append("bad-exit-code")
    return problems


# -- snapshots of everything outside the output folder --------------------------------------


def snapshot(root: Path, skip: Path) -> dict[str, tuple]:
    """Path -> (kind, size, mtime_ns, mode, sha256 or link target) of everything under `root`
    except `skip`. FIFOs and sockets are listed, never opened."""
    out: dict[str, tuple] = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        if here == skip:
            dirnames[:] = []
            continue
        for name in [*dirnames, *filenames]:
            path = here / name
            if path == skip:
                continue
            out[str(path.relative_to(root))] = _entry(path)
    return out


def _entry(path: Path) -> tuple:
    try:
        st = path.lstat()
    except OSError as exc:
        return ("gone", exc.errno)
    if stat.S_ISLNK(st.st_mode):
        return ("link", os.readlink(path))
    if stat.S_ISDIR(st.st_mode):
        return ("dir", st.st_mode)
    if not stat.S_ISREG(st.st_mode):
        return ("special", st.st_mode)
    digest = ""
    if st.st_size <= MAX_HASH_BYTES and st.st_mode & 0o444:
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            digest = "unreadable"
    return ("file", st.st_size, st.st_mtime_ns, st.st_mode, digest)


def changed(before: dict, after: dict) -> list[str]:
    """Paths created, removed or modified between two snapshots."""
    return sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))


def file_digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
    except OSError:
        return None


# -- journals: every valid record must survive a resume -------------------------------------

RECORD_FIELDS = ("i", "out", "ticks", "us", "wall", "c")


def journal_records(path: Path) -> set[str]:
    """Every line of a journal that parses as a record, reduced to its measured fields (the host
    wall time makes a re-measured sample differ from the lost original); damaged lines are skipped."""
    records = set()
    try:
        raw = path.read_bytes()
    except OSError:
        return records
    for line in raw.split(b"\n"):
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict) and "i" in obj and isinstance(obj.get("out"), list):
            records.add(json.dumps({k: obj.get(k) for k in RECORD_FIELDS}, sort_keys=True))
    return records


# -- payloads that escaped into generated text ----------------------------------------------


def payload_problems(out_dir: Path) -> list[str]:
    """Generated files (under `out_dir`) where a payload from a model or file name became code:
    `tinyflow_pwned` in C outside comments and strings, in Python outside comments and strings,
    or a generated line that starts with a payload line (a newline was not escaped)."""
    found = []
    if not out_dir.is_dir():
        return found
    for path in sorted(out_dir.rglob("*")):
        if not path.is_file() or path.is_symlink() or path.stat().st_size > (8 << 20):
            continue
        text = path.read_bytes().decode("utf-8", "replace")
        if PAYLOAD_WORD not in text and "/etc/passwd" not in text:
            continue
        rel = str(path.relative_to(out_dir))
        if path.suffix in (".c", ".cc", ".cpp", ".h", ".hpp") and PAYLOAD_TOKEN.search(_c_code(text)):
            found.append(f"{rel}: payload outside a C comment/string")
        elif path.suffix == ".py" and PAYLOAD_TOKEN.search(_py_code(text)):
            found.append(f"{rel}: payload outside a Python comment/string")
        elif PAYLOAD_LINE.search(text if path.suffix not in (".c", ".cc", ".cpp", ".h") else _c_code(text)):
            found.append(f"{rel}: a payload line starts a line")
    return found


_C_TOKENS = re.compile(r"/\*.*?\*/|//[^\n]*|\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*'", re.DOTALL)


def _c_code(text: str) -> str:
    """C text with comments and string/char literals blanked (an unterminated comment eats the rest)."""
    text = _C_TOKENS.sub(" ", text)
    cut = text.find("/*")
    return text if cut < 0 else text[:cut]


def _py_code(text: str) -> str:
    try:
        toks = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return text  # not even valid Python: judge the raw text
    return " ".join(t.string for t in toks if t.type not in (tokenize.COMMENT, tokenize.STRING))
