"""docs/publisher.md describes the schemas the code writes (generated from publisher/schemas.py)."""

from __future__ import annotations

import re

from publisher import metric_data
from publisher.energy import DEFAULT_GRID_INTENSITY_G_PER_KWH, DEFAULT_PUE
from publisher.schemas import TABLES, markdown_table
from tests.conftest import REPO_ROOT

DOC = (REPO_ROOT / "docs" / "publisher.md").read_text(encoding="utf-8")


def test_every_table_schema_is_documented_exactly() -> None:
    for table in TABLES:
        assert f"### {table}\n\n{markdown_table(table)}\n" in DOC, (
            f"docs/publisher.md is stale for {table}: run python -m publisher.schemas"
        )


def test_every_aggregate_name_and_default_is_documented() -> None:
    names = {value for key, value in vars(metric_data).items() if key.startswith("AGG_")}
    documented = set(re.findall(r"`([a-z0-9_.]+)`", DOC))
    assert names - documented == set()
    assert f"{DEFAULT_GRID_INTENSITY_G_PER_KWH:.0f} gCO2e/kWh" in DOC
    assert f"PUE, default **{DEFAULT_PUE}**" in DOC
