"""The scenario behind the fake pynvml: devices whose readings follow step functions of time."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from ctypes import addressof, pointer
from importlib import import_module
from typing import Any

_t = import_module(".nvml_types", __package__) if __package__ else import_module("nvml_types")

# --- the scenario ---------------------------------------------------------------------------
MIG_CHILD_UNSUPPORTED = ("utilization", "utilization_samples", "power", "energy", "temperature", "ecc", "mig")
MIG_PARENT_UNSUPPORTED = ("utilization", "utilization_samples")
DEFAULTS = {
    "utilization": 0,
    "memory_utilization": 0,
    "memory_used": 0,
    "power": 100_000,
    "temperature": 40,
    "ecc_corrected": 0,
    "ecc_uncorrected": 0,
    "power_limit": 300_000,
    "sm_clock": 1410,
    "mem_clock": 1215,
    "fan_speed": 30,
    "pstate": 0,
    "pcie_tx": 1000,
    "pcie_rx": 1000,
    "throttle_reasons": 0,
}
BUFFER_SAMPLES = 120  # entries kept in NVML's sample ring buffer


def step_value(series: Any, t: float) -> float:
    """A constant, or the value of the last ``[t_i, v]`` with ``t_i <= t`` (the first before it)."""
    if not isinstance(series, list):
        return series
    value = series[0][1]
    for at, v in series:
        if at <= t:
            value = v
        else:
            break
    return value


def step_integral(series: Any, start: float, end: float) -> float:
    """Integral of a step series over [start, end] (value x seconds)."""
    if end <= start:
        return 0.0
    if not isinstance(series, list):
        return float(series) * (end - start)
    edges = sorted({start, end, *(at for at, _ in series if start < at < end)})
    return sum(step_value(series, a) * (b - a) for a, b in itertools.pairwise(edges))


class Device:
    """One GPU or MIG instance of the scenario."""

    def __init__(self, spec: dict[str, Any], index: int, parent: Device | None = None) -> None:
        self.spec = spec
        self.index = index
        self.parent = parent
        self.uuid: str = spec["uuid"]
        self.name: str = spec.get("name", "NVIDIA Fake GPU")
        self.memory_total: int = int(spec.get("memory_total", 16 * 1024**3))
        self.fields: dict[str, Any] = {**DEFAULTS, **spec.get("fields", {})}
        children = spec.get("mig")
        if "unsupported" in spec:
            self.unsupported = set(spec["unsupported"])
        elif parent is not None:
            self.unsupported = set(MIG_CHILD_UNSUPPORTED)
        elif children:
            self.unsupported = set(MIG_PARENT_UNSUPPORTED)
        else:
            self.unsupported = set()
        self.mig_enabled = bool(children) if parent is None else False
        self.children = [Device(child, slot, self) for slot, child in enumerate(children or [])]
        self.max_mig = int(spec.get("max_mig_devices", 7))
        self._struct = _t.struct_c_nvmlDevice_t()
        self.handle_address = addressof(self._struct)

    def new_handle(self) -> Any:
        return pointer(self._struct)

    def lost(self, t: float) -> bool:
        if self.parent is not None:
            return self.parent.lost(t)
        lost_at, back_at = self.spec.get("lost_at"), self.spec.get("back_at")
        return lost_at is not None and t >= lost_at and (back_at is None or t < back_at)

    def value(self, field: str, t: float) -> Any:
        return step_value(self.fields[field], t)

    def energy_mj(self, t: float) -> int:
        if "energy" in self.fields and "energy" in self.spec.get("fields", {}):
            return int(self.value("energy", t))
        resets = [r for r in self.spec.get("energy_resets", []) if r <= t]
        start = max(resets) if resets else 0.0
        offset = 0 if resets else int(self.spec.get("energy_offset_mj", 0))
        return offset + int(step_integral(self.fields["power"], start, t))


class State:
    """The library's state: the loaded scenario, its clock, the init count, the devices."""

    def __init__(self) -> None:
        self.scenario: dict[str, Any] | None = None
        self.clock: Callable[[], float] = time.monotonic
        self.t0: float | None = None
        self.epoch0 = 0.0
        self.refcount = 0
        self.gpus: list[Device] = []
        self.by_address: dict[int, Device] = {}

    def now(self) -> float:
        return 0.0 if self.t0 is None else self.clock() - self.t0
