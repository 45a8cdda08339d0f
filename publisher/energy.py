"""Energy over a run window and the CO2 it stands for.

Energy comes from the ``hw.energy`` counter (joules) where a GPU has one, and from
integrating power (``hw.power`` or ``gen_ai.gpu.power``, watts) over time otherwise.

CO2 (grams CO2-equivalent) = energy (kWh) x grid carbon intensity (gCO2e/kWh) x PUE.

Defaults, both configurable (``--grid-intensity``/``SMOLTRACE_GRID_INTENSITY``,
``--pue``/``SMOLTRACE_PUE``):

* grid intensity 475 gCO2e/kWh: the world-average carbon intensity of electricity
  generation reported by the IEA (Global Energy & CO2 Status Report 2019, 2018 figure),
  also the world-average fallback CodeCarbon uses. Set your grid's figure (for example
  from Electricity Maps or Ember) for a meaningful number.
* PUE 1.0: only the GPUs' own energy, no facility overhead, because the publisher cannot
  know where the GPUs ran. For a typical data centre use about 1.56 (Uptime Institute
  Global Data Center Survey 2024 average); hyperscale providers publish about 1.1.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from math import isnan

from smoltrace_otel import env
from smoltrace_otel.errors import UsageError

JOULES_PER_WH = 3600.0
JOULES_PER_KWH = 3.6e6
DEFAULT_GRID_INTENSITY_G_PER_KWH = 475.0
DEFAULT_PUE = 1.0
GRID_INTENSITY_SOURCE = "IEA Global Energy & CO2 Status Report 2019 (world average, 2018)"
PUE_SOURCE = "1.0 = GPU energy only, no facility overhead"
MAX_GAP_INTERVALS = 3.0
"""Power integration does not bridge a gap longer than this many median sampling intervals."""


@dataclass(frozen=True)
class EnergySettings:
    """How energy becomes CO2."""

    grid_intensity_g_per_kwh: float = DEFAULT_GRID_INTENSITY_G_PER_KWH
    pue: float = DEFAULT_PUE

    def __post_init__(self) -> None:
        if not self.grid_intensity_g_per_kwh >= 0:
            raise UsageError(f"grid intensity must be >= 0 gCO2e/kWh, got {self.grid_intensity_g_per_kwh}")
        if not self.pue >= 1.0:
            raise UsageError(f"PUE must be >= 1.0, got {self.pue}")

    @classmethod
    def from_env(cls, grid_intensity: float | None = None, pue: float | None = None) -> EnergySettings:
        """Explicit values win, then ``SMOLTRACE_GRID_INTENSITY`` / ``SMOLTRACE_PUE``, then the defaults."""
        return cls(
            grid_intensity_g_per_kwh=_pick(
                grid_intensity, env.SMOLTRACE_GRID_INTENSITY, DEFAULT_GRID_INTENSITY_G_PER_KWH
            ),
            pue=_pick(pue, env.SMOLTRACE_PUE, DEFAULT_PUE),
        )

    def co2_grams(self, energy_j: float | None) -> float | None:
        """Grams CO2e for ``energy_j`` joules; ``None`` when the energy was not measured."""
        if energy_j is None:
            return None
        return energy_j / JOULES_PER_KWH * self.grid_intensity_g_per_kwh * self.pue


def _pick(explicit: float | None, variable: str, default: float) -> float:
    if explicit is not None:
        return float(explicit)
    raw = os.environ.get(variable)
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise UsageError(f"${variable} must be a number, got {raw!r}") from None


def counter_energy_j(
    times: Sequence[int],
    starts: Sequence[int],
    values: Sequence[float],
    cumulative: bool,
    window_start: int | None = None,
) -> float | None:
    """Energy (J) of one energy-counter stream over the points given (already cut to the window).

    Delta points are added up. Cumulative points are split into segments wherever
    ``startTimeUnixNano`` changes or the value goes down (a reset); each segment
    contributes its last value minus its first, plus the first value itself when the
    segment started inside the window (its counter began at zero after ``window_start``)
    or after a reset that kept the start time (the counter went back to zero).
    Points must be in time order; NaN points are skipped.
    """
    energy = 0.0
    seen = False
    if not cumulative:
        for value in values:
            if not isnan(value):
                energy += value
                seen = True
        return energy if seen else None
    segment_start: int | None = None
    first = last = 0.0
    for start, value in zip(starts, values, strict=True):
        if isnan(value):
            continue
        if segment_start is None or start != segment_start:
            if segment_start is not None:
                energy += last - first
            counted_from_zero = window_start is not None and start >= window_start and start > 0
            first = 0.0 if counted_from_zero else value
            segment_start = start
        elif value < last:
            # Reset without a new start time: the counter went back to zero.
            energy += last - first
            first = 0.0
        last = value
        seen = True
    if segment_start is not None:
        energy += last - first
    return energy if seen else None


def integrate_power_j(times: Sequence[int], values: Sequence[float]) -> float | None:
    """Energy (J) from power samples (W) by the trapezoid rule, not bridging long gaps.

    A gap longer than ``MAX_GAP_INTERVALS`` median intervals (sidecar down, GPU lost)
    is left out rather than guessed. NaN samples are skipped. One sample alone gives no energy.
    """
    samples = [(t, v) for t, v in zip(times, values, strict=True) if not isnan(v)]
    if len(samples) < 2:
        return None
    gaps = sorted(b[0] - a[0] for a, b in pairwise(samples))
    limit = gaps[len(gaps) // 2] * MAX_GAP_INTERVALS
    energy = 0.0
    for (t0, v0), (t1, v1) in pairwise(samples):
        gap = t1 - t0
        if 0 < gap <= limit:
            energy += (v0 + v1) / 2.0 * gap / 1e9
    return energy
