"""``smoltrace publish``: what the user sees, and the exit codes."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from smoltrace_otel.cli import main
from smoltrace_otel.telemetry import TelemetryConfig, setup_telemetry
from tests import otlp_lines as L
from tests.conftest import PYTHON, subprocess_env
from tests.sample_run import Chat, GpuDevice, GpuEmitter, Task, emit_run

RUN = "cli-run-1"


def _age(directory: Path, seconds: float = 60) -> None:
    for path in directory.rglob("*.jsonl"):
        os.utime(path, (path.stat().st_atime, path.stat().st_mtime - seconds))


def _good_run(exports: Path) -> None:
    agent = setup_telemetry(TelemetryConfig("smoltrace-agent", RUN, exports_dir=exports, metrics=False))
    emit_run(agent, [Task("t1", chats=[Chat(10, 5, 0.25)]), Task("t2", success=False)])
    agent.shutdown()
    sidecar = setup_telemetry(TelemetryConfig("gpu-sidecar", RUN, exports_dir=exports, traces=False))
    emitter = GpuEmitter(sidecar, [GpuDevice("GPU-1", utilization=0.5, memory_bytes=2**30, power_w=100.0)])
    emitter.sample()
    emitter.close()
    _age(exports)


def _publish(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "-m", "smoltrace_otel", "publish", *args],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=120,
    )


def test_publish_writes_the_local_layout_and_prints_a_summary(tmp_path: Path) -> None:
    _good_run(tmp_path / "exports")
    result = _publish("--run-id", RUN, "--exports", str(tmp_path / "exports"), "--output-dir", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(
        f"Published run {RUN} (completed): 2 task(s), 1 successful (50.0%), 30 tokens, cost 0.2500 USD"
    )
    assert "GPU 1x NVIDIA A10G: utilization avg 50.0%, memory max 1,024 MiB, power avg 100.0 W" in result.stdout
    for repo in ("results", "traces", "metrics", "leaderboard"):
        line = next(x for x in lines if x.strip().startswith(repo))
        path = Path(line.split()[1])
        assert path.is_file() and path.name == f"{RUN}.parquet" and path.is_relative_to(tmp_path / "out" / repo)
    assert "(2 rows)" in next(x for x in lines if x.strip().startswith("results"))
    assert any(x.strip().startswith("metric_data") and x.endswith(".json") for x in lines)
    assert "0 unparsable line(s), 0 torn line(s)" in result.stdout


def test_default_directories_come_from_the_environment(tmp_path: Path) -> None:
    _good_run(tmp_path / "exports")
    env = subprocess_env(
        SMOLTRACE_EXPORTS_DIR=str(tmp_path / "exports"), SMOLTRACE_OUTPUT_DIR=str(tmp_path / "results")
    )
    result = subprocess.run(
        [PYTHON, "-m", "smoltrace_otel", "publish", "--run-id", RUN, "-q"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert list((tmp_path / "results" / "leaderboard" / "data").glob(f"*/{RUN}.parquet"))


def test_unknown_run_is_bad_input_and_lists_known_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "exports" / "run-a").mkdir(parents=True)
    (tmp_path / "exports" / "run-a" / "traces.jsonl").write_text("")
    code = main(
        ["publish", "--run-id", "nope", "--exports", str(tmp_path / "exports"), "--output-dir", str(tmp_path / "o")]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "smoltrace publish: error: run 'nope' not found:" in err
    assert "does not exist (runs there: run-a)" in err


def test_invalid_run_id_is_refused_by_the_parser(tmp_path: Path) -> None:
    result = _publish("--run-id", "../etc", "--exports", str(tmp_path))
    assert result.returncode == 2
    assert "invalid run id '../etc'" in result.stderr


def test_empty_run_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    L.write(tmp_path / RUN / "traces.jsonl", ["{not json}\n", "\n"])
    _age(tmp_path)
    code = main(["publish", "--run-id", RUN, "--exports", str(tmp_path), "--output-dir", str(tmp_path / "o")])
    assert code == 3
    err = capsys.readouterr().err
    assert (
        f"run '{RUN}' has nothing to publish: 1 file(s), 1 line(s), no spans and no GPU metrics (1 unparsable, 0 torn)"
        in err
    )
    assert not (tmp_path / "o" / "results").exists()


def test_run_still_being_written_is_refused_unless_allowed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    exports = tmp_path / "exports"
    agent = setup_telemetry(TelemetryConfig("smoltrace-agent", RUN, exports_dir=exports, metrics=False))
    run_span = emit_run(agent, [Task("t1")], end_run=False)  # the run span has not ended yet
    agent.force_flush()
    args = ["publish", "--run-id", RUN, "--exports", str(exports), "--output-dir", str(tmp_path / "o")]

    assert main(args) == 3  # files written a moment ago
    err = capsys.readouterr().err
    assert f"run '{RUN}' looks still in progress: its files were written" in err
    assert "--allow-incomplete" in err

    _age(exports)
    assert main(args) == 3  # settled files, but no run span
    assert "no 'smoltrace.run' span yet" in capsys.readouterr().err
    assert not (tmp_path / "o" / "results").exists()
    assert not list((tmp_path / "o").rglob("*.tmp"))

    assert main([*args, "--allow-incomplete"]) == 0
    out = capsys.readouterr().out
    assert "(partial)" in out and "warning: published although no 'smoltrace.run' span yet" in out
    run_span.end()
    agent.shutdown()


def test_torn_line_in_a_file_being_written_is_in_progress(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _good_run(tmp_path)
    with next((tmp_path / RUN).glob("traces-*.jsonl")).open("a") as handle:
        handle.write('{"resourceSpans":[')
    args = ["publish", "--run-id", RUN, "--exports", str(tmp_path), "--output-dir", str(tmp_path / "o")]
    assert main([*args, "--settle-seconds", "600"]) == 3
    assert "looks still in progress: its files were written" in capsys.readouterr().err
    assert main([*args, "--settle-seconds", "600", "--allow-incomplete"]) == 0
    assert "warning: published although 1 file(s) end in a line still being written" in capsys.readouterr().out
    assert main([*args, "--settle-seconds", "0"]) == 0  # an old torn tail: a crash remnant, counted and skipped
    out = capsys.readouterr().out
    assert "1 torn line(s)" in out and "warning" not in out


def test_hub_output_without_a_token_is_refused_before_any_work(tmp_path: Path) -> None:
    _good_run(tmp_path)
    env = subprocess_env(HF_HOME=str(tmp_path / "hf-home"), HF_HUB_DISABLE_TELEMETRY="1")
    env.pop("HF_TOKEN", None)
    result = subprocess.run(
        [PYTHON, "-m", "smoltrace_otel", "publish", "--run-id", RUN, "--exports", str(tmp_path),
         "--output-dir", str(tmp_path / "o"), "--output-format", "hub"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2
    assert "smoltrace publish: error: no Hugging Face token: set HF_TOKEN, or run `hf auth login`" in result.stderr
    assert not (tmp_path / "o").exists()


def test_run_id_is_required_unless_resuming(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["publish", "--exports", str(tmp_path), "--output-dir", str(tmp_path / "o")]) == 2
    assert "give --run-id RUN_ID (or --resume to push the runs a Hub publish left pending)" in capsys.readouterr().err
    assert main(["publish", "--resume", "--run-id", RUN, "--output-dir", str(tmp_path / "o")]) == 2
    assert (
        "--resume pushes every run pending in the outbox of --output-dir: leave out --run-id" in capsys.readouterr().err
    )
    assert not (tmp_path / "o").exists()


def test_co2_settings_from_flags(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _good_run(tmp_path)
    args = ["publish", "--run-id", RUN, "--exports", str(tmp_path), "--output-dir", str(tmp_path / "o")]
    assert main([*args, "--grid-intensity", "100", "--pue", "1.5"]) == 0
    capsys.readouterr()
    (row,) = pq.read_table(next((tmp_path / "o" / "leaderboard").rglob("*.parquet"))).to_pylist()
    assert row["grid_intensity_g_per_kwh"] == 100.0 and row["pue"] == 1.5
    assert main([*args, "--pue", "0.9"]) == 2
    assert "PUE must be >= 1.0" in capsys.readouterr().err
