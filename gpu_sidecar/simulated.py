"""Simulated GPUs: :class:`~gpu_sidecar.device.DeviceSample` readings with realistic shapes.

Each GPU goes through four phases over the run: idle (the model is being loaded), warm-up
(utilization ramps up, memory grows), steady load (utilization and power fluctuate around
a level, memory grows to a plateau and stays there) and a short idle tail (memory stays
allocated). Temperature follows power with a lag; NVML's total-energy counter advances by
the power drawn between readings, so energy and power always agree.

Utilization is solved so that its mean over the exported points (what the publisher's
``utilization_avg`` reports) is the mean asked for (:mod:`gpu_sidecar.simulated_load`), and
memory peaks exactly at the plateau asked for. Readings are quantised like NVML's (integer milliwatts, degrees,
MiB), and every random draw comes from generators seeded by the seed and the GPU index,
so a seed always gives the same readings.
"""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from gpu_sidecar.device import DeviceInfo, DeviceSample
from gpu_sidecar.simulated_load import Phases, Timeline, utilization

MIB = 1024**2
DRIVER_VERSION = "550.54.15"


@dataclass(frozen=True)
class GpuModel:
    """The physical figures of one GPU model."""

    name: str
    """NVML's device name (``hw.model``, ``gpu_name``)."""
    memory_mib: int
    idle_power_w: float
    max_power_w: float
    """Board power limit; steady full load draws about 90 % of it."""
    idle_temperature_c: float
    full_load_temperature_c: float
    thermal_time_constant_s: float = 45.0


GPU_MODELS: dict[str, GpuModel] = {
    "h100": GpuModel("NVIDIA H100 80GB HBM3", 81559, 70.0, 700.0, 34.0, 74.0),
    "a100": GpuModel("NVIDIA A100-SXM4-80GB", 81920, 55.0, 400.0, 32.0, 70.0),
    "a10g": GpuModel("NVIDIA A10G", 23028, 25.0, 300.0, 30.0, 78.0, 60.0),
    "l4": GpuModel("NVIDIA L4", 23034, 16.0, 72.0, 35.0, 70.0, 60.0),
}
"""Models ``--gpu-model`` offers, by short name."""


@dataclass(frozen=True)
class LoadProfile:
    """What one GPU is asked to show over the run."""

    utilization: float
    """Mean busy fraction over the whole run, 0..1."""
    memory: float
    """Peak (plateau) memory in use, as a fraction of the GPU's memory, 0..1."""


def smoothstep(x: float) -> float:
    x = min(1.0, max(0.0, x))
    return x * x * (3 - 2 * x)


@dataclass
class SimulatedGpu:
    """One GPU's state between readings."""

    info: DeviceInfo
    model: GpuModel
    profile: LoadProfile
    phases: Phases
    utilization: list[float]
    """Every reading's busy fraction (:mod:`gpu_sidecar.simulated_load`)."""
    rng: random.Random
    temperature_c: float = 0.0
    energy_mj: int = 0
    last: tuple[float, float] | None = None  # (t, watts) of the previous reading
    memory_base_mib: int = 0

    def memory_at(self, t: float) -> int:
        """MiB in use: the driver context while idle, the weights over the warm-up, then the KV
        cache growing to the plateau by 40 % of the steady phase; allocator churn below it after."""
        p = self.phases
        plateau = self.profile.memory * self.model.memory_mib
        base = min(self.memory_base_mib, plateau)
        steady_start = p.steady_start
        weights = 0.6 * (plateau - base) * smoothstep((t - p.idle_s) / max(p.warmup_s, 1e-9))
        growth = max(0.4 * p.steady_s, 1e-9)
        cache = 0.4 * (plateau - base) * smoothstep((t - steady_start) / growth)
        churn = 0.0
        if t >= steady_start + growth and self.rng.random() >= 0.2:
            churn = self.rng.uniform(0.0, 0.01) * plateau
        return max(0, math.floor(min(base + weights + cache, plateau) - churn) // 2 * 2)

    def power_for(self, utilization: float) -> float:
        m = self.model
        watts = m.idle_power_w + (0.9 * m.max_power_w - m.idle_power_w) * utilization
        return max(m.idle_power_w * 0.9, watts * (1 + 0.02 * self.rng.gauss(0.0, 1.0)))

    def equilibrium_temperature(self, watts: float) -> float:
        m = self.model
        share = (watts - m.idle_power_w) / (0.9 * m.max_power_w - m.idle_power_w)
        return m.idle_temperature_c + (m.full_load_temperature_c - m.idle_temperature_c) * share

    def read(self, k: int, t: float, time_s: float) -> DeviceSample:
        """Reading ``k``, ``t`` seconds into the run (``time_s`` on the Unix clock)."""
        utilization = self.utilization[k]
        milliwatts = round(self.power_for(utilization) * 1000)
        watts = milliwatts / 1000
        if self.last is None:
            self.temperature_c = self.equilibrium_temperature(watts)
        else:
            last_t, last_watts = self.last
            self.energy_mj += round((last_watts + watts) / 2 * (t - last_t) * 1000)
            lag = 1 - math.exp(-(t - last_t) / self.model.thermal_time_constant_s)
            self.temperature_c += (self.equilibrium_temperature(watts) - self.temperature_c) * lag
        self.last = (t, watts)
        return DeviceSample(
            info=self.info,
            time_s=time_s,
            utilization=utilization,
            memory_used_bytes=self.memory_at(t) * MIB,
            memory_total_bytes=self.model.memory_mib * MIB,
            power_w=watts,
            energy_counter_mj=self.energy_mj,
            temperature_c=float(round(self.temperature_c)),
            ecc_corrected=0,
            ecc_uncorrected=0,
        )


@dataclass(frozen=True)
class Simulation:
    """What to simulate: which GPUs, how loaded, for how long, read how often."""

    model: GpuModel
    profiles: Sequence[LoadProfile]
    """One per GPU."""
    duration_s: float
    interval_s: float
    export_interval_s: float
    start_s: float
    seed: int

    @property
    def timeline(self) -> Timeline:
        return Timeline.of(self.duration_s, self.interval_s, self.export_interval_s)


def device_info(seed: int, index: int, model: GpuModel) -> DeviceInfo:
    """A stable identity for GPU ``index`` of a seed (UUID, PCI bus id)."""
    rng = random.Random(f"{seed}:gpu{index}:identity")
    return DeviceInfo(
        uuid=f"GPU-{uuid.UUID(int=rng.getrandbits(128), version=4)}",
        model=model.name,
        index=index,
        driver_version=DRIVER_VERSION,
        pci_bus_id=f"00000000:{0x18 + 0x12 * (index % 8) + index // 8:02X}:00.0",
    )


def simulated_gpus(simulation: Simulation) -> list[SimulatedGpu]:
    timeline = simulation.timeline
    gpus = []
    for index, profile in enumerate(simulation.profiles):
        rng = random.Random(f"{simulation.seed}:gpu{index}:readings")
        load = utilization(profile.utilization, timeline, rng, simulation.interval_s)
        gpus.append(
            SimulatedGpu(
                info=device_info(simulation.seed, index, simulation.model),
                model=simulation.model,
                profile=profile,
                phases=load.phases,
                utilization=load.values,
                rng=rng,
                energy_mj=rng.randrange(10**9, 5 * 10**9),  # the driver was loaded some hours ago
                memory_base_mib=rng.randrange(420, 620),
            )
        )
    return gpus


def readings(simulation: Simulation) -> Iterator[tuple[float, list[DeviceSample]]]:
    """``(seconds into the run, one reading of every GPU)`` from the start to the end."""
    gpus = simulated_gpus(simulation)
    for k, t in enumerate(simulation.timeline.readings):
        yield t, [gpu.read(k, t, simulation.start_s + t) for gpu in gpus]
