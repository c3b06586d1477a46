"""Open a device for a model: compile it, pick the kernels, build the firmware, open the target.

The composition the layers below do not do themselves: tinyflow.compile turns the model into C,
tinyflow.compile.kernels picks each kernel's source for the machine's core, tinyflow.build
builds the firmware, and tinyflow.targets runs it. Real ports and sim://tflm need no build.

    port = open_device("sim://qemu-m4?board=nano33ble", model=model_bytes)
"""

from __future__ import annotations

from tinyflow import targets
from tinyflow.build.firmware import Firmware, FirmwareOptions
from tinyflow.errors import UsageError
from tinyflow.targets.device import model_bytes
from tinyflow.targets.sim import flag, machine


def open_device(
    url: str,
    *,
    model=None,
    board=None,
    timeout: float = 2.0,
    baud: int = targets.DEFAULT_BAUD,
    frontend=None,
):
    """Open `url` for `model` (bytes or path) and return a pyserial-like port.

    sim://host and sim://qemu-m4 get their firmware built first (cached by content); every other
    URL opens as tinyflow.targets.open_target opens it. Options are checked before any build.
    The front end (a tinyflow.frontends config; default: the sidecar next to a model file) runs on
    the simulated device before the model: input 0 is then the raw signal (pipeline.h).

    Raises:
        UsageError: a bad URL or option, or a simulator that needs a model and got none.
        ModelError, BoardError, ToolchainError: from compiling, fitting or building the firmware.
    """
    firmware = None
    frontend = frontend if frontend is not None else model_frontend(model)
    if url and url.startswith("sim:"):
        name, params = targets.parse_sim_url(url)
        if params.get("protocol") == "eembc":
            frontend = None  # the MLPerf Tiny runner sends the model's own input
        board = board if board is not None else params.get("board")
        firmware = build_for(name, params, model, board, frontend=frontend)
    # Through the module: tests replace targets.open_target to prove a device was never opened.
    port = targets.open_target(url, model=model, firmware=firmware, board=board, timeout=timeout, baud=baud)
    device = getattr(port, "device", None)
    if firmware is None and frontend is not None and hasattr(device, "attach_frontend"):
        try:  # sim://tflm: the Python device runs the numpy twin of pipeline.c
            runtime = getattr(port, "runtime", None)
            if hasattr(runtime, "check_frontend_fit"):  # the board fit, now with the front end's memory
                runtime.check_frontend_fit(frontend_cost(frontend, runtime.model_input))
            device.attach_frontend(frontend)
        except BaseException:
            port.close()
            raise
    return port


def model_frontend(model):
    """The front end configuration stored next to a model file (its sidecar), or None."""
    if model is None or isinstance(model, (bytes, bytearray, memoryview)):
        return None
    from tinyflow.frontends import read_sidecar

    return read_sidecar(model)


def resolve_frontend(model, name: str | None):
    """The front end a model runs with: its sidecar, else the default configuration of `name`.

    Raises:
        UsageError: `name` names another front end than the sidecar's.
    """
    from tinyflow.frontends import default_config

    stored = model_frontend(model)
    if name and stored is not None and stored.name != name:
        raise UsageError(
            f"--frontend {name} conflicts with the model's sidecar, which names {stored.name}",
            "Drop --frontend (the sidecar is used), or delete the sidecar.",
        )
    return stored if stored is not None else (default_config(name) if name else None)


def build_for(name: str, params: dict[str, str], model, board, *, frontend=None) -> Firmware | None:
    """The firmware simulator `name` runs for `model` with the URL's options; None when it runs
    the model itself (sim://tflm)."""
    # ?max_ram=: compile with patch-based stages meeting that arena (tinyflow.compile.compile_model).
    patches = {"max_ram": int(params["max_ram"])} if "max_ram" in params else {}
    if name == "host":
        extra = {"frontend": frontend} if frontend is not None else {}  # only when set: as before otherwise
        return build_host_firmware(model, host_options(params), board=board, **extra, **patches)
    spec = getattr(machine(name), "MACHINE", None)
    if spec is None:
        return None
    if model is None:
        raise UsageError(f"sim://{name} needs a model to build its firmware", "Pass the model file (MODEL argument).")
    return build_qemu_firmware(
        model,
        board or spec.default_board,
        dsp=params.get("kernels", "dsp") != "portable",
        machine_name=name,
        options=protocol_options(params, FirmwareOptions()),
        **({"frontend": frontend} if frontend is not None else {}),
        **patches,
    )


def protocol_options(params: dict[str, str], options: FirmwareOptions) -> FirmwareOptions:
    """`options` with the URL's ?protocol= and ?benchmark= applied (checked together)."""
    options.eembc = params.get("protocol") == "eembc"
    options.benchmark = params.get("benchmark")
    if options.benchmark and not options.eembc:
        raise UsageError(
            f"?benchmark={options.benchmark} applies to the MLPerf Tiny protocol only",
            f"Add protocol=eembc: ?protocol=eembc&benchmark={options.benchmark}.",
        )
    return options


def host_options(params: dict[str, str]) -> FirmwareOptions:
    """The build options of a checked sim://host query."""
    options = FirmwareOptions(
        sanitize=flag(params, "sanitize"),
        fake=flag(params, "fake"),
        rx_bytes=int(params["rx"]) if "rx" in params else None,
    )
    return protocol_options(params, options)


def build_host_firmware(model, options: FirmwareOptions, *, board=None, frontend=None, max_ram=None) -> Firmware:
    """The host executable for `model` (or the fake model with options.fake)."""
    from tinyflow.build.firmware import build_host

    board_id = getattr(board, "id", board)
    if options.fake:
        return build_host(None, options, board_id=board_id)
    if model is None:
        raise UsageError(
            "sim://host needs a model to build its firmware", "Pass the model file, or use sim://host?fake=1."
        )
    from tinyflow.compile import compile_model

    # EEMBC runs one loaded input many times: the plan must keep the input buffer intact.
    compiled = compile_model(model_bytes(model), name="model", preserve_inputs=options.eembc, max_ram=max_ram)
    return build_host(attach(compiled, None if options.eembc else frontend), options, board_id=board_id)


def frontend_cost(frontend, model_input):
    """The front end's flash and RAM next to a model whose input 0 is `model_input` (None without
    one): computed here, where rendering its plan is allowed, and handed to the fit checks as data."""
    from tinyflow.export.frontend_tables import frontend_footprint

    return frontend_footprint(frontend, model_input)


def attach(compiled, frontend):
    """`compiled` carrying the front end's plan and C (unchanged without one)."""
    if frontend is None:
        return compiled
    from tinyflow.export.frontend_tables import with_frontend

    return with_frontend(compiled, frontend)


def build_qemu_firmware(
    model,
    board,
    *,
    name: str = "model",
    dsp: bool = True,
    machine_name: str = "qemu-m4",
    options=None,
    frontend=None,
    max_ram: int | None = None,
    trace_table: str | None = None,
):
    """Cross-build the firmware for `model` on `board`, for an emulated machine.

    Args:
        model: .tflite bytes or path, or a CompiledModel (built as it was compiled).
        board: a board id, Board, or tinyflow.build.firmware.BoardBudget (taken as it is).
        dsp: the core's DSP kernel variants (bit-identical outputs); False builds the portable
            kernels (the bench compares both).
        options: a FirmwareOptions for the protocol (?protocol=eembc&benchmark=); default tinyflow frames.
        frontend: a front end configuration the firmware runs before the model (not with EEMBC).
        max_ram: an activation arena budget met by patch-based inference (compile_model's max_ram).
        trace_table: with a CompiledModel, a debug build tracing each op's outputs (build_mps2's
            trace_table; tinyflow.workflows.intermediates_qemu).
    Returns:
        tinyflow.build.firmware.Firmware (ELF path, memory figures, board id).
    Raises:
        BoardError: a board of another core, or a firmware that does not fit it (with the numbers).
        ModelError: the compiled runtime cannot compile the model.
    """
    from tinyflow.build.firmware import BoardBudget, board_budget, build_mps2
    from tinyflow.compile import CompiledModel, compile_model
    from tinyflow.compile.context import board_table_flash
    from tinyflow.compile.kernels import kernel_sources, variant_for

    spec = machine(machine_name).MACHINE
    checked = board if isinstance(board, BoardBudget) else spec.check_board(board)
    budget = board_budget(checked)
    eembc = options is not None and options.eembc
    # The DSP tables follow what the board's flash spares; a core without the extension gets none.
    core_dsp = variant_for(spec.core, True) is not None
    table_flash = board_table_flash(checked) if core_dsp else 0
    if isinstance(model, CompiledModel):  # compiled with the caller's options (bench: patch stages)
        compiled = attach(model, None if eembc else frontend)
    else:
        # EEMBC runs one loaded input many times: the plan must keep the input buffer intact.
        compiled = attach(
            compile_model(
                model_bytes(model), name=name, preserve_inputs=eembc, max_ram=max_ram, table_flash=table_flash
            ),
            None if eembc else frontend,
        )
    # The machine's core picks the kernels, as it does for a generated project for the board.
    kernels = kernel_sources(list(compiled.kernels), variant_for(spec.core, dsp))
    return build_mps2(
        compiled,
        budget,
        kernels=kernels,
        ticks_per_second=spec.ticks_per_second_for(budget.clock_hz),
        name=name,
        label=("" if dsp else "-portable")
        + (f"-eembc-{options.benchmark or 'generic'}" if eembc else "")
        + (f"-{compiled.frontend.name}" if compiled.frontend is not None else ""),
        options=options,
        target=spec.qemu_machine,
        frontend=frontend_cost(compiled.frontend, compiled.model.tensors[compiled.model.inputs[0]]),
        dsp=core_dsp,
        **({"trace_table": trace_table} if trace_table is not None else {}),
    )
