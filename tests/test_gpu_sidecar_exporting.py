"""OTel instruments fed by the sampler: kinds, units, one point per series per export, no lost peaks."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import AggregationTemporality, Gauge, InMemoryMetricReader, Sum

from gpu_sidecar.exporting import GpuInstruments
from gpu_sidecar.nvml_source import NvmlSource
from gpu_sidecar.sampler import Sampler, SamplerSettings
from gpu_sidecar.semconv import FAMILIES, Naming
from tests.doubles.fake_nvml import pynvml as fake
from tests.doubles.fake_nvml.scenarios import A100_ID, GIB, H100_ID, MIG_ID, ManualClock, two_gpus_and_mig


class Rig:
    """The sampler, instruments and an in-memory reader over the fake NVML."""

    def __init__(self, scenario: dict[str, Any], naming: Naming = "semconv") -> None:
        self.clock = ManualClock()
        fake.load_scenario(scenario, clock=self.clock)
        self.reader = InMemoryMetricReader()
        self.provider = MeterProvider(metric_readers=[self.reader])
        self.instruments = GpuInstruments(self.provider.get_meter("gpu_sidecar"), naming)
        source = NvmlSource(nvml=fake)
        source.open()
        self.sampler = Sampler(source, self.instruments.record, SamplerSettings(naming=naming), wall_clock=self.clock)

    def sample_at(self, *times: float) -> None:
        for t in times:
            self.clock.at(t)
            self.sampler.sample_once()

    def collect(self) -> dict[str, Any]:
        data = self.reader.get_metrics_data()
        metrics = {}
        for resource_metrics in data.resource_metrics if data else []:
            for scope in resource_metrics.scope_metrics:
                for metric in scope.metrics:
                    metrics[metric.name] = metric
        return metrics


def _points(metric: Any) -> dict[tuple[str, str], Any]:
    out = {}
    for point in metric.data.data_points:
        attributes = dict(point.attributes)
        device = attributes.get("hw.id") or attributes.get("gpu_id")
        extra = attributes.get("hw.state") or attributes.get("error.type") or ""
        out[(device, extra)] = point.value
    return out


def test_instrument_kinds_and_units_follow_the_metric_definitions() -> None:
    rig = Rig(two_gpus_and_mig())
    rig.sample_at(0.0)
    metrics = rig.collect()
    assert set(metrics) == {spec.name for spec in FAMILIES["semconv"]}
    for spec in FAMILIES["semconv"]:
        metric = metrics[spec.name]
        assert metric.unit == spec.unit
        if spec.instrument == "gauge":
            assert isinstance(metric.data, Gauge), spec.name
        else:
            assert isinstance(metric.data, Sum), spec.name
            assert metric.data.is_monotonic == (spec.instrument == "counter"), spec.name
            assert metric.data.aggregation_temporality == AggregationTemporality.CUMULATIVE


def test_peak_memory_between_two_exports_is_kept() -> None:
    rig = Rig(two_gpus_and_mig())
    rig.sample_at(0.5, 1.2, 1.6)  # the H100 uses 10, 30 and 20 GiB at these times
    metrics = rig.collect()
    assert _points(metrics["hw.gpu.memory.usage"])[(H100_ID, "")] == 30 * GIB
    assert _points(metrics["hw.temperature"])[(H100_ID, "")] == 71
    assert _points(metrics["hw.gpu.memory.limit"])[(H100_ID, "")] == 80 * GIB
    # Nothing sampled since: no stale point is repeated.
    assert rig.collect() == {}
    rig.sample_at(2.0)
    assert _points(rig.collect()["hw.gpu.memory.usage"])[(H100_ID, "")] == 20 * GIB


def test_unsupported_readings_have_no_series_at_all() -> None:
    rig = Rig(two_gpus_and_mig())
    rig.sample_at(0.0, 1.0)
    metrics = rig.collect()
    assert set(_points(metrics["hw.gpu.utilization"])) == {(H100_ID, "")}
    assert set(_points(metrics["hw.power"])) == {(H100_ID, ""), (A100_ID, "")}
    assert set(_points(metrics["hw.gpu.memory.usage"])) == {(H100_ID, ""), (A100_ID, ""), (MIG_ID, "")}


def test_energy_is_a_running_total_from_the_counter_or_from_power() -> None:
    rig = Rig(two_gpus_and_mig())
    rig.sample_at(0.0, 2.0)
    energy = _points(rig.collect()["hw.energy"])
    assert energy[(H100_ID, "")] == pytest.approx(700.0)  # 350 W counter over 2 s, from its baseline
    assert energy[(A100_ID, "")] == pytest.approx(240.0)  # 120 W integrated over 2 s
    rig.sample_at(4.0)
    assert _points(rig.collect()["hw.energy"])[(H100_ID, "")] == pytest.approx(1400.0)


def test_lost_gpu_is_reported_through_hw_status_and_leaves_the_other_series() -> None:
    scenario = two_gpus_and_mig()
    scenario["gpus"][1]["lost_at"] = 1.0
    rig = Rig(scenario)
    rig.sample_at(0.0)
    status = _points(rig.collect()["hw.status"])
    assert status[(A100_ID, "ok")] == 1
    assert status[(A100_ID, "failed")] == 0
    rig.sample_at(1.5, 2.5)
    metrics = rig.collect()
    status = _points(metrics["hw.status"])
    assert (status[(A100_ID, "ok")], status[(A100_ID, "failed")]) == (0, 1)
    assert (status[(MIG_ID, "ok")], status[(MIG_ID, "failed")]) == (0, 1)
    assert (status[(H100_ID, "ok")], status[(H100_ID, "failed")]) == (1, 0)
    for name, metric in metrics.items():
        if name != "hw.status":
            devices = {device for device, _ in _points(metric)}
            assert devices == {H100_ID}, name


def test_genai_naming_emits_percent_and_mib_per_gpu_index() -> None:
    rig = Rig(two_gpus_and_mig(), naming="genai")
    rig.sample_at(2.0, 3.0)
    metrics = rig.collect()
    assert set(metrics) == {"gen_ai.gpu.utilization", "gen_ai.gpu.memory.used", "gen_ai.gpu.memory.total",
                            "gen_ai.gpu.temperature", "gen_ai.gpu.power"}  # fmt: skip
    assert _points(metrics["gen_ai.gpu.utilization"]) == {("0", ""): 90}
    assert isinstance(_points(metrics["gen_ai.gpu.utilization"])[("0", "")], int)
    assert _points(metrics["gen_ai.gpu.memory.used"]) == {("0", ""): 20 * 1024.0, ("1", ""): 6 * 1024.0}
    assert _points(metrics["gen_ai.gpu.memory.total"]) == {("0", ""): 80 * 1024.0, ("1", ""): 40 * 1024.0}
    assert metrics["gen_ai.gpu.memory.used"].unit == "MiB"
    assert metrics["gen_ai.gpu.utilization"].unit == "%"
    names = {dict(p.attributes)["gpu_name"] for p in metrics["gen_ai.gpu.power"].data.data_points}
    assert names == {"NVIDIA H100 80GB HBM3", "NVIDIA A100-SXM4-40GB"}
