"""Where each evaluated point goes besides the terminal: Prometheus gauges (prometheus_client, on a
localhost port) and MLflow metrics (through tinyflow.tracking, only with --track)."""

from __future__ import annotations

from tinyflow.errors import UsageError


class PrometheusExporter:
    """Gauges on http://127.0.0.1:PORT/metrics, updated at each point; close() stops the server."""

    def __init__(self, port: int, columns: int, class_names: list[str], host: str = "127.0.0.1"):
        try:
            from prometheus_client import CollectorRegistry, Gauge, start_http_server
        except ImportError:
            raise UsageError(
                "--prometheus-port needs prometheus_client, which is not installed",
                "pip install prometheus_client, or drop --prometheus-port.",
            ) from None
        self.registry = CollectorRegistry()  # our own: nothing else of the process is exported

        def gauge(name, doc, labels=()):
            return Gauge(f"tinyflow_monitor_{name}", doc, list(labels), registry=self.registry)

        self.scalars = {
            "drift_score": gauge("drift_score", "Largest per-feature PSI against the reference"),
            "confidence": gauge("confidence", "Mean top-1 confidence"),
            "confidence_drop": gauge("confidence_drop", "Reference mean confidence minus the current one"),
            "class_psi": gauge("class_psi", "PSI of the class mix against the reference"),
            "saturation": gauge("saturation", "Share of input values at the dtype's limits"),
            "low_confidence": gauge("low_confidence", "Share of inferences with top-1 confidence below 0.5"),
            "windows": gauge("windows", "Inferences in the last evaluation"),
            "alert": gauge("alert", "1 when the last evaluation raised an alert"),
            "monitor_ticks_per_window": gauge("ticks_per_window", "Device ticks the monitor spent per inference"),
        }
        self.psi = gauge("feature_psi", "PSI of one feature column against the reference", ["column"])
        self.ks = gauge("feature_ks", "KS statistic of one feature column against the reference", ["column"])
        self.share = gauge("class_share", "Share of top-1 predictions of a class", ["label"])
        self.names = class_names
        try:
            self.server, self.thread = start_http_server(port, addr=host, registry=self.registry)
        except OSError as exc:
            raise UsageError(
                f"Cannot export metrics on port {port} ({exc})", "Pick a free --prometheus-port."
            ) from None

    def publish(self, point, numbers: dict[str, float]) -> None:
        for key, g in self.scalars.items():
            g.set(numbers.get(key, 0.0))
        for f in point.report.features:
            self.psi.labels(column=str(f.column)).set(f.psi)
            self.ks.labels(column=str(f.column)).set(f.ks)
        for i, share in enumerate(point.report.class_mix_now):
            self.share.labels(label=self.names[i] if i < len(self.names) else "other").set(share)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


class MlflowExporter:
    """One MLflow run for the whole session; each point's numbers logged at its step."""

    def __init__(self, uri: str, target: str, reference: str):
        from tinyflow.tracking import guarded, open_client
        from tinyflow.tracking.store import experiment_id

        self.uri = uri
        with guarded(uri, "open the tracking store"):
            self.client = open_client(uri)
        with guarded(uri, "start the monitor run"):
            run = self.client.create_run(
                experiment_id(self.client),
                run_name=f"monitor {target}"[:200],
                tags={
                    "tinyflow.verb": "monitor",
                    "tinyflow.target": target[:500],
                    "tinyflow.reference": reference[:500],
                },
            )
        self.run_id = run.info.run_id

    def publish(self, point, numbers: dict[str, float]) -> None:
        from tinyflow.tracking import guarded

        with guarded(self.uri, "log the monitor metrics"):
            for key, value in numbers.items():
                self.client.log_metric(self.run_id, key, float(value), step=point.step)
            self.client.set_tag(self.run_id, "tinyflow.verdict", point.report.verdict)

    def close(self) -> None:
        from tinyflow.tracking import guarded

        with guarded(self.uri, "end the monitor run"):
            self.client.set_terminated(self.run_id)
