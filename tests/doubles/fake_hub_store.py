"""The in-memory, git-like store behind the fake Hub: repositories, commits, blobs, LFS objects.

Each commit holds a full snapshot (path -> blob), so any revision can be read back. Object
ids follow git where the client relies on them: a regular file's ``oid`` is its git blob
SHA-1, an LFS file's ``oid`` is the SHA-1 of its pointer file and its ``lfs.oid`` the SHA-256
of the content. Dataset card metadata is checked the way the Hub checks it
(``validate_card``), for ``POST /api/validate-yaml`` and for commits that add a README.
"""

from __future__ import annotations

import fnmatch
import hashlib
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import yaml

DEFAULT_BRANCH = "main"
LFS_POINTER = "version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize {size}\n"
DATASET_GITATTRIBUTES = (
    "*.parquet filter=lfs diff=lfs merge=lfs -text\n*.arrow filter=lfs diff=lfs merge=lfs -text\n"
    "*.bin filter=lfs diff=lfs merge=lfs -text\n"
)


def git_blob_oid(data: bytes) -> str:
    """git's object id of a blob: SHA-1 over ``blob <size>\\0<content>``."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass(frozen=True)
class Blob:
    data: bytes
    lfs: bool = False

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def pointer(self) -> bytes:
        return LFS_POINTER.format(oid=self.sha256, size=len(self.data)).encode()

    @property
    def oid(self) -> str:
        """The git object id the Hub reports (of the pointer file for LFS files)."""
        return git_blob_oid(self.pointer if self.lfs else self.data)

    @property
    def etag(self) -> str:
        return self.sha256 if self.lfs else self.oid


@dataclass(frozen=True)
class Commit:
    oid: str
    parent: str | None
    title: str
    message: str
    author: str
    date: str
    files: Mapping[str, Blob]


@dataclass
class FakeRepo:
    repo_type: str
    repo_id: str
    private: bool
    created_at: str = field(default_factory=now_iso)
    commits: list[Commit] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    committing: bool = False

    @property
    def namespace(self) -> str:
        return self.repo_id.split("/", 1)[0]

    @property
    def head(self) -> Commit:
        return self.commits[-1]

    def resolve(self, revision: str) -> Commit | None:
        """A branch name (only ``main``) or a full commit id."""
        if revision == DEFAULT_BRANCH:
            return self.head
        return next((c for c in self.commits if c.oid == revision), None)

    def add_commit(self, title: str, message: str, author: str, files: Mapping[str, Blob]) -> Commit:
        parent = self.commits[-1].oid if self.commits else None
        seed = f"{parent}\n{self.repo_id}\n{len(self.commits)}\n{title}\n{message}\n{sorted(files)}"
        oid = hashlib.sha1(seed.encode(), usedforsecurity=False).hexdigest()
        commit = Commit(oid, parent, title, message, author, now_iso(), dict(files))
        self.commits.append(commit)
        return commit

    def last_commit_for(self, path: str, at: Commit) -> Commit:
        """The most recent commit, up to ``at``, that changed ``path`` (git's "last commit")."""
        history = self.commits[: self.commits.index(at) + 1]
        blob = at.files.get(path)
        found = at
        for commit in reversed(history):
            if commit.files.get(path) != blob:
                break
            found = commit
        return found

    def entries(self, at: Commit, prefix: str = "", recursive: bool = False) -> list[str]:
        """Paths of files and folders under ``prefix`` (folders end without a slash)."""
        base = f"{prefix.rstrip('/')}/" if prefix else ""
        seen: dict[str, None] = {}
        for path in sorted(at.files):
            if not path.startswith(base):
                continue
            parts = path[len(base) :].split("/")
            limit = len(parts) if recursive else 1
            for depth in range(1, min(len(parts), limit) + 1):
                seen[base + "/".join(parts[:depth])] = None
        return list(seen)

    def is_folder(self, at: Commit, path: str) -> bool:
        return any(p.startswith(path.rstrip("/") + "/") for p in at.files)

    def tree_oid(self, at: Commit, folder: str) -> str:
        inside = sorted((p, b.oid) for p, b in at.files.items() if p.startswith(folder.rstrip("/") + "/"))
        return hashlib.sha1(repr(inside).encode(), usedforsecurity=False).hexdigest()


class HubStore:
    """All repositories and uploaded LFS objects; one lock guards the maps."""

    def __init__(self, lfs_patterns: tuple[str, ...] = ()) -> None:
        self.repos: dict[tuple[str, str], FakeRepo] = {}
        self.lfs_objects: dict[str, bytes] = {}
        self.lfs_patterns = lfs_patterns
        self.lock = threading.Lock()

    def get(self, repo_type: str, repo_id: str) -> FakeRepo | None:
        with self.lock:
            return self.repos.get((repo_type, repo_id))

    def create(self, repo_type: str, repo_id: str, private: bool, author: str) -> tuple[FakeRepo, bool]:
        """The repository and whether it was created now."""
        with self.lock:
            existing = self.repos.get((repo_type, repo_id))
            if existing is not None:
                return existing, False
            repo = FakeRepo(repo_type, repo_id, private)
            gitattributes = DATASET_GITATTRIBUTES if repo_type == "dataset" else ""
            repo.add_commit("initial commit", "", author, {".gitattributes": Blob(gitattributes.encode())})
            self.repos[(repo_type, repo_id)] = repo
            return repo, True

    def upload_mode(self, path: str, size: int) -> str:
        big = size > 10 * 1024 * 1024
        return "lfs" if big or any(fnmatch.fnmatch(path, p) for p in self.lfs_patterns) else "regular"

    def stored_bytes(self) -> Iterator[tuple[str, bytes]]:
        """Every byte the store keeps: file contents, LFS objects, commit messages, repo ids."""
        with self.lock:
            repos = list(self.repos.values())
            lfs = dict(self.lfs_objects)
        for repo in repos:
            yield f"repo id {repo.repo_id}", repo.repo_id.encode()
            for commit in list(repo.commits):
                yield f"{repo.repo_id}@{commit.oid} message", f"{commit.title}\n{commit.message}".encode()
                for path, blob in commit.files.items():
                    yield f"{repo.repo_id}@{commit.oid}:{path}", blob.data
        for oid, data in lfs.items():
            yield f"lfs object {oid}", data


def card_metadata(content: str) -> tuple[dict[str, Any] | None, str | None]:
    """The YAML front matter of a README (``None`` when absent) and a parse error, if any."""
    if not content.startswith("---\n"):
        return None, None
    end = content.find("\n---", 4)
    if end < 0:
        return None, "the YAML front matter is not closed by '---'"
    try:
        data = yaml.safe_load(content[4:end])
    except yaml.YAMLError as error:
        return None, f"invalid YAML: {error}"
    if data is None:
        return {}, None
    if not isinstance(data, dict):
        return None, "the YAML front matter must be a mapping"
    return data, None


def _data_files_errors(where: str, data_files: Any) -> list[str]:
    if isinstance(data_files, str):
        return []
    if not isinstance(data_files, list) or not data_files:
        return [f'"{where}.data_files" must be a string or a non-empty list']
    errors = []
    for index, item in enumerate(data_files):
        path = item.get("path") if isinstance(item, dict) else None
        paths_ok = isinstance(path, str) or (isinstance(path, list) and all(isinstance(p, str) for p in path))
        if not (isinstance(item, dict) and isinstance(item.get("split"), str) and paths_ok):
            errors.append(f'"{where}.data_files[{index}]" must have a string "split" and a "path" (string or list)')
    return errors


def validate_card(content: str, repo_type: str) -> tuple[list[str], list[str]]:
    """(errors, warnings) for a repo card, following the Hub's rules for ``configs`` and common keys."""
    metadata, error = card_metadata(content)
    if error:
        return [error], []
    if metadata is None or not metadata:
        return [], ["empty or missing yaml metadata in repo card"]
    errors: list[str] = []
    for key in ("pretty_name", "license"):
        if key in metadata and not isinstance(metadata[key], str):
            errors.append(f'"{key}" must be a string')
    if "tags" in metadata and not (
        isinstance(metadata["tags"], list) and all(isinstance(t, str) for t in metadata["tags"])
    ):
        errors.append('"tags" must be a list of strings')
    configs = metadata.get("configs")
    if configs is not None and repo_type == "dataset":
        if not isinstance(configs, list):
            return [*errors, '"configs" must be a list'], []
        names = []
        for index, config in enumerate(configs):
            where = f"configs[{index}]"
            if not isinstance(config, dict) or not isinstance(config.get("config_name"), str):
                errors.append(f'"{where}.config_name" must be a string')
                continue
            names.append(config["config_name"])
            if "data_files" in config:
                errors.extend(_data_files_errors(where, config["data_files"]))
            if "default" in config and not isinstance(config["default"], bool):
                errors.append(f'"{where}.default" must be a boolean')
        if len(names) != len(set(names)):
            errors.append('"configs" has duplicate config_name values')
        if sum(1 for c in configs if isinstance(c, dict) and c.get("default")) > 1:
            errors.append('"configs" has more than one default config')
    return errors, []
