"""CPU time per sample: the GPU sidecar vs genai-otel-instrument's GPU collector, on one fake NVML.

Both read the same scenario of N fake GPUs (``tests/doubles/fake_nvml``) whose clock moves
1 s per sample, as at the sidecar's default interval, and both feed an OpenTelemetry
``MeterProvider`` with an in-memory reader. Measured with ``time.process_time`` (CPU, not
wall time), best of ``--repeats`` runs:

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


def _measure(step: Callable[[int], None], samples: int, repeats: int) -> float:
    """Best CPU seconds per call of ``step(i)`` over ``repeats`` runs of ``samples`` calls."""
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        for i in range(samples):
            step(i)
        best = min(best, (time.process_time() - start) / samples)
    return best


def _sidecar(gpus: int, samples: int, repeats: int, export_every: int, naming: str = "semconv") -> tuple[float, float]:
    from gpu_sidecar.exporting import GpuInstruments
    from gpu_sidecar.nvml_source import NvmlSource
    from gpu_sidecar.sampler import Sampler, SamplerSettings

    clock = ManualClock()
    fake.load_scenario(many_gpus(gpus), clock=clock)
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    instruments = GpuInstruments(provider.get_meter("gpu_sidecar"), naming)  # type: ignore[arg-type]
    source = NvmlSource(nvml=fake)
    source.open()
    sampler = Sampler(source, instruments.record, SamplerSettings(naming=naming), wall_clock=clock)  # type: ignore[arg-type]
    tick = iter(range(10**9))

    def step(_i: int) -> None:
        n = next(tick)
        clock.at(float(n))
        sampler.sample_once()
        if n % export_every == export_every - 1:
            reader.get_metrics_data()

    step(0)  # warm-up: discovery of unsupported readings, first export
    fake.CALLS.clear()
    seconds = _measure(step, samples, repeats)
    calls = sum(fake.CALLS.values()) / (samples * repeats) / gpus
    provider.shutdown()
    source.close()
    return seconds, calls


def _genai(gpus: int, samples: int, repeats: int) -> tuple[float, float, str]:
    from importlib.metadata import version

    from genai_otel.config import OTelConfig
    from genai_otel.gpu_metrics import GPUMetricsCollector

    clock = ManualClock()
    fake.load_scenario(many_gpus(gpus), clock=clock)
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    GPUMetricsCollector(provider.get_meter("genai.gpu"), OTelConfig(), interval=1)

    def step(i: int) -> None:
        clock.at(float(i))
        reader.get_metrics_data()

    step(0)
    fake.CALLS.clear()
    seconds = _measure(step, samples, repeats)
    calls = sum(fake.CALLS.values()) / (samples * repeats) / gpus
    provider.shutdown()
    return seconds, calls, version("genai-otel-instrument")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gpus", type=int, default=8)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    gpus = args.gpus

    print(f"{gpus} fake GPUs, {args.samples} samples x {args.repeats} runs (best), CPU time via time.process_time")
    every, every_calls = _sidecar(gpus, args.samples, args.repeats, export_every=1)
    default, _ = _sidecar(gpus, args.samples, args.repeats, export_every=10)
    genai_every, _ = _sidecar(gpus, args.samples, args.repeats, export_every=1, naming="genai")
    rows = [
        ("gpu-sidecar semconv, export after every sample", every),
        ("gpu-sidecar semconv, defaults (export every 10)", default),
        ("gpu-sidecar genai, export after every sample", genai_every),
    ]
    for label, seconds in rows:
        print(f"{label:<50}: {seconds * 1e3:7.3f} ms/sample  {seconds * 1e3 / gpus:6.3f} ms/GPU/sample")
    print(f"gpu-sidecar NVML calls per GPU per sample: {every_calls:.1f}")
    worst = max(seconds for _, seconds in rows)
    met = "met" if worst * 1e3 / gpus <= TARGET_MS_PER_GPU else "NOT met"
    print(f"target <= {TARGET_MS_PER_GPU:g} ms CPU per GPU per sample (worst case above): {met}")

    try:
        theirs, their_calls, their_version = _genai(gpus, args.samples, args.repeats)
    except ImportError as error:
        print(f"genai-otel-instrument is not importable ({error}); for the comparison run:")
        print("  python3 -m venv /work/venv-bench")
        print("  /work/venv-bench/bin/pip install genai-otel-instrument==1.42.0 -r requirements/sidecar.txt")
        print("  /work/venv-bench/bin/python bench/sidecar_overhead.py")
        return 0
    label = f"genai-otel-instrument {their_version} GPUMetricsCollector"
    print(f"{label:<50}: {theirs * 1e3:7.3f} ms/sample  {theirs * 1e3 / gpus:6.3f} ms/GPU/sample")
    print(f"genai-otel-instrument NVML calls per GPU per sample: {their_calls:.1f}")
    print(f"ratio genai-otel-instrument / gpu-sidecar (target >= {TARGET_RATIO:g}x):")
    for label, seconds in rows:
        ratio = theirs / seconds
        print(f"  {label:<48}: {ratio:5.1f}x  {'met' if ratio >= TARGET_RATIO else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
