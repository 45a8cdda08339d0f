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

import json
import re
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.doubles.fake_hub_api import Api, HubError, Reply
from tests.doubles.fake_hub_store import Blob, FakeRepo, HubStore

TEST_TOKEN = "hf_FakeHubTestToken0123456789abcdef"
TEST_USER = "alice"
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
        self.paths: list[tuple[str, str]] = []
        """``(method, URL path)`` of every request, e.g. to tell downloads from cache hits."""
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

    def add_dataset(self, repo_id: str, files: Mapping[str, bytes], private: bool = False) -> str:
        """Commit ``files`` as the dataset's whole tree (creating a public repo if needed); the commit sha."""
        repo, _ = self.store.create("dataset", repo_id, private, repo_id.partition("/")[0])
        with self.store.lock:
            tree = {p: b for p, b in repo.head.files.items() if p == ".gitattributes"}
            tree.update((p, Blob(d)) for p, d in files.items())
            commit = repo.add_commit("Upload dataset", "", repo.namespace, tree)
        return commit.oid

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

    def record(self, method: str, endpoint: str, path: str) -> None:
        with self._lock:
            self.requests.append((method, endpoint))
            self.paths.append((method, path))


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
        hub.record(method, name, parts.path)
        params = {k: unquote(v) if v else v for k, v in match.groupdict().items()}
        repo_id = f"{params['ns']}/{params['name']}" if params.get("ns") else None
        fault = hub.take_fault(name, repo_id)
        if fault and not fault.land_first:
            time.sleep(fault.hang_s)
            if fault.drop or fault.status:
                self._fail(fault, method)
                return
        try:
            reply = Api(hub, self.headers, params, parse_qs(parts.query), body).handle(name)
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
