"""In-process counters and gauges, rendered in Prometheus' text format for /metrics."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

HELP = {
    "trt_updates_total": "Telegram updates received, by outcome (new, duplicate).",
    "trt_callbacks_total": "KIE callbacks, by outcome.",
    "trt_kie_calls_total": "KIE API calls, by call and result.",
    "trt_ledger_moves_total": "Ledger movements made by the pipeline, by kind.",
    "trt_deliveries_total": "Result deliveries to Telegram, by result.",
    "trt_jobs": "Jobs by state.",
    "trt_reconciler_lag_seconds": "How overdue the oldest due job was at the last pass.",
}


class Metrics:
    def __init__(self) -> None:
        self._counters: Counter[tuple[str, tuple[tuple[str, str], ...]]] = Counter()
        self.values: dict[str, float] = {}

    def inc(self, name: str, amount: int = 1, **labels: str) -> None:
        self._counters[(name, tuple(sorted(labels.items())))] += amount

    def count(self, name: str, **labels: str) -> int:
        return self._counters[(name, tuple(sorted(labels.items())))]

    def set(self, name: str, value: float) -> None:
        self.values[name] = value

    def render(self, gauges: Mapping[str, Mapping[tuple[tuple[str, str], ...], float]]) -> str:
        """Counters, set values and the given labelled gauges as Prometheus text."""
        series: dict[str, list[str]] = {}
        for (name, labels), value in sorted(self._counters.items()):
            series.setdefault(name, []).append(f"{name}{_labels(labels)} {value}")
        for name, number in sorted(self.values.items()):
            series.setdefault(name, []).append(f"{name} {number:g}")
        for name, points in gauges.items():
            for labels, point in sorted(points.items()):
                series.setdefault(name, []).append(f"{name}{_labels(labels)} {point:g}")
        lines: list[str] = []
        for name, samples in series.items():
            kind = "counter" if name.endswith("_total") else "gauge"
            lines += [f"# HELP {name} {HELP.get(name, name)}", f"# TYPE {name} {kind}", *samples]
        return "\n".join(lines) + "\n"


def _labels(labels: tuple[tuple[str, str], ...]) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in labels)
    return "{" + inner + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
