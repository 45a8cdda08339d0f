"""Publisher throughput and memory on a large export, against a plain json.loads pass as the floor.

Generates ``--size`` GB (default 1) of Collector-format JSON Lines for one run (agent
spans in ``traces.jsonl``, GPU metrics from an 8-GPU sidecar in ``metrics.jsonl``,
batched the way the SDK's batch processor and a 1 s metric reader batch them), then in
child processes:

1. the floor: read every line and ``json.loads`` it, nothing else;
2. ``publish_local`` on the same export.

It prints MB/s for both, the ratio, and the publisher's peak RSS (``ru_maxrss`` of the
child), against the targets: at most 3x the floor's time, peak RSS under 300 MB.

    python bench/publisher_throughput.py            # 1 GB
    python bench/publisher_throughput.py --size 0.1 # quick run
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from gpu_sidecar.otlp_encode import any_value  # noqa: E402 - after the checkout is importable (light: no pyarrow)

RUN_ID = "bench-run"
TARGET_RATIO = 3.0
TARGET_RSS_MB = 300.0
SPANS_PER_LINE = 512
GPUS = 8
METRIC_SHARE = 0.15
"""Fraction of the bytes that are GPU metrics (the rest are spans)."""

FLOOR_CODE = """
import json, sys, time
from pathlib import Path
start = time.perf_counter()
lines = 0
for path in sorted(Path(sys.argv[1]).glob("*.jsonl")):
    with path.open("rb") as handle:
        for raw in handle:
            json.loads(raw)
            lines += 1
print(json.dumps({"seconds": time.perf_counter() - start, "lines": lines}))
"""

PUBLISH_CODE = """
import json, sys, time
from pathlib import Path
from publisher.collect import CollectOptions
from publisher.local import PublishRequest, publish_local
start = time.perf_counter()
published = publish_local(PublishRequest(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]),
                                         collect=CollectOptions(settle_seconds=0)))
print(json.dumps({"seconds": time.perf_counter() - start, "results": published.results_rows,
                  "traces": published.trace_rows, "metrics": published.metric_rows,
                  "unparsable": published.read.unparsable_lines}))
"""


def _kv(key: str, value: object) -> dict:
    return {"key": key, "value": any_value(value)}


def _resource(service: str) -> dict:
    return {
        "attributes": [
            _kv("service.name", service),
            _kv("host.name", "bench-host"),
            _kv("telemetry.sdk.language", "python"),
            _kv("telemetry.sdk.name", "opentelemetry"),
            _kv("telemetry.sdk.version", "1.45.2"),
            _kv("run.id", RUN_ID),
        ]
    }


def _span(
    rng: random.Random, where: tuple[str, str], name: str, kind: int, start: int, *, attrs: list, events=()
) -> dict:
    trace_id, parent = where
    span = {
        "traceId": trace_id,
        "spanId": f"{rng.getrandbits(64):016x}",
        "flags": 256,
        "name": name,
        "kind": kind,
        "startTimeUnixNano": str(start),
        "endTimeUnixNano": str(start + rng.randint(1_000_000, 900_000_000)),
        "attributes": attrs,
        "status": {},
    }
    if parent:
        span["parentSpanId"] = parent
    if events:
        span["events"] = list(events)
    return span


def _task_spans(rng: random.Random, n: int, start: int, run_ctx: tuple[str, str]) -> list[dict]:
    trace_id = f"{rng.getrandbits(128):032x}"
    root_id = f"{rng.getrandbits(64):016x}"
    spans = []
    for step in range(8):
        spans.append(
            _span(rng, (trace_id, root_id), "chat gpt-4o-mini", 3, start + step * 10**9, attrs=[
                _kv("gen_ai.operation.name", "chat"),
                _kv("gen_ai.provider.name", "openai"),
                _kv("gen_ai.request.model", "gpt-4o-mini"),
                _kv("gen_ai.response.model", "gpt-4o-mini-2024-07-18"),
                _kv("gen_ai.response.id", f"chatcmpl-{rng.getrandbits(96):024x}"),
                _kv("gen_ai.usage.input_tokens", rng.randint(200, 3000)),
                _kv("gen_ai.usage.output_tokens", rng.randint(5, 400)),
                _kv("smoltrace.usage.cost_usd", rng.random() / 1000),
                _kv("server.address", "api.openai.com"),
                _kv("smoltrace.chat.step", step + 1),
            ])
        )  # fmt: skip
        if step < 6:
            spans.append(
                _span(rng, (trace_id, root_id), "execute_tool calculator", 1, start + step * 10**9 + 5 * 10**8, attrs=[
                    _kv("gen_ai.operation.name", "execute_tool"),
                    _kv("gen_ai.tool.name", "calculator"),
                    _kv("gen_ai.tool.call.id", f"call_{rng.getrandbits(64):016x}"),
                    _kv("gen_ai.tool.type", "function"),
                ])
            )  # fmt: skip
    success = rng.random() < 0.6
    root = _span(rng, (trace_id, ""), "invoke_agent smoltrace-tool-agent", 1, start, attrs=[
        _kv("gen_ai.operation.name", "invoke_agent"),
        _kv("gen_ai.agent.name", "smoltrace-tool-agent"),
        _kv("smoltrace.schema_version", "1"),
        _kv("smoltrace.task.id", f"task-{n:06d}"),
        _kv("smoltrace.task.difficulty", rng.choice(["easy", "medium", "hard"])),
        _kv("smoltrace.task.agent_type", "tool"),
        _kv("smoltrace.task.prompt", "Convert 12 miles to kilometres, then multiply the result by the number of days in a leap year. " * 2),
        _kv("smoltrace.task.expected_tool", "calculator"),
        _kv("smoltrace.task.final_answer", "7068.3" if success else "I could not work it out"),
        _kv("smoltrace.task.steps", 8),
        _kv("smoltrace.task.stop_reason", "final_answer"),
        _kv("smoltrace.score.tool_called", True),
        _kv("smoltrace.score.correct_tool", True),
        _kv("smoltrace.score.final_answer_called", True),
        _kv("smoltrace.score.response_correct", success),
        _kv("smoltrace.score.success", success),
    ], events=[{"timeUnixNano": str(start + 9 * 10**9), "name": "gen_ai.evaluation.result", "attributes": [
        _kv("gen_ai.evaluation.name", "smoltrace.success"), _kv("gen_ai.evaluation.score.value", 1.0 if success else 0.0)]}])  # fmt: skip
    root["endTimeUnixNano"] = str(start + 9 * 10**9)
    root["links"] = [{"traceId": run_ctx[0], "spanId": run_ctx[1]}]
    return [*spans, root]


def _metrics_line(rng: random.Random, t: int, sidecar_start: int, energy: list[float]) -> str:
    metrics = []
    specs = [
        ("hw.gpu.utilization", "1", "gauge", lambda g: {"asDouble": round(rng.uniform(0.3, 1.0), 3)}),
        ("hw.gpu.memory.usage", "By", "sum", lambda g: {"asInt": str(rng.randint(10, 70) * 2**30)}),
        ("hw.gpu.memory.limit", "By", "sum", lambda g: {"asInt": str(80 * 2**30)}),
        ("hw.power", "W", "gauge", lambda g: {"asDouble": round(rng.uniform(100, 700), 2)}),
        ("hw.energy", "J", "sum", lambda g: {"asDouble": round(energy[g], 3)}),
        ("hw.temperature", "Cel", "gauge", lambda g: {"asInt": str(rng.randint(40, 85))}),
    ]
    for g in range(GPUS):
        energy[g] += rng.uniform(100, 700)
    for name, unit, kind, value in specs:
        points = []
        for g in range(GPUS):
            attrs = [_kv("hw.id", f"GPU-{g:08d}-bench"), _kv("hw.name", "NVIDIA H100 80GB HBM3"),
                     _kv("hw.vendor", "NVIDIA"), _kv("hw.type", "gpu"), _kv("nvidia.gpu.index", g)]  # fmt: skip
            point = {"attributes": attrs, "timeUnixNano": str(t), **value(g)}
            if kind == "sum":
                point["startTimeUnixNano"] = str(sidecar_start)
            points.append(point)
        body = {"dataPoints": points}
        if kind == "sum":
            body.update({"aggregationTemporality": 2, "isMonotonic": name == "hw.energy"})
        metrics.append({"name": name, "unit": unit, kind: body})
    document = {"resourceMetrics": [{"resource": _resource("gpu-sidecar"), "scopeMetrics": [{"scope": {"name": "gpu_sidecar"}, "metrics": metrics}]}]}  # fmt: skip
    return json.dumps(document, separators=(",", ":")) + "\n"


def generate(run_dir: Path, size_bytes: int) -> None:
    """Write traces.jsonl and metrics.jsonl totalling about ``size_bytes``."""
    rng = random.Random(7)
    run_dir.mkdir(parents=True, exist_ok=True)
    t0 = 1_760_000_000 * 10**9
    run_trace, run_span = f"{rng.getrandbits(128):032x}", f"{rng.getrandbits(64):016x}"
    span_budget = size_bytes * (1 - METRIC_SHARE)
    written = 0
    task = 0
    with (run_dir / "traces.jsonl").open("w", encoding="utf-8") as out:
        batch: list[dict] = []
        while written < span_budget:
            batch.extend(_task_spans(rng, task, t0 + task * 10**9, (run_trace, run_span)))
            task += 1
            if len(batch) >= SPANS_PER_LINE:
                line = json.dumps({"resourceSpans": [{"resource": _resource("smoltrace-agent"), "scopeSpans": [{"scope": {"name": "smoltrace.agent"}, "spans": batch}]}]}, separators=(",", ":")) + "\n"  # fmt: skip
                out.write(line)
                written += len(line)
                batch = []
        run_end = t0 + task * 10**9 + 10 * 10**9
        run = _span(rng, (run_trace, ""), "smoltrace.run", 1, t0, attrs=[_kv("smoltrace.run.model", "gpt-4o-mini"), _kv("smoltrace.run.status", "completed"), _kv("smoltrace.run.planned_tasks", task)])  # fmt: skip
        run["spanId"], run["endTimeUnixNano"] = run_span, str(run_end)
        batch.append(run)
        out.write(json.dumps({"resourceSpans": [{"resource": _resource("smoltrace-agent"), "scopeSpans": [{"scope": {"name": "smoltrace.agent"}, "spans": batch}]}]}, separators=(",", ":")) + "\n")  # fmt: skip
    metric_bytes = 0
    energy = [0.0] * GPUS
    t = t0
    with (run_dir / "metrics.jsonl").open("w", encoding="utf-8") as out:
        while metric_bytes < size_bytes * METRIC_SHARE:
            line = _metrics_line(rng, t, t0 - 10**9, energy)
            out.write(line)
            metric_bytes += len(line)
            t += max(1, (run_end - t0) // 20000)


def _child(code: str, *args: str) -> tuple[dict, float, float]:
    """Run ``code`` in a child Python; returns (its JSON output, CPU seconds, peak RSS in MB)."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, env=env, cwd=REPO)
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"child failed with exit code {proc.returncode} after {time.perf_counter() - start:.0f} s")
    return json.loads(output), usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=float, default=1.0, help="export size in GB (default 1)")
    parser.add_argument("--dir", type=Path, default=REPO / "bench" / "out" / "publisher", help="work directory")
    parser.add_argument("--keep", action="store_true", help="keep the generated export and outputs")
    args = parser.parse_args()

    exports, output = args.dir / "exports", args.dir / "output"
    shutil.rmtree(args.dir, ignore_errors=True)
    started = time.perf_counter()
    generate(exports / RUN_ID, int(args.size * 1e9))
    size_mb = sum(p.stat().st_size for p in (exports / RUN_ID).glob("*.jsonl")) / 1e6
    print(f"generated {size_mb:,.0f} MB in {time.perf_counter() - started:.0f} s under {exports / RUN_ID}")
    try:
        floor, floor_cpu, floor_rss = _child(FLOOR_CODE, str(exports / RUN_ID))
        published, cpu, rss = _child(PUBLISH_CODE, RUN_ID, str(exports), str(output))
    finally:
        if not args.keep:
            shutil.rmtree(args.dir, ignore_errors=True)
    ratio = published["seconds"] / floor["seconds"]
    print(
        f"floor   json.loads pass: {floor['seconds']:7.1f} s  {size_mb / floor['seconds']:6.1f} MB/s  ({floor['lines']:,} lines, peak RSS {floor_rss:.0f} MB)"
    )
    print(
        f"publish local:           {published['seconds']:7.1f} s  {size_mb / published['seconds']:6.1f} MB/s  "
        f"({published['results']:,} results, {published['traces']:,} trace rows, {published['metrics']:,} metric rows)"
    )
    print(
        f"ratio publish/floor: {ratio:.2f}x (target <= {TARGET_RATIO:.0f}x)  {'OK' if ratio <= TARGET_RATIO else 'MISSED'}"
    )
    print(
        f"publisher peak RSS:  {rss:.0f} MB (target < {TARGET_RSS_MB:.0f} MB)  {'OK' if rss < TARGET_RSS_MB else 'MISSED'}"
    )
    print(
        f"CPU time of the child processes (steadier on a shared machine): floor {floor_cpu:.1f} s, "
        f"publish {cpu:.1f} s, ratio {cpu / floor_cpu:.2f}x"
    )


if __name__ == "__main__":
    main()
