"""Reading task records from files: local ``.json``/``.jsonl``, and Hub dataset files.

Every record comes back with where it was found (file and record or line number) so
that validation can name the exact place of a problem. Hub datasets are fetched with
``huggingface_hub`` at a revision resolved to a commit sha (recorded on the run span);
files land in the usual Hub cache, so a second run with the same sha downloads nothing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from smoltrace_otel.errors import SmoltraceError, UsageError

logger = logging.getLogger(__name__)

DATA_SUFFIXES = (".json", ".jsonl", ".parquet")
HUB_TIMEOUT_S = 30.0
"""huggingface_hub has no default HTTP timeout; ours for metadata requests."""


class TaskSetError(UsageError):
    """A task set that cannot be read or does not validate (exit 2, before any model call)."""


@dataclass(frozen=True)
class RawRecord:
    source: str
    """File name as the user knows it (local path or ``repo@sha:path``)."""
    position: str
    """``record 3``, ``line 7`` or ``row 12`` (1-based)."""
    data: Any


def read_task_file(path: Path, shown_as: str | None = None) -> list[RawRecord]:
    """Records of a ``.json`` (a list, or ``{"data": [...]}``), ``.jsonl`` or ``.parquet`` file."""
    shown = shown_as or str(path)
    suffix = path.suffix.lower()
    if suffix not in DATA_SUFFIXES:
        raise TaskSetError(f"{shown}: unsupported task file type {suffix or '(none)'}; use .json, .jsonl or .parquet")
    if not path.is_file():
        raise TaskSetError(f"{shown}: no such file")
    if suffix == ".parquet":
        return list(_parquet_records(path, shown))
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise TaskSetError(f"{shown}: cannot read: {error}") from None
    if suffix == ".jsonl":
        return list(_jsonl_records(text, shown))
    return _json_records(text, shown)


def _jsonl_records(text: str, shown: str) -> Iterator[RawRecord]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield RawRecord(shown, f"line {number}", json.loads(line))
        except json.JSONDecodeError as error:
            raise TaskSetError(f"{shown}: line {number}: not valid JSON: {error.msg} (column {error.colno})") from None


def _json_records(text: str, shown: str) -> list[RawRecord]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise TaskSetError(
            f"{shown}: not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})"
        ) from None
    if isinstance(document, dict) and isinstance(document.get("data"), list):
        document = document["data"]
    if not isinstance(document, list):
        raise TaskSetError(
            f'{shown}: expected a JSON list of tasks or {{"data": [...]}}, got {type(document).__name__}'
        )
    return [RawRecord(shown, f"record {number}", item) for number, item in enumerate(document, start=1)]


def _parquet_records(path: Path, shown: str) -> Iterator[RawRecord]:
    import pyarrow.parquet as pq

    try:
        rows = pq.read_table(path).to_pylist()
    except Exception as error:  # pyarrow raises several unrelated types for bad files
        raise TaskSetError(f"{shown}: cannot read as Parquet: {error}") from None
    for number, row in enumerate(rows, start=1):
        yield RawRecord(shown, f"row {number}", row)


# --- Hub datasets -------------------------------------------------------------------------------


@dataclass(frozen=True)
class HubSplit:
    repo_id: str
    sha: str
    split: str
    files: tuple[str, ...]


def split_files(filenames: list[str], split: str) -> list[str]:
    """The data files of ``split``, by the Hub's naming conventions.

    A file belongs to the split when a folder in its path is named after the split
    (``test/part-0.jsonl``) or its name starts with the split followed by ``-``, ``_`` or
    ``.`` (``data/train-00000-of-00001.parquet``, ``train.jsonl``). A repository with a
    single data file and no split naming serves it as ``train``.
    """
    data = sorted(f for f in filenames if f.lower().endswith(DATA_SUFFIXES))
    chosen = []
    for name in data:
        parts = PurePosixPath(name).parts
        stem = parts[-1].lower()
        if split.lower() in (p.lower() for p in parts[:-1]) or any(
            stem.startswith(split.lower() + sep) for sep in "-_."
        ):
            chosen.append(name)
    if not chosen and split == "train" and len(data) == 1:
        chosen = data
    return chosen


def fetch_hub_split(repo_id: str, revision: str | None, split: str) -> tuple[HubSplit, list[Path]]:
    """Resolve ``revision`` to a sha and download (or reuse from the cache) the split's files."""
    from huggingface_hub import HfApi, hf_hub_download
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )
    from huggingface_hub.utils import httpx  # the HTTP library the Hub client raises from (httpx2 in 2.x)

    where = f"{repo_id}@{revision or 'main'}"
    try:
        info = HfApi().dataset_info(repo_id, revision=revision, timeout=HUB_TIMEOUT_S)
        sha = info.sha or revision or "main"
        names = [s.rfilename for s in info.siblings or []]
        files = split_files(names, split)
        if not files:
            available = ", ".join(n for n in names if n.lower().endswith(DATA_SUFFIXES)) or "none"
            raise TaskSetError(f"dataset {where}: no data files for split {split!r} (data files: {available})")
        paths = [
            Path(hf_hub_download(repo_id, name, repo_type="dataset", revision=sha, etag_timeout=HUB_TIMEOUT_S))
            for name in files
        ]
    except GatedRepoError:
        raise TaskSetError(f"dataset {repo_id}: gated; accept its terms on the Hub and set HF_TOKEN") from None
    except RepositoryNotFoundError:
        raise TaskSetError(f"dataset {repo_id}: not found (or private: set HF_TOKEN)") from None
    except RevisionNotFoundError:
        raise TaskSetError(f"dataset {repo_id}: revision {revision!r} not found") from None
    except LocalEntryNotFoundError as error:
        raise SmoltraceError(f"dataset {where}: cannot reach the Hub and the files are not cached: {error}") from None
    except HfHubHTTPError as error:
        raise SmoltraceError(f"dataset {where}: Hub request failed: {error}") from None
    except (httpx.HTTPError, OSError) as error:
        raise SmoltraceError(f"dataset {where}: cannot reach the Hub: {error}") from None
    logger.info("dataset %s@%s split %s: %d file(s)", repo_id, sha, split, len(paths))
    return HubSplit(repo_id, sha, split, tuple(files)), paths
