"""Plain records for one GPU (or MIG instance) and one reading of it.

These are what the NVML source produces and what the metric model consumes; they know
nothing about NVML or OpenTelemetry, so a simulated device can produce them too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

DeviceState = Literal["ok", "failed"]
"""``hw.state`` values the sidecar reports: ``failed`` is a lost GPU (NVML_ERROR_GPU_IS_LOST)."""

VENDOR = "NVIDIA"

READINGS = ("utilization", "memory", "power", "energy", "temperature", "ecc")
"""What can be read of a device; a source may be asked for only some of them."""


@dataclass(frozen=True)
class DeviceInfo:
    """What identifies a device; constant while the sidecar runs."""

    uuid: str
    """NVML UUID (``GPU-...`` or ``MIG-...``): ``hw.id``."""
    model: str
    """NVML device name, e.g. ``NVIDIA H100 80GB HBM3``: ``hw.model``."""
    index: int
    """NVML index of the GPU (of the parent GPU for a MIG instance)."""
    driver_version: str
    pci_bus_id: str | None = None
    parent_uuid: str | None = None
    """For a MIG instance: the UUID of its GPU (``hw.parent``)."""
    mig_index: int | None = None
    """For a MIG instance: its slot on the parent GPU."""

    @property
    def name(self) -> str:
        """A short readable name: ``gpu0``, or ``gpu0/mig1`` for a MIG instance (``hw.name``)."""
        return f"gpu{self.index}" if self.mig_index is None else f"gpu{self.index}/mig{self.mig_index}"

    @property
    def is_mig(self) -> bool:
        return self.parent_uuid is not None


@dataclass(frozen=True)
class DeviceSample:
    """One reading of one device. ``None`` means "not available", never zero."""

    info: DeviceInfo
    time_s: float
    """When the reading was taken, in seconds (the sidecar uses the Unix clock)."""
    state: DeviceState = "ok"
    utilization: float | None = None
    """Busy fraction 0..1, averaged over the sampling interval where NVML keeps samples."""
    memory_used_bytes: int | None = None
    memory_total_bytes: int | None = None
    power_w: float | None = None
    energy_counter_mj: int | None = None
    """NVML's raw total-energy counter (millijoules since the driver loaded)."""
    energy_j: float | None = None
    """Energy since the sidecar started (filled in by :mod:`gpu_sidecar.energy`)."""
    temperature_c: float | None = None
    ecc_corrected: int | None = None
    ecc_uncorrected: int | None = None
