"""Input files chosen by the user (models, datasets): only regular files, size checked first.

A path on the command line can name a FIFO (reading it waits for a writer forever), a device such
as /dev/zero (an endless stream) or a directory. Every verb opens such files through these two
functions: the file is opened without blocking, its type and size are taken from the open file
descriptor (so a path swapped between the check and the read cannot slip through), and anything
that is not a regular file, or is larger than the caller's ceiling, is refused before a byte is read.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from tinyflow.errors import TinyflowError

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def open_regular(
    path: str | os.PathLike, what: str, limit: int, error: type[TinyflowError], too_big: str = "Give a smaller file."
) -> tuple[BinaryIO, int]:
    """Open `path` for reading as a binary file object and return it with its size in bytes.

    Args:
        what: how messages name the file ("Model file", "Dataset file").
        limit: the largest size accepted, bytes.
        error: the TinyflowError subclass raised (ModelError, DataError).
        too_big: the hint when the file is larger than `limit`.
    Raises:
        `error`: the file is missing, unreadable, not a regular file, or larger than `limit`.
    """
    path = Path(path)
    try:
        # O_NONBLOCK: opening a FIFO without a writer would otherwise block right here.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise error(f"{what} {path} does not exist", "Check the path.") from None
    except OSError as exc:
        raise error(
            f"Cannot read {what.lower()} {path}: {exc.strerror or type(exc).__name__}",
            "Check the path and its permissions.",
        ) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = next((name for test, name in _KINDS if test(info.st_mode)), "not a regular file")
            raise error(f"{what} {path} is {kind}, not a regular file", "Give the path of a file on disk.")
        if info.st_size > limit:
            ceiling = f"{limit:,} B" + (f" ({limit / 2**20:,.0f} MiB)" if limit >= 2**20 else "")
            raise error(f"{what} {path} is {info.st_size:,} B, more than the {ceiling} tinyflow reads", too_big)
        os.set_blocking(fd, True)  # a regular file: reads never block anyway; restore the usual mode
        return os.fdopen(fd, "rb"), info.st_size
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: str | os.PathLike, what: str, limit: int, error: type[TinyflowError]) -> bytes:
    """The bytes of the regular file `path`, at most `limit` of them (see open_regular)."""
    fh, _ = open_regular(path, what, limit, error)
    with fh:
        try:
            data = fh.read(limit + 1)  # +1: a file that grew after fstat is still caught
        except OSError as exc:
            raise error(
                f"Cannot read {what.lower()} {path}: {exc.strerror or type(exc).__name__}",
                "Check the path and its permissions.",
            ) from None
    if len(data) > limit:
        raise error(f"{what} {path} grew past the {limit:,} B tinyflow reads while it was read", "Give a smaller file.")
    return data


__all__ = ["open_regular", "read_regular"]
