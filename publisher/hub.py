"""Publishing evaluation runs to the Hugging Face Hub: the entry points.

* ``publish_run_to_hub(layout, settings)``: push one run staged in the local layout
  (``publisher/layout.py``) to the four dataset repositories.
* ``resume_pending(root, settings)``: push every run left in the outbox (``--resume``).
* ``push_results_to_hf(...)``: the product brief's function; stages in-memory data with
  ``publisher.staging.stage_run`` and publishes it.

See docs/hub.md for the repositories, naming, privacy, retries and the outbox.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

from publisher.hub_publish import HubPublishResult, RepoOutcome, publish_batch
from publisher.hub_settings import HubSettings
from publisher.layout import RunLayout
from publisher.outbox import Outbox, resume_pending
from publisher.staging import stage_run
from smoltrace_otel import env
from smoltrace_otel.errors import UsageError
from smoltrace_otel.runid import resolve_run_id, validate_run_id

log = logging.getLogger(__name__)

__all__ = [
    "HubPublishResult",
    "HubSettings",
    "RepoOutcome",
    "find_staged_run",
    "publish_run_to_hub",
    "push_results_to_hf",
    "resume_pending",
]


def find_staged_run(root: Path, run_id: str) -> RunLayout:
    """The layout of ``run_id`` staged under ``root`` (its month found from the staged file names)."""
    validate_run_id(run_id)
    months = {
        path.parent.name
        for pattern in (f"*/data/*/{run_id}.parquet", f"metrics/raw/*/{run_id}.json")
        for path in Path(root).glob(pattern)
    }
    if not months:
        raise UsageError(f"no staged files for run {run_id} under {root}")
    if len(months) > 1:
        raise UsageError(f"run {run_id} is staged under several months in {root}: {', '.join(sorted(months))}")
    return RunLayout(root=Path(root), run_id=run_id, month=months.pop())


def publish_run_to_hub(layout: RunLayout, settings: HubSettings) -> HubPublishResult:
    """Push one staged run to its four repositories: at most one commit each, none when already there."""
    return publish_batch([layout], settings, Outbox(layout.root))[0]


def push_results_to_hf(  # noqa: PLR0917 - the product brief's signature
    all_results: Any,
    trace_data: Any,
    metric_data: Any,
    results_repo: str | None,
    traces_repo: str | None,
    metrics_repo: str | None,
    model_name: str,
    hf_token: str | None,
    private: bool = False,
    run_id: str | None = None,
    *,
    output_dir: Path | None = None,
    settings: HubSettings | None = None,
) -> HubPublishResult:
    """The product brief's publisher: stage ``all_results``, ``trace_data`` and ``metric_data`` locally, then publish.

    The inputs are described in ``publisher/staging.py`` (results rows, trace rows, the
    brief's ``metric_data``). The run id is ``run_id``, else ``metric_data["run_id"]``, else
    a new UUID4. ``results_repo``, ``traces_repo`` and ``metrics_repo`` are repository ids or
    names (empty: the defaults; the leaderboard repository comes from ``settings``).
    ``private`` applies to every repository this call creates; its default, ``False``, is
    the brief's (``smoltrace publish`` creates private repositories unless ``--public``).
    ``hf_token``, if given, is used for this call only and never logged or written
    (``None``: ``HF_TOKEN``, the token file or the library's login). The files are staged
    under ``output_dir`` (default ``$SMOLTRACE_OUTPUT_DIR`` or ``./smoltrace-results``), so a
    run that cannot be pushed now stays in the outbox for ``smoltrace publish --resume``.
    """
    metric_run_id = metric_data.get("run_id") if isinstance(metric_data, dict) else None
    run_id = resolve_run_id(run_id or metric_run_id)
    layout = stage_run(
        Path(output_dir) if output_dir is not None else env.output_dir_default(),
        all_results=all_results,
        trace_data=trace_data,
        metric_data=metric_data,
        model_name=model_name,
        run_id=run_id,
    )
    base = settings or HubSettings()
    chosen = replace(
        base,
        results_repo=results_repo or base.results_repo,
        traces_repo=traces_repo or base.traces_repo,
        metrics_repo=metrics_repo or base.metrics_repo,
        private=bool(private),
        token=hf_token or base.token,
    )
    log.info("publishing run %s of %s to the Hub", layout.run_id, model_name)
    return publish_run_to_hub(layout, chosen)
