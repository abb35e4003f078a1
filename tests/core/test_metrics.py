"""The in-memory metrics: counters, histograms, and what the pipeline observes."""

from __future__ import annotations

import pytest

from tests.core.conftest import Rig
from tests.core.test_generation import started
from trt.core.metrics import Metrics
from trt.core.ports import DeliveryFailed
from trt.core.timed_kie import TimedKie
from trt.domain import Family, KieTaskId
from trt.kie.errors import KieNotFound


def sample(metrics: Metrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


class TestMetrics:
    def test_counters_and_histograms_render_as_prometheus_text(self) -> None:
        """Counters by label, histogram buckets and counts, in the text format."""
        m = Metrics()
        m.inc("trt_updates_total", outcome="new")
        m.inc("trt_updates_total", outcome="new")
        m.observe("trt_webhook_seconds", 0.003, status="200")
        text = m.render().decode()
        assert 'trt_updates_total{outcome="new"} 2.0' in text
        assert 'trt_webhook_seconds_bucket{le="0.005",status="200"} 1.0' in text
        assert "# TYPE trt_webhook_seconds histogram" in text
        assert m.count("trt_updates_total", outcome="new") == 2
        assert m.count("trt_updates_total", outcome="duplicate") == 0

    def test_two_instances_share_nothing(self) -> None:
        """Each Metrics has its own registry: an in-process server and a test never mix."""
        a, b = Metrics(), Metrics()
        a.inc("trt_callbacks_total", outcome="accepted")
        assert b.count("trt_callbacks_total", outcome="accepted") == 0


class TestTimedKie:
    async def test_each_call_is_observed_even_when_it_fails(self, rig: Rig) -> None:
        """Successful and failing KIE calls both land in trt_kie_call_seconds, by call."""
        metrics = Metrics()
        kie = TimedKie(rig.kie, metrics)
        await kie.credits()
        with pytest.raises(KieNotFound):
            await kie.get_task(Family.MARKET, KieTaskId("never-made"))
        assert sample(metrics, "trt_kie_call_seconds_count", call="credits") == 1
        assert sample(metrics, "trt_kie_call_seconds_count", call="record") == 1


class TestDeliveryTiming:
    async def test_deliveries_are_observed_by_result(self, rig: Rig) -> None:
        """A delivery that works and one that must be retried are both timed."""
        rig.messenger.refuse.append(DeliveryFailed("telegram down"))
        _, job = await started(rig)
        await rig.gen.on_callback(KieTaskId(job.kie_task_id or ""))
        failed = await rig.store.jobs.get(job.id)
        await rig.gen.deliver(failed)
        metrics = rig.gen.metrics
        assert sample(metrics, "trt_delivery_seconds_count", result="retry") == 1
        assert sample(metrics, "trt_delivery_seconds_count", result="ok") == 1
