"""The brief's ``metric_data`` dictionary for a sample run: ``{"run_id", "resourceMetrics", "aggregates"}``.

``resourceMetrics`` holds the same entries as the sample's ``metrics.jsonl`` lines (OTLP
JSON, every resource tagged with ``run.id``). ``aggregates`` lists the figures the
publisher puts there, under the publisher's names and in its order
(``publisher/metric_data.py``; a test checks that both agree): tokens and task counts
from the sample run's spans (``--with-run``), energy and CO2 from the simulated GPUs'
readings, with the publisher's default grid intensity and PUE. A figure that a sample
without spans cannot have is ``None``, as the publisher writes it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from gpu_sidecar.sample_metrics import GpuFigures
from gpu_sidecar.sample_run import SampleRun
from gpu_sidecar.semconv import Naming

JOULES_PER_WH = 3600.0
JOULES_PER_KWH = 3.6e6
GRID_INTENSITY_G_PER_KWH = 475.0
"""The publisher's default (``publisher/energy.py``: IEA world average)."""
PUE = 1.0
ENERGY_SOURCE: dict[Naming, str] = {"semconv": "hw.energy", "genai": "gen_ai.gpu.power (integrated)"}
"""What the publisher names as the energy's source for each family."""


def aggregates(figures: Sequence[GpuFigures], run: SampleRun | None, naming: Naming) -> list[dict[str, Any]]:
    """The ``aggregates`` list, in the publisher's order."""
    energy_j = sum(f.energy_j for f in figures)
    prompt = run.input_tokens if run else None
    completion = run.output_tokens if run else None
    tasks = run.tasks if run else 0
    successful = run.successful if run else 0
    return [
        _aggregate("llm.token_count.prompt", prompt),
        _aggregate("llm.token_count.completion", completion),
        _aggregate(
            "llm.token_count.total", prompt + completion if prompt is not None and completion is not None else None
        ),
        _aggregate("smoltrace.cost.total_usd", None),
        _aggregate("smoltrace.energy.wh", energy_j / JOULES_PER_WH),
        _aggregate("smoltrace.energy.source", ENERGY_SOURCE[naming]),
        _aggregate("gen_ai.co2.emissions", energy_j / JOULES_PER_KWH * GRID_INTENSITY_G_PER_KWH * PUE),
        _aggregate("smoltrace.co2.grid_intensity_g_per_kwh", GRID_INTENSITY_G_PER_KWH),
        _aggregate("smoltrace.co2.pue", PUE),
        _aggregate("smoltrace.tasks.total", tasks),
        _aggregate("smoltrace.tasks.successful", successful),
        _aggregate("smoltrace.tasks.failed", tasks - successful),
        _aggregate("smoltrace.tasks.interrupted", 0),
        _aggregate("smoltrace.spans.total", run.span_count if run else 0),
        _aggregate("smoltrace.spans.error", 0),
    ]


def metric_data(
    run_id: str, resource_metrics: Iterable[dict[str, Any]], aggregate_list: list[dict[str, Any]]
) -> dict[str, Any]:
    return {"run_id": run_id, "resourceMetrics": list(resource_metrics), "aggregates": aggregate_list}


def _aggregate(name: str, value: Any) -> dict[str, Any]:
    return {"name": name, "value": value}
