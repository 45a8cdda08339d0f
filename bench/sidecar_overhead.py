"""CPU time per sample: the GPU sidecar vs genai-otel-instrument's GPU collector, on one fake NVML.

Both read the same scenario of N fake GPUs (``tests/doubles/fake_nvml``) whose clock moves
1 s per sample, as at the sidecar's default interval, and both feed an OpenTelemetry
``MeterProvider`` with an in-memory reader. Measured with ``time.process_time`` (CPU, not
wall time), best of ``--repeats`` interleaved runs:

* gpu-sidecar, collecting (exporting) after *every* sample: the most it can cost;
* gpu-sidecar at its defaults (1 s samples, an export every 10 samples);
* genai-otel-instrument's ``GPUMetricsCollector``: one collection of its observable
  gauges per sample (its CO2/cost thread is off by default and not counted, which only
  flatters it).

genai-otel-instrument is not a project dependency. Install it beside the sidecar's own
requirements in a separate virtualenv, then run this script with that interpreter::

    python3 -m venv /work/venv-bench
    /work/venv-bench/bin/pip install genai-otel-instrument==1.42.0 -r requirements/sidecar.txt
    /work/venv-bench/bin/python bench/sidecar_overhead.py --gpus 8

Without it, the script measures the sidecar alone and says how to get the comparison.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from opentelemetry.sdk.metrics import MeterProvider  # noqa: E402
from opentelemetry.sdk.metrics.export import InMemoryMetricReader  # noqa: E402

from tests.doubles.fake_nvml import pynvml as fake  # noqa: E402
from tests.doubles.fake_nvml.scenarios import ManualClock, many_gpus  # noqa: E402

sys.modules["pynvml"] = fake  # every `import pynvml` from here on gets the fake

TARGET_MS_PER_GPU = 1.0
TARGET_RATIO = 3.0


@dataclass
class Rig:
    """One collector under test: ``step()`` is one sample; the best CPU time per step is kept."""

    label: str
    step: Callable[[], None]
    best_s: float = float("inf")
    nvml_calls: float = 0.0


class SharedClock:
    """All rigs read the same fake GPUs; each step moves the scenario 1 s on."""

    def __init__(self) -> None:
        self.clock = ManualClock()
        self.seconds = 0.0

    def tick(self) -> None:
        self.seconds += 1.0
        self.clock.at(self.seconds)


def sidecar_rig(clock: SharedClock, naming: str, export_every: int, label: str) -> Rig:
    from gpu_sidecar.exporting import GpuInstruments
    from gpu_sidecar.model import readings_for
    from gpu_sidecar.nvml_source import NvmlSource, SourceSettings
    from gpu_sidecar.sampler import Sampler, SamplerSettings

    reader = InMemoryMetricReader()
    instruments = GpuInstruments(MeterProvider(metric_readers=[reader]).get_meter("gpu_sidecar"), naming)  # type: ignore[arg-type]
    source = NvmlSource(SourceSettings(readings=readings_for(naming)), nvml=fake)  # type: ignore[arg-type]
    source.open()
    sampler = Sampler(source, instruments.record, SamplerSettings(naming=naming), wall_clock=clock.clock)  # type: ignore[arg-type]
    count = iter(range(1, 10**9))

    def step() -> None:
        clock.tick()
        sampler.sample_once()
        if next(count) % export_every == 0:
            reader.get_metrics_data()

    return Rig(label, step)


def genai_rig(clock: SharedClock) -> Rig:
    from importlib.metadata import version

    from genai_otel.config import OTelConfig
    from genai_otel.gpu_metrics import GPUMetricsCollector

    reader = InMemoryMetricReader()
    GPUMetricsCollector(MeterProvider(metric_readers=[reader]).get_meter("genai.gpu"), OTelConfig(), interval=1)

    def step() -> None:
        clock.tick()
        reader.get_metrics_data()

    return Rig(f"genai-otel-instrument {version('genai-otel-instrument')} GPUMetricsCollector", step)


def measure(rigs: list[Rig], samples: int, repeats: int, gpus: int) -> None:
    """Run the rigs in turn, ``repeats`` times, so that machine load affects them alike."""
    for rig in rigs:
        rig.step()  # warm-up: handles, unsupported readings, first export
    for _ in range(repeats):
        for rig in rigs:
            calls_before = sum(fake.CALLS.values())
            start = time.process_time()
            for _ in range(samples):
                rig.step()
            rig.best_s = min(rig.best_s, (time.process_time() - start) / samples)
            rig.nvml_calls = (sum(fake.CALLS.values()) - calls_before) / samples / gpus


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gpus", type=int, default=8)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    gpus = args.gpus
    clock = SharedClock()
    fake.load_scenario(many_gpus(gpus), clock=clock.clock)

    ours = [
        sidecar_rig(clock, "semconv", 1, "gpu-sidecar semconv, export after every sample"),
        sidecar_rig(clock, "semconv", 10, "gpu-sidecar semconv, defaults (export every 10)"),
        sidecar_rig(clock, "genai", 1, "gpu-sidecar genai, export after every sample"),
    ]
    try:
        theirs: Rig | None = genai_rig(clock)
    except ImportError as error:
        theirs = None
        missing = error
    measure([*ours, *([theirs] if theirs else [])], args.samples, args.repeats, gpus)

    print(
        f"{gpus} fake GPUs, {args.samples} samples x {args.repeats} runs, interleaved; best run; CPU time (process_time)"
    )
    for rig in [*ours, *([theirs] if theirs else [])]:
        print(
            f"{rig.label:<52}: {rig.best_s * 1e3:7.3f} ms/sample  {rig.best_s * 1e3 / gpus:6.3f} ms/GPU/sample  "
            f"{rig.nvml_calls:5.1f} NVML calls/GPU/sample"
        )
    worst = max(rig.best_s for rig in ours) * 1e3 / gpus
    met = "met" if worst <= TARGET_MS_PER_GPU else "NOT met"
    print(f"target <= {TARGET_MS_PER_GPU:g} ms CPU per GPU per sample (worst gpu-sidecar case: {worst:.3f} ms): {met}")
    if theirs is None:
        print(f"genai-otel-instrument is not importable ({missing}); for the comparison run:")
        print("  python3 -m venv /work/venv-bench")
        print("  /work/venv-bench/bin/pip install genai-otel-instrument==1.42.0 -r requirements/sidecar.txt")
        print("  /work/venv-bench/bin/python bench/sidecar_overhead.py")
        return 0
    print(f"ratio genai-otel-instrument / gpu-sidecar (target >= {TARGET_RATIO:g}x):")
    for rig in ours:
        ratio = theirs.best_s / rig.best_s
        print(f"  {rig.label:<50}: {ratio:5.1f}x  {'met' if ratio >= TARGET_RATIO else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
