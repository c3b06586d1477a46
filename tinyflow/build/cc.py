"""Build C programs with a host or cross compiler, cached by the content hash of their inputs.

Pure planning (command lines, cache keys) is separate from running the compiler, which only
happens in build_executable().
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from tinyflow.errors import ToolchainError

SANITIZE_FLAGS = ["-fsanitize=address,undefined", "-fno-sanitize-recover=undefined", "-fno-omit-frame-pointer"]


@dataclass
class CBuild:
    """What to compile: sources, include folders, defines and flags."""

    sources: list[Path]
    include_dirs: list[Path] = field(default_factory=list)
    defines: dict[str, str | int | None] = field(default_factory=dict)
    cflags: list[str] = field(default_factory=lambda: ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror"])
    ldflags: list[str] = field(default_factory=list)
    compiler: str = "cc"
    sanitize: bool = False

    def command(self, output: Path) -> list[str]:
        """The compiler command line that builds `output`."""
        cmd = [self.compiler, *self.cflags]
        if self.sanitize:
            cmd += ["-g", *SANITIZE_FLAGS]
        cmd += [f"-I{d}" for d in self.include_dirs]
        for k, v in sorted(self.defines.items()):
            cmd.append(f"-D{k}" if v is None else f"-D{k}={v}")
        cmd += [str(s) for s in self.sources]
        cmd += ["-o", str(output), *self.ldflags]
        if self.sanitize:
            cmd += SANITIZE_FLAGS[:1]
        return cmd

    def cache_key(self) -> str:
        """SHA-256 over the command shape and every input file's bytes (headers included)."""
        h = hashlib.sha256()
        h.update(repr((self.cflags, self.ldflags, sorted(self.defines.items()), self.compiler, self.sanitize)).encode())
        for src in self.sources:
            h.update(Path(src).read_bytes())
        for d in self.include_dirs:
            for p in sorted(Path(d).rglob("*.h")):
                h.update(str(p.relative_to(d)).encode())
                h.update(p.read_bytes())
        return h.hexdigest()[:24]


def cache_dir() -> Path:
    """Where built programs are kept: $TINYFLOW_CACHE or ~/.cache/tinyflow/build."""
    base = os.environ.get("TINYFLOW_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "tinyflow")
    return Path(base) / "build"


def find_compiler(name: str) -> str:
    """Path of a compiler, or a ToolchainError that names the package to install."""
    path = shutil.which(name)
    if path is None:
        pkg = {"arm-none-eabi-gcc": "gcc-arm-none-eabi libnewlib-arm-none-eabi", "clang": "clang"}.get(name, "gcc")
        raise ToolchainError(f"C compiler '{name}' was not found on PATH",
                             f"Install it (apt-get install {pkg}) or run ./run setup.")
    return path


def build_executable(build: CBuild, name: str, timeout: float = 300) -> Path:
    """Compile `build` into a cached executable named `name`; returns its path."""
    find_compiler(build.compiler)
    out_dir = cache_dir() / f"{name}-{build.cache_key()}"
    exe = out_dir / name
    if exe.exists():
        return exe
    tmp = out_dir.with_name(out_dir.name + f".tmp{os.getpid()}")
    tmp.mkdir(parents=True, exist_ok=True)
    try:
        proc = subprocess.run(build.command(tmp / name), capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ToolchainError(f"{build.compiler} took more than {timeout:.0f} s building {name}",
                             "Check the machine's load and run again.") from exc
    if proc.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        first = next((ln for ln in proc.stderr.splitlines() if "error" in ln), proc.stderr.strip()[:300])
        raise ToolchainError(f"{build.compiler} failed building {name}: {first}",
                             "This is a tinyflow bug if the sources were generated; please report it with the model.")
    try:
        tmp.rename(out_dir)
    except OSError:  # another process won the race; its result is identical
        shutil.rmtree(tmp, ignore_errors=True)
    return exe
