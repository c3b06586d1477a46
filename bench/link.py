"""Link efficiency under 115200-baud emulation: payload bytes per second over the line rate.

For the two input sizes that matter (490 B, the MLPerf Tiny KWS input; 3,072 B, a 32x32x3 CIFAR
image for IC), samples stream through the real client and the Python device over the baud-rate
throttle (tinyflow.targets.faults.ThrottledPort, 8N1 = 11,520 B/s each way). The device's model
answers instantly, so what is measured is the link alone: framing (COBS + header + CRC), chunked
uploads, reply turnaround, and what the streaming window hides. One end-to-end row runs the real
KWS model on sim://tflm over the same throttle, and two rows put both protocols side by side on
the real C core built for the host (sim://host, compiled KWS and IC models).

For comparison, the MLPerf Tiny (EEMBC) text protocol as its runner drives it: `db load N%`, then
`db <hex>%` lines of at most 31 bytes (two hex digits per byte), each waiting for `m-ready`
before the next (mlcommons/tiny benchmark/runner/device_under_test.py). Its efficiency is
computed from the bytes on the wire, device time taken as zero (an upper bound), and measured on
the C core's EEMBC build (sim://host?protocol=eembc).
"""

from __future__ import annotations

import time
from pathlib import Path

BAUD = 115_200
BITS_PER_BYTE = 10  # 8N1
SIZES = [("KWS (49x10 int8)", 490, 12), ("IC / CIFAR (32x32x3 int8)", 3072, 10)]
WINDOWS = (1, 4)
EEMBC_MAX_BYTES = 31  # bytes per `db` line in the MLPerf Tiny runner (26 with a power manager)
EEMBC_READY = "m-ready\r\n"
CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "models"
GOAL = 0.95


def line_rate(baud: int = BAUD) -> float:
    """Bytes per second one direction of an 8N1 line carries."""
    return baud / BITS_PER_BYTE


def _instant_port(in_bytes: int, out_bytes: int):
    """A simulated device whose model answers at once: only the link costs time."""
    from tinyflow.protocol.messages import TensorSpec
    from tinyflow.targets.device import ModelInfo, PythonDevice, Runtime, SimPort

    class Instant(Runtime):
        board_id, cpu_hz, ticks_per_second = "bench", 1_000_000, 1_000_000

        def model_info(self):
            return ModelInfo(
                "aot",
                "link-bench",
                [TensorSpec(9, (1, in_bytes), 1.0, 0, in_bytes)],
                [TensorSpec(9, (1, out_bytes), 1.0, 0, out_bytes)],
                ["NOP"],
                b"\0" * 8,
                0,
                1,
            )

        def invoke(self, inputs):
            return [bytes(inputs[0][:out_bytes])], [1]

    return SimPort(PythonDevice(Instant()), timeout=2.0)


class _Counting:
    """Counts the bytes the host writes (framing overhead included)."""

    def __init__(self, port):
        self.port, self.written = port, 0

    def __getattr__(self, name):
        return getattr(self.port, name)

    def write(self, data):
        self.written += len(data)
        return self.port.write(data)


def measure(port, in_bytes: int, n: int, window: int, baud: int = BAUD) -> dict:
    """Stream n random samples through `port` throttled to `baud`; returns the figures."""
    import numpy as np

    from tinyflow.targets.client import DeviceClient
    from tinyflow.targets.faults import ThrottledPort

    counting = _Counting(port)
    client = DeviceClient(ThrottledPort(counting, baud), timeout=5.0)
    client.handshake()
    rng = np.random.default_rng(0)
    samples = [rng.integers(-128, 128, in_bytes, dtype=np.int8) for _ in range(n)]
    list(client.infer_many(samples[:1], window=1))  # warm up: the first exchange is not timed
    start_written = counting.written
    t0 = time.perf_counter()
    results = list(client.infer_many(samples, window=window))
    seconds = time.perf_counter() - t0
    assert len(results) == n
    wire = (counting.written - start_written) / n
    return {
        "samples": n,
        "window": window,
        "seconds": seconds,
        "payload_per_s": n * in_bytes / seconds,
        "efficiency": n * in_bytes / seconds / line_rate(baud),
        "wire_bytes_per_sample": wire,
        "framing_efficiency": in_bytes / wire,
        "retries": client.counters.retries,
    }


def eembc(in_bytes: int, max_bytes: int = EEMBC_MAX_BYTES) -> dict:
    """Bytes on the wire to load one input with the MLPerf Tiny text protocol, and its efficiency."""
    lines = [f"db load {in_bytes}%"]
    for i in range(0, in_bytes, max_bytes):
        lines.append("db " + "ab" * min(max_bytes, in_bytes - i) + "%")
    host = sum(len(x) for x in lines)
    # every command is answered (m-ready; the load command and the last line say more) before the next
    device = len(lines) * len(EEMBC_READY) + len(f"m-[Expecting {in_bytes} bytes]\r\n") + len("m-load-done\r\n")
    return {
        "lines": len(lines),
        "host_bytes": host,
        "device_bytes": device,
        "hex_efficiency": in_bytes / host,
        "efficiency": in_bytes / (host + device),
    }


def measure_eembc(port, in_bytes: int, n: int, baud: int = BAUD, max_bytes: int = EEMBC_MAX_BYTES) -> dict:
    """Load n inputs with the MLPerf Tiny text protocol as its runner does, over the throttle."""
    from tinyflow.targets.faults import ThrottledPort

    line = ThrottledPort(port, baud)

    def command(text: str) -> None:
        line.write(text.encode())
        got, deadline = b"", time.monotonic() + 10.0
        while not got.endswith(EEMBC_READY.encode()):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no m-ready after {text[:20]!r}: {got[-60:]!r}")
            got += line.read(max(1, line.in_waiting))

    command("name%")
    chunk = "ab" * max_bytes
    t0 = time.perf_counter()
    for _ in range(n):
        command(f"db load {in_bytes}%")
        for i in range(0, in_bytes, max_bytes):
            command(f"db {chunk[: 2 * min(max_bytes, in_bytes - i)]}%")
    seconds = time.perf_counter() - t0
    return {"samples": n, "seconds": seconds, "efficiency": n * in_bytes / seconds / line_rate(baud)}


def _on_host_firmware(model_rel: str, in_bytes: int, quick: bool) -> dict:
    """Both protocols side by side on the real C core (sim://host) with a corpus model."""
    from tinyflow.errors import TinyflowError
    from tinyflow.workflows.device import open_device

    path = CORPUS / model_rel
    if not path.exists():
        return {"model": model_rel, "bytes": in_bytes, "error": "not in the corpus"}
    out = {"model": model_rel, "bytes": in_bytes}
    try:
        port = open_device("sim://host", model=path.read_bytes(), timeout=2.0)
        try:
            out["binary"] = measure(port, in_bytes, max(4, int((2 if quick else 6) * line_rate() / in_bytes)), 4)
        finally:
            port.close()
        port = open_device("sim://host?protocol=eembc", model=path.read_bytes(), timeout=2.0)
        try:
            out["eembc"] = measure_eembc(
                port, in_bytes, max(2, int((1 if quick else 3) * line_rate() / in_bytes / 2.5))
            )
        finally:
            port.close()
    except (TinyflowError, TimeoutError, OSError) as exc:
        out["error"] = f"{type(exc).__name__}: {exc}"[:200]
    return out


HOST_MODELS = [("mlperf_tiny/kws_ref_model.tflite", 490), ("mlperf_tiny/pretrainedResnet_quant.tflite", 3072)]


def run(quick: bool = False) -> dict:
    rows = []
    for label, in_bytes, out_bytes in SIZES:
        n = max(4, int((6.0 if quick else 20.0) * line_rate() / in_bytes / 4))  # ~1.5-5 s of line time a run
        for window in WINDOWS:
            r = measure(_instant_port(in_bytes, out_bytes), in_bytes, n, window)
            rows.append({"input": label, "bytes": in_bytes, **r, "eembc": eembc(in_bytes)})
    e2e = None
    kws = CORPUS / "mlperf_tiny" / "kws_ref_model.tflite"
    if kws.exists():
        from tinyflow.targets import open_target

        port = open_target("sim://tflm", model=kws.read_bytes(), timeout=2.0)
        try:
            e2e = {
                "model": "mlperf_tiny/kws_ref_model.tflite",
                "target": "sim://tflm",
                **measure(port, 490, 12 if quick else 40, 4),
            }
        finally:
            port.close()
    host = [_on_host_firmware(rel, size, quick) for rel, size in HOST_MODELS]
    return {
        "baud": BAUD,
        "line_rate_bytes_per_s": line_rate(),
        "goal": GOAL,
        "rows": rows,
        "end_to_end": e2e,
        "host_firmware": host,
    }


def markdown(results: dict) -> str:
    lr = results["line_rate_bytes_per_s"]
    out = [
        f"Line: {results['baud']:,} baud 8N1 = {lr:,.0f} B/s each way (emulated by `ThrottledPort`). "
        "Efficiency = input payload bytes per second / line rate. The device answers instantly "
        "(link only); goal >= {:.2f}.".format(results["goal"]),
        "",
        "| input | bytes | window | samples | payload B/s | efficiency | wire B/sample | framing eff. | "
        "MLPerf Tiny text protocol |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results["rows"]:
        e = r["eembc"]
        out.append(
            f"| {r['input']} | {r['bytes']:,} | {r['window']} | {r['samples']} | {r['payload_per_s']:,.0f} | "
            f"**{r['efficiency']:.3f}** | {r['wire_bytes_per_sample']:,.0f} | {r['framing_efficiency']:.3f} | "
            f"{e['efficiency']:.3f} |"
        )
    e2e = results.get("end_to_end")
    if e2e:
        out += [
            "",
            f"End to end, the real KWS model on {e2e['target']} over the same throttle (window "
            f"{e2e['window']}, TFLM inference on the host overlapping the transfer): "
            f"{e2e['samples']} samples in {e2e['seconds']:.2f} s, efficiency **{e2e['efficiency']:.3f}**.",
        ]
    host = results.get("host_firmware") or []
    if host:
        out += [
            "",
            "Both protocols on the real C core built for the host (`sim://host`, the compiled model), same "
            "throttle: tinyflow's binary frames (window 4, inference included) against the MLPerf Tiny text "
            "protocol loading the same input as its runner does (`db load`, 31-byte `db` lines, `m-ready` "
            "awaited after each; inference not included).",
            "",
            "| model | input bytes | tinyflow binary | MLPerf Tiny text (load only) |",
            "|---|---:|---:|---:|",
        ]
        for h in host:
            if "error" in h:
                out.append(f"| {h['model']} | | not measured: {h['error']} | |")
                continue
            b, e = h["binary"], h["eembc"]
            out.append(
                f"| {h['model']} | {h['bytes']:,} | "
                f"**{b['efficiency']:.3f}** ({b['samples']} samples) | {e['efficiency']:.3f} ({e['samples']} samples) |"
            )
    first = results["rows"][0]["eembc"]
    out += [
        "",
        "MLPerf Tiny text protocol: the runner sends `db load N%` then `db <hex>%` lines of at most "
        f"{EEMBC_MAX_BYTES} bytes (two hex digits per byte, so at most {first['hex_efficiency']:.3f} of the "
        "host's bytes are payload) and waits for `m-ready` after each line; the column counts both "
        "directions' bytes with zero device time, an upper bound.",
    ]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    import json

    res = run(quick=True)
    print(markdown(res))
    print(json.dumps({k: v for k, v in res.items() if k != "rows"}, indent=2, default=str))
