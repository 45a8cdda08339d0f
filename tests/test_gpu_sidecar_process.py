"""The real ``gpu-sidecar`` process over the fake NVML: Collector and embedded modes, signals, faults."""

from __future__ import annotations

import signal
import subprocess
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from gpu_sidecar.semconv import FAMILIES, GENAI_METRICS, SEMCONV_METRICS
from tests.conftest import PYTHON, subprocess_env
from tests.doubles.collector import CollectorDouble
from tests.doubles.fake_nvml.scenarios import (
    A100,
    A100_ID,
    GIB,
    H100,
    H100_ID,
    MIG_ID,
    sidecar_env,
    two_gpus_and_mig,
    write_scenario,
)
from tests.otlp_shapes import points, read_lines

SIDECAR = [PYTHON, "-m", "gpu_sidecar"]
BLOCKED = ("litellm", "huggingface_hub", "pyarrow", "agent", "publisher")


def _env(tmp_path: Path, scenario: dict[str, Any] | None = None, **extra: str) -> dict[str, str]:
    scenario_file = write_scenario(tmp_path / "scenario.json", scenario or two_gpus_and_mig())
    return sidecar_env(scenario_file, subprocess_env(**extra))


def _run(
    tmp_path: Path, *args: str, scenario: dict[str, Any] | None = None, **extra: str
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*SIDECAR, *args], env=_env(tmp_path, scenario, **extra), capture_output=True, text=True, timeout=90
    )


def _metric_lines(files: list[Path]) -> list[dict[str, Any]]:
    assert files, "no metrics file written"
    return [line for path in files for line in read_lines(path)]


def _latest(lines: list[dict[str, Any]]) -> dict[tuple[str, str, str], dict[str, Any]]:
    """(metric, hw.id or gpu_id, state/error type) -> the last point seen."""
    latest = {}
    for point in points(lines):
        a = point["attributes"]
        key = (point["name"], a.get("hw.id") or a.get("gpu_id"), a.get("hw.state") or a.get("error.type") or "")
        latest[key] = point
    return latest


def _metric_kinds(lines: list[dict[str, Any]]) -> dict[str, tuple[str, bool]]:
    kinds = {}
    for line in lines:
        for rm in line["resourceMetrics"]:
            for sm in rm["scopeMetrics"]:
                for metric in sm["metrics"]:
                    kind = "gauge" if "gauge" in metric else "sum"
                    kinds[metric["name"]] = (kind, bool(metric.get(kind, {}).get("isMonotonic", False)))
    return kinds


def _check_semconv_export(lines: list[dict[str, Any]], run_id: str) -> None:
    """What a user of the hw.* family sees from the two-GPU + MIG scenario."""
    assert {p["resource"].get("run.id") for p in points(lines)} == {run_id}
    units = {p["name"]: p["unit"] for p in points(lines)}
    assert units == {spec.name: spec.unit for spec in SEMCONV_METRICS}
    expected_kind = {"gauge": ("gauge", False), "counter": ("sum", True), "updowncounter": ("sum", False)}
    assert _metric_kinds(lines) == {spec.name: expected_kind[spec.instrument] for spec in SEMCONV_METRICS}

    latest = _latest(lines)
    assert latest[("hw.gpu.memory.limit", H100_ID, "")]["value"] == 80 * GIB
    assert latest[("hw.gpu.memory.usage", A100_ID, "")]["value"] == 6 * GIB
    assert latest[("hw.gpu.memory.usage", MIG_ID, "")]["value"] == 2 * GIB
    assert latest[("hw.gpu.memory.usage", H100_ID, "")]["value"] in {10 * GIB, 20 * GIB, 30 * GIB}
    assert latest[("hw.power", H100_ID, "")]["value"] == 350.0
    assert latest[("hw.power", A100_ID, "")]["value"] == 120.0
    assert 0.1 <= latest[("hw.gpu.utilization", H100_ID, "")]["value"] <= 0.9
    assert latest[("hw.energy", H100_ID, "")]["value"] > 0
    assert latest[("hw.errors", H100_ID, "corrected")]["value"] == 3
    assert latest[("hw.status", H100_ID, "ok")]["value"] == 1
    assert latest[("hw.status", MIG_ID, "failed")]["value"] == 0
    # Not supported: no series at all (never a 0).
    assert ("hw.gpu.utilization", A100_ID, "") not in latest
    assert ("hw.power", MIG_ID, "") not in latest
    assert ("hw.energy", MIG_ID, "") not in latest

    h100 = latest[("hw.power", H100_ID, "")]["attributes"]
    assert h100 == {
        "hw.id": H100_ID,
        "hw.type": "gpu",
        "hw.name": "gpu0",
        "hw.vendor": "NVIDIA",
        "hw.model": H100,
        "hw.driver_version": "550.54.15",
        "nvidia.gpu.index": 0,
        "nvidia.gpu.pci_bus_id": "00000000:17:00.0",
    }
    mig = latest[("hw.gpu.memory.usage", MIG_ID, "")]["attributes"]
    assert (mig["hw.parent"], mig["hw.model"], mig["nvidia.gpu.index"]) == (A100_ID, f"{A100} MIG 1g.5gb", 1)


def test_sidecar_exports_over_otlp_grpc_configured_by_environment_only(
    tmp_path: Path, collector: CollectorDouble
) -> None:
    result = _run(
        tmp_path,
        "--duration", "1.5", "--interval", "0.5", "--run-id", "run-gpu-1",
        OTEL_EXPORTER_OTLP_ENDPOINT=collector.endpoint,
        OTEL_SERVICE_NAME="gpu-box-sidecar",
        OTEL_RESOURCE_ATTRIBUTES="deployment.environment.name=ci",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "sampling 3 device(s)" in result.stderr
    lines = _metric_lines([collector.out_dir / "run-gpu-1" / "metrics.jsonl"])
    _check_semconv_export(lines, "run-gpu-1")
    resource = points(lines)[0]["resource"]
    assert resource["service.name"] == "gpu-box-sidecar"
    assert resource["deployment.environment.name"] == "ci"
    assert not (tmp_path / "exports").exists()


def test_sidecar_embedded_mode_writes_otlp_json_lines(tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    result = _run(
        tmp_path, "--duration", "1", "--interval", "0.5", "--run-id", "run-gpu-2", "--output-dir", str(exports)
    )
    assert result.returncode == 0, result.stderr
    files = sorted((exports / "run-gpu-2").glob("metrics-gpu-sidecar-*.jsonl"))
    _check_semconv_export(_metric_lines(files), "run-gpu-2")
    assert [p.name for p in exports.iterdir()] == ["run-gpu-2"]


def test_genai_naming_without_run_id_goes_to_unassigned(tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    result = _run(tmp_path, "--duration", "0.5", "--naming", "genai", "--exports-dir", str(exports))
    assert result.returncode == 0, result.stderr
    files = sorted((exports / "unassigned").glob("*.jsonl"))
    lines = _metric_lines(files)
    assert all("run.id" not in p["resource"] for p in points(lines))
    assert {p["name"]: p["unit"] for p in points(lines)} == {spec.name: spec.unit for spec in GENAI_METRICS}
    latest = _latest(lines)
    assert latest[("gen_ai.gpu.memory.total", "0", "")]["value"] == 80 * 1024
    assert latest[("gen_ai.gpu.memory.used", "1", "")]["value"] == 6 * 1024
    assert latest[("gen_ai.gpu.power", "0", "")]["value"] == 350.0
    assert latest[("gen_ai.gpu.temperature", "1", "")]["attributes"] == {"gpu_id": "1", "gpu_name": A100}
    assert {key[1] for key in latest} == {"0", "1"}  # no MIG instance in this family
    raw = [m for line in lines for rm in line["resourceMetrics"] for sm in rm["scopeMetrics"] for m in sm["metrics"]]
    utilization = [dp for m in raw if m["name"] == "gen_ai.gpu.utilization" for dp in m["gauge"]["dataPoints"]]
    assert utilization
    assert all("asInt" in dp for dp in utilization)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_takes_a_last_sample_flushes_and_exits_0(tmp_path: Path, signum: int) -> None:
    exports = tmp_path / "exports"
    proc = subprocess.Popen(
        [*SIDECAR, "--interval", "30", "--export-interval", "60", "--run-id", "run-sig", "--exports-dir", str(exports)],
        env=_env(tmp_path),
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    for line in proc.stderr:
        if "sampling 3 device(s)" in line:
            break
    time.sleep(1.6)  # the H100's memory is 10 GiB at the first sample, 20 GiB from 1.4 s on
    proc.send_signal(signum)
    assert proc.wait(timeout=30) == 0
    rest = proc.stderr.read()
    assert "taking a last sample" in rest
    assert "stopped after 2 sample(s)" in rest
    lines = _metric_lines(sorted((exports / "run-sig").glob("*.jsonl")))
    assert _latest(lines)[("hw.gpu.memory.usage", H100_ID, "")]["value"] == 20 * GIB


def test_invalid_run_id_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    result = _run(tmp_path, "--run-id", "../escape", "--duration", "1", "--exports-dir", str(exports))
    assert result.returncode == 2
    assert "invalid run id" in result.stderr
    assert not exports.exists()


def test_no_driver_is_one_clear_line_and_exit_2(tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    result = _run(
        tmp_path, "--duration", "1", "--exports-dir", str(exports), scenario={"init_error": "library_not_found"}
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "gpu-sidecar: error: no NVIDIA driver: NVML did not start (NVML Shared Library Not Found)"
    ]
    assert not exports.exists()


def test_allow_no_gpu_idles_and_exports_nothing(tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    result = _run(tmp_path, "--allow-no-gpu", "--duration", "0.5", "--exports-dir", str(exports), scenario={"gpus": []})
    assert result.returncode == 0, result.stderr
    assert "no NVIDIA GPU found; idling without exporting anything" in result.stderr
    assert not exports.exists()


def test_a_collector_that_is_down_does_not_stop_sampling(tmp_path: Path) -> None:
    down = CollectorDouble(tmp_path / "down").start()
    down.stop(0)
    result = _run(
        tmp_path,
        "--duration", "2", "--interval", "0.5", "--export-interval", "0.5", "--otlp-endpoint", down.endpoint,
        OTEL_EXPORTER_OTLP_TIMEOUT="1",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    taken = int(result.stderr.split("stopped after ")[1].split(" ")[0])
    assert taken >= 4  # ticks at 0, 0.5, 1.0, 1.5 and the last sample at 2.0, exports failing meanwhile
    assert "telemetry not delivered: 0 span(s)" in result.stderr


BLOCKING_WRAPPER = textwrap.dedent(
    """
    import runpy, sys
    for name in {blocked!r}:
        sys.modules[name] = None  # import raises ImportError, as if not installed
    sys.argv = ["gpu-sidecar", *sys.argv[1:]]
    try:
        runpy.run_module("gpu_sidecar", run_name="__main__", alter_sys=True)
    finally:
        loaded = sorted(n for n in {blocked!r} if sys.modules.get(n) is not None)
        print("loaded:", loaded, file=sys.stderr)
    """
).format(blocked=BLOCKED)


def test_sidecar_runs_without_litellm_huggingface_hub_pyarrow_agent_or_publisher(tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    result = subprocess.run(
        [PYTHON, "-c", BLOCKING_WRAPPER, "--duration", "0.5", "--run-id", "lean", "--exports-dir", str(exports)],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "loaded: []" in result.stderr
    lines = _metric_lines(sorted((exports / "lean").glob("*.jsonl")))
    assert {p["name"] for p in points(lines)} == {spec.name for spec in FAMILIES["semconv"]}


def test_help_lists_the_flags_a_user_needs(tmp_path: Path) -> None:
    result = subprocess.run([*SIDECAR, "--help"], env=subprocess_env(), capture_output=True, text=True, timeout=30)
    assert result.returncode == 0
    for flag in ("--interval", "--export-interval", "--duration", "--naming", "--run-id", "--otlp-endpoint",
                 "--output-dir", "--exports-dir", "--allow-no-gpu"):  # fmt: skip
        assert flag in result.stdout


def test_export_interval_comes_from_the_flag_the_environment_or_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    from gpu_sidecar.cli import build_parser, export_interval
    from smoltrace_otel.errors import UsageError

    def parse(*argv: str) -> float:
        return export_interval(build_parser().parse_args(list(argv)))

    assert parse() == 10.0
    assert parse("--export-interval", "3") == 3.0
    assert parse("--interval", "30") == 30.0  # never shorter than the sampling interval
    monkeypatch.setenv("OTEL_METRIC_EXPORT_INTERVAL", "2500")
    assert parse() == 2.5
    assert parse("--export-interval", "4") == 4.0
    monkeypatch.setenv("OTEL_METRIC_EXPORT_INTERVAL", "soon")
    with pytest.raises(UsageError, match="OTEL_METRIC_EXPORT_INTERVAL"):
        parse()
