"""GPU time series: which metrics are GPU metrics, their units, and a compact store of their points.

Both families of ``gpu_sidecar/semconv.py`` are recognised: ``hw.*`` (fractions, bytes,
joules, keyed by ``hw.id``) and ``gen_ai.gpu.*`` (percent, MiB, keyed by ``gpu_id``).
Values are converted to one canonical unit per quantity using the unit each metric
declares (the contract's unit when it declares none): utilization and memory
utilization in %, memory in MiB, power in W, energy in J, temperature in Cel.

The store keeps each stream (resource, scope, metric, point attributes) as three flat
arrays (time, start time, value), so millions of points fit in a few tens of MB. Points
are deduplicated by (stream, timeUnixNano) when the streams are finalised; the first
copy read wins.
"""

from __future__ import annotations

import logging
from array import array
from collections.abc import Callable, Iterable, Mapping
from itertools import pairwise
from math import isnan
from typing import Any

from gpu_sidecar import semconv as sc
from publisher.otlp_json import Resource, attributes, to_int
from publisher.otlp_metrics import iter_metrics, number_value
from publisher.otlp_schema import Document, ResourceMetrics, convert

logger = logging.getLogger(__name__)

QUANTITY_OF: dict[str, tuple[str, str]] = {
    sc.HW_GPU_UTILIZATION.name: ("utilization", "semconv"),
    sc.HW_GPU_MEMORY_USAGE.name: ("memory_used", "semconv"),
    sc.HW_GPU_MEMORY_LIMIT.name: ("memory_total", "semconv"),
    sc.HW_GPU_MEMORY_UTILIZATION.name: ("memory_utilization", "semconv"),
    sc.HW_POWER.name: ("power", "semconv"),
    sc.HW_ENERGY.name: ("energy", "semconv"),
    sc.HW_TEMPERATURE.name: ("temperature", "semconv"),
    sc.HW_ERRORS.name: ("errors", "semconv"),
    sc.HW_STATUS.name: ("status", "semconv"),
    sc.GENAI_GPU_UTILIZATION.name: ("utilization", "genai"),
    sc.GENAI_GPU_MEMORY_USED.name: ("memory_used", "genai"),
    sc.GENAI_GPU_MEMORY_TOTAL.name: ("memory_total", "genai"),
    sc.GENAI_GPU_TEMPERATURE.name: ("temperature", "genai"),
    sc.GENAI_GPU_POWER.name: ("power", "genai"),
}
"""Metric name -> (quantity, family)."""

GPU_METRIC_NAMES = frozenset(QUANTITY_OF)
CONTRACT_UNIT = {spec.name: spec.unit for family in sc.FAMILIES.values() for spec in family}

CANONICAL_UNIT = {
    "utilization": "%",
    "memory_utilization": "%",
    "memory_used": "MiB",
    "memory_total": "MiB",
    "power": "W",
    "energy": "J",
    "temperature": "Cel",
    "errors": "{error}",
    "status": "1",
}
_MIB = float(2**20)
_FACTORS: dict[str, dict[str, float]] = {
    "%": {"1": 100.0, "%": 1.0},
    "MiB": {"By": 1 / _MIB, "KiBy": 1024 / _MIB, "KiB": 1024 / _MIB, "MiBy": 1.0, "MiB": 1.0, "GiBy": 1024.0, "GiB": 1024.0, "MB": 1e6 / _MIB, "GB": 1e9 / _MIB},
    "W": {"W": 1.0, "mW": 1e-3, "kW": 1e3},
    "J": {"J": 1.0, "mJ": 1e-3, "kJ": 1e3, "Wh": 3600.0, "kWh": 3.6e6},
    "Cel": {"Cel": 1.0, "°C": 1.0},
    "{error}": {"{error}": 1.0, "1": 1.0, "": 1.0},
    "1": {"1": 1.0, "": 1.0},
}  # fmt: skip

GPU_ID_KEYS = (sc.HW_ID, sc.GENAI_GPU_ID, sc.NVIDIA_GPU_INDEX)
GPU_NAME_KEYS = (sc.HW_MODEL, sc.GENAI_GPU_NAME, sc.HW_NAME)
"""Where a GPU's model name is: ``hw.model`` (the sidecar's NVML device name; its ``hw.name`` is a
short label such as ``gpu0``), the reference family's ``gpu_name``, else ``hw.name`` (apps that
put the model there)."""
HOST_NAME = "host.name"


def unit_factor(metric_name: str, unit: str) -> float | None:
    """Multiplier from ``unit`` to the quantity's canonical unit; ``None`` if the unit is unknown."""
    quantity = QUANTITY_OF[metric_name][0]
    return _FACTORS[CANONICAL_UNIT[quantity]].get(unit or CONTRACT_UNIT[metric_name])


class Stream:
    """One time series: a metric with fixed resource, scope and point attributes."""

    __slots__ = (
        "attributes",
        "description",
        "factor",
        "family",
        "gpu_id",
        "gpu_name",
        "host",
        "is_int",
        "kind",
        "monotonic",
        "name",
        "quantity",
        "resource",
        "scope_name",
        "scope_version",
        "source",
        "starts",
        "temporality",
        "times",
        "unit",
        "values",
    )

    def __init__(self, metric: Any, point_attributes: dict[str, Any], source: str, is_int: bool) -> None:
        self.resource: Resource = metric.resource
        self.scope_name: str = metric.scope.name
        self.scope_version: str = metric.scope.version
        self.name: str = metric.name
        self.unit: str = metric.unit
        self.description: str = metric.description
        self.kind: str = metric.kind
        self.temporality: int = metric.temporality
        self.monotonic: bool = metric.monotonic
        self.attributes = point_attributes
        self.source = source
        self.is_int = is_int
        self.quantity, self.family = QUANTITY_OF[metric.name]
        self.factor = unit_factor(metric.name, metric.unit)
        self.host = str(metric.resource.attributes.get(HOST_NAME) or "")
        self.gpu_id = str(next((point_attributes[k] for k in GPU_ID_KEYS if k in point_attributes), "gpu"))
        self.gpu_name = next((str(point_attributes[k]) for k in GPU_NAME_KEYS if point_attributes.get(k)), None)
        self.times = array("q")
        self.starts = array("q")
        self.values = array("d")

    @property
    def gpu_key(self) -> tuple[str, str]:
        return (self.host, self.gpu_id)

    def __len__(self) -> int:
        return len(self.times)

    def canonical(self) -> tuple[list[int], list[float]]:
        """(times, values in the canonical unit), NaN points left out."""
        factor = self.factor or 1.0
        if not any(map(isnan, self.values)):
            values = list(self.values) if factor == 1.0 else [v * factor for v in self.values]
            return list(self.times), values
        pairs = [(t, v * factor) for t, v in zip(self.times, self.values, strict=True) if not isnan(v)]
        return [t for t, _ in pairs], [v for _, v in pairs]

    def _finalise(self) -> int:
        """Sort by time and drop repeated timestamps (first copy wins); returns how many were dropped."""
        times = self.times
        order = sorted(range(len(times)), key=times.__getitem__)
        keep = [i for n, i in enumerate(order) if n == 0 or times[i] != times[order[n - 1]]]
        if len(keep) == len(times) and all(a < b for a, b in pairwise(keep)):
            return 0
        self.times = array("q", (times[i] for i in keep))
        self.starts = array("q", (self.starts[i] for i in keep))
        self.values = array("d", (self.values[i] for i in keep))
        return len(times) - len(keep)


def _attribute_key(point_attributes: dict[str, Any]) -> Any:
    try:
        return tuple(sorted(point_attributes.items()))
    except TypeError:
        return repr(sorted((k, repr(v)) for k, v in point_attributes.items()))


KeepPoint = Callable[[Resource, int], bool]


class GpuSeriesStore:
    """Collects the GPU points of many documents, compactly; :meth:`streams` returns them deduplicated."""

    def __init__(self) -> None:
        self._streams: dict[tuple[Any, ...], Stream] = {}
        self._by_raw: dict[tuple[Any, ...], Stream | None] = {}
        """Streams by their undecoded attributes, so a point's attributes are decoded only for a new stream."""
        self.points_read = 0
        self.points_without_value = 0
        self.points_not_gpu = 0
        self.duplicate_points = 0
        self._finalised: list[Stream] | None = None

    def add_document(self, document: Document, source: str, keep: KeepPoint | None = None) -> None:
        """Add every GPU gauge/sum point of a metrics document; ``keep(resource, time)`` filters points."""
        self._finalised = None
        for metric, raw_points in iter_metrics(document, accept=GPU_METRIC_NAMES.__contains__):
            if metric.kind not in ("gauge", "sum"):
                self.points_not_gpu += len(raw_points)
                continue
            prefix = (metric.resource.key, metric.scope.name, metric.name)
            for raw in raw_points:
                raw_key = (*prefix, tuple(raw.attributes or ()))
                try:
                    stream = self._by_raw[raw_key]
                except KeyError:
                    stream = self._by_raw[raw_key] = self._stream_for(metric, prefix, raw, source)
                except TypeError:  # an array or kvlist attribute: not hashable as it came
                    stream = self._stream_for(metric, prefix, raw, source)
                if stream is None:
                    self.points_not_gpu += 1
                    continue
                time_ns = to_int(raw.timeUnixNano) or 0
                if keep is not None and not keep(metric.resource, time_ns):
                    continue
                value, _ = number_value(raw)
                if value is None:
                    self.points_without_value += 1
                    continue
                stream.times.append(time_ns)
                stream.starts.append(to_int(raw.startTimeUnixNano) or 0)
                stream.values.append(float(value))
                self.points_read += 1

    def _stream_for(self, metric: Any, prefix: tuple[str, str, str], raw: Any, source: str) -> Stream | None:
        """The stream of a point (created on first sight); ``None`` for a non-GPU ``hw.*`` device."""
        point_attributes = attributes(raw.attributes)
        if point_attributes.get(sc.HW_TYPE, "gpu") != "gpu":
            return None
        key = (*prefix, _attribute_key(point_attributes))
        stream = self._streams.get(key)
        if stream is None:
            stream = self._streams[key] = Stream(metric, point_attributes, source, number_value(raw)[1])
            if stream.factor is None:
                logger.warning(
                    "%s has unknown unit %r: kept in the rows, left out of aggregates", metric.name, metric.unit
                )
        return stream

    def add_resource_metrics(self, resource_metrics: Iterable[Mapping[str, Any]], source: str = "given") -> None:
        """Add OTLP JSON ``resourceMetrics`` entries given as Python dicts (as ``json.load`` returns them)."""
        for item in resource_metrics:
            self.add_document(Document(resourceMetrics=[convert(item, ResourceMetrics)]), source)

    def hosts(self) -> set[str]:
        return {stream.host for stream in self._streams.values()}

    def streams(self) -> list[Stream]:
        """All streams, sorted and deduplicated, in a stable order."""
        if self._finalised is None:
            for stream in self._streams.values():
                self.duplicate_points += stream._finalise()
            self._finalised = sorted(
                self._streams.values(),
                key=lambda s: (
                    s.host,
                    s.gpu_id,
                    s.name,
                    s.resource.key,
                    s.scope_name,
                    repr(sorted(s.attributes.items())),
                ),
            )
        return self._finalised

    def time_range(self) -> tuple[int, int] | None:
        times = [t for s in self._streams.values() for t in (min(s.times), max(s.times)) if len(s)]
        return (min(times), max(times)) if times else None
