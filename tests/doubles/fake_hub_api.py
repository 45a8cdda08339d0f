"""The fake Hub's endpoints: each request handled as a function of the store and the caller.

Answers follow what ``huggingface_hub`` parses: JSON bodies, ``X-Error-Code`` /
``X-Error-Message`` headers for typed errors, git object ids, ``X-Repo-Commit`` and
``ETag`` on ``resolve``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from tests.doubles.fake_hub_store import Blob, Commit, FakeRepo, card_metadata, validate_card

if TYPE_CHECKING:
    from email.message import Message

    from tests.doubles.fake_hub import FakeHub

_PLURAL = {"datasets": "dataset", "models": "model", "spaces": "space"}
_PREFIX = {"dataset": "datasets/", "model": "", "space": "spaces/"}


class HubError(Exception):
    """An error answer: status, JSON ``error`` message and Hub error headers."""

    def __init__(self, status: int, message: str, code: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.code, self.headers = status, message, code, headers or {}


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] | None = None

    @classmethod
    def json(cls, value: Any, status: int = 200) -> Reply:
        return cls(status, json.dumps(value).encode(), {"Content-Type": "application/json"})


def _file_entry(repo: FakeRepo, at: Commit, path: str, expand: bool) -> dict[str, Any]:
    if path in at.files:
        blob = at.files[path]
        entry: dict[str, Any] = {"type": "file", "oid": blob.oid, "size": len(blob.data), "path": path}
        if blob.lfs:
            entry["lfs"] = {"oid": blob.sha256, "size": len(blob.data), "pointerSize": len(blob.pointer)}
        if expand:
            last = repo.last_commit_for(path, at)
            entry["lastCommit"] = {"id": last.oid, "title": last.title, "date": last.date}
        return entry
    return {"type": "directory", "oid": repo.tree_oid(at, path), "size": 0, "path": path}


class Api:
    """One request's handling: pure functions of the store plus the caller's identity."""

    def __init__(
        self, hub: FakeHub, headers: Message, params: dict[str, str], query: dict[str, list[str]], body: bytes
    ):
        self.hub, self.headers, self.params, self.query, self.body = hub, headers, params, query, body
        self.caller = hub.user_of(headers.get("Authorization"))

    def handle(self, name: str) -> Reply:
        return getattr(self, "op_" + name.replace("-", "_"))()

    @property
    def repo_type(self) -> str:
        """``dataset``, ``model`` or ``space``; URLs without a type prefix address models."""
        kind = self.params.get("type")
        return _PLURAL[kind] if kind else "model"

    @property
    def repo_id(self) -> str:
        return f"{self.params['ns']}/{self.params['name']}"

    def _revision(self, repo: FakeRepo) -> Commit:
        commit = repo.resolve(self.params.get("rev") or "main")
        if commit is None:
            raise HubError(404, f"Revision not found: {self.params.get('rev')}", "RevisionNotFound")
        return commit

    def _flag(self, key: str) -> bool:
        return (self.query.get(key) or ["false"])[0].lower() in ("1", "true")

    # ---- endpoints -----------------------------------------------------------------------
    def op_whoami(self) -> Reply:
        if self.caller is None:
            raise HubError(401, "Invalid credentials in Authorization header")
        user, role = self.caller
        orgs = [{"type": "org", "name": org} for org, members in sorted(self.hub.orgs.items()) if user in members]
        return Reply.json({
            "type": "user", "id": f"id-{user}", "name": user, "fullname": user.title(), "isPro": False, "orgs": orgs,
            "auth": {"type": "access_token", "accessToken": {"displayName": "tests", "role": role}},
        })  # fmt: skip

    def op_create(self) -> Reply:
        payload = json.loads(self.body or b"{}")
        if self.caller is None:
            raise HubError(401, "Invalid credentials in Authorization header")
        user, role = self.caller
        namespace = payload.get("organization") or user
        repo_type = payload.get("type") or "model"
        repo_id = f"{namespace}/{payload['name']}"
        if role != "write" or not self.hub.member_of(user, namespace):
            raise HubError(403, f"You don't have the rights to create a {repo_type} under the namespace {namespace!r}")
        private = payload.get("visibility") == "private" or bool(payload.get("private"))
        url = f"{self.hub.url}/{_PREFIX[repo_type]}{repo_id}"
        _, created = self.hub.store.create(repo_type, repo_id, private, user)
        if not created:
            return Reply(409, json.dumps({"error": "You already created this repo", "url": url}).encode())
        return Reply.json({"url": url, "name": repo_id, "id": f"id-{repo_id}"})

    def op_validate_yaml(self) -> Reply:
        payload = json.loads(self.body or b"{}")
        errors, warnings = validate_card(payload.get("content", ""), payload.get("repoType", "model"))
        reply = {"errors": [{"message": e} for e in errors], "warnings": [{"message": w} for w in warnings]}
        return Reply.json(reply, 400 if errors else 200)

    def op_info(self) -> Reply:
        repo = self.hub.readable(self.repo_type, self.repo_id, self.caller)
        at = self._revision(repo)
        blobs = self._flag("blobs")
        siblings = []
        for path, blob in sorted(at.files.items()):
            sibling: dict[str, Any] = {"rfilename": path}
            if blobs:
                sibling.update(size=len(blob.data), blobId=blob.oid)
                if blob.lfs:
                    sibling["lfs"] = {"size": len(blob.data), "sha256": blob.sha256, "pointerSize": len(blob.pointer)}
            siblings.append(sibling)
        readme = at.files.get("README.md")
        card, _ = card_metadata(readme.data.decode()) if readme else (None, None)
        return Reply.json({
            "_id": f"id-{repo.repo_id}", "id": repo.repo_id, "author": repo.namespace, "sha": at.oid,
            "private": repo.private, "gated": False, "disabled": False, "downloads": 0, "likes": 0, "tags": [],
            "createdAt": repo.created_at, "lastModified": at.date, "cardData": card, "siblings": siblings,
        })  # fmt: skip

    def op_preupload(self) -> Reply:
        repo = self.hub.writable(self.repo_type, self.repo_id, self.caller)
        at = self._revision(repo)
        files = []
        for item in json.loads(self.body)["files"]:
            mode = self.hub.store.upload_mode(item["path"], int(item["size"]))
            existing = at.files.get(item["path"])
            oid = None if existing is None else existing.sha256 if mode == "lfs" else existing.oid
            files.append({"path": item["path"], "uploadMode": mode, "shouldIgnore": False, "oid": oid})
        return Reply.json({"files": files, "commitOid": at.oid})

    def op_lfs_batch(self) -> Reply:
        self.hub.writable(self.repo_type, self.repo_id, self.caller)
        objects = []
        for obj in json.loads(self.body)["objects"]:
            entry: dict[str, Any] = {"oid": obj["oid"], "size": obj["size"]}
            if obj["oid"] not in self.hub.store.lfs_objects:
                href = f"{self.hub.url}/fake-lfs/{obj['oid']}"
                entry["actions"] = {"upload": {"href": href}, "verify": {"href": f"{href}/verify"}}
            objects.append(entry)
        return Reply.json({"transfer": "basic", "objects": objects})

    def op_lfs_upload(self) -> Reply:
        if hashlib.sha256(self.body).hexdigest() != self.params["oid"]:
            raise HubError(400, "content does not match the LFS oid")
        with self.hub.store.lock:
            self.hub.store.lfs_objects[self.params["oid"]] = self.body
        return Reply(200)

    def op_lfs_verify(self) -> Reply:
        if self.params["oid"] not in self.hub.store.lfs_objects:
            raise HubError(404, "LFS object not found")
        return Reply.json({"success": True})

    def op_commit(self) -> Reply:
        repo = self.hub.writable(self.repo_type, self.repo_id, self.caller)
        lines = [json.loads(line) for line in self.body.splitlines() if line.strip()]
        header = next(item["value"] for item in lines if item["key"] == "header")
        with repo.lock:
            if repo.committing and self.hub.conflict_on_concurrent_commits:
                raise HubError(409, "A commit is already in progress on this repository, please retry")
            repo.committing = True
        try:
            if self.hub.commit_latency_s:
                time.sleep(self.hub.commit_latency_s)
            with repo.lock:
                return self._apply_commit(repo, header, lines)
        finally:
            repo.committing = False

    def _apply_commit(self, repo: FakeRepo, header: dict[str, Any], lines: list[dict[str, Any]]) -> Reply:
        if self.params["rev"] != "main":
            raise HubError(400, "commits can only target a branch")
        if header.get("parentCommit") and header["parentCommit"] != repo.head.oid:
            raise HubError(412, "A commit has happened since. Please refresh and try again.")
        files = dict(repo.head.files)
        for item in lines:
            key, value = item["key"], item["value"]
            if key == "file":
                files[value["path"]] = Blob(base64.b64decode(value["content"]))
            elif key == "lfsFile":
                data = self.hub.store.lfs_objects.get(value["oid"])
                if data is None:
                    raise HubError(400, f"LFS object {value['oid']} was not uploaded")
                files[value["path"]] = Blob(data, lfs=True)
            elif key == "deletedFile":
                files.pop(value["path"], None)
            elif key == "deletedFolder":
                files = {p: b for p, b in files.items() if not p.startswith(value["path"].rstrip("/") + "/")}
        readme = files.get("README.md")
        if readme is not None and readme != repo.head.files.get("README.md"):
            errors, _ = validate_card(readme.data.decode(), repo.repo_type)
            if errors:
                raise HubError(400, "Invalid metadata in README.md: " + "; ".join(errors))
        commit = repo.add_commit(header.get("summary", ""), header.get("description", ""), self.caller[0], files)  # type: ignore[index]
        url = f"{self.hub.url}/{_PREFIX[repo.repo_type]}{repo.repo_id}/commit/{commit.oid}"
        return Reply.json(
            {"success": True, "commitOid": commit.oid, "commitUrl": url, "hookOutput": "", "pullRequestUrl": None}
        )

    def op_paths_info(self) -> Reply:
        repo = self.hub.readable(self.repo_type, self.repo_id, self.caller)
        at = self._revision(repo)
        form = parse_qs(self.body.decode())
        expand = (form.get("expand") or ["false"])[0].lower() == "true"
        entries = [
            _file_entry(repo, at, path, expand)
            for path in form.get("paths", [])
            if path in at.files or repo.is_folder(at, path)
        ]
        return Reply.json(entries)

    def op_tree(self) -> Reply:
        repo = self.hub.readable(self.repo_type, self.repo_id, self.caller)
        at = self._revision(repo)
        prefix = self.params.get("path") or ""
        if prefix and not repo.is_folder(at, prefix):
            raise HubError(404, f"{prefix} does not exist", "EntryNotFound")
        paths = repo.entries(at, prefix, recursive=self._flag("recursive"))
        return Reply.json([_file_entry(repo, at, p, self._flag("expand")) for p in paths])

    def op_commits(self) -> Reply:
        repo = self.hub.readable(self.repo_type, self.repo_id, self.caller)
        at = self._revision(repo)
        history = repo.commits[: repo.commits.index(at) + 1]
        return Reply.json([
            {"id": c.oid, "title": c.title, "message": c.message, "authors": [{"user": c.author}], "date": c.date}
            for c in reversed(history)
        ])  # fmt: skip

    def op_resolve(self) -> Reply:
        repo = self.hub.readable(self.repo_type, self.repo_id, self.caller)
        at = self._revision(repo)
        blob = at.files.get(self.params["path"])
        if blob is None:
            raise HubError(404, "Entry not found", "EntryNotFound", {"X-Repo-Commit": at.oid})
        headers = {
            "X-Repo-Commit": at.oid,
            "ETag": f'"{blob.etag}"',
            "Accept-Ranges": "bytes",
            "Content-Type": "application/octet-stream",
        }
        if blob.lfs:
            headers.update({"X-Linked-Etag": f'"{blob.sha256}"', "X-Linked-Size": str(len(blob.data))})
        data = blob.data
        ranged = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range") or "")
        if ranged:
            start = int(ranged.group(1))
            end = int(ranged.group(2)) if ranged.group(2) else len(data) - 1
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
            return Reply(206, data[start : end + 1], headers)
        headers["Content-Length"] = str(len(data))
        return Reply(200, data, headers)
