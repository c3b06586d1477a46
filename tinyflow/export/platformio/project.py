"""Plan the files of a PlatformIO project for a model, a board and a runtime (pure: text out).

    plan = plan_project(model_bytes, "nano33ble", "tflm")   # refuses models that do not fit
    plan.files    # {"platformio.ini": "...", "lib/tinyflow_core/src/device.c": "...", ...}
    plan.fit      # tinyflow.boards.FitReport

Writing happens in tinyflow.export.platformio.writer. Layout of a project:

    platformio.ini  README.md  tinyflow_build.py (tflm)  include/tinyflow_config.h  src/main.cpp
    lib/tinyflow_core/           the portable protocol core (firmware/src, firmware/include)
    lib/tinyflow_model/          the runtime: TFLM glue + model array, or the compiled C + kernels
    lib/tinyflow_port_arduino/   the Arduino HAL (board envs)
    lib/tinyflow_port_host/      the host HAL (the `native` env)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from string import Template

from tinyflow import __version__
from tinyflow.boards import Board, FitReport, arena_with_margin, fit_model, load_board
from tinyflow.build.firmware import EEMBC_BENCHMARK_IDS
from tinyflow.compile.cemit import banner_text, generated_banner
from tinyflow.errors import UsageError
from tinyflow.escaping import COMMENT_LIMIT, c_comment, c_string, py_literal, text_line
from tinyflow.export.platformio import ini, tflm_glue, tflm_library
from tinyflow.resources import firmware_dir
from tinyflow.tflite import TfliteModel, read_model
from tinyflow.tflite.device_io import check_device_io

RUNTIMES = ("tflm", "aot")
PROTOCOLS = ("native", "eembc")
# link: the firmware waits for the host (eval, profile, classify); app: it also classifies its sensor
# from boot and calls the user's tinyflow_on_prediction() (firmware/src/app.c).
MODES = ("link", "app")
USER_APP_FILE = "src/on_prediction.c"  # the user's from the first generation on: never rewritten
DEFAULT_RX_BYTES = 1024


@dataclass
class ProjectPlan:
    """Every file of a project (relative path -> text) and the numbers behind them."""

    board: Board
    runtime: str
    model_name: str
    files: dict[str, str]
    fit: FitReport
    arena_bytes: int  # what the firmware reserves (tflm: measured + margin; aot: planned)
    measured_arena_bytes: int | None = None  # tflm: the host measurement the arena came from
    notes: list[str] = field(default_factory=list)
    mode: str = "link"
    user_files: dict[str, str] = field(default_factory=dict)  # written only where absent (the user's)


def plan_project(
    model,
    board: str | Board,
    runtime: str,
    *,
    name: str | None = None,
    protocol: str = "native",
    measured_arena_bytes: int | None = None,
    source: str | None = None,
    benchmark: str | None = None,
    mode: str = "link",
    max_ram: int | None = None,
) -> ProjectPlan:
    """All files of the project; raises BoardError (with the numbers) when the model does not fit.

    Args:
        model: .tflite bytes, a path or a TfliteModel.
        measured_arena_bytes: tflm only: skip the host arena measurement and use this figure.
        source: how the banner names the model (default: the file name or the model name).
        benchmark: eembc only: the MLPerf Tiny benchmark (kws01, ic01, vww01, ad01) whose model
            string and I/O conventions the firmware follows (docs/mlperf.md).
        mode: "app" builds with TINYFLOW_APP_AUTOSTART (sensor -> front end -> model from boot) and
            plans src/on_prediction.c as the user's file (ProjectPlan.user_files); needs a front end.
        max_ram: aot only: an activation arena budget (tinyflow.compile.compile_model's max_ram).

    Raises:
        UsageError: unknown runtime or protocol. BoardError: unknown board or no fit.
        ModelError: unreadable model, or an op the runtime cannot run.
    """
    if runtime not in RUNTIMES:
        raise UsageError(f"Unknown runtime {runtime!r}", f"Use one of: {', '.join(RUNTIMES)}.")
    if protocol not in PROTOCOLS:
        raise UsageError(f"Unknown protocol {protocol!r}", f"Use one of: {', '.join(PROTOCOLS)}.")
    if benchmark is not None and (protocol != "eembc" or benchmark not in EEMBC_BENCHMARK_IDS):
        raise UsageError(
            f"Benchmark {benchmark!r} needs --protocol eembc and one of {', '.join(EEMBC_BENCHMARK_IDS)}",
            "For example --protocol eembc --benchmark kws01.",
        )
    _check_mode(mode, protocol, model)
    if max_ram is not None and runtime != "aot":
        raise UsageError("--max-ram applies to the compiled runtime only", "Add --runtime aot, or drop --max-ram.")
    b = load_board(board)
    m = model if isinstance(model, TfliteModel) else read_model(model)
    check_device_io(m)  # a project whose firmware could not serve the model is refused now
    if name is None:
        name = Path(str(model)).stem if isinstance(model, (str, Path)) else "model"
    source = source or (Path(str(model)).name if isinstance(model, (str, Path)) else f"{name}.tflite")
    # Raw text from a file name or the caller: each generator escapes it for its own language.
    source = f"{str(source)[:COMMENT_LIMIT]} (sha256 {m.sha256[:12]}), board {b.id}, runtime {runtime}"
    frontend = _frontend_footprint(m, model) if protocol == "native" else None
    if runtime == "tflm":
        files, arena, measured, fit = _tflm_files(m, b, name, source, measured_arena_bytes, frontend)
    else:
        # The MLPerf Tiny runner and a front end write the input whole: no streamed input for them.
        stream = "auto" if protocol == "native" and frontend is None else "off"
        files, arena, fit = _aot_files(m, b, name, source, frontend, max_ram, stream)
        measured = None
    input_bytes = sum(int(m.tensors[i].nbytes) for i in m.inputs)
    files.update(_common_files(b, runtime, name, source, protocol, arena, input_bytes, benchmark=benchmark))
    if protocol == "native":  # the MLPerf Tiny runner sends the model's own input
        _add_frontend(files, m, model, source)
    user_files = {}
    if mode == "app":
        config_h = files["include/tinyflow_config.h"]
        files["include/tinyflow_config.h"] = _with_define(config_h, "TINYFLOW_APP_AUTOSTART", "1")
        user_files[USER_APP_FILE] = app_callback_file(source)
    return ProjectPlan(
        board=b,
        runtime=runtime,
        model_name=name,
        files=files,
        fit=fit,
        arena_bytes=arena,
        measured_arena_bytes=measured,
        mode=mode,
        user_files=user_files,
    )


def _check_mode(mode: str, protocol: str, model) -> None:
    if mode not in MODES:
        raise UsageError(f"Unknown mode {mode!r}", f"Use one of: {', '.join(MODES)}.")
    if mode != "app":
        return
    if protocol != "native":
        raise UsageError("--mode app needs --protocol native", "The MLPerf Tiny protocol has no application mode.")
    from tinyflow.frontends import read_sidecar

    if not isinstance(model, (str, Path)) or read_sidecar(model) is None:
        raise UsageError(
            "--mode app needs the model's front end: the application classifies raw sensor windows",
            f"Put its configuration beside the model ({Path(str(model)).name}.frontend.json; docs/frontends.md).",
        )


def _with_define(config_h: str, key: str, value: str) -> str:
    end = "\n#endif /* TINYFLOW_GENERATED_CONFIG_H */"
    return config_h.replace(end, f"#define {key} {value}\n{end}")


def app_callback_file(source: str) -> str:
    """src/on_prediction.c: the application's hook, an example the user edits (never regenerated)."""
    # The editable banner, minus its "unless --force": firmware generate has no way to rewrite it.
    banner = generated_banner(source, __version__, editable=True).replace(" unless --force.", ".")
    return f"{banner}\n{_read('templates/on_prediction.c')}"


def _add_frontend(files: dict[str, str], m: TfliteModel, model, source: str) -> None:
    """The model's front end (its sidecar, when `model` is a file with one): the plan and the
    front end C in the model library, TINYFLOW_FRONTEND_KIND in the force-included config."""
    from tinyflow.export.frontend_tables import frontend_files, pipeline_defines
    from tinyflow.frontends import read_sidecar

    config = read_sidecar(model) if isinstance(model, (str, Path)) else None
    if config is None:
        return
    for fname, text in frontend_files(config, m.tensors[m.inputs[0]]).items():
        files[f"lib/tinyflow_model/src/{fname}"] = text if fname == "frontend_plan.c" else _banner_copy(text, source)
    defines = "".join(f"#define {k} {v}\n" for k, v in pipeline_defines(config).items())
    config_h = files["include/tinyflow_config.h"]
    files["include/tinyflow_config.h"] = config_h.replace(
        "\n#endif /* TINYFLOW_GENERATED_CONFIG_H */", defines + "\n#endif /* TINYFLOW_GENERATED_CONFIG_H */"
    )


def _frontend_footprint(m: TfliteModel, model):
    """The sidecar's front end's flash and RAM (None without one): the fit counts them."""
    from tinyflow.export.frontend_tables import frontend_footprint
    from tinyflow.frontends import read_sidecar

    config = read_sidecar(model) if isinstance(model, (str, Path)) else None
    return frontend_footprint(config, m.tensors[m.inputs[0]])


def _tflm_files(m: TfliteModel, b: Board, name: str, source: str, measured: int | None, frontend=None):
    methods = tflm_glue.resolver_methods(m)  # refuse ops the pinned library lacks before measuring
    tflm_library.check_model(m, b.id)  # and quantizations it would silently get wrong
    if measured is None:
        from tinyflow.runtimes.tflm import measure_arena

        measured = measure_arena(m).arena_bytes
    arena = arena_with_margin(measured)
    fit = fit_model(b, "tflm", model_flash=len(m.data), ram=measured, frontend=frontend)  # as inspect
    fit.raise_if_not_fit()
    lib = "lib/tinyflow_model"
    files = {
        f"{lib}/src/model_tflm.cpp": _copy("tflm/model_tflm.cpp"),
        f"{lib}/src/debug_log.cpp": _copy("tflm/debug_log.cpp"),
        f"{lib}/include/tinyflow_tflm_model.h": tflm_glue.model_header(m, name, arena, source, __version__),
        f"{lib}/include/tinyflow_model_impl.h": _impl_header(source, "tflm", methods),
        "tinyflow_build.py": Template(_read("templates/tinyflow_build.py")).substitute(
            docstring=py_literal(banner_text(source, __version__))
        ),
    }
    for fname, text in tflm_glue.model_data_files(m, source).items():
        sub = "include" if fname.endswith(".h") else "src"
        files[f"{lib}/{sub}/{fname}"] = text
    return files, arena, measured, fit


def _aot_files(
    m: TfliteModel, b: Board, name: str, source: str, frontend=None, max_ram: int | None = None, stream: str = "auto"
):
    from tinyflow.compile import compile_model
    from tinyflow.compile.context import board_table_flash
    from tinyflow.compile.kernels import project_kernel_files, variant_for

    # The DSP tables take what this board's flash spares (the fit below still checks the total).
    compiled = compile_model(m, name=name, max_ram=max_ram, table_flash=board_table_flash(b), stream_input=stream)
    arena = int(compiled.plan.arena_bytes)
    fit = fit_model(
        b, "aot", model_flash=compiled.flash_constants(b.dsp), ram=arena, flash_label="weights", frontend=frontend
    )
    fit.raise_if_not_fit()
    lib = "lib/tinyflow_model"
    files = {
        f"{lib}/src/{fname}": f"{generated_banner(source, __version__)}\n{text}"
        for fname, text in compiled.sources.items()
    }
    # The board's kernel variants (Cortex-M4 DSP on nano33ble), as sim://qemu-m4 builds them.
    for rel, item in project_kernel_files(list(compiled.kernels), variant_for(b.core, b.dsp)).items():
        files[f"{lib}/src/kernels/{rel}"] = (
            _copy(item.relative_to(firmware_dir()).as_posix()) if isinstance(item, Path) else _banner_copy(item, source)
        )
    files[f"{lib}/include/tinyflow_model_impl.h"] = _impl_header(source, "aot", list(compiled.kernels))
    return files, arena, fit


def _common_files(
    b: Board,
    runtime: str,
    name: str,
    source: str,
    protocol: str,
    arena: int,
    input_bytes: int,
    benchmark: str | None = None,
) -> dict[str, str]:
    fw = firmware_dir()
    files = {
        "platformio.ini": ini.render_ini(
            ini.IniOptions(banner=banner_text(source, __version__), board=b, runtime=runtime)
        ),
        "include/tinyflow_config.h": _config_header(
            b, runtime, name, source, protocol, arena, input_bytes, benchmark=benchmark
        ),
        "src/main.cpp": _banner_copy(
            Template(_read("templates/main.cpp")).substitute(board_id=c_comment(b.id), runtime=c_comment(runtime)),
            source,
        ),
        "README.md": _readme(b, runtime, name, source, protocol),
    }
    for path in sorted((fw / "include" / "tinyflow").rglob("*.h")):
        rel = path.relative_to(fw / "include").as_posix()
        files[f"lib/{ini.CORE_LIB}/include/{rel}"] = _copy(f"include/{rel}")
    for path in sorted((fw / "src").glob("*.c")):
        files[f"lib/{ini.CORE_LIB}/src/{path.name}"] = _copy(f"src/{path.name}")
    for port, hal in (("arduino", "hal.cpp"), ("host", "hal.c")):
        lib = f"lib/{ini.PORT_LIBS[port]}"
        files[f"{lib}/src/{hal}"] = _copy(f"ports/{port}/{hal}")
        files[f"{lib}/include/tinyflow_port_impl.h"] = _port_impl_header(source, port)
    return files


def _port_impl_header(source: str, port: str) -> str:
    # Declares nothing (the port's functions are all in tinyflow/hal.h): with lib_ldf_mode = chain
    # PlatformIO builds only the libraries whose headers the sources include.
    return (
        f"{generated_banner(source, __version__)}\n"
        "/* Included by src/main.cpp so PlatformIO's dependency finder builds this port library. */\n"
        "#ifndef TINYFLOW_PORT_IMPL_H\n#define TINYFLOW_PORT_IMPL_H\n"
        f"#define TINYFLOW_PORT_NAME {c_string(port)}\n"
        "#endif\n"
    )


def _config_header(
    b: Board,
    runtime: str,
    name: str,
    source: str,
    protocol: str,
    arena: int,
    input_bytes: int,
    benchmark: str | None = None,
) -> str:
    values = {
        "TINYFLOW_BOARD_ID": c_string(b.id),
        "TINYFLOW_CPU_HZ": f"{b.cpu_hz}u",
        "TINYFLOW_SERIAL_BAUD": str(b.baud),
        "TINYFLOW_RX_BYTES": str(DEFAULT_RX_BYTES),
        "TINYFLOW_PROTOCOL_EEMBC": "1" if protocol == "eembc" else "0",
        "TINYFLOW_FIRMWARE_VERSION": c_string(f"{__version__} {runtime}"),
        "TINYFLOW_MODEL_NAME": c_string(name),
        "TINYFLOW_RUNTIME_NAME": c_string(runtime),
        "TINYFLOW_ARENA_BYTES": f"{arena}u",
    }
    if protocol == "eembc":
        # `infer N W` reruns one loaded input; both runtimes reuse input memory during an invoke.
        values["TINYFLOW_EEMBC_INPUT_COPY_BYTES"] = f"{input_bytes}u"
        if benchmark is not None:  # its model string and I/O conventions (tinyflow/config.h)
            values["TINYFLOW_EEMBC_BENCHMARK"] = str(EEMBC_BENCHMARK_IDS[benchmark])
    lines = [
        generated_banner(source, __version__),
        "/* Force-included in every translation unit (platformio.ini build_flags), so these values",
        " * take precedence over the defaults in tinyflow/config.h. */",
        "#ifndef TINYFLOW_GENERATED_CONFIG_H",
        "#define TINYFLOW_GENERATED_CONFIG_H",
        "",
    ]
    lines += [f"#define {k} {v}" for k, v in values.items()]
    return "\n".join(lines + ["", "#endif /* TINYFLOW_GENERATED_CONFIG_H */", ""])


def _impl_header(source: str, runtime: str, parts: list[str]) -> str:
    return (
        f"{generated_banner(source, __version__)}\n"
        "/* Included by src/main.cpp so PlatformIO's dependency finder builds this library. */\n"
        "#ifndef TINYFLOW_MODEL_IMPL_H\n#define TINYFLOW_MODEL_IMPL_H\n"
        f"#define TINYFLOW_MODEL_RUNTIME {c_string(runtime)}  /* {c_comment(', '.join(parts))} */\n"
        "#endif\n"
    )


def _readme(b: Board, runtime: str, name: str, source: str, protocol: str) -> str:
    return Template(_read("templates/README.md")).substitute(
        banner=generated_banner(source, __version__, "<!--"),
        board_id=b.id,
        board_name=text_line(b.name),
        runtime=runtime,
        model=text_line(name),
        env=ini.env_name(b),
        baud=b.baud,
        user_ini=ini.USER_INI,
        protocol=protocol,
        usb=", ".join(f"{v:04x}:{p:04x}" for v, p in b.usb_ids) or "none listed",
    )


def _read(rel: str) -> str:
    return (firmware_dir() / rel).read_text()


def _copy(rel: str) -> str:
    """A firmware/ source with a first line saying it is a generated copy."""
    banner = generated_banner(f"a copy of firmware/{rel}", comment="#" if rel.endswith(".py") else "/*")
    return f"{banner}\n{_read(rel)}"


def _banner_copy(text: str, source: str) -> str:
    return f"{generated_banner(source, __version__)}\n{text}"
