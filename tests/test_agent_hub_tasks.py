"""Task sets from Hub datasets: pinned revisions, split files, the cache, and errors, via a Hub double."""

from __future__ import annotations

import io
import json
import subprocess
import textwrap
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from tests.agent_support import task
from tests.conftest import PYTHON, subprocess_env
from tests.doubles.fake_hub import running_fake_hub

LOADER = textwrap.dedent(
    """
    import json, sys
    from agent.settings import TaskSource
    from agent.tasks import load_tasks
    from agent.tools import default_toolbox
    from smoltrace_otel.errors import SmoltraceError

    for repo, revision, split in json.loads(sys.argv[1]):
        try:
            got = load_tasks(TaskSource(dataset_name=repo, dataset_revision=revision, split=split), default_toolbox(), "tool")
            print(json.dumps({"ids": [t.id for t in got.tasks], "revision": got.revision, "label": got.label}))
        except SmoltraceError as error:
            print(json.dumps({"error": str(error), "type": type(error).__name__}))
    """
)


def _parquet(records: list[dict]) -> bytes:
    columns = sorted({k for r in records for k in r})
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist([{c: r.get(c) for c in columns} for r in records]), buffer)
    return buffer.getvalue()


def _load(endpoint: str, hf_home: Path, requests: list[tuple[str | None, str]], repo: str = "org/tasks") -> list[dict]:
    env = subprocess_env(
        HF_ENDPOINT=endpoint, HF_HOME=str(hf_home), HF_HUB_DISABLE_XET="1", HF_HUB_DISABLE_TELEMETRY="1"
    )
    env.pop("HF_TOKEN", None)
    argument = json.dumps([[repo, revision, split] for revision, split in requests])
    result = subprocess.run([PYTHON, "-c", LOADER, argument], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_hub_dataset_is_read_at_a_pinned_revision_and_cached(tmp_path: Path) -> None:
    first = [task("h1", expected_answer="1"), task("h2", expected_keywords=["x"])]
    second = [task("h3", expected_answer="3")]
    test_split = [task("t1", expected_answer="1")]
    with running_fake_hub() as hub:
        old_sha = hub.add_dataset(
            "org/tasks",
            {
                "README.md": b"# tasks",
                "data/train-00000-of-00001.parquet": _parquet(first),
                "data/test-00000-of-00001.jsonl": "\n".join(json.dumps(r) for r in test_split).encode(),
            },
        )
        new_sha = hub.add_dataset("org/tasks", {"data/train-00000-of-00001.parquet": _parquet(second)})
        results = _load(
            hub.url,
            tmp_path / "hf",
            [(None, "train"), (old_sha, "train"), (old_sha, "test"), (old_sha, "train")],
        )
        downloads = [path for method, path in hub.paths if method == "GET" and "/resolve/" in path]

    latest, pinned, test, again = results
    assert latest == {"ids": ["h3"], "revision": new_sha, "label": "org/tasks"}
    assert pinned == {"ids": ["h1", "h2"], "revision": old_sha, "label": "org/tasks"}
    assert test["ids"] == ["t1"]
    assert again == pinned
    old_train = f"/datasets/org/tasks/resolve/{old_sha}/data/train-00000-of-00001.parquet"
    assert downloads.count(old_train) == 1, "the second load at the same sha must come from the cache"


def test_hub_errors_name_the_dataset_revision_and_record(tmp_path: Path) -> None:
    bad = [task("ok", expected_answer="1"), {"id": "no-prompt", "expected_answer": "2"}]
    with running_fake_hub() as hub:
        sha = hub.add_dataset("org/bad", {"data/train.jsonl": "\n".join(json.dumps(r) for r in bad).encode()})
        hub.add_dataset("org/tasks", {"data/train.jsonl": json.dumps(task("a", expected_answer="1")).encode()})
        (missing_repo,) = _load(hub.url, tmp_path / "hf", [(None, "train")], repo="org/none")
        missing_rev, missing_split = _load(hub.url, tmp_path / "hf", [("v9", "train"), (None, "validation")])
        (malformed,) = _load(hub.url, tmp_path / "hf", [(None, "train")], repo="org/bad")

    assert missing_repo == {"error": "dataset org/none: not found (or private: set HF_TOKEN)", "type": "TaskSetError"}
    assert missing_rev["error"] == "dataset org/tasks: revision 'v9' not found"
    assert "no data files for split 'validation' (data files: data/train.jsonl)" in missing_split["error"]
    assert malformed["type"] == "TaskSetError"
    assert (
        f"org/bad@{sha[:12]}:data/train.jsonl: line 2 (id 'no-prompt'): field 'prompt': required" in malformed["error"]
    )


def test_unreachable_hub_fails_the_run_with_one_clear_line(tmp_path: Path) -> None:
    with running_fake_hub() as hub:
        url = hub.url  # stopped on leaving the block: nothing listens there any more
    (unreachable,) = _load(url, tmp_path / "hf", [(None, "train")])
    assert unreachable["type"] == "SmoltraceError"
    assert unreachable["error"].startswith("dataset org/tasks@main: cannot reach the Hub")
