"""The process's metrics, kept in memory by prometheus-client and rendered for /metrics.

A scrape only formats what is in memory: no database work, so scrapers cannot slow the
webhook. Each `Metrics` has a registry of its own (not prometheus-client's global one), so
tests and in-process servers never share counters.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

HELP = {
    "trt_updates_total": "Telegram updates received, by outcome (new, duplicate).",
    "trt_callbacks_total": "KIE callbacks, by outcome.",
    "trt_kie_calls_total": "KIE API calls, by call and result.",
    "trt_ledger_moves_total": "Ledger movements made by the pipeline, by kind.",
    "trt_deliveries_total": "Result deliveries to Telegram, by result.",
    "trt_jobs": "Jobs by state (refreshed from the database at most once a minute).",
    "trt_reconciler_lag_seconds": "How overdue the oldest due job was at the last pass.",
    "trt_webhook_seconds": "Time to answer a Telegram webhook request, by status.",
    "trt_callback_seconds": "Time to answer a KIE callback request, by status.",
    "trt_kie_call_seconds": "Duration of KIE API calls, by call.",
    "trt_delivery_seconds": "Duration of result deliveries to Telegram, by result.",
}
# Seconds: webhook answers take milliseconds; KIE calls and deliveries up to a minute.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self._counters: dict[str, Counter] = {}
        self._gauges: dict[str, Gauge] = {}
        self._histograms: dict[str, Histogram] = {}

    def inc(self, name: str, amount: int = 1, **labels: str) -> None:
        counter = self._counters.get(name)
        if counter is None:
            counter = self._counters[name] = Counter(
                name, _help(name), sorted(labels), registry=self.registry
            )
        (counter.labels(**labels) if labels else counter).inc(amount)

    def count(self, name: str, **labels: str) -> int:
        """A counter's value (0 before its first increment)."""
        value = self.registry.get_sample_value(name, labels)
        return int(value or 0)

    def set(self, name: str, value: float, **labels: str) -> None:
        gauge = self._gauges.get(name)
        if gauge is None:
            gauge = self._gauges[name] = Gauge(
                name, _help(name), sorted(labels), registry=self.registry
            )
        (gauge.labels(**labels) if labels else gauge).set(value)

    def set_all(self, name: str, label: str, values: Mapping[str, float]) -> None:
        """A labelled gauge's every value at once (e.g. jobs by state)."""
        for key, value in values.items():
            self.set(name, value, **{label: key})

    def observe(self, name: str, seconds: float, **labels: str) -> None:
        histogram = self._histograms.get(name)
        if histogram is None:
            histogram = self._histograms[name] = Histogram(
                name, _help(name), sorted(labels), registry=self.registry, buckets=BUCKETS
            )
        (histogram.labels(**labels) if labels else histogram).observe(seconds)

    @contextlib.contextmanager
    def timed(self, name: str, **labels: str) -> Iterator[None]:
        """Observe how long the block takes, whether it raises or not."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.observe(name, time.perf_counter() - started, **labels)

    def render(self) -> bytes:
        """Everything, in Prometheus' text format."""
        return generate_latest(self.registry)


def _help(name: str) -> str:
    return HELP.get(name, name)
