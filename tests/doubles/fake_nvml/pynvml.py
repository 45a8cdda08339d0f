"""A fake ``pynvml`` (nvidia-ml-py) driven by a scenario: GPUs without a GPU.

It mirrors the parts of nvidia-ml-py 12/13 that GPU exporters call, with the same
function names and signatures, the same ``NVMLError`` hierarchy (``NVMLError(code)``
returns the matching ``NVMLError_*`` subclass; ``.value`` is the ``NVML_ERROR_*`` code),
the same ctypes return structures (``c_nvmlMemory_t.total/free/used``,
``c_nvmlUtilization_t.gpu/memory``, ``c_nvmlSample_t.timeStamp/sampleValue`` with the
``c_nvmlValue_t`` union, ``nvmlPciInfo_t.busId`` as ``str``), opaque ``c_nvmlDevice_t``
handles, the str (not bytes) results of the name/UUID/driver getters, and the MIG
functions. Calls before ``nvmlInit`` or after the last ``nvmlShutdown`` raise
``NVMLError_Uninitialized``, as the real library does.

How to use it
-------------
* **In another process** (the sidecar, a compose test, an end-to-end run): put this
  directory first on ``PYTHONPATH`` so ``import pynvml`` finds this file instead of
  nvidia-ml-py, and name a scenario file in ``FAKE_NVML_SCENARIO``::

      PYTHONPATH=tests/doubles/fake_nvml:. FAKE_NVML_SCENARIO=scenario.json \\
          python -m gpu_sidecar --duration 5

* **In the test process**: ``from tests.doubles.fake_nvml import pynvml as fake``,
  ``fake.load_scenario({...}, clock=...)``, then hand ``fake`` to the code under test
  (or ``monkeypatch.setitem(sys.modules, "pynvml", fake)``).

The scenario clock starts at the first ``nvmlInit`` (t = 0 s). ``clock`` is any
``() -> float`` in seconds (default ``time.monotonic``); tests pass a manual clock.

Scenario (JSON or a dict)
-------------------------
::

    {
      "driver_version": "550.54.15",
      "init_error": null,            # e.g. "library_not_found", "driver_not_loaded": nvmlInit raises it
      "sample_period_s": 0.1667,     # spacing of nvmlDeviceGetSamples' buffer (NVML: ~1/6 s)
      "gpus": [
        {
          "uuid": "GPU-...", "name": "NVIDIA H100 80GB HBM3",
          "pci_bus_id": "00000000:01:00.0", "memory_total": 85899345920,
          "fields": {                # a number, or steps [[t, value], ...] (value of the last t <= now)
            "utilization": [[0, 10], [2, 90]],   # percent (GetUtilizationRates.gpu and the sample buffer)
            "memory_utilization": 5,             # percent (GetUtilizationRates.memory)
            "memory_used": 1073741824,           # bytes
            "power": 250000,                     # milliwatts
            "temperature": 55,                   # Celsius
            "energy": ...,                       # millijoules; default: integral of power since the
                                                 # last reset, plus "energy_offset_mj"
            "ecc_corrected": 0, "ecc_uncorrected": 0
          },
          "energy_offset_mj": 1000000,           # the counter's value at t = 0
          "energy_resets": [5.0],                # the counter restarts from 0 at these times
          "unsupported": ["power", "energy"],    # NVML_ERROR_NOT_SUPPORTED for these readings
          "lost_at": 3.0, "back_at": null,       # NVML_ERROR_GPU_IS_LOST in [lost_at, back_at)
          "mig": [                               # MIG enabled: instances at slots 0, 1, ...
            {"uuid": "MIG-...", "name": "NVIDIA A100-SXM4-40GB MIG 1g.5gb",
             "memory_total": 5100273664, "fields": {"memory_used": 1000000}}
          ]
        }
      ]
    }

Reading names for ``unsupported``: ``utilization`` (both utilization calls),
``utilization_samples`` (``nvmlDeviceGetSamples`` only), ``memory``, ``power``,
``energy``, ``temperature``, ``ecc``, ``pci``, ``mig``. MIG instances support only
``memory`` by default and a MIG-enabled GPU has no utilization, as on real hardware;
an explicit ``unsupported`` list replaces those defaults. A GPU without ``mig`` answers
``nvmlDeviceGetMigMode`` with NOT_SUPPORTED.

``CALLS`` counts every call by function name (tests use it to check, for example, that
no process list is read in a sampling loop).
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Callable
from ctypes import addressof, c_uint
from importlib import import_module
from pathlib import Path
from typing import Any

# Imported as ``tests.doubles.fake_nvml.pynvml`` in tests, as top-level ``pynvml`` from PYTHONPATH elsewhere.
_t = import_module(".nvml_types", __package__) if __package__ else import_module("nvml_types")
_s = import_module(".scenario_model", __package__) if __package__ else import_module("scenario_model")
globals().update(_t.public_names())  # NVML_* constants, NVMLError and its subclasses, c_nvml* structures

SCENARIO_ENV = "FAKE_NVML_SCENARIO"
_state = _s.State()
CALLS: Counter[str] = Counter()


def load_scenario(
    scenario: dict[str, Any] | str | Path | None = None, clock: Callable[[], float] | None = None
) -> None:
    """(Re)load a scenario: a dict, a JSON file path, or ``None`` for ``$FAKE_NVML_SCENARIO``.

    Resets everything: the library is uninitialised, the clock restarts at the next
    ``nvmlInit``, ``CALLS`` is cleared.
    """
    if scenario is None:
        path = os.environ.get(SCENARIO_ENV)
        if not path:
            raise RuntimeError(f"fake pynvml: no scenario loaded and ${SCENARIO_ENV} is not set")
        scenario = path
    if not isinstance(scenario, dict):
        scenario = json.loads(Path(scenario).read_text(encoding="utf-8"))
    _state.__init__()
    _state.scenario = scenario
    _state.clock = clock or time.monotonic
    _state.gpus = [_s.Device(spec, i) for i, spec in enumerate(scenario.get("gpus", []))]
    for gpu in _state.gpus:
        for device in (gpu, *gpu.children):
            _state.by_address[device.handle_address] = device
    CALLS.clear()


def scenario_time() -> float:
    """Seconds since the scenario started (the first ``nvmlInit``)."""
    return _state.now()


def _enter(name: str) -> float:
    CALLS[name] += 1
    if _state.refcount <= 0:
        raise _t.NVMLError(_t.NVML_ERROR_UNINITIALIZED)
    return _state.now()


def _device(handle: Any, field: str | None, t: float) -> _s.Device:
    try:
        device = _state.by_address[addressof(handle.contents)]
    except (AttributeError, KeyError, ValueError):
        raise _t.NVMLError(_t.NVML_ERROR_INVALID_ARGUMENT) from None
    if device.lost(t):
        raise _t.NVMLError(_t.NVML_ERROR_GPU_IS_LOST)
    if field is not None and field in device.unsupported:
        raise _t.NVMLError(_t.NVML_ERROR_NOT_SUPPORTED)
    return device


# --- library ------------------------------------------------------------------------------------
def nvmlInitWithFlags(flags: int) -> None:
    CALLS["nvmlInit"] += 1
    if _state.scenario is None:
        load_scenario()
    assert _state.scenario is not None
    error = _state.scenario.get("init_error")
    if error:
        raise _t.NVMLError(getattr(_t, f"NVML_ERROR_{error.upper()}"))
    if _state.t0 is None:
        _state.t0 = _state.clock()
        _state.epoch0 = time.time()
    _state.refcount += 1


def nvmlInit() -> None:
    nvmlInitWithFlags(0)


def nvmlShutdown() -> None:
    _enter("nvmlShutdown")
    _state.refcount -= 1


def nvmlErrorString(result: int) -> str:
    return _t.NVMLError._errcode_to_string.get(result, "Unknown Error")


def nvmlSystemGetDriverVersion() -> str:
    _enter("nvmlSystemGetDriverVersion")
    assert _state.scenario is not None
    return str(_state.scenario.get("driver_version", "550.54.15"))


def nvmlDeviceGetCount() -> int:
    _enter("nvmlDeviceGetCount")
    return len(_state.gpus)


def nvmlDeviceGetHandleByIndex(index: int) -> Any:
    t = _enter("nvmlDeviceGetHandleByIndex")
    if not 0 <= index < len(_state.gpus):
        raise _t.NVMLError(_t.NVML_ERROR_INVALID_ARGUMENT)
    gpu = _state.gpus[index]
    if gpu.lost(t):
        raise _t.NVMLError(_t.NVML_ERROR_GPU_IS_LOST)
    return gpu.new_handle()


def nvmlDeviceGetHandleByUUID(uuid: str) -> Any:
    t = _enter("nvmlDeviceGetHandleByUUID")
    for device in _state.by_address.values():
        if device.uuid == uuid:
            if device.lost(t):
                raise _t.NVMLError(_t.NVML_ERROR_GPU_IS_LOST)
            return device.new_handle()
    raise _t.NVMLError(_t.NVML_ERROR_NOT_FOUND)


def nvmlDeviceGetIndex(handle: Any) -> int:
    t = _enter("nvmlDeviceGetIndex")
    return _device(handle, None, t).index


def nvmlDeviceGetName(handle: Any) -> str:
    t = _enter("nvmlDeviceGetName")
    return _device(handle, None, t).name


def nvmlDeviceGetUUID(handle: Any) -> str:
    t = _enter("nvmlDeviceGetUUID")
    return _device(handle, None, t).uuid


def nvmlDeviceGetPciInfo(handle: Any) -> _t.nvmlPciInfo_t:
    t = _enter("nvmlDeviceGetPciInfo")
    device = _device(handle, "pci", t)
    top = device.parent or device
    info = _t.nvmlPciInfo_t()
    bus_id = str(top.spec.get("pci_bus_id", f"00000000:{top.index + 1:02X}:00.0"))
    info.busId = bus_id
    info.busIdLegacy = bus_id[-12:]
    info.bus = top.index + 1
    return info


def nvmlDeviceGetPciInfo_v3(handle: Any) -> _t.nvmlPciInfo_t:
    return nvmlDeviceGetPciInfo(handle)


def nvmlDeviceGetMemoryInfo(handle: Any, version: int | None = None) -> Any:
    t = _enter("nvmlDeviceGetMemoryInfo")
    device = _device(handle, "memory", t)
    used = int(device.value("memory_used", t))
    if not version:
        return _t.c_nvmlMemory_t(total=device.memory_total, free=device.memory_total - used, used=used)
    reserved = int(device.spec.get("memory_reserved", 0))
    return _t.c_nvmlMemory_v2_t(
        version=version, total=device.memory_total, reserved=reserved, free=device.memory_total - used, used=used
    )


def nvmlDeviceGetUtilizationRates(handle: Any) -> _t.c_nvmlUtilization_t:
    t = _enter("nvmlDeviceGetUtilizationRates")
    device = _device(handle, "utilization", t)
    return _t.c_nvmlUtilization_t(
        gpu=int(device.value("utilization", t)), memory=int(device.value("memory_utilization", t))
    )


def nvmlDeviceGetSamples(device: Any, sampling_type: int, timeStamp: int) -> tuple[int, list[_t.c_nvmlSample_t]]:
    t = _enter("nvmlDeviceGetSamples")
    fields = {
        _t.NVML_GPU_UTILIZATION_SAMPLES: "utilization",
        _t.NVML_MEMORY_UTILIZATION_SAMPLES: "memory_utilization",
        _t.NVML_TOTAL_POWER_SAMPLES: "power",
    }
    field = fields.get(sampling_type)
    gpu = _device(device, "utilization_samples" if field != "power" else "power", t)
    if field is None or (field != "power" and "utilization" in gpu.unsupported):
        raise _t.NVMLError(_t.NVML_ERROR_NOT_SUPPORTED)
    assert _state.scenario is not None
    period = float(_state.scenario.get("sample_period_s", 1 / 6))
    newest = int(t / period)
    after = int((timeStamp / 1e6 - _state.epoch0) / period) - 1  # a sample or so early, for rounding
    samples = []
    for k in range(max(0, newest - _s.BUFFER_SAMPLES + 1, after), newest + 1):
        stamp = int((_state.epoch0 + k * period) * 1e6)
        if stamp > timeStamp:
            sample = _t.c_nvmlSample_t(timeStamp=stamp)
            sample.sampleValue.uiVal = int(gpu.value(field, k * period))
            samples.append(sample)
    if not samples:
        raise _t.NVMLError(_t.NVML_ERROR_NOT_FOUND)
    return (_t.NVML_VALUE_TYPE_UNSIGNED_INT, samples)


def nvmlDeviceGetPowerUsage(handle: Any) -> int:
    t = _enter("nvmlDeviceGetPowerUsage")
    return int(_device(handle, "power", t).value("power", t))


def nvmlDeviceGetTotalEnergyConsumption(handle: Any) -> int:
    t = _enter("nvmlDeviceGetTotalEnergyConsumption")
    return _device(handle, "energy", t).energy_mj(t)


def nvmlDeviceGetTemperature(handle: Any, sensor: int) -> int:
    t = _enter("nvmlDeviceGetTemperature")
    if sensor != _t.NVML_TEMPERATURE_GPU:
        raise _t.NVMLError(_t.NVML_ERROR_NOT_SUPPORTED)
    return int(_device(handle, "temperature", t).value("temperature", t))


def nvmlDeviceGetTotalEccErrors(handle: Any, errorType: int, counterType: int) -> int:
    t = _enter("nvmlDeviceGetTotalEccErrors")
    device = _device(handle, "ecc", t)
    field = "ecc_uncorrected" if errorType == _t.NVML_MEMORY_ERROR_TYPE_UNCORRECTED else "ecc_corrected"
    return int(device.value(field, t))


# --- MIG ----------------------------------------------------------------------------------------
def nvmlDeviceGetMigMode(device: Any) -> list[int]:
    t = _enter("nvmlDeviceGetMigMode")
    gpu = _device(device, None, t)
    if gpu.parent is not None or not gpu.mig_enabled or "mig" in gpu.unsupported:
        raise _t.NVMLError(_t.NVML_ERROR_NOT_SUPPORTED)
    return [_t.NVML_DEVICE_MIG_ENABLE, _t.NVML_DEVICE_MIG_ENABLE]


def nvmlDeviceGetMaxMigDeviceCount(device: Any) -> int:
    t = _enter("nvmlDeviceGetMaxMigDeviceCount")
    gpu = _device(device, None, t)
    if gpu.parent is not None or not gpu.mig_enabled:
        raise _t.NVMLError(_t.NVML_ERROR_NOT_SUPPORTED)
    return gpu.max_mig


def nvmlDeviceGetMigDeviceHandleByIndex(device: Any, index: int) -> Any:
    t = _enter("nvmlDeviceGetMigDeviceHandleByIndex")
    gpu = _device(device, None, t)
    if gpu.parent is not None or not gpu.mig_enabled:
        raise _t.NVMLError(_t.NVML_ERROR_NOT_SUPPORTED)
    if not 0 <= index < gpu.max_mig:
        raise _t.NVMLError(_t.NVML_ERROR_INVALID_ARGUMENT)
    if index >= len(gpu.children):
        raise _t.NVMLError(_t.NVML_ERROR_NOT_FOUND)
    return gpu.children[index].new_handle()


def nvmlDeviceGetDeviceHandleFromMigDeviceHandle(migDevice: Any) -> Any:
    t = _enter("nvmlDeviceGetDeviceHandleFromMigDeviceHandle")
    device = _device(migDevice, None, t)
    if device.parent is None:
        raise _t.NVMLError(_t.NVML_ERROR_INVALID_ARGUMENT)
    return device.parent.new_handle()


def nvmlDeviceIsMigDeviceHandle(device: Any) -> c_uint:
    t = _enter("nvmlDeviceIsMigDeviceHandle")
    return c_uint(1 if _device(device, None, t).parent is not None else 0)  # a c_uint, as nvidia-ml-py returns


# --- readings other GPU collectors make (genai-otel-instrument) -------------------------------
def _plain(name: str, field: str) -> Callable[[Any], int]:
    def getter(handle: Any) -> int:
        t = _enter(name)
        return int(_device(handle, None, t).value(field, t))

    getter.__name__ = name
    return getter


nvmlDeviceGetPowerManagementLimit = _plain("nvmlDeviceGetPowerManagementLimit", "power_limit")
nvmlDeviceGetEnforcedPowerLimit = _plain("nvmlDeviceGetEnforcedPowerLimit", "power_limit")
nvmlDeviceGetFanSpeed = _plain("nvmlDeviceGetFanSpeed", "fan_speed")
nvmlDeviceGetPerformanceState = _plain("nvmlDeviceGetPerformanceState", "pstate")
nvmlDeviceGetCurrentClocksThrottleReasons = _plain("nvmlDeviceGetCurrentClocksThrottleReasons", "throttle_reasons")
nvmlDeviceGetCurrentClocksEventReasons = _plain("nvmlDeviceGetCurrentClocksEventReasons", "throttle_reasons")


def nvmlDeviceGetClockInfo(handle: Any, type: int) -> int:
    t = _enter("nvmlDeviceGetClockInfo")
    device = _device(handle, None, t)
    return int(device.value("mem_clock" if type == _t.NVML_CLOCK_MEM else "sm_clock", t))


def nvmlDeviceGetPcieThroughput(device: Any, counter: int) -> int:
    t = _enter("nvmlDeviceGetPcieThroughput")
    gpu = _device(device, None, t)
    return int(gpu.value("pcie_tx" if counter == _t.NVML_PCIE_UTIL_TX_BYTES else "pcie_rx", t))


def nvmlDeviceGetComputeRunningProcesses(handle: Any) -> list[Any]:
    t = _enter("nvmlDeviceGetComputeRunningProcesses")
    _device(handle, None, t)
    return []


def nvmlDeviceGetGraphicsRunningProcesses(handle: Any) -> list[Any]:
    t = _enter("nvmlDeviceGetGraphicsRunningProcesses")
    _device(handle, None, t)
    return []
