"""Output folders and files chosen by the user: OS errors become one clear UsageError, paths stay
inside the folder, files are written atomically and a user's own files are not overwritten.

A path given with -o/--out/--report is part of the command line, so a folder that cannot be
created or written is a usage error (exit 2), like click's own path checks.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable

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


# -- files tinyflow owns inside an output folder ---------------------------------------------------
# A folder tinyflow writes into (a firmware project, a `compile -o` or `export -o` folder) records
# the SHA-256 of every file as written in MANIFEST. The manifest is untrusted input like the
# folder itself: its paths are checked as strictly as the ones tinyflow generates.

MANIFEST = ".tinyflow/manifest.json"
USER_EDITED = "user"  # a manifest hash that matches no file: the file is the user's
MAX_MANIFEST_BYTES = 16 << 20
_MAX_PATH_CHARS, _MAX_NAME_CHARS = 1024, 255
_MANIFEST_HINT = "Delete the .tinyflow folder in it to start over (tinyflow then treats every file there as yours)."


def relative_parts(rel: str, where: str = "tinyflow") -> tuple[str, ...]:
    """The components of `rel`, a plain relative path ('src/a.c'), or a UsageError.

    Refused: absolute paths, '..', '.', empty components, backslashes, NUL and over-long names, so
    a path can only name something below the folder it is joined to.
    """
    if not isinstance(rel, str) or not rel or len(rel) > _MAX_PATH_CHARS or "\0" in rel or "\\" in rel:
        raise UsageError(f"{where} names the path {rel!r}, which is not a plain relative path", _MANIFEST_HINT)
    parts = tuple(rel.split("/"))
    if rel.startswith("/") or any(p in ("", ".", "..") or len(p) > _MAX_NAME_CHARS for p in parts):
        raise UsageError(f"{where} names the path {rel!r}, which is outside the output folder", _MANIFEST_HINT)
    return parts


def inside(root: str | os.PathLike, rel: str, where: str = "tinyflow") -> Path:
    """`root/rel`, after checking that it stays inside `root` and that no part of it below `root`
    is a symbolic link (writing or deleting through a link would reach outside the folder).

    Raises:
        UsageError: `rel` leaves the folder, or a link is on the way.
    """
    root = Path(root)
    path = root
    for part in relative_parts(rel, where):
        path = path / part
        if path.is_symlink():
            raise UsageError(
                f"{path} is a symbolic link; tinyflow does not write or delete through links",
                "Remove the link (or pick another folder with -o) and run again.",
            )
    if not path.resolve().is_relative_to(root.resolve()):  # a belt to the braces above
        raise UsageError(f"{where} names the path {rel!r}, which is outside {root}", _MANIFEST_HINT)
    return path


def file_sha256(path: Path) -> str | None:
    """SHA-256 of a regular file (not following links), or None for anything else or nothing."""
    try:
        if not stat.S_ISREG(path.lstat().st_mode):
            return None
        with open(path, "rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except FileNotFoundError:
        return None


def atomic_write(path: Path, data: bytes | Iterable[bytes]) -> str:
    """Write `data` (bytes or chunks) to `path` through a temporary file in the same folder and a
    rename, so a crash leaves the old file or the new one, never half of one. Returns the SHA-256.

    The data is synced before the rename (else a crash can leave the new name on an empty file) and
    the folder after it (else the rename itself can be lost). The rename replaces a link at `path`
    instead of writing through it; callers check with inside().
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:64]}.", suffix=".tinyflow-tmp", dir=path.parent)
    digest = hashlib.sha256()
    try:
        if hasattr(os, "fchmod"):  # POSIX only; Windows keeps its default permissions
            os.fchmod(fd, _mode_of(path))
        with os.fdopen(fd, "wb") as fh:
            for chunk in [data] if isinstance(data, (bytes, bytearray, memoryview)) else data:
                fh.write(chunk)
                digest.update(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _sync_folder(path.parent)
    return digest.hexdigest()


def _sync_folder(folder: Path) -> None:
    # POSIX records a rename in the folder, which must be synced too; Windows cannot open a folder
    # as a file (and its rename is durable once done), and some file systems refuse to sync one.
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(fd)


def _mode_of(path: Path) -> int:
    # mkstemp makes 0600: keep the permissions of the file being replaced, else the usual 0644.
    try:
        st = path.lstat()
    except FileNotFoundError:
        return 0o644
    return stat.S_IMODE(st.st_mode) if stat.S_ISREG(st.st_mode) else 0o644


def load_manifest(root: str | os.PathLike) -> dict[str, str]:
    """{relative path: sha256} from `root`'s manifest; {} when there is none.

    Raises:
        UsageError: the manifest is unreadable, too big, not JSON of the right shape, or names a
            path outside the folder.
    """
    path = inside(root, MANIFEST)
    if not os.path.lexists(path):
        return {}
    try:
        if not path.is_file() or path.stat().st_size > MAX_MANIFEST_BYTES:
            raise ValueError(f"not a file of at most {MAX_MANIFEST_BYTES >> 20} MiB")
        doc = json.loads(path.read_bytes())
        files = doc.get("files") if isinstance(doc, dict) else None
        if not isinstance(files, dict):
            raise ValueError('no "files" object')
        bad = next((k for k, v in files.items() if not isinstance(v, str) or not _is_hash(v)), None)
        if bad is not None:
            raise ValueError(f"the entry for {bad!r} is not a SHA-256")
    except (ValueError, OSError, RecursionError) as exc:
        raise UsageError(f"{path} is not a valid tinyflow manifest ({exc})", _MANIFEST_HINT) from None
    for rel in files:
        relative_parts(rel, where=str(path))
    return dict(files)


def _is_hash(value: str) -> bool:
    return value == USER_EDITED or (len(value) == 64 and all(c in "0123456789abcdef" for c in value))


def save_manifest(root: str | os.PathLike, files: dict[str, str]) -> None:
    from tinyflow import __version__

    text = json.dumps({"tinyflow": __version__, "files": files}, indent=1, sort_keys=True)
    atomic_write(inside(root, MANIFEST), text.encode())


def write_outputs(
    files: dict[str, bytes | Iterable[bytes]],
    out_dir: str | os.PathLike,
    *,
    force: bool = False,
    exclusive: bool = True,
    prune: bool = False,
) -> list[Path]:
    """Write `files` (relative path -> bytes or chunks) under `out_dir`, each atomically, and record
    them in its manifest. Returns the paths, in the order of `files`.

    Unless `force`, refuses (UsageError, before writing anything) to overwrite a file tinyflow did
    not write or that was edited since, and with `exclusive` a non-empty folder without a manifest
    (as `firmware generate` does). Even with `force`, never writes outside the folder or through a
    symbolic link. With `prune`, the folder holds one generation: files the manifest records from
    an earlier write but `files` no longer has (a previous model name's .c) are removed once all of
    `files` is written, if unedited since; edited ones and files never recorded are left alone.
    """
    root = Path(out_dir)
    if root.exists() and not root.is_dir():
        raise UsageError(f"Cannot write {root}: it is a file", "Give a folder with -o.")
    try:
        old = load_manifest(root)
    except UsageError:
        if not force:
            raise
        old = {}  # --force: rewrite a corrupt manifest (its paths are not used)
    paths = {rel: inside(root, rel) for rel in files}
    if not force:
        _refuse_foreign(root, old, paths, exclusive)
    make_dir(root)
    written: dict[str, str] = {}
    with writing(root):
        try:
            for rel, data in files.items():
                written[rel] = atomic_write(paths[rel], data)
            if prune:
                old = _remove_stale(root, {rel: sha for rel, sha in old.items() if rel not in files})
        finally:  # also after a failure midway: what was written is ours on the next run
            save_manifest(root, {**old, **written})
    return list(paths.values())


def _remove_stale(root: Path, stale: dict[str, str]) -> dict[str, str]:
    """Delete the recorded files of `stale` whose content is still what tinyflow wrote; returns the
    manifest entries to keep (edited files stay recorded with their old hash: they stay the user's)."""
    keep = {}
    for rel, sha in stale.items():
        try:
            path = inside(root, rel, where=str(root / MANIFEST))
        except UsageError:  # a link on the way: not a file tinyflow wrote, nothing to delete
            continue
        if file_sha256(path) == sha:
            path.unlink()
        elif os.path.lexists(path):
            keep[rel] = sha
    return keep


def _refuse_foreign(root: Path, old: dict[str, str], paths: dict[str, Path], exclusive: bool) -> None:
    if exclusive and not os.path.lexists(root / MANIFEST) and root.is_dir() and any(root.iterdir()):
        raise UsageError(
            f"{root} is not empty and was not written by tinyflow (no {MANIFEST})",
            "Pick a new or empty folder with -o, or pass --force to write into it anyway.",
        )
    foreign = [
        rel
        for rel, path in paths.items()
        if os.path.lexists(path) and (rel not in old or file_sha256(path) != old[rel])
    ]
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        raise UsageError(
            f"{root} has files that tinyflow did not write or that were edited since: {shown}",
            "Move them away, pick another folder with -o, or pass --force to overwrite them.",
        )
