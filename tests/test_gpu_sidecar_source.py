"""Reading GPUs through NVML (the fake pynvml, injected as the module the sidecar imports)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from gpu_sidecar.device import DeviceSample
from gpu_sidecar.nvml_source import NoGpuError, NvmlSource, SourceSettings
from gpu_sidecar.sampler import Sampler
from smoltrace_otel.errors import ExitCode
from tests.doubles.fake_nvml import pynvml as fake
from tests.doubles.fake_nvml.scenarios import (
    A100,
    A100_ID,
    GIB,
    H100,
    H100_ID,
    MIG_ID,
    ManualClock,
    two_gpus_and_mig,
)


def _open(scenario: dict[str, Any], clock: ManualClock, **settings: float) -> NvmlSource:
    fake.load_scenario(scenario, clock=clock)
    source = NvmlSource(SourceSettings(**settings), nvml=fake)
    source.open()
    return source


def _by_id(samples: list[DeviceSample]) -> dict[str, DeviceSample]:
    return {sample.info.uuid: sample for sample in samples}


def test_two_gpu_models_and_a_mig_instance_are_separate_devices() -> None:
    clock = ManualClock()
    devices = {d.uuid: d for d in _open(two_gpus_and_mig(), clock).devices()}
    assert list(devices) == [H100_ID, A100_ID, MIG_ID]
    assert (devices[H100_ID].model, devices[A100_ID].model) == (H100, A100)
    assert (devices[H100_ID].index, devices[A100_ID].index) == (0, 1)
    assert devices[H100_ID].pci_bus_id == "00000000:17:00.0"
    assert devices[H100_ID].driver_version == "550.54.15"
    mig = devices[MIG_ID]
    assert (mig.parent_uuid, mig.index, mig.mig_index, mig.name) == (A100_ID, 1, 0, "gpu1/mig0")
    assert mig.model == f"{A100} MIG 1g.5gb"
    assert devices[A100_ID].parent_uuid is None


def test_readings_are_converted_from_nvml_units() -> None:
    clock = ManualClock()
    source = _open(two_gpus_and_mig(), clock)
    samples = _by_id(source.sample(clock.at(0)))
    h100 = samples[H100_ID]
    assert h100.state == "ok"
    assert (h100.memory_used_bytes, h100.memory_total_bytes) == (10 * GIB, 80 * GIB)
    assert h100.power_w == 350.0
    assert h100.temperature_c == 50
    assert h100.energy_counter_mj == 9_000_000
    assert (h100.ecc_corrected, h100.ecc_uncorrected) == (3, 0)
    assert samples[MIG_ID].memory_used_bytes == 2 * GIB


def test_utilization_is_the_average_of_nvml_samples_over_the_interval() -> None:
    scenario = two_gpus_and_mig()
    scenario["sample_period_s"] = 0.25
    clock = ManualClock()
    source = _open(scenario, clock, interval_s=1.0)
    assert _by_id(source.sample(clock.at(0)))[H100_ID].utilization == pytest.approx(0.10)
    # NVML samples at 0.25 (10 %), 0.5, 0.75, 1.0 (90 %): the average, not the 90 % read at 1.0 s.
    assert _by_id(source.sample(clock.at(1.0)))[H100_ID].utilization == pytest.approx(0.70)
    assert _by_id(source.sample(clock.at(2.0)))[H100_ID].utilization == pytest.approx(0.90)


def test_without_a_sample_buffer_utilization_is_read_instantly() -> None:
    scenario = two_gpus_and_mig()
    scenario["gpus"][0]["unsupported"] = ["utilization_samples"]
    clock = ManualClock()
    source = _open(scenario, clock)
    assert _by_id(source.sample(clock.at(0.2)))[H100_ID].utilization == pytest.approx(0.10)
    assert _by_id(source.sample(clock.at(1.0)))[H100_ID].utilization == pytest.approx(0.90)
    # Each of the three devices tried the sample buffer once; only the H100 reads instantly again.
    assert fake.CALLS["nvmlDeviceGetSamples"] == 3
    assert fake.CALLS["nvmlDeviceGetUtilizationRates"] == 3 + 1


def test_unsupported_reading_is_omitted_never_zero_and_warned_once(caplog: pytest.LogCaptureFixture) -> None:
    clock = ManualClock()
    source = _open(two_gpus_and_mig(), clock)
    with caplog.at_level(logging.WARNING, logger="gpu_sidecar"):
        runs = [_by_id(source.sample(clock.at(t))) for t in (0, 1, 2)]
    for samples in runs:
        a100 = samples[A100_ID]
        assert a100.energy_counter_mj is None
        assert a100.utilization is None
        assert a100.power_w == 120.0
        mig = samples[MIG_ID]
        assert (mig.utilization, mig.power_w, mig.temperature_c, mig.energy_counter_mj) == (None, None, None, None)
    warnings = [r.getMessage() for r in caplog.records if A100_ID in r.getMessage()]
    assert len(warnings) == 1
    assert "energy" in warnings[0]
    assert "utilization" in warnings[0]
    assert len([r for r in caplog.records if MIG_ID in r.getMessage()]) == 1
    # Not asked again: the H100 reads its counter every time, the A100 only the first time.
    assert fake.CALLS["nvmlDeviceGetTotalEnergyConsumption"] == 3 + 1 + 1


def test_gpu_lost_mid_run_keeps_other_gpus(caplog: pytest.LogCaptureFixture) -> None:
    scenario = two_gpus_and_mig()
    scenario["gpus"][1]["lost_at"] = 1.0
    clock = ManualClock()
    source = _open(scenario, clock)
    assert {s.state for s in source.sample(clock.at(0))} == {"ok"}
    with caplog.at_level(logging.WARNING, logger="gpu_sidecar"):
        for t in (1.5, 2.0, 5.0):
            samples = _by_id(source.sample(clock.at(t)))
            assert samples[H100_ID].state == "ok"
            assert samples[H100_ID].memory_used_bytes == 20 * GIB
            for lost in (A100_ID, MIG_ID):
                assert samples[lost].state == "failed"
                assert samples[lost].memory_used_bytes is None
    lost_lines = [r.getMessage() for r in caplog.records if "is lost" in r.getMessage()]
    assert len(lost_lines) == 2  # the A100 and its MIG instance, once each


def test_lost_gpu_comes_back_after_nvml_is_reinitialised_with_backoff() -> None:
    scenario = two_gpus_and_mig()
    scenario["gpus"][1].update(lost_at=1.0, back_at=3.0)
    clock = ManualClock()
    source = _open(scenario, clock, reinit_initial_s=1.0, reinit_max_s=8.0)
    states = {}
    for t in (0, 1.0, 2.0, 3.0, 3.5, 4.0):
        states[t] = _by_id(source.sample(clock.at(t)))[A100_ID].state
    # lost at 1.0; re-init at 2.0 (still lost, next in 2 s); none at 3.0/3.5; back at the re-init at 4.0.
    assert states == {0: "ok", 1.0: "failed", 2.0: "failed", 3.0: "failed", 3.5: "failed", 4.0: "ok"}
    assert fake.CALLS["nvmlInit"] == 3
    back = _by_id(source.sample(clock.at(5.0)))
    assert back[A100_ID].memory_used_bytes == 6 * GIB
    assert back[MIG_ID].state == "ok"
    assert fake.CALLS["nvmlInit"] == 3


def test_sampling_reads_no_process_lists_and_looks_up_no_handles() -> None:
    clock = ManualClock()
    source = _open(two_gpus_and_mig(), clock)
    lookups = {
        name: fake.CALLS[name] for name in ("nvmlDeviceGetHandleByIndex", "nvmlDeviceGetUUID", "nvmlDeviceGetName")
    }
    for t in range(10):
        source.sample(clock.at(t))
    assert not [name for name in fake.CALLS if "Processes" in name]
    assert {name: fake.CALLS[name] for name in lookups} == lookups
    assert fake.CALLS["nvmlInit"] == 1


def test_energy_counter_reset_does_not_lose_the_total() -> None:
    scenario = two_gpus_and_mig()
    scenario["gpus"][0]["energy_resets"] = [1.5]
    clock = ManualClock()
    source = _open(scenario, clock)
    sampler = Sampler(source, lambda observations: None, wall_clock=clock)
    energies = []
    for t in (0, 1.0, 2.0, 3.0):
        clock.at(t)
        energies.append(_by_id(sampler.sample_once())[H100_ID].energy_j)
    # 350 W: 350 J per second; the counter restarts from 0 at 1.5 s (the 0.5 s before it is unknowable).
    assert energies == pytest.approx([0.0, 350.0, 350.0 + 175.0, 350.0 + 175.0 + 350.0])


@pytest.mark.parametrize(
    ("scenario", "message"),
    [
        ({"init_error": "library_not_found"}, "no NVIDIA driver"),
        ({"init_error": "driver_not_loaded"}, "no NVIDIA driver"),
        ({"gpus": []}, "no NVIDIA GPU found"),
    ],
)
def test_no_driver_or_no_gpu_is_a_usage_error(scenario: dict[str, Any], message: str) -> None:
    fake.load_scenario(scenario)
    with pytest.raises(NoGpuError, match=message) as raised:
        NvmlSource(nvml=fake).open()
    assert raised.value.exit_code == ExitCode.BAD_INPUT


def test_only_the_readings_a_naming_family_uses_are_asked_of_nvml() -> None:
    from gpu_sidecar.model import readings_for

    clock = ManualClock()
    fake.load_scenario(two_gpus_and_mig(), clock=clock)
    source = NvmlSource(SourceSettings(readings=readings_for("genai")), nvml=fake)
    source.open()
    h100 = _by_id(source.sample(clock.at(1.0)))[H100_ID]
    assert (h100.energy_counter_mj, h100.ecc_corrected) == (None, None)
    assert (h100.power_w, h100.memory_used_bytes, h100.temperature_c) == (350.0, 30 * GIB, 71)
    assert fake.CALLS["nvmlDeviceGetTotalEnergyConsumption"] == 0
    assert fake.CALLS["nvmlDeviceGetTotalEccErrors"] == 0
