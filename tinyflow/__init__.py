"""tinyflow: from data to a microcontroller and back.

The user-facing API, loaded on first use (PEP 562), so `import tinyflow` costs nothing:

    import tinyflow
    report = tinyflow.evaluate(tinyflow.EvalConfig("kws.tflite", dataset="random:100"))
    with tinyflow.subscribe(print):   # progress events (tinyflow.events)
        tinyflow.profile(tinyflow.ProfileConfig("kws.tflite", target="sim://qemu-m4"))

docs/python-api.md lists what is here. The table holds strings resolved with importlib, so the
package root imports nothing (the layer test reads imports from the source).
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# name -> "module:attribute" (or "module" for a module). One spelling per concept: the names of
# the functions themselves, except `profile` (the verb; profile_model in its module) and
# `open_target` (opens any target URL, building the firmware a simulator runs).
_API = {
    # workflows: a config in, a report out
    "evaluate": "tinyflow.workflows.evaluate:evaluate",
    "EvalConfig": "tinyflow.workflows.config:EvalConfig",
    "EvalReport": "tinyflow.workflows.eval_report:EvalReport",
    "profile": "tinyflow.workflows.profile:profile_model",
    "ProfileConfig": "tinyflow.workflows.config:ProfileConfig",
    "ProfileReport": "tinyflow.workflows.profile:ProfileReport",
    "run_demo": "tinyflow.workflows.demo:run_demo",
    "DemoConfig": "tinyflow.workflows.config:DemoConfig",
    "DemoReport": "tinyflow.workflows.demo:DemoReport",
    # progress events
    "events": "tinyflow.events",
    "subscribe": "tinyflow.events:subscribe",
    # data
    "load_dataset": "tinyflow.data:load_dataset",
    "split": "tinyflow.data:split",
    "validate": "tinyflow.data:validate",
    "representative": "tinyflow.data:representative",
    # models (.tflite; training, pruning and quantization are in tinyflow.model, with TensorFlow)
    "read_model": "tinyflow.tflite:read_model",
    "inspect_model": "tinyflow.inspection:inspect_model",
    "measure_arena": "tinyflow.runtimes.tflm:measure_arena",
    "open_runtime": "tinyflow.runtimes:open_runtime",
    "compile_model": "tinyflow.compile:compile_model",
    "memory_report": "tinyflow.compile:memory_report",
    "measure_memory": "tinyflow.export.compiled_c:measure_memory",  # memory_report + Cortex-M4 flash
    # outputs
    "export_model": "tinyflow.export:export_model",  # any registered format (tinyflow.export.FORMATS)
    "export_c_array": "tinyflow.export.c_array:export_c_array",
    "parse_c_array": "tinyflow.export.c_array:parse_c_array",
    "generate_project": "tinyflow.export.platformio:generate_project",
    # boards and devices
    "load_board": "tinyflow.boards:load_board",
    "list_boards": "tinyflow.boards:list_boards",
    "open_target": "tinyflow.workflows.device:open_device",
    # reports
    "table": "tinyflow.report:table",
    "to_json": "tinyflow.report:to_json",
    # errors
    "TinyflowError": "tinyflow.errors:TinyflowError",
    "UsageError": "tinyflow.errors:UsageError",
    "DataError": "tinyflow.errors:DataError",
    "ModelError": "tinyflow.errors:ModelError",
    "BoardError": "tinyflow.errors:BoardError",
    "LinkError": "tinyflow.errors:LinkError",
    "ToolchainError": "tinyflow.errors:ToolchainError",
}

__all__ = ["__version__", *_API]


def __getattr__(name: str):
    target = _API.get(name)
    if target is None:
        raise AttributeError(f"module 'tinyflow' has no attribute {name!r}")
    module, _, attr = target.partition(":")
    value = importlib.import_module(module)
    if attr:
        value = getattr(value, attr)
    globals()[name] = value  # the next access skips this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))
