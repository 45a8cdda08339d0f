"""GPU aggregation rules, energy from counters and power, and CO2 settings, on hand-made series."""

from __future__ import annotations

import json
import math

import pytest

from gpu_sidecar import semconv as sc
from publisher.energy import EnergySettings, counter_energy_j, integrate_power_j
from publisher.gpu import aggregate_gpu_metrics
from smoltrace_otel.errors import UsageError
from tests import otlp_lines as L

HOST = L.resource(service_name="gpu-sidecar", host_name="box-1")
GPU_A = L.gpu_attributes("GPU-a", index=0)
GPU_B = L.gpu_attributes("GPU-b", index=1)
S = L.SECOND


def _resource_metrics(*lines: str) -> list[dict]:
    return [rm for line in lines for rm in json.loads(line)["resourceMetrics"]]


def _energy(points: list[dict], temporality: int = 2, res: dict = HOST) -> str:
    return L.metrics_line(res, [L.metric(sc.HW_ENERGY, points, temporality)])


def test_energy_counter_reset_by_new_start_time_keeps_both_segments() -> None:
    line = _energy(
        [
            L.point(L.T0 + 1 * S, 100.0, GPU_A, start_ns=L.T0),
            L.point(L.T0 + 2 * S, 300.0, GPU_A, start_ns=L.T0),
            # the sidecar restarted: a new start time and the counter from zero
            L.point(L.T0 + 4 * S, 50.0, GPU_A, start_ns=L.T0 + 3 * S),
            L.point(L.T0 + 5 * S, 250.0, GPU_A, start_ns=L.T0 + 3 * S),
        ]
    )
    figures = aggregate_gpu_metrics(_resource_metrics(line), window_start=L.T0 + S // 2)
    # first segment began before the window: 300 - 100; second began inside it: counted from zero
    assert figures["energy_j"] == pytest.approx(200.0 + 250.0)
    assert figures["energy_source"] == "hw.energy"
    assert figures["energy_wh"] == pytest.approx(450.0 / 3600)


def test_energy_counter_going_down_without_new_start_is_a_reset_to_zero() -> None:
    times = [1, 2, 3, 4]
    joules = counter_energy_j(times, [7] * 4, [1000.0, 1400.0, 30.0, 130.0], cumulative=True)
    assert joules == pytest.approx(400.0 + 130.0)


def test_delta_energy_points_are_added_up_and_nan_skipped() -> None:
    line = _energy(
        [
            L.point(L.T0 + n * S, v, GPU_A, start_ns=L.T0 + (n - 1) * S)
            for n, v in ((1, 10.0), (2, 20.0), (3, "NaN"), (4, 5.0))
        ],
        temporality=1,
    )
    assert aggregate_gpu_metrics(_resource_metrics(line))["energy_j"] == pytest.approx(35.0)


def test_energy_summed_across_gpus_and_co2_follows_settings() -> None:
    line = _energy(
        [
            L.point(L.T0 + S, 0, GPU_A, start_ns=L.T0),  # "asInt":"0" is a real zero
            L.point(L.T0 + 2 * S, 3600, GPU_A, start_ns=L.T0),
            L.point(L.T0 + S, 1000, GPU_B, start_ns=L.T0),
            L.point(L.T0 + 2 * S, 8200, GPU_B, start_ns=L.T0),
        ]
    )
    settings = EnergySettings(grid_intensity_g_per_kwh=400.0, pue=1.5)
    figures = aggregate_gpu_metrics(_resource_metrics(line), energy=settings)
    assert figures["energy_j"] == pytest.approx(3600 + 7200)
    assert figures["co2_g"] == pytest.approx(10800 / 3.6e6 * 400.0 * 1.5)
    per_gpu = {g["gpu_id"]: g for g in figures["per_gpu"]}
    assert per_gpu["GPU-a"]["energy_j"] == pytest.approx(3600)
    assert per_gpu["GPU-b"]["co2_g"] == pytest.approx(7200 / 3.6e6 * 400.0 * 1.5)


def test_power_is_integrated_where_there_is_no_counter_without_bridging_gaps() -> None:
    samples = [(0, 100.0), (1, 100.0), (2, 200.0), (3, 200.0), (30, 200.0), (31, 200.0)]
    line = L.metrics_line(HOST, [L.metric(sc.HW_POWER, [L.point(L.T0 + t * S, w, GPU_A) for t, w in samples])])
    figures = aggregate_gpu_metrics(_resource_metrics(line))
    # 100 + 150 + 200 J over the first three seconds, the 27 s gap left out, 200 J for the last second
    assert figures["energy_j"] == pytest.approx(650.0)
    assert figures["energy_source"] == "hw.power (integrated)"
    assert integrate_power_j([1], [100.0]) is None


def test_nothing_measured_is_none_never_zero() -> None:
    line = L.metrics_line(HOST, [L.metric(sc.HW_GPU_UTILIZATION, [L.point(L.T0, 0.0, GPU_A)])])
    figures = aggregate_gpu_metrics(_resource_metrics(line))
    assert figures["utilization_avg"] == 0.0 and figures["utilization_max"] == 0.0
    for key in (
        "memory_avg",
        "memory_max",
        "temperature_avg",
        "power_avg",
        "energy_j",
        "energy_wh",
        "co2_g",
        "energy_source",
    ):
        assert figures[key] is None, key
    empty = aggregate_gpu_metrics([])
    assert empty["gpu_count"] == 0 and empty["hardware"] is None and empty["utilization_avg"] is None


def test_nan_samples_are_skipped_and_zeros_kept() -> None:
    line = L.metrics_line(
        HOST,
        [
            L.metric(
                sc.HW_GPU_UTILIZATION,
                [L.point(L.T0, 0, GPU_A), L.point(L.T0 + S, "NaN", GPU_A), L.point(L.T0 + 2 * S, 0.6, GPU_A)],
            )
        ],
    )
    figures = aggregate_gpu_metrics(_resource_metrics(line))
    assert figures["utilization_avg"] == pytest.approx(30.0)
    assert figures["per_gpu"][0]["samples"] == 2


def test_memory_and_power_summed_per_instant_even_when_gpus_report_at_different_times() -> None:
    mem = [
        L.point(L.T0 + 0 * S, 1024 * 2**20, GPU_A),
        L.point(L.T0 + 10 * S, 2048 * 2**20, GPU_A),
        L.point(L.T0 + 5 * S, 512 * 2**20, GPU_B),  # between A's samples
        L.point(L.T0 + 15 * S, 512 * 2**20, GPU_B),
    ]
    figures = aggregate_gpu_metrics(_resource_metrics(L.metrics_line(HOST, [L.metric(sc.HW_GPU_MEMORY_USAGE, mem)])))
    # instants 0, 5, 10, 15 s: 1024, 1024+512, 2048+512, 2048+512 MiB
    assert figures["memory_max"] == pytest.approx(2560)
    assert figures["memory_avg"] == pytest.approx((1024 + 1536 + 2560 + 2560) / 4)


def test_both_families_and_their_units_on_one_host_prefer_hw() -> None:
    genai = L.metrics_line(
        HOST,
        [
            L.metric(
                sc.GENAI_GPU_UTILIZATION, [L.point(L.T0, 40, {sc.GENAI_GPU_ID: "0", sc.GENAI_GPU_NAME: "NVIDIA A10G"})]
            ),
            L.metric(sc.GENAI_GPU_MEMORY_USED, [L.point(L.T0, 1000.0, {sc.GENAI_GPU_ID: "0"})]),
        ],
    )
    hw = L.metrics_line(HOST, [L.metric(sc.HW_GPU_UTILIZATION, [L.point(L.T0, 0.8, GPU_A)])])
    figures = aggregate_gpu_metrics(_resource_metrics(genai, hw))
    assert figures["utilization_avg"] == pytest.approx(80.0)  # hw.* (fraction) wins for utilization
    assert figures["memory_avg"] == pytest.approx(1000.0)  # only gen_ai.gpu.* reported memory (MiB)
    only_genai = aggregate_gpu_metrics(_resource_metrics(genai))
    assert only_genai["utilization_avg"] == pytest.approx(40.0)
    assert only_genai["hardware"] == "1x NVIDIA A10G"


def test_declared_units_are_converted_and_unknown_units_left_out() -> None:
    milliwatts = {"name": "hw.power", "unit": "mW", "gauge": {"dataPoints": [L.point(L.T0, 150000.0, GPU_A)]}}
    furlongs = {"name": "hw.temperature", "unit": "furlong", "gauge": {"dataPoints": [L.point(L.T0, 3.0, GPU_A)]}}
    figures = aggregate_gpu_metrics(_resource_metrics(L.metrics_line(HOST, [milliwatts, furlongs])))
    assert figures["power_avg"] == pytest.approx(150.0)
    assert figures["temperature_avg"] is None


def test_non_gpu_hardware_points_are_ignored() -> None:
    psu = {**GPU_A, sc.HW_TYPE: "power_supply", sc.HW_ID: "psu-0"}
    line = L.metrics_line(HOST, [L.metric(sc.HW_POWER, [L.point(L.T0, 900.0, psu), L.point(L.T0, 100.0, GPU_A)])])
    figures = aggregate_gpu_metrics(_resource_metrics(line))
    assert figures["gpu_count"] == 1 and figures["power_avg"] == pytest.approx(100.0)


def test_energy_settings_from_flags_environment_and_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    assert EnergySettings.from_env() == EnergySettings(475.0, 1.0)
    monkeypatch.setenv("SMOLTRACE_GRID_INTENSITY", "120")
    monkeypatch.setenv("SMOLTRACE_PUE", "1.2")
    assert EnergySettings.from_env() == EnergySettings(120.0, 1.2)
    assert EnergySettings.from_env(grid_intensity=50.0) == EnergySettings(50.0, 1.2)
    assert EnergySettings().co2_grams(None) is None
    assert math.isclose(EnergySettings().co2_grams(3.6e6), 475.0)
    with pytest.raises(UsageError, match="PUE"):
        EnergySettings(pue=0.5)
    monkeypatch.setenv("SMOLTRACE_PUE", "high")
    with pytest.raises(UsageError, match="SMOLTRACE_PUE"):
        EnergySettings.from_env()
