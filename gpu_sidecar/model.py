"""The GPU metric model: device samples in, metric observations out.

:func:`observe` turns one :class:`~gpu_sidecar.device.DeviceSample` into observations
``(MetricSpec, value, attributes)`` of either naming family in
:mod:`gpu_sidecar.semconv`, with its units (fractions and bytes for ``semconv``,
percent and MiB for ``genai``). :func:`reduce` summarises the observations of one
export interval per series: utilization and power are averaged, memory and
temperature keep their maximum (a peak between two exports is never lost), limits,
counters and states keep their latest value.

Depends neither on NVML nor on the OpenTelemetry SDK (nor any clock): a simulated
device can be fed through it and the observations encoded by any means.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from gpu_sidecar import semconv
from gpu_sidecar.device import READINGS, VENDOR, DeviceInfo, DeviceSample
from gpu_sidecar.semconv import MetricSpec, Naming

AttributeValue = str | bool | int | float
Attributes = tuple[tuple[str, AttributeValue], ...]
Reduction = Literal["mean", "max", "last"]

MIB = 1024**2
STATES = ("ok", "failed")
"""The ``hw.state`` values reported on ``hw.status`` (1 for the current one, 0 for the other)."""


@dataclass(frozen=True)
class Observation:
    """One value of one metric for one series (attributes sorted by key)."""

    spec: MetricSpec
    value: int | float
    attributes: Attributes

    @property
    def attribute_map(self) -> dict[str, AttributeValue]:
        return dict(self.attributes)


@dataclass(frozen=True)
class MetricRule:
    """How a metric's observations within one export interval become one point."""

    reduction: Reduction
    integral: bool = False
    """Exported as an integer (``asInt``), as genai-otel-instrument does for this metric."""


RULES: Mapping[str, MetricRule] = {
    semconv.HW_GPU_UTILIZATION.name: MetricRule("mean"),
    semconv.HW_GPU_MEMORY_USAGE.name: MetricRule("max", integral=True),
    semconv.HW_GPU_MEMORY_LIMIT.name: MetricRule("last", integral=True),
    semconv.HW_GPU_MEMORY_UTILIZATION.name: MetricRule("max"),
    semconv.HW_POWER.name: MetricRule("mean"),
    semconv.HW_ENERGY.name: MetricRule("last"),
    semconv.HW_TEMPERATURE.name: MetricRule("max"),
    semconv.HW_ERRORS.name: MetricRule("last", integral=True),
    semconv.HW_STATUS.name: MetricRule("last", integral=True),
    semconv.GENAI_GPU_UTILIZATION.name: MetricRule("mean", integral=True),
    semconv.GENAI_GPU_MEMORY_USED.name: MetricRule("max"),
    semconv.GENAI_GPU_MEMORY_TOTAL.name: MetricRule("last"),
    semconv.GENAI_GPU_TEMPERATURE.name: MetricRule("max", integral=True),
    semconv.GENAI_GPU_POWER.name: MetricRule("mean"),
}


@functools.lru_cache(maxsize=1024)
def device_attributes(info: DeviceInfo, naming: Naming) -> Attributes:
    """The attributes that identify a device's series in ``naming``."""
    if naming == "genai":
        gpu_id = str(info.index) if info.mig_index is None else f"{info.index}/mig{info.mig_index}"
        return _sorted({semconv.GENAI_GPU_ID: gpu_id, semconv.GENAI_GPU_NAME: info.model})
    attributes: dict[str, AttributeValue] = {
        semconv.HW_ID: info.uuid,
        semconv.HW_TYPE: "gpu",
        semconv.HW_NAME: info.name,
        semconv.HW_VENDOR: VENDOR,
        semconv.HW_MODEL: info.model,
        semconv.HW_DRIVER_VERSION: info.driver_version,
        semconv.NVIDIA_GPU_INDEX: info.index,
    }
    if info.pci_bus_id:
        attributes[semconv.NVIDIA_GPU_PCI_BUS_ID] = info.pci_bus_id
    if info.parent_uuid:
        attributes[semconv.HW_PARENT] = info.parent_uuid
    return _sorted(attributes)


def readings_for(naming: Naming) -> frozenset[str]:
    """The device readings (:data:`~gpu_sidecar.device.READINGS`) a naming family uses."""
    if naming == "genai":
        return frozenset({"utilization", "memory", "power", "temperature"})
    return frozenset(READINGS)


def observe(sample: DeviceSample, naming: Naming) -> list[Observation]:
    """The observations one sample gives in ``naming``; readings that are ``None`` give none."""
    if naming == "genai":
        return _observe_genai(sample)
    return _observe_semconv(sample)


def observe_all(samples: Iterable[DeviceSample], naming: Naming) -> list[Observation]:
    return [observation for sample in samples for observation in observe(sample, naming)]


@dataclass(frozen=True)
class _SemconvSeries:
    """A device's attribute sets, built once per device (they never change)."""

    device: Attributes
    status: tuple[tuple[str, Attributes], ...]
    task: Attributes
    errors: tuple[tuple[str, Attributes], ...]


@functools.lru_cache(maxsize=1024)
def _semconv_series(info: DeviceInfo) -> _SemconvSeries:
    base = dict(device_attributes(info, "semconv"))
    return _SemconvSeries(
        device=_sorted(base),
        status=tuple((state, _sorted({**base, semconv.HW_STATE: state})) for state in STATES),
        task=_sorted({**base, semconv.HW_GPU_TASK: "general"}),
        errors=tuple((kind, _sorted({**base, semconv.ERROR_TYPE: kind})) for kind in ("corrected", "uncorrected")),
    )


def _observe_semconv(sample: DeviceSample) -> list[Observation]:
    series = _semconv_series(sample.info)
    out = [Observation(semconv.HW_STATUS, int(state == sample.state), attrs) for state, attrs in series.status]
    if sample.state != "ok":
        return out
    attributes = series.device
    used, total = sample.memory_used_bytes, sample.memory_total_bytes
    values: list[tuple[MetricSpec, int | float | None]] = [
        (semconv.HW_GPU_MEMORY_USAGE, used),
        (semconv.HW_GPU_MEMORY_LIMIT, total),
        (semconv.HW_GPU_MEMORY_UTILIZATION, used / total if used is not None and total else None),
        (semconv.HW_POWER, sample.power_w),
        (semconv.HW_ENERGY, sample.energy_j),
        (semconv.HW_TEMPERATURE, sample.temperature_c),
    ]
    out += [Observation(spec, _typed(spec, value), attributes) for spec, value in values if value is not None]
    if sample.utilization is not None:
        out.append(Observation(semconv.HW_GPU_UTILIZATION, float(sample.utilization), series.task))
    for (_kind, errors), count in zip(series.errors, (sample.ecc_corrected, sample.ecc_uncorrected), strict=True):
        if count is not None:
            out.append(Observation(semconv.HW_ERRORS, int(count), errors))
    return out


def _observe_genai(sample: DeviceSample) -> list[Observation]:
    # genai-otel-instrument reports physical GPUs by index only; MIG instances and
    # lost GPUs have no place in that family.
    if sample.info.is_mig or sample.state != "ok":
        return []
    attributes = device_attributes(sample.info, "genai")
    used, total = sample.memory_used_bytes, sample.memory_total_bytes
    values: list[tuple[MetricSpec, int | float | None]] = [
        (semconv.GENAI_GPU_UTILIZATION, sample.utilization * 100.0 if sample.utilization is not None else None),
        (semconv.GENAI_GPU_MEMORY_USED, used / MIB if used is not None else None),
        (semconv.GENAI_GPU_MEMORY_TOTAL, total / MIB if total is not None else None),
        (semconv.GENAI_GPU_TEMPERATURE, sample.temperature_c),
        (semconv.GENAI_GPU_POWER, sample.power_w),
    ]
    return [Observation(spec, _typed(spec, value), attributes) for spec, value in values if value is not None]


def reduce(observations: Sequence[Observation]) -> list[Observation]:
    """One observation per (metric, series): the interval's mean, maximum or latest value."""
    groups: dict[tuple[str, Attributes], list[Observation]] = {}
    for observation in observations:
        groups.setdefault((observation.spec.name, observation.attributes), []).append(observation)
    reduced = []
    for (name, attributes), group in groups.items():
        rule = RULES[name]
        values = [observation.value for observation in group]
        if rule.reduction == "mean":
            value: int | float = sum(values) / len(values)
        elif rule.reduction == "max":
            value = max(values)
        else:
            value = values[-1]
        reduced.append(Observation(group[0].spec, _typed(group[0].spec, value), attributes))
    return reduced


def _typed(spec: MetricSpec, value: float) -> int | float:
    return round(value) if RULES[spec.name].integral else float(value)


def _sorted(attributes: Mapping[str, AttributeValue]) -> Attributes:
    return tuple(sorted(attributes.items()))
