"""What a PlatformIO build would have to download, found offline from PlatformIO's own package managers.

`pio run` installs on demand: the dev-platform, the platform's toolchain and framework for the
env, its build tool SCons (tool-scons), and the env's lib_deps. Offline, each of those is a minute
of registry retries ending in an empty HTTPClientError, so tinyflow asks first. Each function
returns (what is missing, the host it comes from); when PlatformIO cannot tell (a broken package
folder, a platform script that fails), nothing is reported and PlatformIO decides.
"""

from __future__ import annotations

from pathlib import Path

REGISTRY_HOST = "api.registry.platformio.org"
GIT_HOST = "github.com"


def core_packages_missing() -> list[tuple[str, str]]:
    """SCons, which PlatformIO downloads on the first build of any project, platform `native` too."""
    from platformio.package.manager.core import get_core_package_dir

    try:
        if get_core_package_dir("tool-scons", auto_install=False):
            return []
    except Exception:  # noqa: BLE001 (an unreadable package folder: let PlatformIO decide)
        return []
    return [("PlatformIO's build tool SCons (tool-scons) is not installed", REGISTRY_HOST)]


def platform_packages_missing(project: str | Path, env: str, platform: str, targets=()) -> list[tuple[str, str]]:
    """The toolchain/framework (and, for "upload", uploader) packages an installed platform needs for `env`."""
    from platformio.platform.factory import PlatformFactory
    from platformio.project.config import ProjectConfig

    try:
        p = PlatformFactory.new(platform)
        # The platform reads the env's options (framework, board) from this project's ini, not the cwd's.
        p.config = ProjectConfig.get_instance(str(Path(project) / "platformio.ini"))
        p.configure_project_packages(env, list(targets))
        names = [name for name, opts in p.packages.items() if not opts.get("optional") and p.get_package(name) is None]
    except Exception:  # noqa: BLE001 (a platform script that fails here: let PlatformIO decide)
        return []
    return [
        (f"package {name!r} of platform {platform!r} is not installed (env {env})", REGISTRY_HOST) for name in names
    ]


def libraries_missing(project: str | Path, env: str, libs) -> list[tuple[str, str]]:
    """The env's lib_deps not yet in the project's .pio/libdeps/<env>."""
    from platformio.package.manager.library import LibraryPackageManager
    from platformio.package.meta import PackageSpec

    libdeps = Path(project) / ".pio" / "libdeps" / env
    out = []
    for dep in libs:
        try:
            spec = PackageSpec(dep)
            name = spec.name or dep
            installed = (libdeps / name).is_dir() or LibraryPackageManager(str(libdeps)).get_package(spec) is not None
        except Exception:  # noqa: BLE001 (an unusual spec: let PlatformIO decide)
            continue
        if not installed:
            host = _host(spec.uri) if spec.external else REGISTRY_HOST
            out.append((f"Library {name} is not downloaded yet (env {env})", host))
    return out


def _host(uri: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit((uri or "").removeprefix("git+")).hostname or GIT_HOST
