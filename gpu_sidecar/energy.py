"""Energy since the sidecar started, per device.

Where the GPU has NVML's total-energy counter, the first reading is the baseline and
each later reading adds its increase; a counter that goes down (a driver reload or GPU
reset restarts it from zero) adds its new value instead, so the total never goes back.
Without the counter, power is integrated over the readings (trapezoids); a gap (a lost
GPU) is not integrated across.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from gpu_sidecar.device import DeviceSample

logger = logging.getLogger(__name__)


@dataclass
class _DeviceEnergy:
    mode: str | None = None  # "counter" or "power", fixed by the first reading
    total_j: float = 0.0
    last_counter_mj: int | None = None
    last_power: tuple[float, float] | None = None  # (time_s, watts)


class EnergyMeter:
    """Accumulates energy per device UUID from successive samples."""

    def __init__(self) -> None:
        self._devices: dict[str, _DeviceEnergy] = {}

    def update(self, sample: DeviceSample) -> DeviceSample:
        """Return ``sample`` with ``energy_j`` set (``None`` where neither counter nor power exists)."""
        if sample.state != "ok":
            self.forget_gap(sample.info.uuid)
            return sample
        energy = self._devices.setdefault(sample.info.uuid, _DeviceEnergy())
        if energy.mode is None:
            if sample.energy_counter_mj is not None:
                energy.mode, energy.last_counter_mj = "counter", sample.energy_counter_mj
            elif sample.power_w is not None:
                energy.mode, energy.last_power = "power", (sample.time_s, sample.power_w)
            else:
                return sample
            return replace(sample, energy_j=0.0)
        if energy.mode == "counter":
            self._add_counter(sample, energy)
        else:
            self._add_power(sample, energy)
        return replace(sample, energy_j=energy.total_j)

    def forget_gap(self, uuid: str) -> None:
        """The device was unreadable: do not integrate power across the gap."""
        energy = self._devices.get(uuid)
        if energy is not None:
            energy.last_power = None

    @staticmethod
    def _add_counter(sample: DeviceSample, energy: _DeviceEnergy) -> None:
        counter = sample.energy_counter_mj
        if counter is None or energy.last_counter_mj is None:
            energy.last_counter_mj = counter if counter is not None else energy.last_counter_mj
            return
        if counter >= energy.last_counter_mj:
            energy.total_j += (counter - energy.last_counter_mj) / 1000.0
        else:
            logger.info("energy counter of %s went back (reset); counting from its new value", sample.info.uuid)
            energy.total_j += counter / 1000.0
        energy.last_counter_mj = counter

    @staticmethod
    def _add_power(sample: DeviceSample, energy: _DeviceEnergy) -> None:
        if sample.power_w is None:
            return
        if energy.last_power is not None:
            last_time, last_watts = energy.last_power
            elapsed = sample.time_s - last_time
            if elapsed > 0:
                energy.total_j += (last_watts + sample.power_w) / 2.0 * elapsed
        energy.last_power = (sample.time_s, sample.power_w)
