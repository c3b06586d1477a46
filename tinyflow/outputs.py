"""Output folders and files chosen by the user: OS errors become one clear UsageError.

A path given with -o/--out/--report is part of the command line, so a folder that cannot be
created or written is a usage error (exit 2), like click's own path checks.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

from tinyflow.errors import UsageError

_HINT = "Pick a folder you can write to (check the path, its permissions and free space)."


@contextmanager
def writing(path: str | os.PathLike):
    """Turn an OSError raised while writing under `path` into a UsageError naming it."""
    try:
        yield
    except OSError as exc:
        where = exc.filename if exc.filename is not None else path
        reason = exc.strerror or type(exc).__name__
        if isinstance(exc, (FileExistsError, NotADirectoryError)):
            reason = "a file is in the way where a folder is needed"
        raise UsageError(f"Cannot write {where}: {reason}", _HINT) from None


def make_dir(path: str | os.PathLike) -> Path:
    """Create the folder `path` (and its parents) if missing; returns it as a Path.

    Raises:
        UsageError: the folder cannot be created or is not writable.
    """
    path = Path(path)
    with writing(path):
        path.mkdir(parents=True, exist_ok=True)
    if not os.access(path, os.W_OK | os.X_OK):
        raise UsageError(f"Cannot write {path}: Permission denied", _HINT)
    return path


def check_file_target(path: str | os.PathLike) -> Path:
    """Make sure the file `path` can be written later (its folder exists or is created, and is writable).

    Used before long work (training, quantization) so a bad -o fails in a second, not after it.
    """
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"Cannot write {path}: it is a folder", "Give a file name with -o.")
    make_dir(path.parent if str(path.parent) else Path("."))
    return path
