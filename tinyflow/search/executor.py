"""Where trials run: in this process (`--serial`) or as Ray tasks (a local Ray, or a cluster's address).

Both take a round of (params) and hand back the results in the same order, each within a
deadline; Ray is imported only here and only when used. A Ray task whose worker or node dies is
retried by Ray (`max_retries`) on a node that is still there: no trial is lost with a worker.
"""

from __future__ import annotations

import time

from tinyflow.errors import TinyflowError, UsageError
from tinyflow.search.trial import run_trial

CONNECT_TIMEOUT = 10.0  # seconds for the cluster's head to accept a connection
RETRIES = 3  # Ray re-runs a task this many times when its worker process or node dies
CONNECT_HINT = "Start the cluster (ray start --head), check --ray-address HOST:PORT, or drop it for a local Ray."


def check_address(address: str, timeout: float = CONNECT_TIMEOUT) -> None:
    """Refuse a malformed HOST:PORT (UsageError) or one where nothing answers within `timeout` s (TinyflowError)."""
    import socket

    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"--ray-address {address[:100]!r} is not HOST:PORT", "Give e.g. --ray-address 10.0.0.5:6379.")
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as exc:
        raise TinyflowError(
            f"Nothing answers at the Ray address {address[:100]} within {timeout:g} s ({exc.strerror or exc})",
            CONNECT_HINT,
        ) from None


class SerialExecutor:
    """Trials one after the other in this process (the reference a parallel sweep must equal)."""

    name = "serial (this process)"

    def results(self, jobs: list[dict], settings: dict, timeout: float):
        """Yield each job's result in order (timeout: trials run here cannot be cut short, see docs)."""
        import contextvars

        for params in jobs:
            # A fresh context: the trial's own eval/profile progress stays out of the sweep's display,
            # as it does on Ray.
            yield contextvars.Context().run(run_trial, params, settings)

    def close(self) -> None:
        pass


class RayExecutor:
    """Trials as Ray tasks, one CPU each, retried when a worker dies."""

    def __init__(self, address: str | None = None, workers: int | None = None):
        if address:
            check_address(address)  # ray.init retries a dead address for minutes, logging each try
        try:
            import ray
        except ImportError:
            raise UsageError(
                "The sweep runs trials on Ray, which is not installed",
                'Install the search extra: pip install "tinyflow[search]", or pass --serial.',
            ) from None
        self.ray = ray
        self.owned = not ray.is_initialized()
        if self.owned:
            self._init(address, workers)
        self.task = ray.remote(num_cpus=1, max_retries=RETRIES)(run_trial)
        nodes = [n for n in ray.nodes() if n.get("Alive")]
        cpus = int(ray.cluster_resources().get("CPU", 0))
        where = f"Ray cluster at {address}" if address else "a local Ray"
        self.name = f"{where}: {len(nodes)} node(s), {cpus} CPU(s)"

    def _init(self, address: str | None, workers: int | None) -> None:
        import logging

        options = {"log_to_driver": False, "logging_level": logging.ERROR, "configure_logging": True}
        try:
            if address:
                self.ray.init(address=address, **options)
            else:
                self.ray.init(num_cpus=workers, include_dashboard=False, **options)
        except (ConnectionError, RuntimeError, ValueError, TimeoutError) as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
            raise TinyflowError(
                f"Cannot start or reach Ray{f' at {address}' if address else ''}: {first}", CONNECT_HINT
            ) from None

    def results(self, jobs: list[dict], settings: dict, timeout: float):
        """Submit every job at once; yield the results in order, each within `timeout` seconds of the last."""
        refs = [self.task.remote(params, settings) for params in jobs]
        for params, ref in zip(jobs, refs):
            yield self._get(params, ref, timeout, refs)

    def _get(self, params: dict, ref, timeout: float, refs) -> dict:
        ray = self.ray
        start = time.monotonic()
        try:
            return ray.get(ref, timeout=timeout)
        except ray.exceptions.GetTimeoutError:
            for other in refs:
                ray.cancel(other, force=True)
            raise TinyflowError(
                f"A trial did not finish within {timeout:g} s (sweep.trial_timeout) after {time.monotonic() - start:.0f} s",
                "Raise sweep.trial_timeout, shrink the space, or check the Ray cluster (ray status); rerun to resume.",
            ) from None
        except ray.exceptions.RayError as exc:  # retries exhausted, or the trial raised a non-tinyflow error
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[-1][:300]
            return {"params": params, "error": f"{type(exc).__name__}: {first}"}

    def close(self) -> None:
        if self.owned:
            self.ray.shutdown()
