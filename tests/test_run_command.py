"""``smoltrace run`` end to end against the chat server double: one command, every output, clear refusals."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from smoltrace_otel.errors import ExitCode
from smoltrace_otel.pipeline import finished_task_ids
from smoltrace_otel.telemetry import TelemetryConfig, setup_telemetry
from tests.conftest import PYTHON, REPO_ROOT, subprocess_env
from tests.doubles.chat_server import ChatServerDouble, answer, call
from tests.doubles.fake_nvml.scenarios import many_gpus, sidecar_env, write_scenario
from tests.run_outputs import assert_outputs_agree, published
from tests.sample_run import Task, emit_run

INTERRUPTED = {"stop_reason": "interrupted", "success": False, "steps": 1}


def _smoltrace_run(
    tmp_path: Path, env: dict[str, str], *args: str, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    command = [
        PYTHON, "-m", "smoltrace_otel", "run",
        "--exports-dir", str(tmp_path / "exports"), "--output-dir", str(tmp_path / "out"), *args,
    ]  # fmt: skip
    return subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=timeout)


def _model_args(server: ChatServerDouble) -> list[str]:
    return ["--model", "openai/double", "--api-base", server.api_base]


def test_run_with_a_gpu_starts_the_sidecar_and_every_output_agrees(
    tmp_path: Path, chat_server: ChatServerDouble
) -> None:
    chat_server.script("17 * 23", [call("calculator", {"expression": "17 * 23"}), answer("391")])
    scenario = write_scenario(tmp_path / "gpus.json", many_gpus(2))
    env = sidecar_env(scenario, subprocess_env())

    done = _smoltrace_run(tmp_path, env, *_model_args(chat_server), "--limit", "3", "--run-id", "run-gpu-1")

    assert done.returncode == 0, done.stderr
    out = published(tmp_path / "out", "run-gpu-1")
    assert_outputs_agree(out, "run-gpu-1")
    assert len(out["results"]) == 3
    (row,) = out["leaderboard"]
    assert row["gpu_count"] == 2
    assert row["gpu_utilization_avg"] is not None
    assert row["energy_wh"] is not None and row["energy_wh"] > 0
    assert any(r["metric"] == "hw.power" for r in out["metrics"])
    assert "GPU sidecar on 2 device(s)" in done.stdout
    assert "smoltrace run run-gpu-1" in done.stdout
    for repo in ("results", "traces", "metrics", "leaderboard"):
        assert f"{repo}/data/" in done.stdout
    assert (tmp_path / "exports" / "run-gpu-1").is_dir()


def test_run_without_a_gpu_says_so_and_publishes_null_gpu_figures(
    tmp_path: Path, chat_server: ChatServerDouble
) -> None:
    env = sidecar_env(
        write_scenario(tmp_path / "none.json", {"init_error": "driver_not_loaded", "gpus": []}), subprocess_env()
    )

    done = _smoltrace_run(tmp_path, env, *_model_args(chat_server), "--limit", "2", "--run-id", "run-nogpu")

    assert done.returncode == 0, done.stderr
    assert "no GPU metrics: no NVIDIA driver: NVML did not start (Driver Not Loaded)" in done.stdout
    (row,) = published(tmp_path / "out", "run-nogpu")["leaderboard"]
    assert row["gpu_utilization_avg"] is None and row["energy_wh"] is None and row["co2_emissions_g"] is None


def test_same_run_id_is_refused_without_resume_and_resume_runs_only_what_is_left(
    tmp_path: Path, chat_server: ChatServerDouble
) -> None:
    env = subprocess_env()
    first = _smoltrace_run(tmp_path, env, *_model_args(chat_server), "--no-gpu", "--limit", "2", "--run-id", "r1")
    assert first.returncode == 0, first.stderr
    requests_after_first = len(chat_server.requests)

    again = _smoltrace_run(tmp_path, env, *_model_args(chat_server), "--no-gpu", "--limit", "2", "--run-id", "r1")
    assert again.returncode == ExitCode.BAD_INPUT
    assert "run id r1 already exists" in again.stderr and "--resume" in again.stderr
    assert len(chat_server.requests) == requests_after_first

    resumed = _smoltrace_run(
        tmp_path, env, *_model_args(chat_server), "--no-gpu", "--limit", "4", "--run-id", "r1", "--resume"
    )
    assert resumed.returncode == 0, resumed.stderr
    assert "2 task(s) had already finished" in resumed.stdout
    asked = {r.body["messages"][1]["content"] for r in chat_server.requests[requests_after_first:]}
    assert len(asked) == 2
    out = published(tmp_path / "out", "r1")
    assert len(out["results"]) == 4
    assert_outputs_agree(out, "r1")


def test_finished_task_ids_leave_out_interrupted_tasks(tmp_path: Path) -> None:
    telemetry = setup_telemetry(TelemetryConfig("smoltrace-agent", "r2", exports_dir=tmp_path))
    emit_run(telemetry, [Task("t1"), Task("t2", **INTERRUPTED), Task("t3", success=False)])
    telemetry.shutdown()
    assert finished_task_ids(tmp_path / "r2") == {"t1", "t3"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--run-id", "../x"], "invalid run id"),
        (["--model", "local/smollm2", "--api-base", "http://127.0.0.1:9/v1"], "--api-base cannot be combined"),
        (["--model", "openai/x", "--output-format", "hub"], "no Hugging Face token"),
        (["--model", "openai/x", "--tasks-file", "missing.json"], "missing.json"),
        (["--model", "openai/x", "--agent-type", "code"], "--agent-type code"),
        (["--model", "openai/x", "--provider", "transformers"], "invalid choice"),
    ],
)
def test_bad_input_is_refused_before_anything_is_written(tmp_path: Path, args: list[str], message: str) -> None:
    env = subprocess_env(HF_HOME=str(tmp_path / "hf-home"))
    env.pop("HF_TOKEN", None)
    done = _smoltrace_run(tmp_path, env, "--no-gpu", *args, timeout=60)
    assert done.returncode == ExitCode.BAD_INPUT, done.stderr
    assert message in done.stderr
    assert not (tmp_path / "exports").exists() and not (tmp_path / "out").exists()


def test_help_names_the_run_id_flag_as_the_reference_tool_does() -> None:
    done = subprocess.run(
        [PYTHON, "-m", "smoltrace_otel", "run", "--help"],
        env=subprocess_env(),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0
    flat = " ".join(done.stdout.split())
    assert "Optional unique run identifier (UUID). Generated if not provided." in flat
    for flag in ("--model", "--provider", "--agent-type", "--dataset-name", "--difficulty", "--parallel-workers",
                 "--output-format", "--output-dir", "--private", "--run-id"):  # fmt: skip
        assert flag in flat
