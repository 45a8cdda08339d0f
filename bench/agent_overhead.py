"""Harness overhead: ``run_evaluation`` versus a bare litellm loop making the same calls.

Both talk to the same chat server double (started as a separate process, so it does not
share this process's GIL) through litellm's real HTTP path. Each task is two model calls
(a calculator tool call, then ``final_answer``) and one tool execution. The harness also
validates the task set, scores, emits spans and metrics (embedded JSON Lines files) and
flushes them; the bare loop only calls the model and the tool.

Run: ``python bench/agent_overhead.py [--tasks 40] [--repeats 7]``. Prints the median wall
time of each variant at 1 and 8 workers and the ratio harness / bare (target <= 1.10), and
the ratio of the best runs and of this process's CPU time (both less sensitive to a busy
machine). Against this double a model
call takes a few milliseconds, so the ratio is a worst case: against a real model (100 ms
and more per call) the same absolute overhead is a fraction of a percent.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"

MODEL = "openai/gpt-4o-mini"
TARGET = 1.10


def start_server(tasks: int, latency_s: float) -> tuple[subprocess.Popen[str], str]:
    rules = [
        {
            "match": f"[bench-{n}]",
            "turns": [
                {"tool_calls": [{"name": "calculator", "arguments": {"expression": f"{n} * 7"}}], "delay_s": latency_s},
                {"tool_calls": [{"name": "final_answer", "arguments": {"answer": str(n * 7)}}], "delay_s": latency_s},
            ],
        }
        for n in range(tasks)
    ]
    script = Path(tempfile.mkdtemp(prefix="bench-chat-")) / "script.json"
    script.write_text(json.dumps({"rules": rules}))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.doubles.chat_server", "--script", str(script)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    return proc, line.strip().split("api_base=", 1)[1]


def task_records(tasks: int) -> list[dict[str, Any]]:
    return [
        {
            "id": f"bench-{n}",
            "prompt": f"[bench-{n}] What is {n} times 7?",
            "expected_tool": "calculator",
            "expected_answer": str(n * 7),
        }
        for n in range(tasks)
    ]


def run_harness(api_base: str, tasks_file: Path, workers: int, out: Path) -> tuple[float, float]:
    from agent.runner import run_evaluation, telemetry_config
    from agent.settings import AgentSettings, ModelSettings, RunOptions, TaskSource
    from smoltrace_otel.telemetry import setup_telemetry

    settings = AgentSettings(
        model=ModelSettings(MODEL, api_base=api_base, api_key_env=None),
        tasks=TaskSource(path=tasks_file),
        run=RunOptions(parallel_workers=workers, progress=False),
    )
    run_id = f"bench-{workers}-{time.monotonic_ns()}"
    telemetry = setup_telemetry(telemetry_config(run_id, exports_dir=out))
    started, cpu = time.perf_counter(), time.process_time()
    summary = run_evaluation(settings, telemetry)
    elapsed = time.perf_counter() - started, time.process_time() - cpu
    telemetry.shutdown()
    assert summary.succeeded == summary.planned, summary
    return elapsed


def run_bare(api_base: str, records: list[dict[str, Any]], workers: int) -> tuple[float, float]:
    import litellm

    from agent.loop import SYSTEM_PROMPT
    from agent.tools import default_toolbox

    toolbox = default_toolbox()
    schemas = toolbox.schemas()
    calculator = toolbox.get("calculator")
    assert calculator is not None

    def one(record: dict[str, Any]) -> str:
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": record["prompt"]},
        ]
        for _ in range(6):
            response = litellm.completion(
                model=MODEL,
                messages=messages,
                tools=schemas,
                tool_choice="auto",  # the same request body as the harness sends
                api_base=api_base,
                api_key="EMPTY",
                max_retries=0,
                timeout=60,
            )
            message = response.choices[0].message
            calls = message.tool_calls or []
            messages.append(
                {"role": "assistant", "content": message.content or "", "tool_calls": [c.model_dump() for c in calls]}
            )
            for call in calls:
                if call.function.name == "final_answer":
                    return json.loads(call.function.arguments)["answer"]
                result = calculator.function(**json.loads(call.function.arguments))
                messages.append({"role": "tool", "tool_call_id": call.id, "content": result})
        raise RuntimeError("no answer")

    started, cpu = time.perf_counter(), time.process_time()
    with ThreadPoolExecutor(workers) as pool:
        answers = list(pool.map(one, records))
    elapsed = time.perf_counter() - started, time.process_time() - cpu
    assert answers == [r["expected_answer"] for r in records]
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=0.0,
        help="the double waits this long per call, like a real model (default 0)",
    )
    args = parser.parse_args()

    import logging

    logging.basicConfig(level=logging.WARNING)
    records = task_records(args.tasks)
    work = Path(tempfile.mkdtemp(prefix="bench-agent-"))
    tasks_file = work / "tasks.json"
    tasks_file.write_text(json.dumps(records))
    server, api_base = start_server(args.tasks, args.latency_ms / 1000)
    try:
        run_bare(api_base, records[:2], 1)  # import litellm and warm its HTTP client
        run_harness(api_base, tasks_file, 1, work / "exports")
        print(
            f"{args.tasks} tasks x 2 model calls + 1 tool call, {args.latency_ms:g} ms model latency, "
            f"median of {args.repeats} (python {sys.version.split()[0]}, {os.cpu_count()} CPUs)"
        )
        for workers in (1, 8):
            bare, harness = [], []
            for _ in range(args.repeats):  # interleaved, so drifts in machine load hit both alike
                bare.append(run_bare(api_base, records, workers))
                harness.append(run_harness(api_base, tasks_file, workers, work / "exports"))
            wall = statistics.median(h[0] for h in harness) / statistics.median(b[0] for b in bare)
            best = min(h[0] for h in harness) / min(b[0] for b in bare)
            cpu = statistics.median(h[1] for h in harness) / statistics.median(b[1] for b in bare)
            verdict = "ok" if wall <= TARGET else f"above the {TARGET:.2f}x target"
            print(
                f"workers={workers}: bare {statistics.median(b[0] for b in bare):.3f} s, "
                f"harness {statistics.median(h[0] for h in harness):.3f} s; "
                f"wall ratio {wall:.3f}x ({verdict}), best-of wall ratio {best:.3f}x, CPU-time ratio {cpu:.3f}x"
            )
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
