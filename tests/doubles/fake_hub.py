"""A fake Hugging Face Hub: an HTTP server that the real ``huggingface_hub`` client talks to unmodified.

It speaks the endpoints that ``HfApi.whoami``, ``create_repo``, ``repo_info``/``dataset_info``,
``create_commit`` (preupload, LFS batch/upload/verify, NDJSON commit), ``get_paths_info``,
``list_repo_tree``, ``list_repo_commits``, ``_validate_yaml`` and ``hf_hub_download`` use, with
the status codes, headers (``X-Repo-Commit``, ``ETag``, ``X-Error-Code``) and bodies the client
parses. State lives in a git-like in-memory store (``fake_hub_store``): commits with ids,
snapshots per commit, private flags, tokens with users and roles.

Fault injection, per endpoint (and optionally per repository), for a number of requests:
a status (409, 412, 429 with ``Retry-After``, 500...) with an error message, the same
status *after* the request took effect (``land_first``: the commit landed, the answer is
lost), a dropped connection, or a hang (before answering; with ``land_first``, after the
request took effect). ``conflict_on_concurrent_commits`` answers 409 while another commit on the same
repository is being written, as the Hub does under contention.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.doubles.fake_hub_store import Blob, Commit, FakeRepo, HubStore, card_metadata, validate_card

TEST_TOKEN = "hf_FakeHubTestToken0123456789abcdef"
TEST_USER = "alice"
_PLURAL = {"datasets": "dataset", "models": "model", "spaces": "space"}
_PREFIX = {"dataset": "datasets/", "model": "", "space": "spaces/"}
_REPO = r"(?P<ns>[^/]+)/(?P<name>[^/]+)"
_API = rf"^/api/(?P<type>datasets|models|spaces)/{_REPO}"
_ROUTES: list[tuple[str, str, re.Pattern[str]]] = [
    ("GET", "whoami", re.compile(r"^/api/whoami-v2$")),
    ("POST", "create", re.compile(r"^/api/repos/create$")),
    ("POST", "validate-yaml", re.compile(r"^/api/validate-yaml$")),
    ("GET", "info", re.compile(rf"{_API}(?:/revision/(?P<rev>[^/]+))?$")),
    ("POST", "preupload", re.compile(rf"{_API}/preupload/(?P<rev>[^/]+)$")),
    ("POST", "commit", re.compile(rf"{_API}/commit/(?P<rev>[^/]+)$")),
    ("POST", "paths-info", re.compile(rf"{_API}/paths-info/(?P<rev>[^/]+)$")),
    ("GET", "tree", re.compile(rf"{_API}/tree/(?P<rev>[^/]+)(?:/(?P<path>.*))?$")),
    ("GET", "commits", re.compile(rf"{_API}/commits/(?P<rev>[^/]+)$")),
    ("POST", "lfs-batch", re.compile(rf"^/(?:(?P<type>datasets|spaces)/)?{_REPO}\.git/info/lfs/objects/batch$")),
    ("PUT", "lfs-upload", re.compile(r"^/fake-lfs/(?P<oid>[0-9a-f]{64})$")),
    ("POST", "lfs-verify", re.compile(r"^/fake-lfs/(?P<oid>[0-9a-f]{64})/verify$")),
    ("HEAD", "resolve", re.compile(rf"^/(?:(?P<type>datasets|spaces)/)?{_REPO}/resolve/(?P<rev>[^/]+)/(?P<path>.+)$")),
    ("GET", "resolve", re.compile(rf"^/(?:(?P<type>datasets|spaces)/)?{_REPO}/resolve/(?P<rev>[^/]+)/(?P<path>.+)$")),
]


@dataclass
class Fault:
    endpoint: str
    status: int | None = None
    times: int = 1
    land_first: bool = False
    drop: bool = False
    hang_s: float = 0.0
    repo: str | None = None
    retry_after: int | None = None
    message: str = "injected fault"


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


class FakeHub:
    """The server and its state. Use ``running_fake_hub()`` to start and stop one."""

    def __init__(
        self,
        tokens: dict[str, tuple[str, str]] | None = None,
        orgs: dict[str, set[str]] | None = None,
        lfs_patterns: tuple[str, ...] = (),
        commit_latency_s: float = 0.0,
        conflict_on_concurrent_commits: bool = False,
    ) -> None:
        self.tokens = tokens if tokens is not None else {TEST_TOKEN: (TEST_USER, "write")}
        self.orgs = orgs or {}
        self.store = HubStore(lfs_patterns)
        self.commit_latency_s = commit_latency_s
        self.conflict_on_concurrent_commits = conflict_on_concurrent_commits
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self.url = ""

    # ---- test-facing helpers -------------------------------------------------------------
    def inject(self, endpoint: str, status: int | None = None, **options: Any) -> Fault:
        """Make the next matching request(s) to ``endpoint`` fail (see ``Fault``)."""
        fault = Fault(endpoint, status, **options)
        with self._lock:
            self.faults.append(fault)
        return fault

    def repo(self, repo_id: str, repo_type: str = "dataset") -> FakeRepo:
        repo = self.store.get(repo_type, repo_id)
        if repo is None:
            raise KeyError(f"no {repo_type} repo {repo_id}")
        return repo

    def has_repo(self, repo_id: str, repo_type: str = "dataset") -> bool:
        return self.store.get(repo_type, repo_id) is not None

    def count(self, method: str, endpoint: str) -> int:
        with self._lock:
            return sum(1 for m, e in self.requests if (m, e) == (method, endpoint))

    def stored_bytes(self) -> Iterator[tuple[str, bytes]]:
        return self.store.stored_bytes()

    # ---- auth ----------------------------------------------------------------------------
    def user_of(self, authorization: str | None) -> tuple[str, str] | None:
        """(user, role) of a Bearer token; ``None`` without a token; 401 for an unknown one."""
        if not authorization:
            return None
        token = authorization.removeprefix("Bearer ").strip()
        if token not in self.tokens:
            raise HubError(
                401,
                "Invalid credentials in Authorization header",
                headers={"X-Error-Message": "Invalid credentials in Authorization header"},
            )
        return self.tokens[token]

    def member_of(self, user: str, namespace: str) -> bool:
        return namespace == user or user in self.orgs.get(namespace, set())

    def readable(self, repo_type: str, repo_id: str, caller: tuple[str, str] | None) -> FakeRepo:
        repo = self.store.get(repo_type, repo_id)
        if repo is None or (repo.private and (caller is None or not self.member_of(caller[0], repo.namespace))):
            status = 401 if caller is None else 404
            raise HubError(status, "Repository not found", "RepoNotFound")
        return repo

    def writable(self, repo_type: str, repo_id: str, caller: tuple[str, str] | None) -> FakeRepo:
        repo = self.readable(repo_type, repo_id, caller)
        if caller is None or caller[1] != "write" or not self.member_of(caller[0], repo.namespace):
            raise HubError(
                403, "You don't have the rights to write to this repository", headers={"X-Error-Message": "Forbidden"}
            )
        return repo

    # ---- fault matching ------------------------------------------------------------------
    def take_fault(self, endpoint: str, repo_id: str | None) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.endpoint == endpoint and fault.times > 0 and fault.repo in (None, repo_id):
                    fault.times -= 1
                    return fault
        return None

    def record(self, method: str, endpoint: str) -> None:
        with self._lock:
            self.requests.append((method, endpoint))


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


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    server: _Server
    timeout = 10

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the client library logs what matters."""

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    # ---- plumbing ------------------------------------------------------------------------
    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _send(self, reply: Reply, method: str) -> None:
        self.send_response(reply.status)
        headers = {"Content-Type": "application/json", **(reply.headers or {})}
        headers.setdefault("Content-Length", str(len(reply.body)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(reply.body)

    def _dispatch(self, method: str) -> None:
        hub = self.server.hub
        parts = urlsplit(self.path)
        route = next(
            ((name, m) for verb, name, pattern in _ROUTES if verb == method and (m := pattern.match(parts.path))), None
        )
        body = self._body() if method in ("POST", "PUT") else b""
        if route is None:
            self._send(Reply.json({"error": f"no route {method} {parts.path}"}, 404), method)
            return
        name, match = route
        hub.record(method, name)
        params = {k: unquote(v) if v else v for k, v in match.groupdict().items()}
        repo_id = f"{params['ns']}/{params['name']}" if params.get("ns") else None
        fault = hub.take_fault(name, repo_id)
        if fault and not fault.land_first:
            time.sleep(fault.hang_s)
            if fault.drop or fault.status:
                self._fail(fault, method)
                return
        try:
            reply = _Api(hub, self, params, parse_qs(parts.query), body).handle(name)
        except HubError as error:
            headers = {"X-Error-Message": error.message, **error.headers}
            if error.code:
                headers["X-Error-Code"] = error.code
            reply = Reply(error.status, json.dumps({"error": error.message}).encode(), headers)
        if fault and fault.land_first:
            time.sleep(fault.hang_s)
            if fault.drop or fault.status:
                self._fail(fault, method)
                return
        self._send(reply, method)

    def _fail(self, fault: Fault, method: str) -> None:
        if fault.drop:
            self.close_connection = True
            return
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
        self._send(Reply(fault.status or 500, json.dumps({"error": fault.message}).encode(), headers), method)


class _Api:
    """One request's handling: pure functions of the store plus the caller's identity."""

    def __init__(
        self, hub: FakeHub, handler: _Handler, params: dict[str, str], query: dict[str, list[str]], body: bytes
    ):
        self.hub, self.handler, self.params, self.query, self.body = hub, handler, params, query, body
        self.caller = hub.user_of(handler.headers.get("Authorization"))

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
        ranged = re.fullmatch(r"bytes=(\d+)-(\d*)", self.handler.headers.get("Range") or "")
        if ranged:
            start = int(ranged.group(1))
            end = int(ranged.group(2)) if ranged.group(2) else len(data) - 1
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
            return Reply(206, data[start : end + 1], headers)
        headers["Content-Length"] = str(len(data))
        return Reply(200, data, headers)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    hub: FakeHub


@contextmanager
def running_fake_hub(hub: FakeHub | None = None) -> Iterator[FakeHub]:
    """Serve ``hub`` (a new default one if omitted) on 127.0.0.1 and a free port until the block exits."""
    hub = hub or FakeHub()
    server = _Server(("127.0.0.1", 0), _Handler)
    server.hub = hub
    hub.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="fake-hub", daemon=True)
    thread.start()
    try:
        yield hub
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def fake_hub_env(hub: FakeHub, hf_home: str, token: str = TEST_TOKEN) -> dict[str, str]:
    """Environment for a process (child or this one) that should talk to ``hub`` only."""
    return {
        "HF_ENDPOINT": hub.url,
        "HF_HOME": hf_home,
        "HF_TOKEN": token,
        "HF_HUB_DISABLE_XET": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    }


def point_client_at(hub: FakeHub, hf_home: str, monkeypatch: Any, token: str = TEST_TOKEN) -> None:
    """Point this process's ``huggingface_hub`` at ``hub``.

    The library reads ``HF_ENDPOINT``, ``HF_HOME`` and the XET switch into constants when it
    is first imported, so besides the environment the constants are patched too.
    """
    from huggingface_hub import constants

    for key, value in fake_hub_env(hub, hf_home, token).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(constants, "ENDPOINT", hub.url)
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", hub.url + "/{repo_id}/resolve/{revision}/{filename}")
    monkeypatch.setattr(constants, "HF_HOME", hf_home)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", f"{hf_home}/token")
    monkeypatch.setattr(constants, "HF_STORED_TOKENS_PATH", f"{hf_home}/stored_tokens")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", f"{hf_home}/hub")
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_TELEMETRY", True)
