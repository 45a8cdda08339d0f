"""The fake Hub answers the real huggingface_hub client the way the Hub does (other tests rely on it)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from huggingface_hub import CommitOperationAdd, HfApi, hf_hub_download, snapshot_download
from huggingface_hub.errors import EntryNotFoundError, HfHubHTTPError, RepositoryNotFoundError

from publisher.hub import HubSettings, publish_run_to_hub
from publisher.hub_retry import RetryPolicy
from tests.doubles.fake_hub import TEST_TOKEN, FakeHub, point_client_at, running_fake_hub
from tests.doubles.fake_hub_store import git_blob_oid
from tests.staged_runs import stage_run

TASKS = [{"id": "t1", "prompt": "What is 2 + 2?", "expected": "4"}]


def test_a_task_set_uploaded_to_a_dataset_downloads_with_hf_hub_download(fake_hub: FakeHub) -> None:
    api = HfApi()  # endpoint and token from the environment, as the eval agent would use it
    api.create_repo("alice/tasks", repo_type="dataset")
    content = "\n".join(json.dumps(t) for t in TASKS).encode()
    info = api.create_commit(
        "alice/tasks", [CommitOperationAdd("tasks.jsonl", content)], commit_message="tasks", repo_type="dataset"
    )

    path = hf_hub_download("alice/tasks", "tasks.jsonl", repo_type="dataset")
    pinned = hf_hub_download("alice/tasks", "tasks.jsonl", repo_type="dataset", revision=info.oid)
    snapshot = snapshot_download("alice/tasks", repo_type="dataset")

    assert Path(path).read_bytes() == content == Path(pinned).read_bytes()
    assert (Path(snapshot) / "tasks.jsonl").read_bytes() == content
    assert f"/snapshots/{info.oid}/" in path


def test_a_missing_file_or_repo_raises_the_libraries_typed_errors(fake_hub: FakeHub) -> None:
    HfApi().create_repo("alice/tasks", repo_type="dataset")
    with pytest.raises(EntryNotFoundError):
        hf_hub_download("alice/tasks", "nope.jsonl", repo_type="dataset")
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download("alice/missing", "tasks.jsonl", repo_type="dataset")


def test_regular_files_report_git_blob_ids_like_the_hub(fake_hub: FakeHub) -> None:
    api = HfApi()
    api.create_repo("alice/r", repo_type="dataset")
    api.create_commit("alice/r", [CommitOperationAdd("a.txt", b"hello\n")], commit_message="a", repo_type="dataset")

    (info,) = api.get_paths_info("alice/r", ["a.txt"], repo_type="dataset")

    assert info.blob_id == git_blob_oid(b"hello\n") == "ce013625030ba8dba906f756967f9e9ca394464a"  # `git hash-object`


def test_a_stale_parent_commit_gets_412(fake_hub: FakeHub) -> None:
    api = HfApi()
    api.create_repo("alice/r", repo_type="dataset")
    old = api.dataset_info("alice/r").sha
    api.create_commit("alice/r", [CommitOperationAdd("a.txt", b"1")], commit_message="a", repo_type="dataset")

    with pytest.raises(HfHubHTTPError) as caught:
        api.create_commit(
            "alice/r", [CommitOperationAdd("b.txt", b"2")], commit_message="b", repo_type="dataset", parent_commit=old
        )
    assert caught.value.response.status_code == 412


def test_an_existing_repo_answers_409_with_its_url(fake_hub: FakeHub) -> None:
    api = HfApi()
    first = api.create_repo("alice/r", repo_type="dataset")
    assert api.create_repo("alice/r", repo_type="dataset", exist_ok=True) == first
    with pytest.raises(HfHubHTTPError) as caught:
        api.create_repo("alice/r", repo_type="dataset")
    assert caught.value.response.status_code == 409
    assert caught.value.response.json()["url"] == f"{fake_hub.url}/datasets/alice/r"


@pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning")  # the library's LFS upload, not ours
def test_parquet_files_through_lfs_are_compared_by_sha256(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the Hub's default .gitattributes, Parquet goes through LFS; a re-publish still commits nothing."""
    with running_fake_hub(FakeHub(lfs_patterns=("*.parquet",))) as hub:
        point_client_at(hub, str(tmp_path / "hf-home"), monkeypatch)
        layout = stage_run(tmp_path / "out", "run-0001")
        settings = HubSettings(retry=RetryPolicy(deadline_s=10, base_delay_s=0.01))
        publish_run_to_hub(layout, settings)
        head = hub.repo("alice/smoltrace-results").head

        again = publish_run_to_hub(layout, settings)

        stored = head.files["data/2025-01/run-0001.parquet"]
        assert stored.lfs and stored.data == layout.data_file("results").read_bytes()
        assert again.new_commits == 0 and hub.repo("alice/smoltrace-results").head == head
        assert hub.count("PUT", "lfs-upload") == 4  # one Parquet file per repository, uploaded once
        assert (
            Path(
                hf_hub_download("alice/smoltrace-results", "data/2025-01/run-0001.parquet", repo_type="dataset")
            ).read_bytes()
            == stored.data
        )


def test_write_endpoints_need_a_token(fake_hub: FakeHub) -> None:
    with pytest.raises(HfHubHTTPError) as caught:
        HfApi(token=False).create_repo("alice/r", repo_type="dataset")
    assert caught.value.response.status_code == 401
    assert HfApi(token=TEST_TOKEN).whoami()["name"] == "alice"
