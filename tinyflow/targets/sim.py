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
# The compiled model's activation arena budget (patch-based inference; docs/compiled-runtime.md).
_PATCH = {"max_ram": range(1, 2**31)}
# Where a QEMU machine takes its input: guest memory (the default where it can) or the UART.
_LINK = {"link": ("ring", "uart")}
# A played sensor (tinyflow/targets/played.py, docs/data.md "Capture"): the file, how it is
# perturbed, how fast it plays. _FILE, _REAL...: checked by the functions of the same name below.
_FILE, _REAL, _NONNEG, _DROPOUTS = "sensor file", "number", "number >= 0", "rate[:frames]"
_SENSOR = {
    "sensor": _FILE,
    "sensor_gain": _REAL,
    "sensor_offset": _REAL,
    "sensor_noise": _NONNEG,
    "sensor_dropouts": _DROPOUTS,
    "sensor_pace": ("realtime", "fast"),
    "sensor_rate": range(1, 1_000_001),
    "sensor_kind": ("imu", "adc"),
    "sensor_seed": range(0, 2**32),
}
# Query keys per simulator -> the values they take (_BOARD: an id from boards/*.toml; a tuple:
# the choices; a range: a whole number in it).
SIM_OPTIONS = {
    "tflm": {"board": _BOARD},
    "host": {"board": _BOARD, "sanitize": _FLAG, "fake": _FLAG, "rx": range(64, 65536), **_EEMBC, **_SENSOR, **_PATCH},
    "qemu-m4": {"board": _BOARD, "kernels": ("dsp", "portable"), **_EEMBC, **_SENSOR, **_LINK, **_PATCH},
    # M0 and M3 have no DSP extension: the portable kernels are their only kernels.
    "qemu-m0": {"board": _BOARD, **_EEMBC, **_LINK},
    "qemu-m3": {"board": _BOARD, **_EEMBC, **_LINK},
    "qemu-m7": {"board": _BOARD, "kernels": ("dsp", "portable"), **_EEMBC, **_LINK},
    "qemu-m33": {"board": _BOARD, "kernels": ("dsp", "portable"), **_EEMBC, **_LINK},
    "qemu-m55": {"board": _BOARD, "kernels": ("dsp", "portable"), **_EEMBC, **_LINK},
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
    loose = sorted(k for k in params if k.startswith("sensor_") and "sensor" not in params)
    if loose:
        raise UsageError(f"{url} gives {loose[0]} without a sensor to play", "Add ?sensor=FILE.wav|FILE.csv.")
    return params


def _check_value(name: str, key: str, value: str, choices, url: str) -> None:
    if choices == _BOARD:
        _check_board(value, url)
    elif choices == _FILE:
        _check_sensor_file(value, url)
    elif choices in (_REAL, _NONNEG, _DROPOUTS):
        _check_number(key, value, choices, url)
    elif isinstance(choices, range):
        if not value.isdigit() or int(value) not in choices:
            what = "a byte count" if key == "rx" else "a whole number"
            raise UsageError(
                f"sim://{name} {key}={value} must be {what} between {choices.start} and {choices.stop - 1}",
                f"For example ?{key}={max(choices.start, min(1024, choices.stop - 1))}.",
            )
    elif value.lower() not in choices:
        raise UsageError(
            f"{url}: {key}={value} is not one of {', '.join(choices)}",
            f"For example sim://{name}?{key}={choices[1]}.",
        )


def _check_sensor_file(value: str, url: str) -> None:
    import os

    if not value.lower().endswith((".wav", ".csv", ".tfps")) or not os.path.isfile(value):
        raise UsageError(
            f"{url}: sensor={value} is not an existing .wav, .csv or .tfps file",
            "Give the path of a recording to play, e.g. ?sensor=yes.wav.",
        )


def _check_number(key: str, value: str, kind: str, url: str) -> None:
    import math

    rate, _, frames = value.partition(":") if kind == _DROPOUTS else (value, "", "")
    try:
        number = float(rate)
    except ValueError:
        number = math.nan
    ok = math.isfinite(number) and (kind == _REAL or number >= 0)
    if kind == _DROPOUTS:
        ok = ok and number <= 1 and (not frames or (frames.isdigit() and 1 <= int(frames) <= 1_000_000))
    if not ok:
        example = {"sensor_dropouts": "0.001:32", "sensor_noise": "50", "sensor_gain": "0.5"}.get(key, "100")
        raise UsageError(f"{url}: {key}={value} is not a {kind}", f"For example ?{key}={example}.")


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
