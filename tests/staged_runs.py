"""Runs staged the way ``publisher/layout.py`` lays them out, written with pyarrow for the Hub tests.

The Hub half of the publisher is agnostic of the data columns; these small tables carry
a ``run_id`` column, a few typical ones, and the leaderboard's nullable link columns.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from publisher.layout import RunLayout
from publisher.leaderboard_links import LINK_COLUMNS

RESULTS_SCHEMA = pa.schema(
    [
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("task_id", pa.string(), nullable=False, metadata={"description": "the task's id in its task set"}),
        pa.field("success", pa.bool_()),
        pa.field("prompt", pa.string()),
        pa.field("total_tokens", pa.int64()),
    ],
    metadata={"schema_version": "1"},
)
TRACES_SCHEMA = pa.schema(
    [
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("trace_id", pa.string(), nullable=False),
        pa.field("span_id", pa.string(), nullable=False),
        pa.field("name", pa.string()),
        pa.field("attributes_json", pa.string()),
    ]
)
METRICS_SCHEMA = pa.schema(
    [
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("name", pa.string(), nullable=False),
        pa.field("time_unix_nano", pa.int64()),
        pa.field("value", pa.float64()),
    ]
)
LINKS = LINK_COLUMNS
LEADERBOARD_SCHEMA = pa.schema(
    [
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("model", pa.string()),
        pa.field("success_rate", pa.float64()),
        *[pa.field(name, pa.string(), nullable=True) for name in LINKS],
    ],
    metadata={"schema_version": "1"},
)


def stage_run(
    root: Path, run_id: str, month: str = "2025-01", *, prompt: str = "What is 2 + 2?", tasks: int = 2
) -> RunLayout:
    """Write the run's four Parquet files and its raw metric_data JSON under ``root``."""
    layout = RunLayout(root=root, run_id=run_id, month=month)
    tables = {
        "results": pa.table(
            {
                "run_id": [run_id] * tasks,
                "task_id": [f"task-{i}" for i in range(tasks)],
                "success": [i % 2 == 0 for i in range(tasks)],
                "prompt": [prompt] * tasks,
                "total_tokens": [100 + i for i in range(tasks)],
            },
            schema=RESULTS_SCHEMA,
        ),
        "traces": pa.table(
            {
                "run_id": [run_id] * 2,
                "trace_id": ["0af7651916cd43dd8448eb211c80319c"] * 2,
                "span_id": ["b7ad6b7169203331", "00f067aa0ba902b7"],
                "name": ["invoke_agent smoke", "chat smollm2"],
                "attributes_json": ["{}", '{"gen_ai.request.model": "smollm2"}'],
            },
            schema=TRACES_SCHEMA,
        ),
        "metrics": pa.table(
            {
                "run_id": [run_id],
                "name": ["hw.gpu.utilization"],
                "time_unix_nano": [1735689600000000000],
                "value": [0.5],
            },
            schema=METRICS_SCHEMA,
        ),
        "leaderboard": pa.table(
            {"run_id": [run_id], "model": ["smollm2"], "success_rate": [50.0], **{name: [None] for name in LINKS}},
            schema=LEADERBOARD_SCHEMA,
        ),
    }
    for repo, table in tables.items():
        path = layout.data_file(repo)  # type: ignore[arg-type]
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path)
    metric_data = {
        "run_id": run_id,
        "resourceMetrics": [],
        "aggregates": [{"name": "llm.token_count.total", "value": 201}],
    }
    layout.raw_metrics_file().parent.mkdir(parents=True, exist_ok=True)
    layout.raw_metrics_file().write_text(json.dumps(metric_data, sort_keys=True))
    return layout
