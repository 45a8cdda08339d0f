"""The fake pynvml is faithful to nvidia-ml-py where the sidecar (and other collectors) use it."""

from __future__ import annotations

import ast
import ctypes
import importlib
import inspect

import pytest

from gpu_sidecar import nvml_source
from tests.conftest import REPO_ROOT
from tests.doubles.fake_nvml import pynvml as fake
from tests.doubles.fake_nvml.scenarios import two_gpus_and_mig

real = importlib.import_module("pynvml")
assert real is not fake and "site-packages" in (real.__file__ or "")


def _nvml_calls_in(path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute) and node.attr.startswith("nvml")}


def test_every_nvml_call_the_sidecar_makes_exists_in_both_modules() -> None:
    calls = _nvml_calls_in(REPO_ROOT / "gpu_sidecar" / "nvml_source.py")
    assert {"nvmlInit", "nvmlDeviceGetSamples", "nvmlDeviceGetMigDeviceHandleByIndex"} <= calls
    for name in calls:
        assert callable(getattr(real, name)), name
        assert callable(getattr(fake, name)), name


def test_fake_functions_have_the_real_signatures() -> None:
    names = [n for n in dir(fake) if n.startswith("nvml") and callable(getattr(fake, n)) and hasattr(real, n)]
    assert len(names) > 30
    for name in names:
        if inspect.isclass(getattr(real, name)):
            continue
        real_params = list(inspect.signature(getattr(real, name)).parameters)
        fake_params = list(inspect.signature(getattr(fake, name)).parameters)
        assert fake_params == real_params, name


def test_error_classes_and_codes_match() -> None:
    for name in dir(fake):
        if name.startswith("NVML_ERROR_"):
            assert getattr(real, name) == getattr(fake, name), name
            class_name = "NVMLError_" + name.removeprefix("NVML_ERROR_").title().replace("_", "")
            assert hasattr(real, class_name), class_name
            assert hasattr(fake, class_name), class_name
    for module in (real, fake):
        error = module.NVMLError(module.NVML_ERROR_GPU_IS_LOST)
        assert type(error).__name__ == "NVMLError_GpuIsLost"
        assert isinstance(error, module.NVMLError)
        assert error.value == 15
        assert str(module.NVMLError_NotSupported()) == "Not Supported"


def test_the_sidecars_nvml_codes_are_nvmls() -> None:
    assert nvml_source.NOT_SUPPORTED == real.NVML_ERROR_NOT_SUPPORTED
    assert nvml_source.NOT_FOUND == real.NVML_ERROR_NOT_FOUND
    assert nvml_source.GPU_IS_LOST == real.NVML_ERROR_GPU_IS_LOST
    assert nvml_source._GPU_UTILIZATION_SAMPLES == real.NVML_GPU_UTILIZATION_SAMPLES
    assert nvml_source._TEMPERATURE_GPU == real.NVML_TEMPERATURE_GPU
    assert nvml_source._ECC_UNCORRECTED == real.NVML_MEMORY_ERROR_TYPE_UNCORRECTED
    assert nvml_source._VOLATILE_ECC == real.NVML_VOLATILE_ECC
    assert nvml_source._MIG_ENABLED == real.NVML_DEVICE_MIG_ENABLE
    assert {
        real.NVML_ERROR_UNINITIALIZED,
        real.NVML_ERROR_DRIVER_NOT_LOADED,
        real.NVML_ERROR_RESET_REQUIRED,
        real.NVML_ERROR_LIB_RM_VERSION_MISMATCH,
    } < nvml_source._LOST_CODES
    union = {getattr(real, f"NVML_VALUE_TYPE_{t}"): f for t, f in [("DOUBLE", "dVal"), ("UNSIGNED_INT", "uiVal")]}
    assert all(nvml_source._SAMPLE_UNION_FIELD[k] == v for k, v in union.items())


@pytest.mark.parametrize(
    "structure",
    ["c_nvmlMemory_t", "c_nvmlMemory_v2_t", "c_nvmlUtilization_t", "c_nvmlSample_t", "c_nvmlValue_t", "nvmlPciInfo_t"],
)
def test_return_structures_have_the_real_fields(structure: str) -> None:
    def fields(module):
        return [(name, ctypes.sizeof(kind)) for name, kind in getattr(module, structure)._fields_]

    assert fields(fake) == fields(real)


def test_fake_behaves_like_the_library_it_replaces() -> None:
    fake.load_scenario(two_gpus_and_mig(), clock=lambda: 0.0)
    with pytest.raises(fake.NVMLError_Uninitialized):
        fake.nvmlDeviceGetCount()
    fake.nvmlInit()
    handle = fake.nvmlDeviceGetHandleByIndex(0)
    assert isinstance(handle, fake.c_nvmlDevice_t)
    assert isinstance(fake.nvmlDeviceGetName(handle), str)
    assert fake.nvmlDeviceGetPciInfo(handle).busId == "00000000:17:00.0"
    memory = fake.nvmlDeviceGetMemoryInfo(handle)
    assert (memory.total, memory.used, memory.free) == (80 * 1024**3, 10 * 1024**3, 70 * 1024**3)
    value_type, samples = fake.nvmlDeviceGetSamples(handle, fake.NVML_GPU_UTILIZATION_SAMPLES, 0)
    assert value_type == real.NVML_VALUE_TYPE_UNSIGNED_INT
    assert samples[0].sampleValue.uiVal == 10
    with pytest.raises(fake.NVMLError_NotFound):
        fake.nvmlDeviceGetSamples(handle, fake.NVML_GPU_UTILIZATION_SAMPLES, samples[-1].timeStamp)
    a100 = fake.nvmlDeviceGetHandleByIndex(1)
    assert fake.nvmlDeviceGetMigMode(a100) == [fake.NVML_DEVICE_MIG_ENABLE, fake.NVML_DEVICE_MIG_ENABLE]
    mig = fake.nvmlDeviceGetMigDeviceHandleByIndex(a100, 0)
    assert fake.nvmlDeviceGetUUID(mig).startswith("MIG-")
    assert fake.nvmlDeviceIsMigDeviceHandle(mig).value == 1
    with pytest.raises(fake.NVMLError_NotFound):
        fake.nvmlDeviceGetMigDeviceHandleByIndex(a100, 1)
    with pytest.raises(fake.NVMLError_NotSupported):
        fake.nvmlDeviceGetUtilizationRates(mig)
    with pytest.raises(fake.NVMLError_NotSupported):
        fake.nvmlDeviceGetMigMode(handle)
    fake.nvmlShutdown()
    with pytest.raises(fake.NVMLError_Uninitialized):
        fake.nvmlDeviceGetMemoryInfo(handle)


def test_init_error_scenario_raises_the_named_nvml_error() -> None:
    fake.load_scenario({"init_error": "driver_not_loaded"})
    with pytest.raises(fake.NVMLError_DriverNotLoaded):
        fake.nvmlInit()
    fake.load_scenario({"init_error": "library_not_found"})
    with pytest.raises(fake.NVMLError) as raised:
        fake.nvmlInit()
    assert raised.value.value == real.NVML_ERROR_LIBRARY_NOT_FOUND
