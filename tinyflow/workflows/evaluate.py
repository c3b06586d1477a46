"""Evaluate a model on a target: stream a dataset over the device link, compare with the host reference.

    report = evaluate(EvalConfig("kws.tflite", dataset="random:100", report_dir="out/"))
    print(report)                      # tables; report.to_dict() is report.json

Each finished sample is fsync'd to DIR/journal.jsonl before the next is counted, so an
interrupted run continues with `EvalConfig(..., resume=True)` without redoing or losing a sample.
Agreement compares the device's raw output tensors with the TFLite Micro reference runtime run on
the host on the very same int8 inputs.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinyflow import events, metrics
from tinyflow.errors import LinkError, ModelError
from tinyflow.workflows.config import EvalConfig
from tinyflow.workflows.eval_data import EvalData, TensorSpec, load_eval_data, model_specs
from tinyflow.workflows.eval_raw import host_model_input, load_raw_eval_data, remap_labels
from tinyflow.workflows.eval_report import EvalReport, task_metrics
from tinyflow.workflows.journal import COUNTERS, Entry, Journal, lock_folder, outputs_to_arrays

__all__ = ["EvalConfig", "EvalReport", "evaluate", "reference_outputs", "task_metrics"]

DEFAULT_WINDOW = EvalConfig.window
MAX_RETRIES = 10  # failures in a row of one sample before LinkError (a dead link)
MAX_RETRIES_FAULTS = 60  # the same under --inject-faults: (2/3)^60 = 3e-11 per sample


def evaluate(config: EvalConfig) -> EvalReport:
    """Stream the config's dataset to the model on its target; report metrics, agreement, latency, link health.

    Emits (tinyflow.events): the stage "open" around opening the target (a first firmware build
    is there) and Progress("eval", done, total) after each sample is journalled.

    Raises:
        UsageError, DataError, ModelError, BoardError, LinkError.
    """
    from tinyflow.tflite import read_model, read_model_file

    source = config.model
    model_bytes = bytes(source) if isinstance(source, (bytes, bytearray)) else read_model_file(source)
    model = read_model(model_bytes)
    in_specs, out_specs = model_specs(model)
    from tinyflow.frontends.config import resolve_class_names
    from tinyflow.workflows.device import resolve_frontend

    frontend = resolve_frontend(None if isinstance(source, (bytes, bytearray)) else source, config.frontend)
    data = _load_data(config, frontend, in_specs, out_specs, resolve_class_names(frontend, config.class_names))
    pipe = _Pipeline(frontend, in_specs[0], out_specs) if frontend is not None else None
    # The device's outputs: the model's, then (behind a front end) the features it computed.
    device_specs = out_specs if pipe is None else [*out_specs, in_specs[0]]
    name = "model.tflite" if isinstance(source, (bytes, bytearray)) else Path(source).name
    target_url, report_dir = config.target, config.report_dir
    if report_dir is None:
        entries, run = _stream(model_bytes, target_url, data, device_specs, None, config, frontend)
        return _report(name, target_url, data, device_specs, entries, run, model_bytes, pipe)
    with lock_folder(report_dir):  # one run per folder: two would interleave one journal
        header = {
            "model_sha256": hashlib.sha256(model_bytes).hexdigest(),
            "dataset": str(config.dataset),
            "seed": config.seed,
            "split": config.split,
            "samples": len(data),
            "inputs_sha256": data.digest(),
            "target": str(target_url),
            "output_bytes": [s.nbytes for s in device_specs],
        }
        if frontend is not None:  # only then: journals of runs without one stay resumable
            header["frontend"] = frontend.name
        with Journal.open(report_dir / "journal.jsonl", header, config.resume) as journal:
            entries, run = _stream(model_bytes, target_url, data, device_specs, journal, config, frontend)
        run.duplicated += journal.duplicates
        run.damaged = journal.damaged
        report = _report(name, target_url, data, device_specs, entries, run, model_bytes, pipe)
        report.write(report_dir)
    return report


def _load_data(config: EvalConfig, frontend, in_specs, out_specs, class_names: tuple[str, ...] = ()) -> EvalData:
    """The samples (lazy: every size and label check runs here, inputs are made while streaming):
    raw windows when the device runs a front end, the model's own inputs otherwise. Labels are
    renumbered into `class_names` (--class-names, else the sidecar's) when there are any."""
    common = {"seed": config.seed, "limit": config.limit, "split": config.split, "outputs": out_specs}
    if frontend is not None:
        if len(in_specs) != 1:
            raise ModelError(f"A front end feeds one model input; this model has {len(in_specs)}")
        return load_raw_eval_data(config.dataset, frontend, in_specs[0], class_names=class_names, **common)
    data = load_eval_data(config.dataset, in_specs, **common)
    if class_names and data.labels is not None:
        data.class_names, data.labels = remap_labels(data.class_names, data.labels, class_names, data.name)
    return data


class _Pipeline:
    """The host's twin of the device's front end: model inputs and features from raw windows."""

    def __init__(self, frontend, model_input: TensorSpec, out_specs: list[TensorSpec]):
        self.frontend, self.model_input, self.count = frontend, model_input, len(out_specs)

    def model_inputs(self, data: EvalData, index):
        """Per sample, [model input] as the host's front end makes it (one at a time)."""
        return ([host_model_input(self.frontend, self.model_input, data.inputs[i][0])] for i in index)


@dataclass
class _Run:
    """What the streaming loop learned besides the per-sample results."""

    device: dict
    latency_basis: str
    resumed: int
    resumed_index: frozenset = frozenset()  # samples that came from the journal
    duplicated: int = 0
    window: int = DEFAULT_WINDOW
    faults: str | None = None
    baud: int | None = None
    injected: dict | None = None  # what the fault injector did (testing aid)
    counters: tuple = (0, 0, 0)  # the link counters of this session, totalled at its end
    damaged: int = 0  # journal lines dropped on resume (their samples measured again)


def _stream(
    model_bytes, target_url, data: EvalData, out_specs, journal, config: EvalConfig, frontend=None
) -> tuple[dict[int, Entry], _Run]:
    """Send every sample not yet in the journal; returns all entries by sample index."""
    window, faults, baud, seed, timeout = config.window, config.faults, config.baud, config.seed, config.timeout
    entries: dict[int, Entry] = dict(journal.entries) if journal is not None else {}
    todo = [i for i in range(len(data)) if i not in entries]
    run = _Run(
        device={},
        latency_basis="measured by the device",
        resumed=len(entries),
        resumed_index=frozenset(entries),
        window=window,
        faults=faults,
        baud=baud,
    )
    if not todo:
        run.device = {"note": "every sample was already in the journal; the device was not opened"}
        return entries, run
    from tinyflow.targets.client import DeviceClient
    from tinyflow.workflows.device import open_device

    with events.stage("open", open_detail(target_url)):
        port = open_device(target_url, model=model_bytes, timeout=timeout, frontend=frontend)
    run.latency_basis = _latency_basis(port)
    if faults or baud:
        from tinyflow.targets.faults import parse_faults, wrap_port

        spec = parse_faults(faults)
        if faults and "seed=" not in faults:
            spec.seed = seed  # --seed seeds the injector too, so a faulty run can be repeated
        port = wrap_port(port, faults=spec, baud=baud)
    client = None
    try:
        # Injected faults corrupt whole exchanges often (ad01's 640 B in and out at ber=1e-4,
        # drop=1e-4 fail ~2 times in 3), so the bound on failures in a row is raised for them.
        client = DeviceClient(port, timeout=timeout, max_retries=MAX_RETRIES_FAULTS if faults else MAX_RETRIES)
        info = client.handshake()
        _check_device(info, model_bytes, data, out_specs, lambda: _check_frontend(client, frontend))
        run.device = info.to_dict()
        before = _counters(client)
        last = time.monotonic()
        payloads = (b"".join(np.ascontiguousarray(a).tobytes() for a in data.inputs[i]) for i in todo)
        count = 0
        events.emit(events.Progress("eval", len(entries), len(data)))  # resumed samples count as done
        for result in client.infer_many(payloads, window=window):
            if count >= len(todo):  # the client yielded more results than it was given samples
                run.duplicated += 1
                continue
            now, counters = time.monotonic(), _counters(client)
            entry = _entry(todo[count], result, info, now - last, [c - b for c, b in zip(counters, before)])
            before, last = counters, now
            if journal is not None:
                journal.record(entry)
            entries[entry.index] = entry
            count += 1
            events.emit(events.Progress("eval", len(entries), len(data)))  # after the journal has it
        run.device["stats"] = _stats(client)
    except LinkError as exc:
        if journal is not None:
            raise LinkError(
                exc.message,
                f"{exc.hint} {len(entries)} of {len(data)} samples are in the journal: "
                "run again with --resume to continue.".strip(),
            ) from exc
        raise
    finally:
        if client is not None:
            run.counters = tuple(_counters(client))
        run.injected = dict(getattr(port, "injected", None) or {}) or None
        port.close()
    return entries, run


def _entry(index: int, result, info, wall: float, counters) -> Entry:
    outputs = _get(result, "outputs")
    if isinstance(outputs, (list, tuple)):
        raw = [
            np.ascontiguousarray(o).tobytes() if not isinstance(o, (bytes, bytearray)) else bytes(o) for o in outputs
        ]
    else:  # one buffer with every output concatenated, split by the handshake's sizes
        raw, pos = [], 0
        for spec in info.outputs:
            raw.append(bytes(outputs[pos : pos + spec.bytes]))
            pos += spec.bytes
    ticks = int(_get(result, "ticks"))
    us = _get(result, "microseconds")
    if us is None:
        us = ticks * 1e6 / info.ticks_per_second if info.ticks_per_second else _get(result, "micros")
    return Entry(index=index, outputs=raw, ticks=ticks, microseconds=float(us), wall=wall, counters=tuple(counters))


def _check_device(info, model_bytes: bytes, data: EvalData, out_specs: list[TensorSpec], explain=None) -> None:
    """Refuse a device that runs another model: its results would be meaningless.

    `explain()` runs before the output sizes are refused: it may raise a clearer error (a front end
    on one side only)."""
    want = hashlib.sha256(model_bytes).digest()[:8]
    if info.model_sha256 and bytes(info.model_sha256) != want:
        raise ModelError(
            f"The device runs another model (sha256 {bytes(info.model_sha256).hex()}..., "
            f"{info.model_bytes:,} B), not this one ({want.hex()}..., {len(model_bytes):,} B)",
            "Flash the firmware built for this model (tinyflow firmware ...) and run again.",
        )
    sizes = [s.nbytes for s in out_specs]
    if [s.bytes for s in info.outputs] != sizes:
        if explain is not None:
            explain()
        raise ModelError(
            f"The device's outputs are {[s.bytes for s in info.outputs]} bytes but the model's are {sizes}",
            "Rebuild the firmware for this model.",
        )


def _check_frontend(client, frontend) -> None:
    """UsageError when the device runs a front end and eval has none, or the reverse."""
    from tinyflow.errors import UsageError

    try:
        pipe = client.pipeline()
    except LinkError:  # no answer: the size error says enough
        return
    if pipe.kind and (frontend is None or frontend.name != pipe.frontend):
        raise UsageError(
            f"The device runs the {pipe.frontend} front end (raw input of {pipe.window_frames} frames) "
            f"but eval was given {'none' if frontend is None else frontend.name}",
            f"Pass --frontend {pipe.frontend}, or put the model's .frontend.json sidecar next to it.",
        )
    if not pipe.kind and frontend is not None:
        raise UsageError(
            f"Eval was given the {frontend.name} front end but the device runs the bare model",
            "Flash a firmware generated with the model's sidecar, or drop --frontend.",
        )


def _stats(client) -> dict:
    """The device's STATS after the run (arena used, stack high-water mark, its counters)."""
    try:
        return client.stats().to_dict()
    except LinkError as exc:  # the results are in; a lost STATS reply only loses these figures
        return {"error": exc.message}


def _counters(client) -> list[int]:
    counters = getattr(client, "counters", client)
    return [int(getattr(counters, name, 0) or 0) for name in COUNTERS]


def _latency_basis(port) -> str:
    basis = getattr(port, "latency_basis", None)
    if basis:
        return basis
    if getattr(port, "emulation", None) is not None:
        return "is an estimate for the board from exact QEMU instruction counts (docs/qemu.md)"
    return "measured by the device's tick counter"


def open_detail(target_url: str) -> str:
    """What may make opening the target slow, for its StageStarted event ("" when nothing is)."""
    if str(target_url).startswith(("sim://host", "sim://qemu")):
        return f"{target_url}: building the firmware on first use"  # then cached (tinyflow cache info)
    return ""


# -- the report -----------------------------------------------------------------------------


def _report(
    name,
    target_url,
    data: EvalData,
    out_specs,
    entries: dict[int, Entry],
    run: _Run,
    model_bytes: bytes,
    pipe: _Pipeline | None = None,
) -> EvalReport:
    n = len(data)
    done = [entries[i] for i in range(n) if i in entries]
    outputs = [outputs_to_arrays(e.outputs, out_specs) for e in done]
    feature_agreement = {}
    if pipe is None:
        reference = reference_outputs(model_bytes, (data.inputs[e.index] for e in done))  # made one at a time
    else:  # the reference runs on the host's features; the device's own features are compared apart
        host = list(pipe.model_inputs(data, [e.index for e in done]))
        reference = reference_outputs(model_bytes, host)
        device_features = [[o[-1]] for o in outputs]
        outputs, out_specs = [o[:-1] for o in outputs], out_specs[: pipe.count]
        feature_agreement = _feature_agreement(device_features, host, pipe)
    wall = sum(e.wall for e in done)
    latency = metrics.latency([e.microseconds for e in done], wall_seconds=wall or None)
    counts, edges = metrics.histogram([e.microseconds for e in done])
    latency.update(histogram={"counts": counts, "edges": edges}, basis=run.latency_basis)
    link = {
        "lost": n - len(done),
        "duplicated": run.duplicated,
        "resumed": run.resumed,
        "journal_damaged": run.damaged,
        "window": run.window,
        "faults": run.faults,
        "baud": run.baud,
    }
    for k, name_ in enumerate(COUNTERS):
        # earlier sessions: what their journal lines recorded; this one: the client's totals
        link[name_] = int(sum(e.counters[k] for e in done if e.index in run.resumed_index)) + int(run.counters[k])
    if run.injected:
        link["injected"] = run.injected
    report = EvalReport(
        model=name,
        model_sha256=hashlib.sha256(model_bytes).hexdigest(),
        target=str(target_url),
        dataset=data.name,
        task=data.task,
        samples=len(done),
        agreement={**metrics.agreement(outputs, reference), "reference": _reference_label()},
        latency=latency,
        link=link,
        device=run.device,
        class_names=list(data.class_names),
        outputs=outputs,
        reference=reference,
        feature_agreement=feature_agreement,
    )
    report.metrics = task_metrics(data, [e.index for e in done], outputs, out_specs, report.notes)
    if _get(run.device, "runtime") == "tflm" and not str(target_url).startswith("sim://tflm"):
        # Firmware links a TFLM release (float32 FULLY_CONNECTED multipliers); the host has the wheel.
        report.notes.append(
            "the device runs a TFLM release, whose per-tensor FULLY_CONNECTED multipliers come from a "
            "float32 product of scales where the wheel's use a double one: 1-LSB differences on "
            "about 1% of samples are that, not a fault (docs/tflm-library.md)"
        )
    if run.damaged:
        report.notes.append(f"{run.damaged} damaged journal line(s) were dropped and their samples measured again")
    return report


def _feature_agreement(device: list, host: list, pipe: _Pipeline) -> dict:
    """The device's features against the host front end's (bit for bit), as output agreement."""
    got = metrics.agreement(device, host)
    return {
        "exact_match_rate": got["exact_match_rate"],
        "max_abs_diff": got["max_abs_diff"],
        "mismatched": got["mismatched"],
        "frontend": pipe.frontend.name,
    }


def _reference_label() -> str:
    """What the device was compared against (the compiled sim targets follow its arithmetic: compile.quant)."""
    from tinyflow.runtimes.tflm import TflmRuntime

    return TflmRuntime.reference


def reference_outputs(model_bytes: bytes, samples) -> list[list[np.ndarray]]:
    """The TFLite Micro reference runtime on the host, run on the same inputs as the device.

    Args:
        samples: an iterable of samples (each a list of input arrays), consumed one at a time.
    """
    from tinyflow.runtimes import open_runtime

    with open_runtime("tflm", model_bytes) as runtime:
        return runtime.run(s[0] if len(s) == 1 else s for s in samples)


def _get(obj, key):
    return obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)
