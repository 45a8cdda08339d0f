"""A simulated GPU's utilization over a run, solved so that its mean is the one asked for.

The run has four phases: idle, a linear warm-up, steady load, an idle tail. The mean that
matters is the one a reader of the exports computes: the mean over exported points, each
point being the mean of the readings in its export interval (the sidecar's reduction).
Each reading's weight in that mean is known in advance, so the steady level is solved
exactly for the actual readings; the noise (AR(1), so neighbouring readings look alike)
is centred, and a few corrections absorb what clipping at 0 and 100 % takes away.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

IDLE_UTILIZATION = 0.01
MAX_STEADY_UTILIZATION = 0.99
NOISE_CORRELATION = 0.8
"""AR(1) coefficient of the noise between two readings one second apart."""
EPSILON = 1e-9


@dataclass(frozen=True)
class Timeline:
    """When the readings and the exports happen, in seconds into the run."""

    readings: list[float]
    exports: list[float]
    duration_s: float

    @classmethod
    def of(cls, duration_s: float, interval_s: float, export_interval_s: float) -> Timeline:
        """Readings at 0, one interval, ... and the end; exports every export interval and at the end."""
        return cls(_steps(duration_s, interval_s, 0), _steps(duration_s, export_interval_s, 1), duration_s)

    def window(self, t: float, start: int = 0) -> int:
        """The export (index, from ``start`` on) whose interval holds a reading at ``t``."""
        index = start
        while t > self.exports[index] + EPSILON:
            index += 1
        return index

    def weights(self) -> list[float]:
        """Each reading's weight in the mean over exported points."""
        windows, index = [], 0
        for t in self.readings:
            index = self.window(t, index)
            windows.append(index)
        counts: dict[int, int] = {}
        for index in windows:
            counts[index] = counts.get(index, 0) + 1
        return [1 / (len(counts) * counts[index]) for index in windows]


def _steps(duration_s: float, step_s: float, first: int) -> list[float]:
    count = math.floor(duration_s / step_s + EPSILON)
    offsets = [k * step_s for k in range(first, count + 1)]
    if not offsets or duration_s - offsets[-1] > EPSILON:
        offsets.append(duration_s)
    return offsets


@dataclass(frozen=True)
class Phases:
    """Phase lengths in seconds; the steady phase is what remains of the duration."""

    idle_s: float
    warmup_s: float
    tail_s: float
    duration_s: float

    @property
    def steady_start(self) -> float:
        return self.idle_s + self.warmup_s

    @property
    def steady_end(self) -> float:
        return self.duration_s - self.tail_s

    @property
    def steady_s(self) -> float:
        return self.steady_end - self.steady_start

    @classmethod
    def for_duration(cls, duration_s: float) -> Phases:
        """5 % idle (at most 30 s), 10 % warm-up (at most 60 s), 3 % idle tail (at most 20 s)."""
        return cls(min(0.05 * duration_s, 30.0), min(0.10 * duration_s, 60.0), min(0.03 * duration_s, 20.0), duration_s)

    def scaled(self, factor: float) -> Phases:
        return Phases(self.idle_s * factor, self.warmup_s * factor, self.tail_s * factor, self.duration_s)

    def shape(self, t: float, idle: float) -> tuple[float, float]:
        """(a, b) such that the utilization at ``t`` is ``a + b * level`` (before noise)."""
        if t < self.idle_s or t > self.steady_end:
            return idle, 0.0
        if t < self.steady_start:
            x = (t - self.idle_s) / self.warmup_s
            return idle * (1 - x), x
        return 0.0, 1.0


@dataclass(frozen=True)
class Utilization:
    values: list[float]
    """Busy fraction of every reading, 0..1."""
    level: float
    phases: Phases


def noise_sd(level: float) -> float:
    """Widest at half load, vanishing at 0 and 100 % (so clipping barely biases the mean)."""
    return 0.06 * math.sqrt(max(0.0, 4 * level * (1 - level)))


def _coefficients(phases: Phases, timeline: Timeline, weights: list[float], idle: float) -> tuple[float, float]:
    """(A, B): the run's weighted mean utilization is ``A + B * level``."""
    a = b = 0.0
    for t, w in zip(timeline.readings, weights, strict=True):
        ak, bk = phases.shape(t, idle)
        a, b = a + w * ak, b + w * bk
    return a, b


def _solve(target: float, timeline: Timeline, weights: list[float], idle: float) -> tuple[float, Phases]:
    phases = Phases.for_duration(timeline.duration_s)
    a, b = _coefficients(phases, timeline, weights, idle)
    if target >= MAX_STEADY_UTILIZATION or b <= EPSILON:
        return target, phases.scaled(0.0)
    level = (target - a) / b
    if level <= MAX_STEADY_UTILIZATION:
        return level, phases
    # Too high to reach with these idle phases: shorten them until the cap reaches the target.
    low, high = 0.0, 1.0
    for _ in range(40):
        middle = (low + high) / 2
        a, b = _coefficients(phases.scaled(middle), timeline, weights, idle)
        low, high = (middle, high) if a + b * MAX_STEADY_UTILIZATION > target else (low, middle)
    return MAX_STEADY_UTILIZATION, phases.scaled(low)


def utilization(target: float, timeline: Timeline, rng: random.Random, interval_s: float) -> Utilization:
    """Readings whose mean over exported points is ``target`` (0..1), up to rounding."""
    weights = timeline.weights()
    idle = min(IDLE_UTILIZATION, target)
    level, phases = _solve(target, timeline, weights, idle)
    shapes = [phases.shape(t, idle) for t in timeline.readings]
    phi = NOISE_CORRELATION ** min(interval_s, 10.0)
    sd = noise_sd(min(level, 1.0)) * math.sqrt(1 - phi * phi)
    noise, n = [], 0.0
    for _a, b in shapes:
        n = phi * n + sd * rng.gauss(0.0, 1.0) if b else 0.0
        noise.append(n * b)
    steady_weight = sum(w * b for w, (_a, b) in zip(weights, shapes, strict=True))
    if steady_weight > 0:
        shift = sum(w * x for w, x in zip(weights, noise, strict=True)) / steady_weight
        noise = [x - shift * b for x, (_a, b) in zip(noise, shapes, strict=True)]
    _, b_total = _coefficients(phases, timeline, weights, idle)
    values: list[float] = []
    for _ in range(4):
        values = [min(1.0, max(0.0, a + b * level + x)) for (a, b), x in zip(shapes, noise, strict=True)]
        error = target - sum(w * v for w, v in zip(weights, values, strict=True))
        if abs(error) < 1e-6 or b_total <= EPSILON:
            break
        level += error / b_total
    return Utilization([round(v, 4) for v in values], level, phases)
