"""The on-disk cache of built programs, staged sources and arena measurements: bounded, LRU, safe.

Layout: $TINYFLOW_CACHE (default ~/.cache/tinyflow) holds the groups build/ and arena/. An entry
is a file or folder whose name ends in a content key (16+ hex digits, optionally an extension);
a folder without a key (build/ld, build/qemu-src, ...) is a sub-group whose children are entries.
Nothing else under the root is ever deleted, so a mistaken $TINYFLOW_CACHE cannot lose user files.

- Entries are built in a temporary beside them and renamed into place (atomic: two processes
  building the same entry both succeed, one rename wins); temporaries go on every exit path.
- A use touches the entry (its mtime is the last use: atime is unreliable under relatime).
- Each insert sweeps temporaries of dead processes (or older than an hour) and evicts the least
  recently used entries until the cache is under its limit ($TINYFLOW_CACHE_MAX, default 2G).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tinyflow.errors import UsageError

GROUPS = ("build", "arena")
DEFAULT_LIMIT = 2 << 30
STALE_TEMP_S = 3600.0  # a temporary of a live process older than this is abandoned too
RECENT_USE_S = 600.0  # never evict what a running build may still be reading
_KEYED = re.compile(r"[0-9a-f]{16,}(\.[A-Za-z0-9]+)?$")
_TEMP = re.compile(r"\.tmp(\d*)(-[A-Za-z0-9_]+)?$")
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def cache_root() -> Path:
    """$TINYFLOW_CACHE, or ~/.cache/tinyflow."""
    base = os.environ.get("TINYFLOW_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "tinyflow")
    return Path(base)


def size_limit() -> int:
    """The cache's byte limit from $TINYFLOW_CACHE_MAX ("500M", "2G", "0" for no caching beyond one build).

    Raises:
        UsageError: the value is not a size.
    """
    text = os.environ.get("TINYFLOW_CACHE_MAX", "").strip().upper().removesuffix("B").removesuffix("I")
    if not text:
        return DEFAULT_LIMIT
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMGT]?)", text)
    if not m:
        raise UsageError(
            f"TINYFLOW_CACHE_MAX={os.environ['TINYFLOW_CACHE_MAX']!r} is not a size",
            "Set it to a size such as 500M or 2G (bytes, K, M, G, T).",
        )
    return int(float(m.group(1)) * _UNITS[m.group(2)])


@dataclass
class Entry:
    """One cache entry: its path, bytes on disk (apparent size) and last use (epoch seconds)."""

    path: Path
    nbytes: int
    last_used: float


def _size(path: Path) -> int:
    if path.is_symlink() or not path.is_dir():
        return path.lstat().st_size
    total = 0
    for dirpath, _, files in os.walk(path):
        for f in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(dirpath, f)).st_size
    return total


def _children(folder: Path):
    try:
        return sorted(folder.iterdir())
    except OSError:  # missing, or removed by another process meanwhile
        return []


def _walk(root: Path):
    """(kind, path) for every entry ("entry") and temporary ("temp") under the groups, not following links."""
    stack = [root / g for g in GROUPS]
    while stack:
        folder = stack.pop()
        if folder.is_symlink() or not folder.is_dir():
            continue
        for child in _children(folder):
            if _TEMP.search(child.name):
                yield "temp", child
            elif _KEYED.search(child.name):
                yield "entry", child
            elif child.is_dir() and not child.is_symlink():
                stack.append(child)


def list_entries(root: Path | None = None) -> list[Entry]:
    """Every entry, least recently used first."""
    found = []
    for kind, path in _walk(root or cache_root()):
        if kind == "entry":
            with contextlib.suppress(OSError):
                found.append(Entry(path, _size(path), path.lstat().st_mtime))
    return sorted(found, key=lambda e: e.last_used)


def list_temporaries(root: Path | None = None) -> list[Path]:
    return [p for kind, p in _walk(root or cache_root()) if kind == "temp"]


def touch(path: Path) -> None:
    """Record a use of an entry (for LRU eviction); a read-only cache is still usable."""
    with contextlib.suppress(OSError):
        os.utime(path)


def _remove(path: Path) -> None:
    # Rename first, so other processes see the whole entry or none of it, never half of one.
    doomed = path.with_name(f"{path.name}.tmp{os.getpid()}-gone")
    try:
        path.rename(doomed)
    except OSError:
        return  # gone already (another process evicted or cleaned it)
    _delete(doomed)


def _abandoned(path: Path, now: float) -> bool:
    """Whether a temporary belongs to no running build: its process is gone, or it is over an hour old."""
    try:
        age = now - path.lstat().st_mtime
    except OSError:
        return False
    if age > STALE_TEMP_S:
        return True
    pid = _TEMP.search(path.name).group(1)
    if not pid or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError):  # alive as another user / not a pid
        return False
    return False


def _delete(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            path.unlink()


def sweep_temporaries(root: Path | None = None) -> int:
    """Remove temporaries left by killed builds; returns how many."""
    now, removed = time.time(), 0
    for path in list_temporaries(root):
        if _abandoned(path, now):
            _delete(path)
            removed += 1
    return removed


def evict(limit: int | None = None, root: Path | None = None) -> list[Entry]:
    """Remove least recently used entries until the cache holds at most `limit` bytes."""
    limit = size_limit() if limit is None else limit
    entries = list_entries(root)
    total, now, removed = sum(e.nbytes for e in entries), time.time(), []
    for e in entries:
        if total <= limit:
            break
        if now - e.last_used < RECENT_USE_S:
            break  # sorted by last use: everything after this is in use too
        _remove(e.path)
        total -= e.nbytes
        removed.append(e)
    return removed


def after_insert() -> None:
    """Housekeeping after an entry was added: stale temporaries, then the size limit."""
    sweep_temporaries()
    evict()


@contextlib.contextmanager
def staging(final: Path):
    """A new temporary folder beside `final`; on success it is renamed onto `final` (if another
    process got there first its identical result is kept), and on every exit path it is removed."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"{final.name}.tmp{os.getpid()}-", dir=final.parent))
    try:
        yield tmp
        try:
            tmp.rename(final)
        except OSError:  # `final` exists: built by another process meanwhile, with the same inputs
            pass
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # nothing left after a successful rename
    after_insert()


def write_atomic(path: Path, text: str) -> None:
    """Write a cached file through a temporary and a rename (readers never see half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f"{path.name}.tmp{os.getpid()}-", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(name, path)
    finally:
        _delete(Path(name))  # nothing left after the rename


@dataclass
class CacheReport:
    """What `tinyflow cache info` and `tinyflow cache clean` print."""

    location: Path
    entries: int
    nbytes: int
    limit: int
    temporaries: int = 0
    removed: int | None = None  # set by clean
    freed_bytes: int = 0

    def to_dict(self) -> dict:
        d = {
            "location": str(self.location),
            "entries": self.entries,
            "bytes": self.nbytes,
            "limit_bytes": self.limit,
            "temporaries": self.temporaries,
        }
        if self.removed is not None:
            d.update(removed=self.removed, freed_bytes=self.freed_bytes)
        return d

    def __str__(self) -> str:
        from tinyflow.report import key_values

        pairs = [
            ("location", str(self.location)),
            ("entries", self.entries),
            ("size", f"{self.nbytes / 2**20:,.1f} MiB of {self.limit / 2**20:,.0f} MiB (limit: TINYFLOW_CACHE_MAX)"),
            ("temporaries", f"{self.temporaries} (builds in progress, or left by killed ones)"),
        ]
        if self.removed is not None:
            pairs.insert(0, ("removed", f"{self.removed} entries, {self.freed_bytes / 2**20:,.1f} MiB"))
        return key_values(pairs)


def cache_info() -> CacheReport:
    """Location, entries, size and limit of the cache."""
    root = cache_root()
    entries = list_entries(root)
    return CacheReport(
        location=root,
        entries=len(entries),
        nbytes=sum(e.nbytes for e in entries),
        limit=size_limit(),
        temporaries=len(list_temporaries(root)),
    )


def clean_cache() -> CacheReport:
    """Remove every entry and every abandoned temporary (not those of builds running now)."""
    root = cache_root()
    entries = list_entries(root)
    for e in entries:
        _remove(e.path)
    sweep_temporaries(root)
    report = cache_info()
    report.removed, report.freed_bytes = len(entries), sum(e.nbytes for e in entries)
    return report
