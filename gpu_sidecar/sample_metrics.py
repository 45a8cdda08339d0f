"""Sample GPU metrics: simulated readings through the sidecar's own metric model, as OTLP JSON.

The pipeline is the sidecar's, with the simulated device in place of NVML and synthetic
time in place of the SDK's clock: readings every ``interval`` (:mod:`gpu_sidecar.simulated`),
energy from the counter (:class:`~gpu_sidecar.energy.EnergyMeter`), observations of the
chosen naming family (:func:`~gpu_sidecar.model.observe`), one point per series per export
interval (:func:`~gpu_sidecar.model.reduce`: means, maxima, latest values), encoded as the
Collector's file exporter writes them (:mod:`gpu_sidecar.otlp_encode`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from statistics import fmean
from typing import Any

from gpu_sidecar import semconv
from gpu_sidecar.cli import METER_NAME, SERVICE_NAME
from gpu_sidecar.device import DeviceSample
from gpu_sidecar.energy import EnergyMeter
from gpu_sidecar.model import MIB, Observation, observe, reduce
from gpu_sidecar.otlp_encode import Scope, resource_metrics
from gpu_sidecar.semconv import Naming
from gpu_sidecar.simulated import Simulation, readings
from smoltrace_otel.runid import RUN_ID_ATTRIBUTE
from smoltrace_otel.telemetry import HOST_NAME_ATTRIBUTE, SERVICE_NAME_ATTRIBUTE


@dataclass(frozen=True)
class SampleMetrics:
    """Everything that decides the metrics' bytes."""

    simulation: Simulation
    start_ns: int
    """The run's start; ``simulation.start_s`` is the same instant in seconds."""
    export_interval_s: float
    naming: Naming
    run_id: str
    host_name: str
    scope_version: str


@dataclass(frozen=True)
class Export:
    """One export of the sidecar: a point per series, all stamped ``time_ns``."""

    time_ns: int
    observations: list[Observation]


@dataclass
class GpuFigures:
    """What one simulated GPU did, from its readings (for the summary and the aggregates).

    Means are weighted as a reader of the exports computes them: over exported points, each
    the mean of its interval's readings."""

    name: str
    model: str
    weights: list[float] = field(default_factory=list)
    utilization: list[float] = field(default_factory=list)
    memory_mib: list[float] = field(default_factory=list)
    power_w: list[float] = field(default_factory=list)
    temperature_c: list[float] = field(default_factory=list)
    energy_j: float = 0.0

    def add(self, sample: DeviceSample, weight: float) -> None:
        self.weights.append(weight)
        self.utilization.append(sample.utilization or 0.0)
        self.memory_mib.append((sample.memory_used_bytes or 0) / MIB)
        self.power_w.append(sample.power_w or 0.0)
        self.temperature_c.append(sample.temperature_c or 0.0)
        self.energy_j = sample.energy_j or 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "gpu": self.name,
            "model": self.model,
            "utilization_avg_pct": round(fmean(self.utilization, self.weights) * 100, 2),
            "utilization_max_pct": round(max(self.utilization) * 100, 2),
            "memory_max_mib": max(self.memory_mib),
            "power_avg_w": round(fmean(self.power_w, self.weights), 2),
            "temperature_max_c": max(self.temperature_c),
            "energy_j": round(self.energy_j, 3),
        }


def generate(settings: SampleMetrics) -> tuple[list[Export], list[GpuFigures]]:
    """The run's exports, in time order, and each GPU's figures."""
    meter = EnergyMeter()
    timeline = settings.simulation.timeline
    weights = timeline.weights()
    exports: list[Export] = []
    figures: list[GpuFigures] = []
    window: list[Observation] = []
    current = 0
    for (t, samples), weight in zip(readings(settings.simulation), weights, strict=True):
        if not figures:
            figures = [GpuFigures(s.info.name, s.info.model) for s in samples]
        index = timeline.window(t, current)
        if index != current and window:
            exports.append(_export(settings, timeline.exports[current], window))
        current = index
        for figure, raw in zip(figures, samples, strict=True):
            sample = meter.update(raw)
            figure.add(sample, weight)
            window.extend(observe(sample, settings.naming))
    if window:
        exports.append(_export(settings, timeline.exports[current], window))
    return exports, figures


def _export(settings: SampleMetrics, offset_s: float, window: list[Observation]) -> Export:
    export = Export(settings.start_ns + round(offset_s * 1e9), reduce(window))
    window.clear()
    return export


def resource(settings: SampleMetrics) -> dict[str, str]:
    return {
        SERVICE_NAME_ATTRIBUTE: SERVICE_NAME,
        HOST_NAME_ATTRIBUTE: settings.host_name,
        RUN_ID_ATTRIBUTE: settings.run_id,
    }


def resource_metrics_entries(settings: SampleMetrics, exports: list[Export]) -> Iterator[dict[str, Any]]:
    """One ``resourceMetrics`` entry per export, metrics in the family's order."""
    attributes: Mapping[str, str] = resource(settings)
    scope = Scope(METER_NAME, settings.scope_version)
    specs = semconv.FAMILIES[settings.naming]
    for export in exports:
        yield resource_metrics(
            attributes, scope, specs, export.observations, time_ns=export.time_ns, start_ns=settings.start_ns
        )
