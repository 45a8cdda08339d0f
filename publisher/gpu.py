"""GPU aggregates of a run: averages and maxima per GPU and over the run, energy and CO2.

Rules (also in docs/publisher.md):

* Utilization and temperature: per GPU, the mean and max over its samples; for the run,
  the mean over GPUs of the per-GPU means (each GPU weighs the same, whatever its sample
  count) and the highest value any GPU reached.
* Memory and power: summed across GPUs at each instant, then the mean and max of those
  sums. An instant is a timestamp at which some GPU reported; a GPU that did not report
  at exactly that time contributes its latest sample if it is at most 1.5 of its own
  median sampling intervals old (the SDK stamps all GPUs of one collection with the same
  time, so on one host the sums are exact).
* Energy: per GPU from its ``hw.energy`` counter when it has one, else from integrated
  power; the run's energy is the sum over GPUs, and CO2 follows from it (``energy.py``).
* Both families are read; where one host reports a quantity in both, ``hw.*`` is used.
  Zeros are kept (``"asInt":"0"`` is a real zero); NaN samples are skipped. Anything not
  measured is ``None``, never 0.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from itertools import pairwise
from statistics import fmean
from typing import Any

from publisher.energy import JOULES_PER_WH, EnergySettings, counter_energy_j, integrate_power_j
from publisher.gpu_series import CANONICAL_UNIT, GpuSeriesStore, Stream
from publisher.otlp_json import DELTA

STALENESS_INTERVALS = 1.5
UNITS = {
    "utilization": "%",
    "memory": "MiB",
    "temperature": CANONICAL_UNIT["temperature"],
    "power": "W",
    "energy": "J",
    "co2": "gCO2e",
}

Series = tuple[list[int], list[float]]


def aggregate_gpu_metrics(
    resource_metrics: Iterable[Mapping[str, Any]],
    *,
    window_start: int | None = None,
    energy: EnergySettings | None = None,
) -> dict[str, Any]:
    """Aggregate OTLP JSON ``resourceMetrics`` (both GPU families) into run and per-GPU figures.

    Returns at least the brief's keys (``utilization_avg``, ``utilization_max``,
    ``memory_avg``, ``memory_max``, ``temperature_avg``, ``temperature_max``,
    ``power_avg``), plus ``power_max``, ``memory_total``, ``energy_j``, ``energy_wh``,
    ``energy_source``, ``co2_g``, ``gpu_count``, ``hardware``, ``units`` and ``per_gpu``.
    ``window_start`` (ns) is the run's start: an energy counter that started after it is
    counted from zero.
    """
    store = getattr(resource_metrics, "store", None)
    if not isinstance(store, GpuSeriesStore):
        store = GpuSeriesStore()
        store.add_resource_metrics(resource_metrics)
    return aggregate_streams(store.streams(), window_start=window_start, energy=energy)


def aggregate_streams(
    streams: list[Stream], *, window_start: int | None = None, energy: EnergySettings | None = None
) -> dict[str, Any]:
    """The figures of :func:`aggregate_gpu_metrics` from already collected streams."""
    settings = energy or EnergySettings()
    chosen = _prefer_semconv([s for s in streams if s.factor is not None and len(s)])
    by_gpu: dict[tuple[str, str], dict[str, list[Stream]]] = defaultdict(lambda: defaultdict(list))
    for stream in chosen:
        by_gpu[stream.gpu_key][stream.quantity].append(stream)

    per_gpu = []
    util_means, util_maxes, temp_means, temp_maxes = [], [], [], []
    memory_series: list[Series] = []
    power_series: list[Series] = []
    energies: list[float] = []
    sources: set[str] = set()
    for (host, gpu_id), quantities in sorted(by_gpu.items()):
        series = {q: _merge(quantities[q]) for q in quantities}
        detail = _gpu_detail(host, gpu_id, quantities, series)
        gpu_energy, source = _gpu_energy(quantities, series, window_start)
        detail["energy_j"], detail["energy_source"] = gpu_energy, source
        detail["co2_g"] = settings.co2_grams(gpu_energy)
        per_gpu.append(detail)
        _collect(detail["utilization_avg"], util_means)
        _collect(detail["utilization_max"], util_maxes)
        _collect(detail["temperature_avg"], temp_means)
        _collect(detail["temperature_max"], temp_maxes)
        if series.get("memory_used", ([], []))[0]:
            memory_series.append(series["memory_used"])
        if series.get("power", ([], []))[0]:
            power_series.append(series["power"])
        if gpu_energy is not None and source is not None:
            energies.append(gpu_energy)
            sources.add(source)

    memory_totals = _instant_totals(memory_series)
    power_totals = _instant_totals(power_series)
    energy_j = sum(energies) if energies else None
    memory_limits = [d["memory_total"] for d in per_gpu if d["memory_total"] is not None]
    return {
        "utilization_avg": fmean(util_means) if util_means else None,
        "utilization_max": max(util_maxes) if util_maxes else None,
        "memory_avg": fmean(memory_totals) if memory_totals else None,
        "memory_max": max(memory_totals) if memory_totals else None,
        "memory_total": sum(memory_limits) if memory_limits else None,
        "temperature_avg": fmean(temp_means) if temp_means else None,
        "temperature_max": max(temp_maxes) if temp_maxes else None,
        "power_avg": fmean(power_totals) if power_totals else None,
        "power_max": max(power_totals) if power_totals else None,
        "energy_j": energy_j,
        "energy_wh": energy_j / JOULES_PER_WH if energy_j is not None else None,
        "energy_source": "+".join(sorted(sources)) if sources else None,
        "co2_g": settings.co2_grams(energy_j),
        "gpu_count": len(per_gpu),
        "hardware": hardware_label(per_gpu),
        "units": dict(UNITS),
        "per_gpu": per_gpu,
    }


def hardware_label(per_gpu: list[dict[str, Any]]) -> str | None:
    """``"2x NVIDIA H100 80GB HBM3"``, ``"1x A10G + 1x L4"``; ``None`` without GPU data."""
    counts: dict[str, int] = defaultdict(int)
    for gpu in per_gpu:
        counts[gpu.get("name") or "GPU"] += 1
    return " + ".join(f"{n}x {name}" for name, n in sorted(counts.items())) or None


def _collect(value: float | None, into: list[float]) -> None:
    if value is not None:
        into.append(value)


def _prefer_semconv(streams: list[Stream]) -> list[Stream]:
    semconv_present = {(s.host, s.quantity) for s in streams if s.family == "semconv"}
    return [s for s in streams if s.family == "semconv" or (s.host, s.quantity) not in semconv_present]


def _merge(streams: list[Stream]) -> Series:
    """One GPU's samples of one quantity from all its streams, in time order, canonical unit, NaN dropped."""
    pairs = sorted(pair for stream in streams for pair in zip(*stream.canonical(), strict=True))
    return [t for t, _ in pairs], [v for _, v in pairs]


def _stats(series: Series | None) -> tuple[float | None, float | None]:
    if not series or not series[1]:
        return None, None
    return fmean(series[1]), max(series[1])


def _gpu_detail(
    host: str, gpu_id: str, quantities: Mapping[str, list[Stream]], series: Mapping[str, Series]
) -> dict[str, Any]:
    names = [s.gpu_name for streams in quantities.values() for s in streams if s.gpu_name]
    util_avg, util_max = _stats(series.get("utilization"))
    mem_avg, mem_max = _stats(series.get("memory_used"))
    temp_avg, temp_max = _stats(series.get("temperature"))
    power_avg, power_max = _stats(series.get("power"))
    limit = series.get("memory_total")
    return {
        "host": host,
        "gpu_id": gpu_id,
        "name": names[0] if names else None,
        "samples": max((len(s[0]) for s in series.values()), default=0),
        "utilization_avg": util_avg,
        "utilization_max": util_max,
        "memory_avg": mem_avg,
        "memory_max": mem_max,
        "memory_total": limit[1][-1] if limit and limit[1] else None,
        "temperature_avg": temp_avg,
        "temperature_max": temp_max,
        "power_avg": power_avg,
        "power_max": power_max,
    }


def _gpu_energy(
    quantities: Mapping[str, list[Stream]], series: Mapping[str, Series], window_start: int | None
) -> tuple[float | None, str | None]:
    counters = quantities.get("energy") or []
    total = None
    for stream in counters:
        factor = stream.factor or 1.0
        joules = counter_energy_j(stream.times, stream.starts, stream.values, stream.temporality != DELTA, window_start)
        if joules is not None:
            total = (total or 0.0) + joules * factor
    if total is not None:
        return total, counters[0].name
    power = series.get("power")
    if power and power[0]:
        joules = integrate_power_j(*power)
        if joules is not None:
            return joules, f"{quantities['power'][0].name} (integrated)"
    return None, None


def _instant_totals(all_series: list[Series]) -> list[float]:
    """Sum across series at every instant any series reported (see the module rules)."""
    if not all_series:
        return []
    instants = sorted({t for times, _ in all_series for t in times})
    staleness = [_staleness(times) for times, _ in all_series]
    cursor = [0] * len(all_series)
    totals = []
    for instant in instants:
        total, present = 0.0, False
        for i, (times, values) in enumerate(all_series):
            j = cursor[i]
            while j + 1 < len(times) and times[j + 1] <= instant:
                j += 1
            cursor[i] = j
            if times[j] <= instant and instant - times[j] <= staleness[i]:
                total += values[j]
                present = True
        if present:
            totals.append(total)
    return totals


def _staleness(times: list[int]) -> float:
    if len(times) < 2:
        return 0.0
    gaps = sorted(b - a for a, b in pairwise(times))
    return gaps[len(gaps) // 2] * STALENESS_INTERVALS
