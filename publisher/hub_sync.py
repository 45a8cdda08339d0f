"""One repository, one commit: push files that differ from the Hub, and only those.

Every attempt starts by asking the Hub what it holds at those paths (``paths-info`` with
the last commit of each path) and compares content hashes: the git blob SHA-1 for regular
files, the LFS SHA-256 for LFS files. Files that match are left alone; when nothing
differs, no commit is made. Otherwise fresh ``CommitOperationAdd`` objects (they are
single-use) go into a single ``create_commit``. Because the comparison runs again after an
ambiguous failure (a 5xx or timeout once the commit was sent), a commit that landed is
found and not repeated.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from publisher.hub_retry import RetryPolicy, with_retries

if TYPE_CHECKING:
    from huggingface_hub import HfApi
    from huggingface_hub.hf_api import RepoFile

log = logging.getLogger(__name__)
_CHUNK = 1 << 20


@dataclass(frozen=True)
class UploadFile:
    """A file to hold at ``path_in_repo``: a local file (streamed) or bytes (the card)."""

    path_in_repo: str
    source: Path | bytes


@dataclass(frozen=True)
class ContentIds:
    git_oid: str
    sha256: str
    size: int


@dataclass(frozen=True)
class PushOutcome:
    repo_id: str
    committed: bool
    """Whether this push sent a commit that now holds the files (False: everything was already there)."""
    commits: Mapping[str, str | None]
    """For each path, the commit that holds its current content."""


def content_ids(source: Path | bytes) -> ContentIds:
    """git blob id and SHA-256 of a file or bytes, read in chunks."""
    size = len(source) if isinstance(source, bytes) else source.stat().st_size
    git = hashlib.sha1(b"blob %d\0" % size, usedforsecurity=False)
    sha = hashlib.sha256()
    if isinstance(source, bytes):
        git.update(source)
        sha.update(source)
    else:
        with source.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                git.update(chunk)
                sha.update(chunk)
    return ContentIds(git.hexdigest(), sha.hexdigest(), size)


def is_same(local: ContentIds, remote: RepoFile | None) -> bool:
    """Whether the Hub's file has exactly the local content."""
    if remote is None or remote.size != local.size:
        return False
    if remote.lfs is not None:
        return remote.lfs.sha256 == local.sha256
    return remote.blob_id == local.git_oid


def push_files(
    api: HfApi,
    repo_id: str,
    files: list[UploadFile],
    *,
    message: str,
    description: str,
    policy: RetryPolicy,
    secrets: tuple[str, ...] = (),
) -> PushOutcome:
    """Make ``repo_id`` hold ``files`` with at most one new commit (retried as a whole)."""
    from huggingface_hub import CommitOperationAdd
    from huggingface_hub.hf_api import RepoFile

    local = {f.path_in_repo: content_ids(f.source) for f in files}
    sent_commit = False

    def attempt() -> PushOutcome:
        nonlocal sent_commit
        infos = api.get_paths_info(repo_id, list(local), expand=True, repo_type="dataset")
        remote = {info.path: info for info in infos if isinstance(info, RepoFile)}
        changed = [f for f in files if not is_same(local[f.path_in_repo], remote.get(f.path_in_repo))]
        held = {path: _last_commit(remote.get(path)) for path in local}
        if not changed:
            log.info("%s already holds %d file(s): no commit", repo_id, len(files))
            return PushOutcome(repo_id, sent_commit, held)
        operations = [CommitOperationAdd(path_in_repo=f.path_in_repo, path_or_fileobj=f.source) for f in changed]
        sent_commit = True
        info = api.create_commit(
            repo_id, operations, commit_message=message, commit_description=description, repo_type="dataset"
        )
        log.info("committed %d file(s) to %s: %s", len(changed), repo_id, info.oid)
        return PushOutcome(repo_id, True, {**held, **{f.path_in_repo: info.oid for f in changed}})

    return with_retries(attempt, what=f"commit to {repo_id}", policy=policy, secrets=secrets)


def _last_commit(info: RepoFile | None) -> str | None:
    return info.last_commit.oid if info is not None and info.last_commit is not None else None
