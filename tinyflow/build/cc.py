"""Build C programs with a host or cross compiler, cached by the content hash of their inputs.

Pure planning (command lines, cache keys) is separate from running the compiler, which only
happens in build_executable().
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from tinyflow.build.cache import cache_root, staging, touch
from tinyflow.errors import ToolchainError

_RUNTIME_ARCHIVE = re.compile(r"[^\s'\"]*libclang_rt\.[\w.-]+?\.a")
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
        # Quoted #includes also find the headers beside each source (a kernel variant's own headers).
        for d in sorted({Path(s).parent for s in self.sources}):
            for p in sorted(d.glob("*.h")):
                h.update(str(p.relative_to(d)).encode())
                h.update(p.read_bytes())
        return h.hexdigest()[:24]


def cache_dir() -> Path:
    """Where built programs are kept: $TINYFLOW_CACHE/build or ~/.cache/tinyflow/build (bounded: tinyflow.build.cache)."""
    return cache_root() / "build"


def stage_sources(sources: dict[str, str], kind: str) -> list[Path]:
    """Write generated C (file name -> text) into cache_dir()/kind/<content hash>; returns the
    paths in name order. Every build of compiled C (host library, host and QEMU firmware) stages here.

    The folder appears whole or not at all (staged, then renamed), so a killed run leaves no
    half-written or stray file for the next build to compile; reusing it counts as a use (LRU).
    """
    h = hashlib.sha256()
    for fname, text in sorted(sources.items()):
        h.update(fname.encode() + b"\0" + text.encode())
    folder = cache_dir() / kind / h.hexdigest()[:24]
    if folder.is_dir():
        touch(folder)
    else:
        with staging(folder) as tmp:
            for fname, text in sorted(sources.items()):
                (tmp / fname).write_text(text)
    return [folder / fname for fname in sorted(sources)]


def find_compiler(name: str) -> str:
    """Path of a compiler, or a ToolchainError that names the package to install."""
    path = shutil.which(name)
    if path is None:
        pkg = {"arm-none-eabi-gcc": "gcc-arm-none-eabi libnewlib-arm-none-eabi", "clang": "clang", "c++": "g++"}.get(
            name, "gcc libc6-dev"
        )
        raise ToolchainError(
            f"C compiler '{name}' was not found on PATH",
            f"Install it (sudo apt-get install --no-install-recommends {pkg}) or run ./run setup.",
        )
    return path


def build_executable(build: CBuild, name: str, timeout: float = 300) -> Path:
    """Compile `build` into a cached executable named `name`; returns its path."""
    find_compiler(build.compiler)
    out_dir = cache_dir() / f"{name}-{build.cache_key()}"
    exe = out_dir / name
    if exe.exists():
        touch(out_dir)
        return exe
    with staging(out_dir) as tmp:
        run_compiler(build.command(tmp / name), build.compiler, name, timeout)
    return exe


def run_compiler(cmd: list[str], compiler: str, name: str, timeout: float, on_failure=None) -> None:
    """Run one compiler command; a failure or a timeout is a ToolchainError that says why.

    `on_failure(stderr)`, when given, reads a failed run's output first and may raise a more
    precise error (the firmware link names the memory region that overflowed)."""
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise ToolchainError(
            f"{compiler} took more than {timeout:.0f} s building {name}", "Check the machine's load and run again."
        ) from exc
    if proc.returncode != 0:
        if on_failure is not None:
            on_failure(proc.stderr)
        missing_runtime(proc.stderr, compiler, name)
        first = next((ln for ln in proc.stderr.splitlines() if "error" in ln), proc.stderr.strip()[:300])
        raise ToolchainError(
            f"{compiler} failed building {name}: {first}",
            "This is a tinyflow bug if the sources were generated; please report it with the model.",
        )


def missing_runtime(stderr: str, compiler: str, name: str) -> None:
    """Raise the ToolchainError that names the package when the sanitizer/libFuzzer runtime is missing.

    Debian and Ubuntu split clang's runtimes into libclang-rt-N-dev, only a Recommends of clang:
    without it clang compiles but the link fails on libclang_rt.*.a, which is not a tinyflow bug.
    """
    # ld says "cannot find /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a".
    lines = [ln for ln in stderr.splitlines() if "cannot find" in ln or "No such file" in ln]
    found = next((m.group(0) for ln in lines for m in [_RUNTIME_ARCHIVE.search(ln)] if m), None)
    if found is None:
        return
    version = re.search(r"llvm-(\d+)/|/clang/(\d+)", found)
    major = (version.group(1) or version.group(2)) if version else None
    pkg = f"libclang-rt-{major}-dev" if major else "libclang-rt-dev"
    raise ToolchainError(
        f"{compiler} cannot link {name}: its runtime {Path(found).name} is not installed",
        f"Install it (sudo apt-get install --no-install-recommends {pkg}), or run ./run setup as root.",
    )
