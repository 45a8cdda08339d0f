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

import itertools
import json
import os
import string
import sys
import time
from collections import Counter
from collections.abc import Callable
from ctypes import (
    POINTER,
    Structure,
    Union,
    addressof,
    c_char,
    c_double,
    c_int,
    c_longlong,
    c_uint,
    c_ulong,
    c_ulonglong,
    c_ushort,
    pointer,
)
from pathlib import Path
from typing import Any

SCENARIO_ENV = "FAKE_NVML_SCENARIO"

# --- constants (values as in nvidia-ml-py) --------------------------------------------
NVML_FEATURE_DISABLED = 0
NVML_FEATURE_ENABLED = 1
NVML_TEMPERATURE_GPU = 0
NVML_SINGLE_BIT_ECC = 0
NVML_DOUBLE_BIT_ECC = 1
NVML_VOLATILE_ECC = 0
NVML_AGGREGATE_ECC = 1
NVML_MEMORY_ERROR_TYPE_CORRECTED = 0
NVML_MEMORY_ERROR_TYPE_UNCORRECTED = 1
NVML_CLOCK_GRAPHICS = 0
NVML_CLOCK_SM = 1
NVML_CLOCK_MEM = 2
NVML_PCIE_UTIL_TX_BYTES = 0
NVML_PCIE_UTIL_RX_BYTES = 1
NVML_VALUE_TYPE_DOUBLE = 0
NVML_VALUE_TYPE_UNSIGNED_INT = 1
NVML_VALUE_TYPE_UNSIGNED_LONG = 2
NVML_VALUE_TYPE_UNSIGNED_LONG_LONG = 3
NVML_VALUE_TYPE_SIGNED_LONG_LONG = 4
NVML_TOTAL_POWER_SAMPLES = 0
NVML_GPU_UTILIZATION_SAMPLES = 1
NVML_MEMORY_UTILIZATION_SAMPLES = 2
NVML_DEVICE_MIG_DISABLE = 0x0
NVML_DEVICE_MIG_ENABLE = 0x1
NVML_DEVICE_UUID_BUFFER_SIZE = 80
NVML_DEVICE_PCI_BUS_ID_BUFFER_SIZE = 32
NVML_DEVICE_PCI_BUS_ID_BUFFER_V2_SIZE = 16
nvmlMemory_v2 = 0x02000028
nvmlClocksThrottleReasonSwPowerCap = 0x0000000000000004
nvmlClocksThrottleReasonHwSlowdown = 0x0000000000000008
nvmlClocksThrottleReasonSwThermalSlowdown = 0x0000000000000020

NVML_SUCCESS = 0
NVML_ERROR_UNINITIALIZED = 1
NVML_ERROR_INVALID_ARGUMENT = 2
NVML_ERROR_NOT_SUPPORTED = 3
NVML_ERROR_NO_PERMISSION = 4
NVML_ERROR_ALREADY_INITIALIZED = 5
NVML_ERROR_NOT_FOUND = 6
NVML_ERROR_INSUFFICIENT_SIZE = 7
NVML_ERROR_INSUFFICIENT_POWER = 8
NVML_ERROR_DRIVER_NOT_LOADED = 9
NVML_ERROR_TIMEOUT = 10
NVML_ERROR_IRQ_ISSUE = 11
NVML_ERROR_LIBRARY_NOT_FOUND = 12
NVML_ERROR_FUNCTION_NOT_FOUND = 13
NVML_ERROR_CORRUPTED_INFOROM = 14
NVML_ERROR_GPU_IS_LOST = 15
NVML_ERROR_RESET_REQUIRED = 16
NVML_ERROR_OPERATING_SYSTEM = 17
NVML_ERROR_LIB_RM_VERSION_MISMATCH = 18
NVML_ERROR_IN_USE = 19
NVML_ERROR_MEMORY = 20
NVML_ERROR_NO_DATA = 21
NVML_ERROR_UNKNOWN = 999


# --- errors: the same hierarchy nvidia-ml-py generates ----------------------------------
class NVMLError(Exception):
    _valClassMapping: dict[int, type] = {}  # noqa: RUF012 - mirrors nvidia-ml-py
    _errcode_to_string = {  # noqa: RUF012
        NVML_ERROR_UNINITIALIZED: "Uninitialized",
        NVML_ERROR_INVALID_ARGUMENT: "Invalid Argument",
        NVML_ERROR_NOT_SUPPORTED: "Not Supported",
        NVML_ERROR_NO_PERMISSION: "Insufficient Permissions",
        NVML_ERROR_ALREADY_INITIALIZED: "Already Initialized",
        NVML_ERROR_NOT_FOUND: "Not Found",
        NVML_ERROR_DRIVER_NOT_LOADED: "Driver Not Loaded",
        NVML_ERROR_TIMEOUT: "Timeout",
        NVML_ERROR_LIBRARY_NOT_FOUND: "NVML Shared Library Not Found",
        NVML_ERROR_FUNCTION_NOT_FOUND: "Function Not Found",
        NVML_ERROR_GPU_IS_LOST: "GPU is lost",
        NVML_ERROR_RESET_REQUIRED: "GPU requires restart",
        NVML_ERROR_LIB_RM_VERSION_MISMATCH: "RM has detected an NVML/RM version mismatch.",
        NVML_ERROR_UNKNOWN: "Unknown Error",
    }

    def __new__(cls, value: int):
        subclass = NVMLError._valClassMapping.get(value, cls) if cls is NVMLError else cls
        obj = Exception.__new__(subclass)
        obj.value = value
        return obj

    def __str__(self) -> str:
        return NVMLError._errcode_to_string.get(self.value, f"NVML Error with code {self.value}")

    def __eq__(self, other: object) -> bool:
        return self.value == getattr(other, "value", None)

    __hash__ = Exception.__hash__


def _extract_errors_as_classes() -> None:
    module = sys.modules[__name__]
    for name in [n for n in dir(module) if n.startswith("NVML_ERROR_")]:
        class_name = "NVMLError_" + string.capwords(name.replace("NVML_ERROR_", ""), "_").replace("_", "")
        code = getattr(module, name)

        def make_new(val: int) -> Callable[..., NVMLError]:
            def new(subclass: type, *args: object) -> NVMLError:
                return NVMLError.__new__(subclass, val)

            return new

        error_class = type(class_name, (NVMLError,), {"__new__": make_new(code)})
        error_class.__module__ = __name__
        setattr(module, class_name, error_class)
        NVMLError._valClassMapping[code] = error_class


_extract_errors_as_classes()


def nvmlExceptionClass(nvmlErrorCode: int) -> type:
    if nvmlErrorCode not in NVMLError._valClassMapping:
        raise ValueError(f"nvmlErrorCode {nvmlErrorCode} is not valid")
    return NVMLError._valClassMapping[nvmlErrorCode]


# --- return structures (same field names and C types) ------------------------------------
class _PrintableStructure(Structure):
    def __getattribute__(self, name: str) -> Any:
        value = super().__getattribute__(name)
        return value.decode() if isinstance(value, bytes) else value

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value.encode() if isinstance(value, str) else value)


class struct_c_nvmlDevice_t(Structure):
    pass  # opaque handle


c_nvmlDevice_t = POINTER(struct_c_nvmlDevice_t)


class c_nvmlMemory_t(_PrintableStructure):
    _fields_ = [("total", c_ulonglong), ("free", c_ulonglong), ("used", c_ulonglong)]


class c_nvmlMemory_v2_t(_PrintableStructure):
    _fields_ = [
        ("version", c_uint),
        ("total", c_ulonglong),
        ("reserved", c_ulonglong),
        ("free", c_ulonglong),
        ("used", c_ulonglong),
    ]


class c_nvmlUtilization_t(_PrintableStructure):
    _fields_ = [("gpu", c_uint), ("memory", c_uint)]


class c_nvmlValue_t(Union):
    _fields_ = [
        ("dVal", c_double),
        ("uiVal", c_uint),
        ("ulVal", c_ulong),
        ("ullVal", c_ulonglong),
        ("sllVal", c_longlong),
        ("siVal", c_int),
        ("usVal", c_ushort),
    ]


class c_nvmlSample_t(_PrintableStructure):
    _fields_ = [("timeStamp", c_ulonglong), ("sampleValue", c_nvmlValue_t)]


class nvmlPciInfo_t(_PrintableStructure):
    _fields_ = [
        ("busIdLegacy", c_char * NVML_DEVICE_PCI_BUS_ID_BUFFER_V2_SIZE),
        ("domain", c_uint),
        ("bus", c_uint),
        ("device", c_uint),
        ("pciDeviceId", c_uint),
        ("pciSubSystemId", c_uint),
        ("busId", c_char * NVML_DEVICE_PCI_BUS_ID_BUFFER_SIZE),
    ]


# --- the scenario ---------------------------------------------------------------------------
_MIG_CHILD_UNSUPPORTED = ("utilization", "utilization_samples", "power", "energy", "temperature", "ecc", "mig")
_MIG_PARENT_UNSUPPORTED = ("utilization", "utilization_samples")
_DEFAULTS = {
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
_BUFFER_SAMPLES = 120  # entries kept in NVML's sample ring buffer


def _step_value(series: Any, t: float) -> float:
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


def _step_integral(series: Any, start: float, end: float) -> float:
    """Integral of a step series over [start, end] (value x seconds)."""
    if end <= start:
        return 0.0
    if not isinstance(series, list):
        return float(series) * (end - start)
    edges = sorted({start, end, *(at for at, _ in series if start < at < end)})
    return sum(_step_value(series, a) * (b - a) for a, b in itertools.pairwise(edges))


class _Device:
    def __init__(self, spec: dict[str, Any], index: int, parent: _Device | None = None) -> None:
        self.spec = spec
        self.index = index
        self.parent = parent
        self.uuid: str = spec["uuid"]
        self.name: str = spec.get("name", "NVIDIA Fake GPU")
        self.memory_total: int = int(spec.get("memory_total", 16 * 1024**3))
        self.fields: dict[str, Any] = {**_DEFAULTS, **spec.get("fields", {})}
        children = spec.get("mig")
        if "unsupported" in spec:
            self.unsupported = set(spec["unsupported"])
        elif parent is not None:
            self.unsupported = set(_MIG_CHILD_UNSUPPORTED)
        elif children:
            self.unsupported = set(_MIG_PARENT_UNSUPPORTED)
        else:
            self.unsupported = set()
        self.mig_enabled = bool(children) if parent is None else False
        self.children = [_Device(child, slot, self) for slot, child in enumerate(children or [])]
        self.max_mig = int(spec.get("max_mig_devices", 7))
        self._struct = struct_c_nvmlDevice_t()
        self.handle_address = addressof(self._struct)

    def new_handle(self) -> Any:
        return pointer(self._struct)

    def lost(self, t: float) -> bool:
        if self.parent is not None:
            return self.parent.lost(t)
        lost_at, back_at = self.spec.get("lost_at"), self.spec.get("back_at")
        return lost_at is not None and t >= lost_at and (back_at is None or t < back_at)

    def value(self, field: str, t: float) -> Any:
        return _step_value(self.fields[field], t)

    def energy_mj(self, t: float) -> int:
        if "energy" in self.fields and "energy" in self.spec.get("fields", {}):
            return int(self.value("energy", t))
        resets = [r for r in self.spec.get("energy_resets", []) if r <= t]
        start = max(resets) if resets else 0.0
        offset = 0 if resets else int(self.spec.get("energy_offset_mj", 0))
        return offset + int(_step_integral(self.fields["power"], start, t))


class _State:
    def __init__(self) -> None:
        self.scenario: dict[str, Any] | None = None
        self.clock: Callable[[], float] = time.monotonic
        self.t0: float | None = None
        self.epoch0 = 0.0
        self.refcount = 0
        self.gpus: list[_Device] = []
        self.by_address: dict[int, _Device] = {}

    def now(self) -> float:
        return 0.0 if self.t0 is None else self.clock() - self.t0


_state = _State()
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
    _state.gpus = [_Device(spec, i) for i, spec in enumerate(scenario.get("gpus", []))]
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
        raise NVMLError(NVML_ERROR_UNINITIALIZED)
    return _state.now()


def _device(handle: Any, field: str | None, t: float) -> _Device:
    try:
        device = _state.by_address[addressof(handle.contents)]
    except (AttributeError, KeyError, ValueError):
        raise NVMLError(NVML_ERROR_INVALID_ARGUMENT) from None
    if device.lost(t):
        raise NVMLError(NVML_ERROR_GPU_IS_LOST)
    if field is not None and field in device.unsupported:
        raise NVMLError(NVML_ERROR_NOT_SUPPORTED)
    return device


# --- library ------------------------------------------------------------------------------------
def nvmlInitWithFlags(flags: int) -> None:
    CALLS["nvmlInit"] += 1
    if _state.scenario is None:
        load_scenario()
    assert _state.scenario is not None
    error = _state.scenario.get("init_error")
    if error:
        raise NVMLError(globals()[f"NVML_ERROR_{error.upper()}"])
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
    return NVMLError._errcode_to_string.get(result, "Unknown Error")


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
        raise NVMLError(NVML_ERROR_INVALID_ARGUMENT)
    gpu = _state.gpus[index]
    if gpu.lost(t):
        raise NVMLError(NVML_ERROR_GPU_IS_LOST)
    return gpu.new_handle()


def nvmlDeviceGetHandleByUUID(uuid: str) -> Any:
    t = _enter("nvmlDeviceGetHandleByUUID")
    for device in _state.by_address.values():
        if device.uuid == uuid:
            if device.lost(t):
                raise NVMLError(NVML_ERROR_GPU_IS_LOST)
            return device.new_handle()
    raise NVMLError(NVML_ERROR_NOT_FOUND)


def nvmlDeviceGetIndex(handle: Any) -> int:
    t = _enter("nvmlDeviceGetIndex")
    return _device(handle, None, t).index


def nvmlDeviceGetName(handle: Any) -> str:
    t = _enter("nvmlDeviceGetName")
    return _device(handle, None, t).name


def nvmlDeviceGetUUID(handle: Any) -> str:
    t = _enter("nvmlDeviceGetUUID")
    return _device(handle, None, t).uuid


def nvmlDeviceGetPciInfo(handle: Any) -> nvmlPciInfo_t:
    t = _enter("nvmlDeviceGetPciInfo")
    device = _device(handle, "pci", t)
    top = device.parent or device
    info = nvmlPciInfo_t()
    bus_id = str(top.spec.get("pci_bus_id", f"00000000:{top.index + 1:02X}:00.0"))
    info.busId = bus_id
    info.busIdLegacy = bus_id[-12:]
    info.bus = top.index + 1
    return info


def nvmlDeviceGetPciInfo_v3(handle: Any) -> nvmlPciInfo_t:
    return nvmlDeviceGetPciInfo(handle)


def nvmlDeviceGetMemoryInfo(handle: Any, version: int | None = None) -> Any:
    t = _enter("nvmlDeviceGetMemoryInfo")
    device = _device(handle, "memory", t)
    used = int(device.value("memory_used", t))
    if not version:
        return c_nvmlMemory_t(total=device.memory_total, free=device.memory_total - used, used=used)
    reserved = int(device.spec.get("memory_reserved", 0))
    return c_nvmlMemory_v2_t(
        version=version, total=device.memory_total, reserved=reserved, free=device.memory_total - used, used=used
    )


def nvmlDeviceGetUtilizationRates(handle: Any) -> c_nvmlUtilization_t:
    t = _enter("nvmlDeviceGetUtilizationRates")
    device = _device(handle, "utilization", t)
    return c_nvmlUtilization_t(
        gpu=int(device.value("utilization", t)), memory=int(device.value("memory_utilization", t))
    )


def nvmlDeviceGetSamples(device: Any, sampling_type: int, timeStamp: int) -> tuple[int, list[c_nvmlSample_t]]:
    t = _enter("nvmlDeviceGetSamples")
    fields = {
        NVML_GPU_UTILIZATION_SAMPLES: "utilization",
        NVML_MEMORY_UTILIZATION_SAMPLES: "memory_utilization",
        NVML_TOTAL_POWER_SAMPLES: "power",
    }
    field = fields.get(sampling_type)
    gpu = _device(device, "utilization_samples" if field != "power" else "power", t)
    if field is None or (field != "power" and "utilization" in gpu.unsupported):
        raise NVMLError(NVML_ERROR_NOT_SUPPORTED)
    assert _state.scenario is not None
    period = float(_state.scenario.get("sample_period_s", 1 / 6))
    newest = int(t / period)
    after = int((timeStamp / 1e6 - _state.epoch0) / period) - 1  # a sample or so early, for rounding
    samples = []
    for k in range(max(0, newest - _BUFFER_SAMPLES + 1, after), newest + 1):
        stamp = int((_state.epoch0 + k * period) * 1e6)
        if stamp > timeStamp:
            sample = c_nvmlSample_t(timeStamp=stamp)
            sample.sampleValue.uiVal = int(gpu.value(field, k * period))
            samples.append(sample)
    if not samples:
        raise NVMLError(NVML_ERROR_NOT_FOUND)
    return (NVML_VALUE_TYPE_UNSIGNED_INT, samples)


def nvmlDeviceGetPowerUsage(handle: Any) -> int:
    t = _enter("nvmlDeviceGetPowerUsage")
    return int(_device(handle, "power", t).value("power", t))


def nvmlDeviceGetTotalEnergyConsumption(handle: Any) -> int:
    t = _enter("nvmlDeviceGetTotalEnergyConsumption")
    return _device(handle, "energy", t).energy_mj(t)


def nvmlDeviceGetTemperature(handle: Any, sensor: int) -> int:
    t = _enter("nvmlDeviceGetTemperature")
    if sensor != NVML_TEMPERATURE_GPU:
        raise NVMLError(NVML_ERROR_NOT_SUPPORTED)
    return int(_device(handle, "temperature", t).value("temperature", t))


def nvmlDeviceGetTotalEccErrors(handle: Any, errorType: int, counterType: int) -> int:
    t = _enter("nvmlDeviceGetTotalEccErrors")
    device = _device(handle, "ecc", t)
    field = "ecc_uncorrected" if errorType == NVML_MEMORY_ERROR_TYPE_UNCORRECTED else "ecc_corrected"
    return int(device.value(field, t))


# --- MIG ----------------------------------------------------------------------------------------
def nvmlDeviceGetMigMode(device: Any) -> list[int]:
    t = _enter("nvmlDeviceGetMigMode")
    gpu = _device(device, None, t)
    if gpu.parent is not None or not gpu.mig_enabled or "mig" in gpu.unsupported:
        raise NVMLError(NVML_ERROR_NOT_SUPPORTED)
    return [NVML_DEVICE_MIG_ENABLE, NVML_DEVICE_MIG_ENABLE]


def nvmlDeviceGetMaxMigDeviceCount(device: Any) -> int:
    t = _enter("nvmlDeviceGetMaxMigDeviceCount")
    gpu = _device(device, None, t)
    if gpu.parent is not None or not gpu.mig_enabled:
        raise NVMLError(NVML_ERROR_NOT_SUPPORTED)
    return gpu.max_mig


def nvmlDeviceGetMigDeviceHandleByIndex(device: Any, index: int) -> Any:
    t = _enter("nvmlDeviceGetMigDeviceHandleByIndex")
    gpu = _device(device, None, t)
    if gpu.parent is not None or not gpu.mig_enabled:
        raise NVMLError(NVML_ERROR_NOT_SUPPORTED)
    if not 0 <= index < gpu.max_mig:
        raise NVMLError(NVML_ERROR_INVALID_ARGUMENT)
    if index >= len(gpu.children):
        raise NVMLError(NVML_ERROR_NOT_FOUND)
    return gpu.children[index].new_handle()


def nvmlDeviceGetDeviceHandleFromMigDeviceHandle(migDevice: Any) -> Any:
    t = _enter("nvmlDeviceGetDeviceHandleFromMigDeviceHandle")
    device = _device(migDevice, None, t)
    if device.parent is None:
        raise NVMLError(NVML_ERROR_INVALID_ARGUMENT)
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
    return int(device.value("mem_clock" if type == NVML_CLOCK_MEM else "sm_clock", t))


def nvmlDeviceGetPcieThroughput(device: Any, counter: int) -> int:
    t = _enter("nvmlDeviceGetPcieThroughput")
    gpu = _device(device, None, t)
    return int(gpu.value("pcie_tx" if counter == NVML_PCIE_UTIL_TX_BYTES else "pcie_rx", t))


def nvmlDeviceGetComputeRunningProcesses(handle: Any) -> list[Any]:
    t = _enter("nvmlDeviceGetComputeRunningProcesses")
    _device(handle, None, t)
    return []


def nvmlDeviceGetGraphicsRunningProcesses(handle: Any) -> list[Any]:
    t = _enter("nvmlDeviceGetGraphicsRunningProcesses")
    _device(handle, None, t)
    return []
