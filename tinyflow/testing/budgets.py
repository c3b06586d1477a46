"""Budget assertions for CI: one model against RAM, flash, instructions, latency, accuracy and agreement.

    from tinyflow.testing import Gate
    gate = Gate("model.tflite", board="nano33ble", target="sim://host")
    gate.assert_ram(max_bytes=64_000)            # BudgetExceeded (an AssertionError) with the numbers
    gate.assert_agreement("random:20", min_agreement=1.0)

Each measurement runs once per Gate (inspect, profile, and one eval per dataset) and is reused by
the assertions that read it. Everything goes through the public facade (`import tinyflow`), loaded
on first use, so importing this module costs nothing.
"""

from __future__ import annotations

from pathlib import Path

DEFAULT_TARGET = "sim://host"
DEFAULT_CORE = "sim://qemu-m4"  # instructions are counted only on an emulated core (QEMU -icount)


class BudgetExceeded(AssertionError):
    """A model over one of its budgets; the message says what was measured, the limit and what to do."""


def _fail(what: str, hint: str) -> None:
    __tracebackhide__ = True  # pytest shows the test's line and this message, not our frames
    raise BudgetExceeded(f"{what}. {hint}")


class Gate:
    """The budget checks of one model on one board and target, measuring each thing once.

    Args:
        model: the int8 .tflite path.
        board: a board id (boards/*.toml): the default RAM and flash limits are what it leaves usable.
        target: where eval runs (sim://host, sim://tflm, a device path, rfc2217://host:port).
        runtime: tflm or aot, as for `tinyflow inspect --runtime`.
    """

    def __init__(self, model, *, board: str | None = None, target: str = DEFAULT_TARGET, runtime: str = "tflm"):
        self.model = Path(model)
        self.board = board
        self.target = target
        self.runtime = runtime
        self._inspect = None
        self._profile = None
        self._evals: dict[str, object] = {}

    # -- measurements, once each ------------------------------------------------------------
    def inspect(self):
        """The InspectReport (with the board fit when a board is set)."""
        if self._inspect is None:
            import tinyflow

            self._inspect = tinyflow.inspect_model(self.model, board=self.board, runtime=self.runtime)
        return self._inspect

    def profile(self, core: str | None = None):
        """The ProfileReport on an emulated core (`core`, else the target when it is a QEMU one)."""
        if self._profile is None:
            import tinyflow

            url = core or (self.target if self.target.startswith("sim://qemu") else self._core())
            self._profile = tinyflow.profile(tinyflow.ProfileConfig(self.model, target=url, board=self.board))
        return self._profile

    def evaluate(self, dataset: str):
        """The EvalReport of `dataset` on the target."""
        if dataset not in self._evals:
            import tinyflow

            config = tinyflow.EvalConfig(self.model, dataset=dataset, target=self.target)
            self._evals[dataset] = tinyflow.evaluate(config)
        return self._evals[dataset]

    # -- assertions ---------------------------------------------------------------------------
    def assert_fits(self):
        """The model fits the board (flash and RAM, as `tinyflow inspect --board` decides)."""
        __tracebackhide__ = True  # pytest shows the test's line and this message, not our frames
        fit = self._fit()
        if not fit.fits:
            over = [fit.explain(k) for k in ("flash", "ram") if getattr(fit, f"{k}_headroom") < 0]
            _fail(
                f"{self.model.name} does not fit {fit.board}: " + "; ".join(over),
                "Shrink the model or pick a bigger board.",
            )
        return fit

    def assert_ram(self, max_bytes: int | None = None) -> int:
        """RAM the model needs on the board (arena + margin + runtime) is at most `max_bytes`
        (default: the board's usable RAM). Returns the bytes needed."""
        __tracebackhide__ = True  # pytest shows the test's line and this message, not our frames
        return self._memory("ram", max_bytes)

    def assert_flash(self, max_bytes: int | None = None) -> int:
        """Flash the model needs on the board (model + runtime) is at most `max_bytes`."""
        __tracebackhide__ = True  # pytest shows the test's line and this message, not our frames
        return self._memory("flash", max_bytes)

    def assert_instructions(self, max_instructions: int, core: str | None = None) -> int:
        """Instructions per inference on an emulated core (exact, QEMU -icount) are at most the limit."""
        __tracebackhide__ = True  # pytest shows the test's line and this message, not our frames
        p = self.profile(core)
        if p.instructions is None:
            _fail(f"{p.target} does not count instructions", "Use an emulated core: sim://qemu-m4.")
        if p.instructions > max_instructions:
            _fail(
                f"{self.model.name} runs {p.instructions:,} instructions per inference on {p.target}, "
                f"limit {max_instructions:,} (over by {p.instructions - max_instructions:,})",
                "Make the model smaller, or raise the limit if the growth is intended.",
            )
        return p.instructions

    def assert_latency(self, max_ms: float, core: str | None = None) -> float:
        """The latency estimate at the board's clock (instructions x cycles/instruction) is at most `max_ms`."""
        __tracebackhide__ = True  # pytest shows the test's line and this message, not our frames
        p = self.profile(core)
        if p.latency_ms > max_ms:
            clock = f" at {p.clock_hz / 1e6:g} MHz" if p.clock_hz else ""
            _fail(
                f"{self.model.name} takes an estimated {p.latency_ms:.3f} ms per inference on {p.target}{clock}, "
                f"limit {max_ms:g} ms",
                "Make the model smaller or pick a faster board, or raise the limit.",
            )
        return p.latency_ms

    def assert_accuracy(self, dataset: str, min_accuracy: float) -> float:
        """Accuracy on `dataset` on the target is at least `min_accuracy` (0-1)."""
        __tracebackhide__ = True  # pytest shows the test's line and this message, not our frames
        value = self.evaluate(dataset).metrics.get("accuracy")
        return self._at_least("Accuracy", value, min_accuracy, dataset, "Retrain, or check the quantization.")

    def assert_agreement(self, dataset: str, min_agreement: float = 1.0) -> float:
        """Share of outputs identical to the TFLM reference on the host is at least `min_agreement` (0-1)."""
        __tracebackhide__ = True  # pytest shows the test's line and this message, not our frames
        value = self.evaluate(dataset).agreement.get("exact_match_rate")
        return self._at_least(
            "Outputs identical to the TFLM reference", value, min_agreement, dataset, "The target computes differently."
        )

    # -- helpers ------------------------------------------------------------------------------
    def _core(self) -> str:
        """The emulated core of the board (its clock sets the latency estimate), else sim://qemu-m4."""
        if self.board is None:
            return DEFAULT_CORE
        from tinyflow.testing.ci_project import emulated_core

        return emulated_core(self.board) or DEFAULT_CORE

    def _fit(self):
        __tracebackhide__ = True  # pytest shows the test's line and this message, not our frames
        if self.board is None:
            _fail("No board to check the model against", "Pass --tinyflow-board ID or set TINYFLOW_BOARD.")
        return self.inspect().fit

    def _memory(self, kind: str, limit: int | None) -> int:
        __tracebackhide__ = True  # pytest shows the test's line and this message, not our frames
        fit = self._fit()
        needed = getattr(fit, f"{kind}_needed")
        limit = getattr(fit, f"{kind}_usable") if limit is None else int(limit)
        if needed > limit:
            name = "RAM" if kind == "ram" else "Flash"
            _fail(
                f"{name} budget exceeded: {self.model.name} needs {needed:,} B, limit {limit:,} B "
                f"(over by {needed - limit:,} B). On the board, {fit.explain(kind)}",
                "Shrink the model, try --runtime aot, or raise the limit in the test.",
            )
        return needed

    def _at_least(self, label: str, value, limit: float, dataset: str, hint: str) -> float:
        __tracebackhide__ = True  # pytest shows the test's line and this message, not our frames
        shown = "not measured" if value is None else f"{100 * value:.1f}%"
        if value is None or value < limit:
            _fail(f"{label} on {dataset} via {self.target}: {shown}, limit >= {100 * limit:.1f}%", hint)
        return value
