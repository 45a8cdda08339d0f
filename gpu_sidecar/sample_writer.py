"""Generate a sample from checked choices and write it in the format asked for."""

from __future__ import annotations

import argparse
import shlex
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from gpu_sidecar.sample_cli import Choices
from gpu_sidecar.sample_metric_data import aggregates, metric_data
from gpu_sidecar.sample_metrics import GpuFigures, SampleMetrics, generate, resource_metrics_entries
from gpu_sidecar.sample_output import refuse_existing, write_json, write_lines
from gpu_sidecar.sample_run import SampleRun, SampleRunSettings, sample_run
from gpu_sidecar.simulated_load import Phases
from smoltrace_otel import __version__, env

METRICS_FILE = "metrics.jsonl"
TRACES_FILE = "traces.jsonl"


@dataclass
class Written:
    """What was written, for the user."""

    choices: Choices
    args: argparse.Namespace
    figures: list[GpuFigures]
    run: SampleRun | None
    files: list[tuple[Path, str]] = field(default_factory=list)
    exports_root: Path | None = None

    def summary(self) -> str:
        c, a = self.choices, self.args
        start = datetime.fromtimestamp(c.start_ns // 10**9, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        lines = [
            f"Sample run {c.run_id} (seed {c.seed}): {len(self.figures)}x {c.simulation.model.name}, "
            f"{a.duration:g} s from {start}, readings every {a.interval:g} s, points every {a.export_interval:g} s, "
            f"naming {a.naming}"
        ]
        lines += [f"  wrote {path} ({what})" for path, what in self.files]
        for figure, profile in zip(self.figures, c.simulation.profiles, strict=True):
            s = figure.summary()
            plateau = profile.memory * c.simulation.model.memory_mib
            lines.append(
                f"  {s['gpu']}: utilization avg {s['utilization_avg_pct']:.1f} % (asked {profile.utilization * 100:g}), "
                f"max {s['utilization_max_pct']:.1f} %; memory max {s['memory_max_mib']:,.0f} MiB "
                f"(asked {profile.memory * 100:g} % = {plateau:,.0f} MiB); power avg {s['power_avg_w']:.1f} W; "
                f"temperature max {s['temperature_max_c']:.0f} Cel; energy {s['energy_j'] / 3600:.2f} Wh"
            )
        if self.exports_root is not None and self.run is not None:
            lines.append(
                f"Publish it: smoltrace publish --run-id {c.run_id} --exports {shlex.quote(str(self.exports_root))}"
            )
        return "\n".join(lines) + "\n"


def metric_data_path(output: Path | None, run_id: str) -> Path:
    name = f"metric_data-{run_id}.json"
    if output is None:
        return Path(name)
    return output / name if output.is_dir() else output


def write_sample(args: argparse.Namespace, choices: Choices) -> Written:
    """Generate the sample of ``choices`` and write it; refuses (before writing) to replace files."""
    simulation = choices.simulation
    end_ns = choices.start_ns + round(simulation.duration_s * 1e9)
    if args.format == "otlp-jsonl":
        root = args.output or env.exports_dir_default()
        metrics_path, traces_path = root / choices.run_id / METRICS_FILE, root / choices.run_id / TRACES_FILE
        refuse_existing([metrics_path, traces_path] if args.with_run else [metrics_path], args.overwrite)
    else:
        root = None
        data_path = metric_data_path(args.output, choices.run_id)
        refuse_existing([data_path], args.overwrite)

    settings = SampleMetrics(
        simulation=simulation,
        start_ns=choices.start_ns,
        export_interval_s=args.export_interval,
        naming=args.naming,
        run_id=choices.run_id,
        host_name=args.host_name,
        scope_version=__version__,
    )
    exports, figures = generate(settings)
    run_settings = None
    run = None
    if args.with_run:
        phases = Phases.for_duration(simulation.duration_s)
        busy = (
            choices.start_ns + round((phases.idle_s + phases.warmup_s) * 1e9),
            end_ns - round(phases.tail_s * 1e9),
        )
        run_settings = SampleRunSettings(
            run_id=choices.run_id,
            seed=choices.seed,
            tasks=args.tasks,
            model=args.model,
            host_name=args.host_name,
            start_ns=choices.start_ns,
            end_ns=end_ns,
            busy=busy,
            harness_version=__version__,
        )
        run = sample_run(run_settings)

    written = Written(choices, args, figures, run, exports_root=root)
    end_s = end_ns / 1e9
    entries = resource_metrics_entries(settings, exports)
    if root is not None:
        lines = write_lines(metrics_path, ({"resourceMetrics": [entry]} for entry in entries), end_s)
        written.files.append((metrics_path, f"{lines} lines"))
        if run is not None and run_settings is not None:
            lines = write_lines(traces_path, run.documents(run_settings), end_s)
            written.files.append(
                (traces_path, f"{lines} lines: {run.tasks} tasks, {run.successful} successful, {run.span_count} spans")
            )
    else:
        document = metric_data(choices.run_id, entries, aggregates(figures, run, args.naming))
        write_json(data_path, document, end_s)
        what = f"{len(document['resourceMetrics'])} resourceMetrics entries"
        if run is not None:
            what += f"; aggregates count the sample run's {run.tasks} tasks (its spans need --format otlp-jsonl)"
        written.files.append((data_path, what))
    return written
