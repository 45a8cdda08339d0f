"""README dataset cards for the four repositories, rendered deterministically.

Each card declares its ``configs`` in the YAML header, so the viewer reads exactly
``data/**/*.parquet`` as one split (without it, a file name containing "test" or "eval"
would become its own split), and the metrics repository's raw OTLP JSON stays out of the
table. The schema section is written from the Parquet file's own Arrow schema, so the
card cannot drift from the data. The same inputs give the same bytes, so an unchanged card
is never committed again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import pyarrow as pa

from publisher.layout import REPOS, Repo

DATA_GLOB = "data/**/*.parquet"
TAGS = ("smoltrace", "opentelemetry", "agent-evaluation", "llm-evaluation")
_TITLES: dict[Repo, str] = {
    "results": "smoltrace results",
    "traces": "smoltrace traces",
    "metrics": "smoltrace metrics",
    "leaderboard": "smoltrace leaderboard",
}
_SUMMARIES: dict[Repo, str] = {
    "results": "One row per evaluated task: the prompt, the agent's answer, every score, steps, tokens, cost and duration.",
    "traces": "One row per OpenTelemetry span of the runs (GenAI conventions), attributes and events as JSON text.",
    "metrics": "One row per GPU metric data point, plus each run's raw OTLP `resourceMetrics` as JSON.",
    "leaderboard": "One row per evaluation run, with links to the run's results, traces and metrics and the commits that hold them.",
}
_LAYOUT: dict[Repo, tuple[tuple[str, str], ...]] = {
    "results": (("data/<YYYY-MM>/<run_id>.parquet", "the run's results, one row per task"),),
    "traces": (("data/<YYYY-MM>/<run_id>.parquet", "the run's spans, one row per span"),),
    "metrics": (
        ("data/<YYYY-MM>/<run_id>.parquet", "the run's GPU data points, one row per point"),
        ("raw/<YYYY-MM>/<run_id>.json", "the run's `metric_data`: OTLP JSON `resourceMetrics` and `aggregates`"),
    ),
    "leaderboard": (("data/<YYYY-MM>/<run_id>.parquet", "the run's leaderboard row"),),
}


def _yaml_str(value: str) -> str:
    """A YAML scalar for any string: JSON's double-quoted form is valid YAML."""
    return json.dumps(value, ensure_ascii=False)


def card_header(kind: Repo) -> str:
    """The YAML front matter: name, tags, and the ``configs`` the viewer and ``datasets`` read."""
    lines = ["---", f"pretty_name: {_yaml_str(_TITLES[kind])}", "tags:"]
    lines += [f"- {tag}" for tag in TAGS]
    lines += [
        "configs:",
        "- config_name: default",
        "  default: true",
        "  data_files:",
        "  - split: train",
        f"    path: {_yaml_str(DATA_GLOB)}",
        "---",
    ]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def schema_table(schema: pa.Schema) -> str:
    """A Markdown table of the columns: name, Arrow type, nullability, description (field metadata)."""
    rows = ["| column | type | nullable | description |", "|---|---|---|---|"]
    for schema_field in schema:
        description = (schema_field.metadata or {}).get(b"description", b"").decode()
        nullable = "yes" if schema_field.nullable else "no"
        rows.append(
            f"| `{_cell(schema_field.name)}` | `{_cell(str(schema_field.type))}` | {nullable} | {_cell(description)} |"
        )
    return "\n".join(rows)


def render_card(kind: Repo, schema: pa.Schema, repo_ids: Mapping[Repo, str]) -> str:
    """The README.md of the ``kind`` repository whose data files have ``schema``."""
    version = (schema.metadata or {}).get(b"schema_version")
    siblings = ", ".join(
        f"{other}: [{repo_ids[other]}](/datasets/{repo_ids[other]})"
        for other in REPOS
        if other in repo_ids and other != kind
    )
    parts = [
        card_header(kind),
        f"# {_TITLES[kind]}",
        "",
        f"{_SUMMARIES[kind]} Written by smoltrace-otel, an OpenTelemetry-native evaluation harness for LLM agents.",
        "",
        f"Related datasets: {siblings}.",
        "",
        "## Layout",
        "",
        "Each run adds its own files at paths derived from its run id, so runs never overwrite each other",
        "and publishing the same run again changes nothing.",
        "",
        "| path | content |",
        "|---|---|",
        *[f"| `{path}` | {content} |" for path, content in _LAYOUT[kind]],
        "",
        "## Schema",
        "",
        f"Schema version: `{version.decode()}`." if version else "Columns of every data file:",
        "",
        schema_table(schema),
        "",
        "New columns are only ever added as nullable columns, so files of different runs read as one table.",
        "",
    ]
    return "\n".join(parts)
