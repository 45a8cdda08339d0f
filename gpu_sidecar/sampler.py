"""The sampling loop: one reading of every device each ``interval``, until told to stop.

Ticks are scheduled from the start time (no drift); a tick missed because a reading
was slow is skipped, not made up. When the duration ends or :meth:`Sampler.stop` is
called (SIGTERM/SIGINT), one last sample is taken before :meth:`Sampler.run` returns.
Exporting happens elsewhere (the SDK's reader thread), so a Collector that is slow or
down never delays a reading.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from gpu_sidecar.device import DeviceSample
from gpu_sidecar.energy import EnergyMeter
from gpu_sidecar.model import Observation, observe_all, readings_for
from gpu_sidecar.semconv import Naming

logger = logging.getLogger(__name__)


class DeviceSource(Protocol):
    def sample(self, now: float) -> list[DeviceSample]: ...


@dataclass(frozen=True)
class SamplerSettings:
    interval_s: float = 1.0
    duration_s: float | None = None
    """Stop after this many seconds; ``None`` runs until stopped."""
    naming: Naming = "semconv"


class Sampler:
    """Reads ``source``, adds energy, turns samples into observations and hands them to ``sink``."""

    def __init__(
        self,
        source: DeviceSource,
        sink: Callable[[Iterable[Observation]], None],
        settings: SamplerSettings | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.source = source
        self.sink = sink
        self.settings = settings or SamplerSettings()
        self.energy = EnergyMeter()
        self._needs_energy = "energy" in readings_for(self.settings.naming)
        self.samples_taken = 0
        self.cpu_s = 0.0
        """CPU time of this process (all threads: sampling and exporting) while :meth:`run` ran."""
        self._clock = clock
        self._wall_clock = wall_clock
        self._stop = threading.Event()

    def stop(self, *_args: object) -> None:
        """Ask :meth:`run` to take its last sample and return (safe from a signal handler)."""
        self._stop.set()

    def sample_once(self) -> list[DeviceSample]:
        """Read every device once and pass the observations on."""
        samples = self.source.sample(self._wall_clock())
        if self._needs_energy:
            samples = [self.energy.update(sample) for sample in samples]
        self.sink(observe_all(samples, self.settings.naming))
        self.samples_taken += 1
        return samples

    def run(self) -> int:
        """Sample until the duration ends or :meth:`stop` is called; return the number of samples."""
        interval = self.settings.interval_s
        cpu_start = time.process_time()
        start = self._clock()
        deadline = start + self.settings.duration_s if self.settings.duration_s is not None else None
        next_tick = start
        while True:
            self._guarded_sample()
            now = self._clock()
            next_tick += interval
            if next_tick <= now:
                skipped = int((now - next_tick) // interval) + 1
                logger.debug("sampling fell behind; skipping %d tick(s)", skipped)
                next_tick += skipped * interval
            wake = next_tick if deadline is None else min(next_tick, deadline)
            if self._stop.wait(max(0.0, wake - now)):
                break
            if deadline is not None and self._clock() >= deadline:
                break
        self._guarded_sample()  # the last sample, at the stop
        self.cpu_s = time.process_time() - cpu_start
        return self.samples_taken

    def _guarded_sample(self) -> None:
        try:
            self.sample_once()
        except Exception:
            logger.exception("a sample failed; sampling goes on")
