"""The metric model (samples to observations, both namings) and the energy accounting."""

from __future__ import annotations

import pytest

from gpu_sidecar import semconv
from gpu_sidecar.device import DeviceInfo, DeviceSample
from gpu_sidecar.energy import EnergyMeter
from gpu_sidecar.model import RULES, Observation, observe, reduce

GIB = 1024**3
GPU = DeviceInfo("GPU-1", "NVIDIA L4", 0, "550.54.15", "00000000:01:00.0")
MIG = DeviceInfo("MIG-2", "NVIDIA A100 MIG 1g.5gb", 1, "550.54.15", None, parent_uuid="GPU-9", mig_index=3)


def _full(info: DeviceInfo = GPU, **overrides: object) -> DeviceSample:
    values: dict[str, object] = dict(
        utilization=0.5,
        memory_used_bytes=2 * GIB,
        memory_total_bytes=8 * GIB,
        power_w=72.5,
        energy_j=10.0,
        temperature_c=61,
        ecc_corrected=1,
        ecc_uncorrected=0,
    )
    values.update(overrides)
    return DeviceSample(info, 100.0, **values)  # type: ignore[arg-type]


def _table(observations: list[Observation]) -> dict[tuple[str, str], object]:
    """(metric name, distinguishing attribute) -> value."""
    table = {}
    for o in observations:
        attributes = o.attribute_map
        extra = attributes.get("hw.state") or attributes.get("error.type") or attributes.get("hw.gpu.task") or ""
        table[(o.spec.name, str(extra))] = o.value
    return table


def test_semconv_observations_use_fractions_bytes_watts_and_joules() -> None:
    observations = observe(_full(), "semconv")
    assert _table(observations) == {
        ("hw.gpu.utilization", "general"): 0.5,
        ("hw.gpu.memory.usage", ""): 2 * GIB,
        ("hw.gpu.memory.limit", ""): 8 * GIB,
        ("hw.gpu.memory.utilization", ""): 0.25,
        ("hw.power", ""): 72.5,
        ("hw.energy", ""): 10.0,
        ("hw.temperature", ""): 61.0,
        ("hw.errors", "corrected"): 1,
        ("hw.errors", "uncorrected"): 0,
        ("hw.status", "ok"): 1,
        ("hw.status", "failed"): 0,
    }
    memory = next(o for o in observations if o.spec is semconv.HW_GPU_MEMORY_USAGE)
    assert isinstance(memory.value, int)
    assert memory.attribute_map == {
        "hw.id": "GPU-1",
        "hw.type": "gpu",
        "hw.name": "gpu0",
        "hw.vendor": "NVIDIA",
        "hw.model": "NVIDIA L4",
        "hw.driver_version": "550.54.15",
        "nvidia.gpu.index": 0,
        "nvidia.gpu.pci_bus_id": "00000000:01:00.0",
    }
    assert {o.spec.unit for o in observations} == {"1", "By", "W", "J", "Cel", "{error}"}


def test_mig_instance_carries_its_parent() -> None:
    observations = observe(_full(MIG), "semconv")
    attributes = observations[0].attribute_map
    assert (attributes["hw.id"], attributes["hw.parent"], attributes["hw.name"]) == ("MIG-2", "GPU-9", "gpu1/mig3")
    assert attributes["nvidia.gpu.index"] == 1


def test_genai_observations_use_percent_and_mib_with_gpu_id_and_name() -> None:
    observations = observe(_full(), "genai")
    assert _table(observations) == {
        ("gen_ai.gpu.utilization", ""): 50,
        ("gen_ai.gpu.memory.used", ""): 2048.0,
        ("gen_ai.gpu.memory.total", ""): 8192.0,
        ("gen_ai.gpu.temperature", ""): 61,
        ("gen_ai.gpu.power", ""): 72.5,
    }
    utilization = next(o for o in observations if o.spec is semconv.GENAI_GPU_UTILIZATION)
    assert isinstance(utilization.value, int)  # asInt, as genai-otel-instrument writes it
    assert all(o.attribute_map == {"gpu_id": "0", "gpu_name": "NVIDIA L4"} for o in observations)
    assert {o.spec.unit for o in observations} == {"%", "MiB", "Cel", "W"}


def test_missing_readings_are_omitted_never_zero() -> None:
    bare = DeviceSample(GPU, 100.0, memory_used_bytes=GIB)
    names = {o.spec.name for o in observe(bare, "semconv")}
    assert names == {"hw.gpu.memory.usage", "hw.status"}
    assert {o.spec.name for o in observe(bare, "genai")} == {"gen_ai.gpu.memory.used"}


def test_lost_device_reports_only_its_failed_status() -> None:
    lost = DeviceSample(GPU, 100.0, state="failed")
    assert _table(observe(lost, "semconv")) == {("hw.status", "ok"): 0, ("hw.status", "failed"): 1}
    assert observe(lost, "genai") == []
    assert observe(_full(MIG), "genai") == []  # genai-otel-instrument has no MIG instances


def test_an_interval_keeps_peak_memory_and_averages_utilization() -> None:
    samples = [
        _full(memory_used_bytes=1 * GIB, utilization=0.2, power_w=100.0, temperature_c=50, energy_j=0.0),
        _full(memory_used_bytes=6 * GIB, utilization=0.4, power_w=200.0, temperature_c=70, energy_j=5.0),
        _full(memory_used_bytes=2 * GIB, utilization=0.9, power_w=300.0, temperature_c=60, energy_j=9.0),
    ]
    reduced = _table(reduce([o for s in samples for o in observe(s, "semconv")]))
    assert reduced[("hw.gpu.memory.usage", "")] == 6 * GIB
    assert reduced[("hw.gpu.memory.utilization", "")] == 0.75
    assert reduced[("hw.gpu.utilization", "general")] == pytest.approx(0.5)
    assert reduced[("hw.power", "")] == pytest.approx(200.0)
    assert reduced[("hw.temperature", "")] == 70
    assert reduced[("hw.energy", "")] == 9.0
    genai = _table(reduce([o for s in samples for o in observe(s, "genai")]))
    assert genai[("gen_ai.gpu.memory.used", "")] == 6144.0
    assert genai[("gen_ai.gpu.utilization", "")] == 50


def test_every_metric_of_both_families_has_a_reduction_rule() -> None:
    for family in semconv.FAMILIES.values():
        for spec in family:
            assert spec.name in RULES
    counters = [s for s in semconv.SEMCONV_METRICS if s.instrument == "counter"]
    assert counters
    assert all(RULES[s.name].reduction == "last" for s in counters)  # running totals


def _energy(meter: EnergyMeter, t: float, counter: int | None = None, power: float | None = None) -> float | None:
    return meter.update(DeviceSample(GPU, t, energy_counter_mj=counter, power_w=power)).energy_j


def test_energy_counter_baseline_is_taken_at_start_and_survives_resets() -> None:
    meter = EnergyMeter()
    assert _energy(meter, 0, counter=5_000_000) == 0.0
    assert _energy(meter, 1, counter=5_300_000) == 300.0
    assert _energy(meter, 2, counter=100_000) == 400.0  # reset: the counter restarted from zero
    assert _energy(meter, 3, counter=None) == 400.0
    assert _energy(meter, 4, counter=400_000) == 700.0


def test_energy_without_a_counter_integrates_power_but_not_across_a_gap() -> None:
    meter = EnergyMeter()
    assert _energy(meter, 0, power=100.0) == 0.0
    assert _energy(meter, 2, power=300.0) == 400.0  # trapezoid: (100 + 300) / 2 * 2 s
    meter.update(DeviceSample(GPU, 3, state="failed"))
    assert _energy(meter, 10, power=300.0) == 400.0  # the lost 7 s are not guessed
    assert _energy(meter, 11, power=300.0) == 700.0


def test_energy_is_unknown_without_counter_or_power() -> None:
    assert _energy(EnergyMeter(), 0) is None
