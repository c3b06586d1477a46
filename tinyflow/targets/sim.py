"""`sim://<name>[?key=value&...]`: simulated boards, opened by name, their options checked first.

SIMULATORS maps each name to its machine module (targets/machines/); SIM_OPTIONS lists the query
keys each takes and the values they accept. Anything else is a UsageError before a machine is
built or started. Opening only: a machine that runs firmware receives it built
(tinyflow.workflows.device.open_device builds it from these same options).
"""

from __future__ import annotations

import importlib
from urllib.parse import parse_qs, parse_qsl, urlsplit

from tinyflow.errors import UsageError

SIMULATORS = {
    "tflm": "tinyflow.targets.machines.tflm",
    "host": "tinyflow.targets.machines.host",
    "qemu-m4": "tinyflow.targets.machines.qemu_m4",
    "qemu-m0": "tinyflow.targets.machines.qemu_m0",
    "qemu-m3": "tinyflow.targets.machines.qemu_m3",
    "qemu-m7": "tinyflow.targets.machines.qemu_m7",
    "qemu-m33": "tinyflow.targets.machines.qemu_m33",
    "qemu-m55": "tinyflow.targets.machines.qemu_m55",
}
_FLAG = ("0", "1", "true", "false", "yes", "no")
_BOARD = "board id"
# The MLPerf Tiny benchmarks whose reference I/O conventions the EEMBC firmware follows (docs/mlperf.md).
_BENCHMARK = ("kws01", "ic01", "vww01", "ad01")
_EEMBC = {"protocol": ("tinyflow", "eembc"), "benchmark": _BENCHMARK}
# Query keys per simulator -> the values they take (_BOARD: an id from boards/*.toml; a tuple:
# the choices; a range: a whole number in it).
SIM_OPTIONS = {
    "tflm": {"board": _BOARD},
    "host": {"board": _BOARD, "sanitize": _FLAG, "fake": _FLAG, "rx": range(64, 65536), **_EEMBC},
    "qemu-m4": {"board": _BOARD, "kernels": ("dsp", "portable"), **_EEMBC},
    # M0 and M3 have no DSP extension: the portable kernels are their only kernels.
    "qemu-m0": {"board": _BOARD, **_EEMBC},
    "qemu-m3": {"board": _BOARD, **_EEMBC},
    "qemu-m7": {"board": _BOARD, "kernels": ("dsp", "portable"), **_EEMBC},
    "qemu-m33": {"board": _BOARD, "kernels": ("dsp", "portable"), **_EEMBC},
    "qemu-m55": {"board": _BOARD, "kernels": ("dsp", "portable"), **_EEMBC},
}


def open_sim(url: str, *, model=None, firmware=None, board=None, timeout: float = 2.0):
    """Open the simulated board of a sim:// URL (see tinyflow.targets.open_target)."""
    name, params = parse_sim_url(url)
    board = board if board is not None else params.get("board")  # every simulator honours ?board=
    return machine(name).open(urlsplit(url), model=model, firmware=firmware, board=board, timeout=timeout)


def machine(name: str):
    """The machine module of a simulator name (a key of SIMULATORS)."""
    return importlib.import_module(SIMULATORS[name])


def parse_sim_url(url: str) -> tuple[str, dict[str, str]]:
    """The simulator name and checked options of a sim:// URL.

    Raises:
        UsageError: an unknown simulator, a path or fragment after the name, or a bad option.
    """
    parts = urlsplit(url)
    name = parts.netloc or parts.path.lstrip("/")
    if name not in SIMULATORS or (parts.netloc and parts.path not in ("", "/")) or parts.fragment:
        raise UsageError(
            f"Unknown simulated target {url!r}",
            f"Use one of {', '.join('sim://' + n for n in SIMULATORS)}, then ?key=value options.",
        )
    return name, sim_options(name, parts.query, url)


def sim_options(name: str, query: str, url: str) -> dict[str, str]:
    """The query of a sim://<name> URL as a dict, checked against SIM_OPTIONS[name].

    Raises:
        UsageError: an unknown key (listing the valid ones), a key given twice, an unknown board
            (listing the boards), or a value outside the key's choices.
    """
    valid = SIM_OPTIONS[name]
    params: dict[str, str] = {}
    # keep_blank_values: `?bord=` must be refused too, not dropped as empty.
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key not in valid:
            raise UsageError(
                f"sim://{name} does not take the option {key!r} (in {url})", f"Valid: {', '.join(sorted(valid))}."
            )
        if key in params:
            raise UsageError(f"{url} gives {key!r} twice", "Give each option once.")
        _check_value(name, key, value, valid[key], url)
        params[key] = value
    return params


def _check_value(name: str, key: str, value: str, choices, url: str) -> None:
    if choices == _BOARD:
        _check_board(value, url)
    elif isinstance(choices, range):
        if not value.isdigit() or int(value) not in choices:
            raise UsageError(
                f"sim://{name} {key}={value} must be a byte count between {choices.start} and {choices.stop - 1}",
                f"For example ?{key}=1024.",
            )
    elif value.lower() not in choices:
        raise UsageError(
            f"{url}: {key}={value} is not one of {', '.join(choices)}",
            f"For example sim://{name}?{key}={choices[1]}.",
        )


def _check_board(value: str, url: str) -> None:
    from tinyflow.boards import list_boards

    ids = [b.id for b in list_boards()]
    if value not in ids:
        raise UsageError(f"Unknown board {value!r} in {url}", f"Use one of: {', '.join(ids)} (tinyflow boards list).")


def flag(params: dict[str, str], key: str) -> bool:
    """A yes/no option (checked against _FLAG by sim_options); absent is no."""
    return params.get(key, "0").lower() in ("1", "true", "yes")


def query_params(url_parts) -> dict[str, str]:
    """`?board=...` etc. from a urllib SplitResult, a query string, or a dict (unchecked)."""
    if url_parts is None:
        return {}
    if isinstance(url_parts, dict):
        return {k: (v[-1] if isinstance(v, list) else v) for k, v in url_parts.items()}
    query = url_parts if isinstance(url_parts, str) else getattr(url_parts, "query", "")
    return {k: v[-1] for k, v in parse_qs(query.lstrip("?")).items()}
