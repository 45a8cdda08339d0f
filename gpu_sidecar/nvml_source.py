"""Reads every NVIDIA GPU (and MIG instance) through NVML into :class:`DeviceSample` records.

* ``nvmlInit`` once; handles are looked up once and cached by UUID.
* MIG instances are devices of their own, with the parent GPU's UUID.
* A reading NVML answers NOT_SUPPORTED is left ``None`` for that device from then on
  (never 0), with one warning per device and reading.
* A GPU answering GPU_IS_LOST (or an NVML that stopped working) is marked ``failed``
  (its MIG instances too) and skipped while the other GPUs go on; NVML is then
  re-initialised with exponential backoff until the GPU answers again.
* Utilization is the average of NVML's sample buffer since the previous reading
  (``nvmlDeviceGetSamples``), or the instantaneous value where there is no buffer.
* No process lists and nothing else slow is read in :meth:`NvmlSource.sample`.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from gpu_sidecar.device import READINGS, DeviceInfo, DeviceSample
from smoltrace_otel.errors import UsageError

logger = logging.getLogger(__name__)

# NVML return codes and enums (fixed by the NVML ABI; the same values in every nvidia-ml-py).
NOT_SUPPORTED = 3
NOT_FOUND = 6
GPU_IS_LOST = 15
_LOST_CODES = frozenset(
    {1, 9, GPU_IS_LOST, 16, 18}
)  # uninitialized, driver not loaded, lost, reset required, RM mismatch
_GPU_UTILIZATION_SAMPLES = 1
_TEMPERATURE_GPU = 0
_ECC_CORRECTED, _ECC_UNCORRECTED, _VOLATILE_ECC = 0, 1, 0
_MIG_ENABLED = 1
_SAMPLE_UNION_FIELD = {0: "dVal", 1: "uiVal", 2: "ulVal", 3: "ullVal", 4: "sllVal", 5: "siVal", 6: "usVal"}


class NoGpuError(UsageError):
    """No NVIDIA driver, no NVML bindings, or no GPU: nothing to sample."""


class _DeviceLost(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class SourceSettings:
    interval_s: float = 1.0
    """The sampling interval: the window of NVML samples the first utilization reading averages."""
    reinit_initial_s: float = 1.0
    """First wait before re-initialising NVML after a GPU was lost; doubles on each failure."""
    reinit_max_s: float = 60.0
    readings: frozenset[str] = frozenset(READINGS)
    """What to read; the others are left ``None`` without asking NVML."""


@dataclass
class _Device:
    info: DeviceInfo
    handle: Any
    lost: bool = False
    unsupported: set[str] = field(default_factory=set)
    use_sample_buffer: bool = True
    last_sample_stamp: int = 0
    newly_unsupported: list[str] = field(default_factory=list)


class NvmlSource:
    """The GPUs of this machine as NVML sees them. ``nvml`` defaults to ``import pynvml``."""

    def __init__(self, settings: SourceSettings | None = None, nvml: ModuleType | None = None) -> None:
        self.settings = settings or SourceSettings()
        self._nvml = nvml
        self._devices: dict[str, _Device] = {}
        self._warned: set[tuple[str, ...]] = set()
        self._initialised = False
        self._skipped = frozenset(READINGS) - self.settings.readings
        self._backoff_s = self.settings.reinit_initial_s
        self._reinit_at: float | None = None

    # --- lifecycle -----------------------------------------------------------------------
    def open(self) -> list[DeviceInfo]:
        """Initialise NVML and find the devices; :class:`NoGpuError` if there are none."""
        if self._nvml is None:
            try:
                self._nvml = importlib.import_module("pynvml")
            except ImportError:
                raise NoGpuError("no NVML bindings: nvidia-ml-py (module pynvml) is not installed") from None
        try:
            self._nvml.nvmlInit()
        except self._nvml.NVMLError as error:
            raise NoGpuError(f"no NVIDIA driver: NVML did not start ({error})") from None
        self._initialised = True
        try:
            found = self._enumerate(announce=True)
        except self._nvml.NVMLError as error:
            self.close()
            raise NoGpuError(f"NVML could not list the GPUs ({error})") from None
        if not found:
            self.close()
            raise NoGpuError("no NVIDIA GPU found")
        self._devices = {device.info.uuid: device for device in found}
        return self.devices()

    def devices(self) -> list[DeviceInfo]:
        return [device.info for device in self._devices.values()]

    def close(self) -> None:
        if self._initialised and self._nvml is not None:
            self._initialised = False
            try:
                self._nvml.nvmlShutdown()
            except self._nvml.NVMLError as error:
                logger.debug("nvmlShutdown: %s", error)

    # --- the hot path --------------------------------------------------------------------
    def sample(self, now: float) -> list[DeviceSample]:
        """One reading of every known device; lost devices come back as ``state="failed"``."""
        if self._reinit_at is not None and now >= self._reinit_at:
            self._reinitialise(now)
        samples = []
        for device in list(self._devices.values()):
            if not device.lost:
                try:
                    samples.append(self._read(device, now))
                    continue
                except _DeviceLost as lost:
                    self._mark_lost(device, lost.code, now)
                finally:
                    self._report_unsupported(device)
            samples.append(DeviceSample(device.info, now, state="failed"))
        return samples

    def _read(self, device: _Device, now: float) -> DeviceSample:
        nvml, handle = self._nvml, device.handle
        assert nvml is not None
        memory = self._reading(device, "memory", lambda: nvml.nvmlDeviceGetMemoryInfo(handle))
        power_mw = self._reading(device, "power", lambda: nvml.nvmlDeviceGetPowerUsage(handle))
        ecc = self._reading(
            device,
            "ecc",
            lambda: (
                nvml.nvmlDeviceGetTotalEccErrors(handle, _ECC_CORRECTED, _VOLATILE_ECC),
                nvml.nvmlDeviceGetTotalEccErrors(handle, _ECC_UNCORRECTED, _VOLATILE_ECC),
            ),
        )
        return DeviceSample(
            info=device.info,
            time_s=now,
            utilization=self._utilization(device),
            memory_used_bytes=int(memory.used) if memory is not None else None,
            memory_total_bytes=int(memory.total) if memory is not None else None,
            power_w=power_mw / 1000.0 if power_mw is not None else None,
            energy_counter_mj=self._reading(device, "energy", lambda: nvml.nvmlDeviceGetTotalEnergyConsumption(handle)),
            temperature_c=self._reading(
                device, "temperature", lambda: nvml.nvmlDeviceGetTemperature(handle, _TEMPERATURE_GPU)
            ),
            ecc_corrected=ecc[0] if ecc is not None else None,
            ecc_uncorrected=ecc[1] if ecc is not None else None,
        )

    def _reading(self, device: _Device, reading: str, call: Any) -> Any:
        """``call()``, or ``None`` where the device does not support it or it failed this time."""
        if reading in device.unsupported or reading in self._skipped:
            return None
        assert self._nvml is not None
        try:
            return call()
        except self._nvml.NVMLError as error:
            self._on_error(device, reading, error)
            return None

    def _on_error(self, device: _Device, reading: str, error: Exception) -> None:
        code = getattr(error, "value", None)
        if code in _LOST_CODES:
            raise _DeviceLost(code) from None
        uuid = device.info.uuid
        if code == NOT_SUPPORTED:
            device.unsupported.add(reading)
            device.newly_unsupported.append(reading)
        else:
            self._warn_once((uuid, reading, str(code)), "reading %s of %s failed: %s", reading, uuid, error)

    def _report_unsupported(self, device: _Device) -> None:
        """One warning per device for the readings it turned out not to support (never repeated)."""
        if device.newly_unsupported:
            readings = ", ".join(device.newly_unsupported)
            device.newly_unsupported.clear()
            logger.warning("%s (%s) does not support: %s; omitted", device.info.uuid, device.info.name, readings)

    def _utilization(self, device: _Device) -> float | None:
        if "utilization" in device.unsupported or "utilization" in self._skipped:
            return None
        if device.use_sample_buffer:
            average = self._buffered_utilization(device)
            if average is not None:
                return average
        assert self._nvml is not None
        rates = self._reading(device, "utilization", lambda: self._nvml.nvmlDeviceGetUtilizationRates(device.handle))
        return rates.gpu / 100.0 if rates is not None else None

    def _buffered_utilization(self, device: _Device) -> float | None:
        """Mean of NVML's utilization samples since the last one seen (``None``: none or no buffer)."""
        assert self._nvml is not None
        try:
            value_type, samples = self._nvml.nvmlDeviceGetSamples(
                device.handle, _GPU_UTILIZATION_SAMPLES, device.last_sample_stamp
            )
        except self._nvml.NVMLError as error:
            code = getattr(error, "value", None)
            if code in _LOST_CODES:
                raise _DeviceLost(code) from None
            if code != NOT_FOUND:  # NOT_FOUND: no new sample since the last reading
                device.use_sample_buffer = False
                logger.debug("%s has no utilization sample buffer (%s); reading it instantly", device.info.uuid, error)
            return None
        if not samples:
            return None
        newest = max(sample.timeStamp for sample in samples)
        if device.last_sample_stamp == 0:  # first reading: only the last interval of the buffer
            oldest = newest - int(self.settings.interval_s * 1e6)
            samples = [sample for sample in samples if sample.timeStamp > oldest]
        device.last_sample_stamp = newest
        union_field = _SAMPLE_UNION_FIELD.get(value_type, "uiVal")
        values = [float(getattr(sample.sampleValue, union_field)) for sample in samples]
        return sum(values) / len(values) / 100.0

    # --- lost GPUs and recovery ----------------------------------------------------------------
    def _mark_lost(self, device: _Device, code: int, now: float) -> None:
        affected = [device]
        parent = device.info.parent_uuid or device.info.uuid
        affected += [d for d in self._devices.values() if parent in (d.info.parent_uuid, d.info.uuid)]
        for lost in affected:
            if not lost.lost:
                lost.lost = True
                logger.warning(
                    "%s (%s) is lost (NVML error %s): reported as hw.state=failed; other GPUs go on",
                    lost.info.uuid,
                    lost.info.name,
                    code,
                )
        if self._reinit_at is None:
            self._reinit_at = now + self._backoff_s

    def _reinitialise(self, now: float) -> None:
        """Restart NVML, refresh every handle, and bring back the devices that answer again."""
        nvml = self._nvml
        assert nvml is not None
        self.close()
        try:
            nvml.nvmlInit()
            self._initialised = True
            found = {device.info.uuid: device for device in self._enumerate(announce=False)}
        except nvml.NVMLError as error:
            logger.warning("re-initialising NVML failed: %s", error)
            found = {}
        for uuid, fresh in found.items():
            known = self._devices.get(uuid)
            if known is None:
                logger.info("new device %s (%s)", uuid, fresh.info.name)
                self._devices[uuid] = fresh
                continue
            known.handle = fresh.handle
            if known.lost:
                logger.info("%s (%s) answers again", uuid, known.info.name)
                known.lost, known.last_sample_stamp = False, 0
        for uuid, known in self._devices.items():
            if uuid not in found and not known.lost:
                known.lost = True
                logger.warning("%s (%s) is gone after re-initialising NVML", uuid, known.info.name)
        if any(device.lost for device in self._devices.values()):
            self._backoff_s = min(self._backoff_s * 2, self.settings.reinit_max_s)
            self._reinit_at = now + self._backoff_s
            logger.debug("a device is still lost; next NVML re-initialisation in %.0f s", self._backoff_s)
        else:
            self._backoff_s, self._reinit_at = self.settings.reinit_initial_s, None

    def _enumerate(self, announce: bool) -> list[_Device]:
        nvml = self._nvml
        assert nvml is not None
        driver = str(nvml.nvmlSystemGetDriverVersion())
        found: list[_Device] = []
        for index in range(nvml.nvmlDeviceGetCount()):
            try:
                handle = nvml.nvmlDeviceGetHandleByIndex(index)
                uuid = str(nvml.nvmlDeviceGetUUID(handle))
                model = str(nvml.nvmlDeviceGetName(handle))
            except nvml.NVMLError as error:
                (logger.warning if announce else logger.debug)("GPU %d cannot be read (%s); skipped", index, error)
                continue
            pci_bus_id = self._pci_bus_id(handle)
            found.append(_Device(DeviceInfo(uuid, model, index, driver, pci_bus_id), handle))
            found += self._mig_devices(handle, found[-1].info)
        return found

    def _pci_bus_id(self, handle: Any) -> str | None:
        assert self._nvml is not None
        try:
            return str(self._nvml.nvmlDeviceGetPciInfo(handle).busId)
        except self._nvml.NVMLError:
            return None

    def _mig_devices(self, handle: Any, gpu: DeviceInfo) -> list[_Device]:
        nvml = self._nvml
        assert nvml is not None
        try:
            if nvml.nvmlDeviceGetMigMode(handle)[0] != _MIG_ENABLED:
                return []
            slots = nvml.nvmlDeviceGetMaxMigDeviceCount(handle)
        except nvml.NVMLError:
            return []  # no MIG on this GPU
        children = []
        for slot in range(slots):
            try:
                child = nvml.nvmlDeviceGetMigDeviceHandleByIndex(handle, slot)
                uuid, model = str(nvml.nvmlDeviceGetUUID(child)), str(nvml.nvmlDeviceGetName(child))
            except nvml.NVMLError:
                continue  # NOT_FOUND: an empty slot
            info = DeviceInfo(uuid, model, gpu.index, gpu.driver_version, gpu.pci_bus_id, gpu.uuid, slot)
            children.append(_Device(info, child))
        return children

    def _warn_once(self, key: tuple[str, ...], message: str, *args: object) -> None:
        if key not in self._warned:
            self._warned.add(key)
            logger.warning(message, *args)
