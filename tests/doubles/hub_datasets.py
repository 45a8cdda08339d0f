"""A read-only Hugging Face Hub double serving dataset files, for loading task sets offline.

It answers the two calls ``huggingface_hub`` makes to read a dataset at a revision:
``GET /api/datasets/{repo}[/revision/{rev}]`` (the commit sha and the file list) and
``HEAD``/``GET /datasets/{repo}/resolve/{rev}/{path}`` (with ``X-Repo-Commit``, ``ETag`` and
``Content-Length``), and the Hub's 404s with their ``X-Error-Code`` (``RepoNotFound``,
``RevisionNotFound``, ``EntryNotFound``) so the client raises its typed errors. The real
client reaches it unmodified through ``HF_ENDPOINT`` (set it before importing
``huggingface_hub``, together with a temporary ``HF_HOME``, ``HF_HUB_DISABLE_XET=1`` and
``HF_HUB_DISABLE_TELEMETRY=1``; see the ``hub_datasets`` fixture).

``add_dataset(repo_id, files, branch="main")`` publishes a commit and returns its sha;
``requests`` records ``(method, path)`` of every request, so tests can see what came from
the cache.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote


@dataclass
class _Repo:
    branches: dict[str, str] = field(default_factory=dict)
    commits: dict[str, dict[str, bytes]] = field(default_factory=dict)


class HubDatasetsDouble:
    def __init__(self) -> None:
        self.repos: dict[str, _Repo] = {}
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="hub-double", daemon=True
        )

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> HubDatasetsDouble:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def add_dataset(self, repo_id: str, files: Mapping[str, bytes], branch: str = "main") -> str:
        """Commit ``files`` (the whole tree) to ``branch``; returns the commit sha."""
        with self._lock:
            repo = self.repos.setdefault(repo_id, _Repo())
            digest = hashlib.sha1(repr((repo_id, len(repo.commits), sorted(files.items()))).encode())
            sha = digest.hexdigest()
            repo.commits[sha] = dict(files)
            repo.branches[branch] = sha
        return sha

    def resolve(self, repo_id: str, revision: str | None) -> tuple[str, dict[str, bytes]] | str:
        """(sha, files) or the ``X-Error-Code`` of the failure."""
        with self._lock:
            repo = self.repos.get(repo_id)
            if repo is None:
                return "RepoNotFound"
            sha = repo.branches.get(revision or "main", revision or "")
            if sha not in repo.commits:
                return "RevisionNotFound"
            return sha, repo.commits[sha]


def _handler_for(owner: HubDatasetsDouble) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _reply(self, status: int, body: bytes, headers: Mapping[str, str], send_body: bool = True) -> None:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if send_body:
                self.wfile.write(body)

        def _error(self, code: str, send_body: bool = True) -> None:
            body = json.dumps({"error": f"{code} (hub double)"}).encode()
            self._reply(404, body, {"Content-Type": "application/json", "X-Error-Code": code}, send_body)

        def _route(self, send_body: bool) -> None:
            path = unquote(self.path.split("?", 1)[0])
            with owner._lock:
                owner.requests.append((self.command, path))
            if path.startswith("/api/datasets/"):
                self._info(path.removeprefix("/api/datasets/"))
            elif path.startswith("/datasets/") and "/resolve/" in path:
                repo_id, _, rest = path.removeprefix("/datasets/").partition("/resolve/")
                revision, _, filename = rest.partition("/")
                self._file(repo_id, revision, filename, send_body)
            else:
                self._error("RepoNotFound", send_body)

        def _info(self, rest: str) -> None:
            repo_id, _, revision = rest.partition("/revision/")
            found = owner.resolve(repo_id, revision or None)
            if isinstance(found, str):
                self._error(found)
                return
            sha, files = found
            info = {
                "_id": sha[:24],
                "id": repo_id,
                "sha": sha,
                "private": False,
                "disabled": False,
                "gated": False,
                "downloads": 0,
                "likes": 0,
                "tags": [],
                "siblings": [{"rfilename": name} for name in sorted(files)],
                "lastModified": "2026-01-01T00:00:00.000Z",
            }
            self._reply(200, json.dumps(info).encode(), {"Content-Type": "application/json"})

        def _file(self, repo_id: str, revision: str, filename: str, send_body: bool) -> None:
            found = owner.resolve(repo_id, revision)
            if isinstance(found, str):
                self._error(found, send_body)
                return
            sha, files = found
            if filename not in files:
                self._error("EntryNotFound", send_body)
                return
            data = files[filename]
            etag = f'"{hashlib.sha1(data).hexdigest()}"'
            headers = {"Content-Type": "application/octet-stream", "X-Repo-Commit": sha, "ETag": etag}
            self._reply(200, data, headers, send_body)

        def do_GET(self) -> None:
            self._route(send_body=True)

        def do_HEAD(self) -> None:
            self._route(send_body=False)

    return Handler


@contextmanager
def running_hub_datasets() -> Iterator[HubDatasetsDouble]:
    hub = HubDatasetsDouble().start()
    try:
        yield hub
    finally:
        hub.stop()
