"""Publishing staged runs to the Hub (a fake Hub driven by the real huggingface_hub client)."""

from __future__ import annotations

import inspect
import logging
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from huggingface_hub import DatasetCard, HfApi, hf_hub_download

from publisher.hub import HubSettings, find_staged_run, publish_run_to_hub, push_results_to_hf
from publisher.hub_retry import RetryPolicy
from publisher.layout import REPOS
from publisher.outbox import Outbox
from tests.doubles.fake_hub import TEST_TOKEN, FakeHub
from tests.doubles.fake_hub_store import card_metadata
from tests.staged_runs import stage_run

FAST = RetryPolicy(deadline_s=20, base_delay_s=0.01, max_delay_s=0.05)
REPO_IDS = {repo: f"alice/smoltrace-{repo}" for repo in REPOS}
RUN = "run-0001"


def settings(**overrides: object) -> HubSettings:
    return HubSettings(retry=FAST, **overrides)  # type: ignore[arg-type]


def download_table(repo_id: str, path: str, revision: str | None = None) -> pa.Table:
    local = hf_hub_download(repo_id, path, repo_type="dataset", revision=revision)
    return pq.read_table(local)


def test_first_publish_creates_four_private_repos_with_one_commit_each(fake_hub: FakeHub, tmp_path: Path) -> None:
    layout = stage_run(tmp_path / "out", RUN)

    result = publish_run_to_hub(layout, settings())

    assert result.submitted_by == "alice"
    assert result.new_commits == 4
    for repo in REPOS:
        stored = fake_hub.repo(REPO_IDS[repo])
        assert stored.private is True
        assert [c.title for c in stored.commits] == ["initial commit", f"smoltrace: add run {RUN}"]
        assert result.repos[repo].commit == stored.head.oid
        assert result.repos[repo].private is True
        for local, path in layout.files_for(repo):
            if repo != "leaderboard":
                assert stored.head.files[path].data == local.read_bytes()
        assert "README.md" in stored.head.files
    assert fake_hub.repo(REPO_IDS["metrics"]).head.files["raw/2025-01/run-0001.json"].data.startswith(b'{"aggregates"')
    assert not (tmp_path / "out" / ".outbox" / f"{RUN}.json").exists()


def test_leaderboard_row_links_the_datasets_and_the_commits_holding_the_run(fake_hub: FakeHub, tmp_path: Path) -> None:
    layout = stage_run(tmp_path / "out", RUN)
    publish_run_to_hub(layout, settings())

    row = download_table(REPO_IDS["leaderboard"], layout.data_path_in_repo("leaderboard")).to_pylist()[0]

    for repo in ("results", "traces", "metrics"):
        stored = fake_hub.repo(REPO_IDS[repo])
        assert row[f"{repo}_dataset"] == REPO_IDS[repo]
        assert row[f"{repo}_commit"] == stored.head.oid
        held = download_table(REPO_IDS[repo], layout.data_path_in_repo(repo), revision=row[f"{repo}_commit"])
        assert set(held.column("run_id").to_pylist()) == {RUN}
    assert row["submitted_by"] == "alice"
    assert row["model"] == "smollm2"
    # the staged file now equals what the Hub holds, schema included
    assert pq.read_table(layout.data_file("leaderboard")).equals(
        download_table(REPO_IDS["leaderboard"], layout.data_path_in_repo("leaderboard"))
    )
    assert pq.read_schema(layout.data_file("leaderboard")).metadata[b"schema_version"] == b"1"


def test_republishing_the_same_run_makes_no_commit(fake_hub: FakeHub, tmp_path: Path) -> None:
    layout = stage_run(tmp_path / "out", RUN)
    first = publish_run_to_hub(layout, settings())
    heads = {repo: fake_hub.repo(REPO_IDS[repo]).head.oid for repo in REPOS}
    commit_posts = fake_hub.count("POST", "commit")

    again = publish_run_to_hub(layout, settings())

    assert again.new_commits == 0
    assert {repo: fake_hub.repo(REPO_IDS[repo]).head.oid for repo in REPOS} == heads
    assert fake_hub.count("POST", "commit") == commit_posts
    assert {r: o.commit for r, o in again.repos.items()} == {r: o.commit for r, o in first.repos.items()}


def test_republishing_after_other_runs_still_makes_no_commit(fake_hub: FakeHub, tmp_path: Path) -> None:
    """The row keeps pointing at the commits that hold the run, not at the repositories' new heads."""
    layout = stage_run(tmp_path / "out", RUN)
    publish_run_to_hub(layout, settings())
    publish_run_to_hub(stage_run(tmp_path / "out", "run-0002"), settings())
    heads = {repo: fake_hub.repo(REPO_IDS[repo]).head.oid for repo in REPOS}

    again = publish_run_to_hub(layout, settings())

    assert again.new_commits == 0
    assert {repo: fake_hub.repo(REPO_IDS[repo]).head.oid for repo in REPOS} == heads


def test_public_is_opt_in_for_all_four_repos(fake_hub: FakeHub, tmp_path: Path) -> None:
    publish_run_to_hub(stage_run(tmp_path / "out", RUN), settings(private=False))

    assert [fake_hub.repo(REPO_IDS[repo]).private for repo in REPOS] == [False] * 4
    anonymous = HfApi(endpoint=fake_hub.url, token=False)
    assert anonymous.dataset_info(REPO_IDS["leaderboard"]).private is False


def test_private_repos_are_invisible_to_other_users(fake_hub: FakeHub, tmp_path: Path) -> None:
    from huggingface_hub.errors import RepositoryNotFoundError

    fake_hub.tokens["hf_BobsTokenForTheFakeHub000"] = ("bob", "write")
    publish_run_to_hub(stage_run(tmp_path / "out", RUN), settings())

    for repo in REPOS:
        with pytest.raises(RepositoryNotFoundError):
            HfApi(endpoint=fake_hub.url, token="hf_BobsTokenForTheFakeHub000").dataset_info(REPO_IDS[repo])


def test_an_existing_public_repo_keeps_its_visibility_and_says_so(
    fake_hub: FakeHub, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    HfApi(endpoint=fake_hub.url, token=TEST_TOKEN).create_repo(
        REPO_IDS["leaderboard"], repo_type="dataset", private=False
    )

    result = publish_run_to_hub(stage_run(tmp_path / "out", RUN), settings())

    assert result.repos["leaderboard"].private is False
    assert result.repos["results"].private is True
    assert "alice/smoltrace-leaderboard already exists and is public" in caplog.text


def test_repo_names_and_namespace_can_be_given(fake_hub: FakeHub, tmp_path: Path) -> None:
    fake_hub.orgs["acme"] = {"alice"}
    chosen = settings(namespace="acme", results_repo="evals", leaderboard_repo="alice/board")

    result = publish_run_to_hub(stage_run(tmp_path / "out", RUN), chosen)

    assert {r: o.repo_id for r, o in result.repos.items()} == {
        "results": "acme/evals",
        "traces": "acme/smoltrace-traces",
        "metrics": "acme/smoltrace-metrics",
        "leaderboard": "alice/board",
    }
    assert result.submitted_by == "alice"


def test_cards_pass_the_hubs_yaml_validation_and_describe_the_schema(fake_hub: FakeHub, tmp_path: Path) -> None:
    import fnmatch

    layout = stage_run(tmp_path / "out", RUN)
    publish_run_to_hub(layout, settings())

    for repo in REPOS:
        text = fake_hub.repo(REPO_IDS[repo]).head.files["README.md"].data.decode()
        DatasetCard(text).validate(repo_type="dataset")  # POST /api/validate-yaml, raises on errors
        metadata, error = card_metadata(text)
        assert error is None and metadata is not None
        (config,) = metadata["configs"]
        assert config["config_name"] == "default"
        (split,) = config["data_files"]
        assert fnmatch.fnmatch(layout.data_path_in_repo(repo), split["path"])
        for column in pq.read_schema(layout.data_file(repo)).names:
            assert f"| `{column}` |" in text
    metrics_card = fake_hub.repo(REPO_IDS["metrics"]).head.files["README.md"].data.decode()
    assert not fnmatch.fnmatch(layout.raw_metrics_path_in_repo(), "data/**/*.parquet")
    assert "raw/<YYYY-MM>/<run_id>.json" in metrics_card


def test_the_fake_hub_rejects_a_card_without_config_names(fake_hub: FakeHub) -> None:
    bad = "---\nconfigs:\n- data_files: data/**\n---\n# no name\n"
    with pytest.raises(ValueError, match="config_name"):
        DatasetCard(bad).validate(repo_type="dataset")


def test_an_unchanged_card_is_not_recommitted_when_a_new_run_arrives(fake_hub: FakeHub, tmp_path: Path) -> None:
    publish_run_to_hub(stage_run(tmp_path / "out", RUN), settings())
    card = fake_hub.repo(REPO_IDS["results"]).head.files["README.md"]

    publish_run_to_hub(stage_run(tmp_path / "out", "run-0002"), settings())

    results = fake_hub.repo(REPO_IDS["results"])
    assert results.head.files["README.md"] == card
    assert results.last_commit_for("README.md", results.head).oid == results.commits[1].oid


def test_parquet_files_of_two_runs_concatenate_under_one_schema(fake_hub: FakeHub, tmp_path: Path) -> None:
    first = stage_run(tmp_path / "out", "run-a", month="2025-01", tasks=3)
    second = stage_run(tmp_path / "out", "run-b", month="2025-02", tasks=1, prompt="Name a prime.")
    publish_run_to_hub(first, settings())
    publish_run_to_hub(second, settings())

    for repo in REPOS:
        tables = [download_table(REPO_IDS[repo], run.data_path_in_repo(repo)) for run in (first, second)]
        assert tables[0].schema.equals(tables[1].schema, check_metadata=True)
        combined = pa.concat_tables(tables)
        assert set(combined.column("run_id").to_pylist()) == {"run-a", "run-b"}
    board = pa.concat_tables(
        [download_table(REPO_IDS["leaderboard"], r.data_path_in_repo("leaderboard")) for r in (first, second)]
    )
    assert board.column("submitted_by").to_pylist() == ["alice", "alice"]
    assert None not in board.column("results_commit").to_pylist()


def test_a_run_with_nothing_staged_is_refused_before_any_request(fake_hub: FakeHub, tmp_path: Path) -> None:
    from publisher.layout import RunLayout
    from smoltrace_otel.errors import UsageError

    with pytest.raises(UsageError, match="nothing is staged for run run-0009"):
        publish_run_to_hub(RunLayout(tmp_path, "run-0009", "2025-01"), settings())
    assert fake_hub.requests == []
    assert Outbox(tmp_path).pending() == []


def test_find_staged_run_reads_the_month_from_the_files(tmp_path: Path) -> None:
    staged = stage_run(tmp_path / "out", RUN, month="2024-12")
    assert find_staged_run(tmp_path / "out", RUN) == staged


def test_push_results_to_hf_keeps_the_briefs_signature() -> None:
    parameters = inspect.signature(push_results_to_hf).parameters
    positional = [p for p in parameters.values() if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD]
    assert [(p.name, p.default) for p in positional] == [
        ("all_results", inspect.Parameter.empty),
        ("trace_data", inspect.Parameter.empty),
        ("metric_data", inspect.Parameter.empty),
        ("results_repo", inspect.Parameter.empty),
        ("traces_repo", inspect.Parameter.empty),
        ("metrics_repo", inspect.Parameter.empty),
        ("model_name", inspect.Parameter.empty),
        ("hf_token", inspect.Parameter.empty),
        ("private", False),
        ("run_id", None),
    ]


def test_push_results_to_hf_stages_then_publishes_with_the_given_token(
    fake_hub: FakeHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("HF_TOKEN")  # only the token given in code can work
    caplog.set_level(logging.DEBUG)
    all_results = {"tool": [{"test_id": "t1", "success": True}], "code": [{"test_id": "t2", "success": False}]}
    metric_data = {"run_id": "run-from-metrics", "resourceMetrics": [], "aggregates": []}

    result = push_results_to_hf(
        all_results, [], metric_data, "alice/my-results", "", None, "smollm2", TEST_TOKEN, private=True,
        output_dir=tmp_path / "out", settings=settings(),
    )  # fmt: skip

    assert result.run_id == "run-from-metrics" and result.submitted_by == "alice"
    assert result.repos["results"].repo_id == "alice/my-results"
    assert result.repos["traces"].repo_id == "alice/smoltrace-traces"
    month = datetime.now(UTC).strftime("%Y-%m")  # the rows carry no time
    stored = fake_hub.repo("alice/my-results").head.files[f"data/{month}/run-from-metrics.parquet"]
    rows = pq.read_table(pa.BufferReader(stored.data)).to_pylist()
    assert [(r["task_id"], r["agent_type"], r["success"]) for r in rows] == [
        ("t1", "tool", True),
        ("t2", "code", False),
    ]
    board = fake_hub.repo(REPO_IDS["leaderboard"]).head.files[f"data/{month}/run-from-metrics.parquet"]
    (row,) = pq.read_table(pa.BufferReader(board.data)).to_pylist()
    assert (row["model"], row["total_tests"], row["success_rate"]) == ("smollm2", 2, 50.0)
    assert row["results_dataset"] == "alice/my-results"
    assert row["results_commit"] == fake_hub.repo("alice/my-results").head.oid and row["submitted_by"] == "alice"
    assert all(fake_hub.repo(o.repo_id).private for o in result.repos.values())
    assert Outbox(tmp_path / "out").pending() == []
    local = [(str(p), p.read_bytes()) for p in (tmp_path / "out").rglob("*") if p.is_file()]
    for where, data in [*fake_hub.stored_bytes(), *local, ("logs", caplog.text.encode())]:
        assert TEST_TOKEN.encode() not in data, f"the token was stored in {where}"


def test_push_results_to_hf_makes_a_run_id_and_keeps_the_briefs_public_default(
    fake_hub: FakeHub, tmp_path: Path
) -> None:
    result = push_results_to_hf(
        [{"task_id": "t1", "success": True, "start_time_unix_nano": 1_735_689_600 * 10**9}],
        [], {"resourceMetrics": [], "aggregates": []}, None, None, None, "smollm2", None,
        output_dir=tmp_path / "out", settings=settings(),
    )  # fmt: skip

    assert str(uuid.UUID(result.run_id, version=4)) == result.run_id
    for repo in REPOS:
        stored = fake_hub.repo(REPO_IDS[repo])
        assert stored.private is False  # push_results_to_hf(private=False) as the brief has it
        assert f"data/2025-01/{result.run_id}.parquet" in stored.head.files
    assert f"raw/2025-01/{result.run_id}.json" in fake_hub.repo(REPO_IDS["metrics"]).head.files
