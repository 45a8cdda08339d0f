"""``smoltrace sample-metrics``: sample GPU metrics that the publisher reads as it reads the sidecar's."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from statistics import fmean
from typing import Any

import pyarrow.parquet as pq
import pytest

from gpu_sidecar import semconv as sc
from gpu_sidecar.simulated import GPU_MODELS
from publisher.exports import ReadStats, export_files, read_documents
from publisher.gpu import aggregate_gpu_metrics
from smoltrace_otel import cli
from tests.conftest import PYTHON, subprocess_env

H100 = GPU_MODELS["h100"]
Smoltrace = Callable[..., int]


@pytest.fixture
def smoltrace(monkeypatch: pytest.MonkeyPatch) -> Smoltrace:
    """Run ``smoltrace ARGS`` in this process (its logging setup left out); returns the exit code."""
    monkeypatch.setattr(cli, "configure_logging", lambda *_args: None)

    def run(*args: str) -> int:
        try:
            return cli.main(["sample-metrics", *args])
        except SystemExit as exit_:
            return int(exit_.code or 0)

    return run


def read_export(run_dir: Path) -> tuple[list[dict[str, Any]], ReadStats]:
    """The run's documents as JSON, and what the publisher's reader made of its files."""
    stats = ReadStats()
    files = export_files(run_dir)
    for _signal, _document in read_documents(files, stats):
        pass
    documents = [json.loads(line) for path in files for line in path.read_text(encoding="utf-8").splitlines()]
    return documents, stats


def resource_metrics(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [entry for document in documents for entry in document.get("resourceMetrics", [])]


def points(entries: list[dict[str, Any]], metric_name: str) -> list[dict[str, Any]]:
    return [
        point
        for entry in entries
        for scope in entry["scopeMetrics"]
        for metric in scope["metrics"]
        if metric["name"] == metric_name
        for point in (metric.get("gauge") or metric.get("sum"))["dataPoints"]
    ]


def gpu_indexes(entries: list[dict[str, Any]], naming: str) -> dict[str, int]:
    """gpu_id (``hw.id``, a UUID, or the genai ``gpu_id``) -> the GPU's NVML index."""
    indexes = {}
    for point in points(entries, sc.FAMILIES[naming][0].name):  # type: ignore[index]
        values = {a["key"]: next(iter(a["value"].values())) for a in point["attributes"]}
        if naming == "semconv":
            indexes[values[sc.HW_ID]] = int(values[sc.NVIDIA_GPU_INDEX])
        else:
            indexes[values[sc.GENAI_GPU_ID]] = int(values[sc.GENAI_GPU_ID])
    return indexes


@pytest.mark.parametrize("naming", ["semconv", "genai"])
def test_output_parses_with_the_publishers_reader_in_the_collectors_encoding(
    smoltrace: Smoltrace, tmp_path: Path, naming: str
) -> None:
    assert smoltrace("--seed", "1", "--gpus", "2", "--naming", naming, "--run-id", "r1", "--output", str(tmp_path)) == 0
    run_dir = tmp_path / "r1"
    assert sorted(p.name for p in run_dir.iterdir()) == ["metrics.jsonl"]
    raw_lines = (run_dir / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    documents, stats = read_export(run_dir)
    assert (stats.unparsable_lines, stats.torn_lines, stats.unknown_lines) == (0, 0, 0)
    assert stats.documents["metrics"] == len(raw_lines) == 60  # 600 s, a point every 10 s
    assert all(": " not in line and ", " not in line for line in raw_lines)  # compact lines

    entries = resource_metrics(documents)
    for entry in entries:
        resource = {a["key"]: a["value"]["stringValue"] for a in entry["resource"]["attributes"]}
        assert resource == {"service.name": "gpu-sidecar", "host.name": "sample-gpu-host", "run.id": "r1"}
    metrics = {m["name"]: m for e in entries for s in e["scopeMetrics"] for m in s["metrics"]}
    assert set(metrics) == {spec.name for spec in sc.FAMILIES[naming]}  # type: ignore[index]
    for spec in sc.FAMILIES[naming]:  # type: ignore[index]
        metric = metrics[spec.name]
        assert metric["unit"] == spec.unit
        if spec.instrument == "gauge":
            assert "gauge" in metric
            assert all("startTimeUnixNano" not in p for p in metric["gauge"]["dataPoints"])
        else:
            body = metric["sum"]
            assert body["aggregationTemporality"] == 2
            assert body.get("isMonotonic", False) is (spec.instrument == "counter")
        for point in points(entries, spec.name):
            assert isinstance(point["timeUnixNano"], str)
            assert ("asInt" in point) != ("asDouble" in point)
            if "asInt" in point:
                assert isinstance(point["asInt"], str)
            for attribute in point["attributes"]:
                assert "intValue" not in attribute["value"] or isinstance(attribute["value"]["intValue"], str)


@pytest.mark.parametrize("naming", ["semconv", "genai"])
def test_aggregates_give_the_averages_and_maxima_asked_for(smoltrace: Smoltrace, tmp_path: Path, naming: str) -> None:
    args = ["--seed", "3", "--gpus", "2", "--utilization", "80,35", "--memory", "50,25", "--naming", naming]
    assert smoltrace(*args, "--run-id", "asked", "--output", str(tmp_path)) == 0
    documents, _ = read_export(tmp_path / "asked")
    figures = aggregate_gpu_metrics(resource_metrics(documents))

    assert figures["gpu_count"] == 2
    index_of = gpu_indexes(resource_metrics(documents), naming)
    per_gpu = sorted(figures["per_gpu"], key=lambda gpu: index_of[gpu["gpu_id"]])
    plateaus = [0.50 * H100.memory_mib, 0.25 * H100.memory_mib]
    for gpu, asked, plateau in zip(per_gpu, (80, 35), plateaus, strict=True):
        assert gpu["utilization_avg"] == pytest.approx(asked, abs=0.3)  # genai rounds each point to a percent
        assert asked < gpu["utilization_max"] <= 100
        assert gpu["memory_max"] == pytest.approx(plateau, abs=2)
        assert gpu["memory_total"] == H100.memory_mib
        assert (
            H100.idle_temperature_c <= gpu["temperature_avg"] < gpu["temperature_max"] <= H100.full_load_temperature_c
        )
        assert H100.idle_power_w * 0.9 <= gpu["power_avg"] < gpu["power_max"] <= H100.max_power_w
    assert per_gpu[0]["power_avg"] > per_gpu[1]["power_avg"]
    assert per_gpu[0]["temperature_max"] > per_gpu[1]["temperature_max"]
    assert figures["utilization_avg"] == pytest.approx((80 + 35) / 2, abs=0.3)
    assert figures["memory_max"] == pytest.approx(sum(plateaus), abs=4)
    # The energy counter (semconv) or the integrated power (genai) agrees with the mean power.
    assert figures["energy_j"] == pytest.approx(figures["power_avg"] * 600, rel=0.03)
    assert figures["energy_source"] == ("hw.energy" if naming == "semconv" else "gen_ai.gpu.power (integrated)")


def test_genai_family_reproduces_the_briefs_example(smoltrace: Smoltrace, tmp_path: Path) -> None:
    assert (
        smoltrace("--seed", "4", "--naming", "genai", "--duration", "60", "--run-id", "g", "--output", str(tmp_path))
        == 0
    )
    documents, _ = read_export(tmp_path / "g")
    utilization = points(resource_metrics(documents), "gen_ai.gpu.utilization")
    assert len(utilization) == 6
    times = [int(p["timeUnixNano"]) for p in utilization]
    assert {b - a for a, b in pairwise(times)} == {10 * 10**9}
    for point in utilization:
        assert isinstance(point["asInt"], str) and 0 <= int(point["asInt"]) <= 100
        assert {a["key"] for a in point["attributes"]} == {"gpu_id", "gpu_name"}


def test_same_seed_gives_the_same_bytes_another_seed_does_not(smoltrace: Smoltrace, tmp_path: Path) -> None:
    def generate(out: str, seed: str, *extra: str) -> dict[str, bytes]:
        assert smoltrace("--seed", seed, "--gpus", "2", "--with-run", "--output", str(tmp_path / out), *extra) == 0
        return {str(p.relative_to(tmp_path / out)): p.read_bytes() for p in sorted((tmp_path / out).rglob("*.jsonl"))}

    first, again = generate("a", "11"), generate("b", "11")
    assert first == again
    assert len(first) == 2  # metrics.jsonl and traces.jsonl of the run id the seed gives
    other = generate("c", "12")
    assert set(other) != set(first)  # another run id
    same_id = generate("d", "12", "--run-id", next(iter(first)).split("/")[0])
    assert same_id.keys() == first.keys() and all(same_id[k] != first[k] for k in first)


def test_metric_data_has_the_briefs_shape_and_what_the_publisher_would_publish(
    smoltrace: Smoltrace, tmp_path: Path
) -> None:
    from publisher.local import PublishRequest, publish_local

    flags = ["--seed", "21", "--gpus", "2", "--duration", "300", "--with-run", "--tasks", "3", "--run-id", "md"]
    assert smoltrace(*flags, "--output", str(tmp_path / "exports")) == 0
    assert smoltrace(*flags, "--format", "metric-data", "--output", str(tmp_path / "md.json")) == 0
    sample = json.loads((tmp_path / "md.json").read_text(encoding="utf-8"))
    published = publish_local(PublishRequest("md", tmp_path / "exports", tmp_path / "published"))
    reference = json.loads(published.layout.raw_metrics_file().read_text(encoding="utf-8"))

    assert list(sample) == ["run_id", "resourceMetrics", "aggregates"] == list(reference)
    assert sample["run_id"] == "md"
    assert all({"name", "value"} == set(a) for a in sample["aggregates"])
    assert [a["name"] for a in sample["aggregates"]] == [a["name"] for a in reference["aggregates"]]
    ours = {a["name"]: a["value"] for a in sample["aggregates"]}
    theirs = {a["name"]: a["value"] for a in reference["aggregates"]}
    for name, value in theirs.items():
        if isinstance(value, float):
            assert ours[name] == pytest.approx(value, rel=1e-6), name
        else:
            assert ours[name] == value, name
    assert ours["llm.token_count.total"] > 0 and ours["gen_ai.co2.emissions"] > 0

    def series(entries: list[dict[str, Any]]) -> set[tuple[str, str, str, str]]:
        found = set()
        for entry in entries:
            resource = {a["key"]: a["value"]["stringValue"] for a in entry["resource"]["attributes"]}
            assert resource["run.id"] == "md"
            for scope in entry["scopeMetrics"]:
                for metric in scope["metrics"]:
                    for point in (metric.get("gauge") or metric.get("sum"))["dataPoints"]:
                        gpu = next(a["value"]["stringValue"] for a in point["attributes"] if a["key"] == "hw.id")
                        value = point.get("asInt", point.get("asDouble"))
                        found.add((metric["name"], gpu, point["timeUnixNano"], str(float(value))))
        return found

    assert series(sample["resourceMetrics"]) == series(reference["resourceMetrics"])


def test_a_sample_run_publishes_one_results_row_per_task(tmp_path: Path) -> None:
    def smoltrace_process(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [PYTHON, "-m", "smoltrace_otel", *args], capture_output=True, text=True, env=subprocess_env(), timeout=120
        )

    made = smoltrace_process("sample-metrics", "--with-run", "--tasks", "4", "--output", str(tmp_path / "exports"))
    assert made.returncode == 0, made.stderr
    run_id = made.stdout.split()[2]
    assert f"smoltrace publish --run-id {run_id} --exports" in made.stdout

    # As printed: no --settle-seconds, no --allow-incomplete.
    published = smoltrace_process(
        "publish", "--run-id", run_id, "--exports", str(tmp_path / "exports"), "--output-dir", str(tmp_path / "out")
    )
    assert published.returncode == 0, published.stderr
    results = pq.read_table(next((tmp_path / "out" / "results").rglob("*.parquet"))).to_pylist()
    assert len(results) == 4
    assert len({row["task_id"] for row in results}) == 4
    assert all(row["llm_calls"] >= 1 and row["prompt_tokens"] > 0 for row in results)
    row = pq.read_table(next((tmp_path / "out" / "leaderboard").rglob("*.parquet"))).to_pylist()[0]
    assert row["run_id"] == run_id
    assert row["run_status"] == "completed"
    assert row["total_tests"] == 4
    assert row["successful_tests"] == sum(r["success"] for r in results)
    assert row["gpu_count"] == 1
    assert row["gpu_utilization_avg"] == pytest.approx(75, abs=0.3)
    assert row["energy_wh"] > 0 and row["co2_emissions_g"] > 0


@pytest.mark.parametrize(
    "flags",
    [
        ["--duration", "-5"],
        ["--gpus", "0"],
        ["--run-id", "../escape"],
        ["--run-id", "unassigned"],
        ["--utilization", "120"],
        ["--utilization", "50,60", "--gpus", "3"],
        ["--interval", "0"],
        ["--export-interval", "0.5"],
        ["--duration", "0.5"],
        ["--start", "yesterday"],
        ["--seed", "-1"],
        ["--duration", "86400000"],
    ],
)
def test_invalid_flags_are_refused_with_exit_2_and_nothing_written(
    smoltrace: Smoltrace,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    flags: list[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    for output_format in ("otlp-jsonl", "metric-data"):
        assert smoltrace(*flags, "--format", output_format, "--output", "out") == 2
        assert "error" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_existing_files_are_kept_unless_overwrite(smoltrace: Smoltrace, tmp_path: Path) -> None:
    out = tmp_path / "data.json"
    assert smoltrace("--seed", "1", "--format", "metric-data", "--output", str(out)) == 0
    before = out.read_bytes()
    assert smoltrace("--seed", "2", "--format", "metric-data", "--output", str(out)) == 2
    assert out.read_bytes() == before
    assert smoltrace("--seed", "2", "--format", "metric-data", "--output", str(out), "--overwrite") == 0
    assert out.read_bytes() != before
    assert [p.name for p in tmp_path.iterdir()] == ["data.json"]  # no temporary file left behind


def test_files_are_dated_at_the_end_of_the_sample_run(smoltrace: Smoltrace, tmp_path: Path) -> None:
    assert (
        smoltrace("--start", "2025-03-04T05:06:07Z", "--duration", "120", "--run-id", "t", "--output", str(tmp_path))
        == 0
    )
    documents, _ = read_export(tmp_path / "t")
    times = {int(p["timeUnixNano"]) for p in points(resource_metrics(documents), "hw.power")}
    start = 1741064767 * 10**9
    assert min(times) == start + 10 * 10**9 and max(times) == start + 120 * 10**9
    assert (tmp_path / "t" / "metrics.jsonl").stat().st_mtime == pytest.approx(1741064767 + 120)


def test_readings_have_realistic_shapes() -> None:
    from gpu_sidecar.simulated import LoadProfile, Simulation, readings

    simulation = Simulation(H100, [LoadProfile(0.7, 0.5)], 600.0, 1.0, 10.0, 1.7e9, seed=8)
    samples = [gpu for _t, (gpu,) in readings(simulation)]
    utilization = [s.utilization for s in samples]
    memory = [s.memory_used_bytes / 2**20 for s in samples]
    temperature = [s.temperature_c for s in samples]
    assert max(utilization[:30]) <= 0.01 and max(utilization[-18:]) <= 0.01  # idle, then an idle tail
    assert fmean(utilization[30:40]) < fmean(utilization[55:65]) < fmean(utilization[80:90])  # warm-up ramp
    assert len(set(utilization[100:560])) > 100  # steady load with noise
    assert memory[:90] == sorted(memory[:90]) and memory[0] < 1000  # memory grows from the driver context
    assert max(memory) == 0.5 * H100.memory_mib // 2 * 2  # ... to its plateau
    assert min(memory[-20:]) > 0.98 * max(memory)  # and stays allocated while idle at the end
    assert temperature[:30] == [temperature[0]] * 30  # idle temperature
    assert temperature[95] < temperature[300]  # temperature lags behind power
    assert temperature[-1] < max(temperature)  # and falls again after the load
    for before, after in pairwise(samples):
        expected_mj = (before.power_w + after.power_w) / 2 * 1000  # the counter follows power
        assert after.energy_counter_mj - before.energy_counter_mj == pytest.approx(expected_mj, abs=1)


def test_utilization_mean_is_met_from_idle_to_full_load() -> None:
    import random

    from gpu_sidecar.simulated_load import Timeline, utilization

    timeline = Timeline.of(600.0, 1.0, 10.0)
    weights = timeline.weights()
    for target in (0.0, 0.5, 0.95, 0.985, 1.0):
        load = utilization(target, timeline, random.Random(1), 1.0)
        assert sum(w * v for w, v in zip(weights, load.values, strict=True)) == pytest.approx(target, abs=1e-4)
        assert all(0.0 <= v <= 1.0 for v in load.values)
