"""Twelve publishers at once against one Hub that answers 409 while another commit is being written."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from publisher.hub import HubPublishResult, HubSettings, publish_run_to_hub
from publisher.hub_retry import RetryPolicy
from tests.doubles.fake_hub import FakeHub, point_client_at, running_fake_hub
from tests.staged_runs import stage_run

PUBLISHERS = 12


@pytest.fixture
def busy_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    with running_fake_hub(FakeHub(commit_latency_s=0.02, conflict_on_concurrent_commits=True)) as hub:
        point_client_at(hub, str(tmp_path / "hf-home"), monkeypatch)
        yield hub


def test_twelve_concurrent_publishers_lose_and_double_nothing(busy_hub: FakeHub, tmp_path: Path) -> None:
    runs = [stage_run(tmp_path / f"publisher-{i}", f"run-{i:02d}") for i in range(PUBLISHERS)]
    settings = HubSettings(retry=RetryPolicy(deadline_s=60, base_delay_s=0.02, max_delay_s=0.3))

    with ThreadPoolExecutor(PUBLISHERS) as pool:
        results: list[HubPublishResult] = list(pool.map(lambda run: publish_run_to_hub(run, settings), runs))

    results_repo = busy_hub.repo("alice/smoltrace-results")
    board = busy_hub.repo("alice/smoltrace-leaderboard")
    expected = {f"data/2025-01/run-{i:02d}.parquet" for i in range(PUBLISHERS)}
    assert {p for p in results_repo.head.files if p.startswith("data/")} == expected
    assert {p for p in board.head.files if p.startswith("data/")} == expected
    for repo in ("results", "traces", "metrics", "leaderboard"):
        assert (
            len(busy_hub.repo(f"alice/smoltrace-{repo}").commits) == 1 + PUBLISHERS
        )  # one commit per run, none doubled
    rows = pa.concat_tables(
        [pq.read_table(pa.BufferReader(board.head.files[p].data)) for p in sorted(expected)]
    ).to_pylist()
    assert sorted(row["run_id"] for row in rows) == [f"run-{i:02d}" for i in range(PUBLISHERS)]
    for row in rows:  # each row's commit holds that run's results file
        holding = results_repo.resolve(row["results_commit"])
        assert holding is not None and f"data/2025-01/{row['run_id']}.parquet" in holding.files
    assert all(r.new_commits == 4 for r in results)
    assert busy_hub.count("POST", "commit") > 4 * PUBLISHERS, "the Hub never answered 409: contention was not exercised"
