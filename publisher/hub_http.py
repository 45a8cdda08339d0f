"""An explicit HTTP timeout for every request ``huggingface_hub`` makes.

``huggingface_hub`` 1.5+ builds its shared HTTP client (``httpx2`` from 2.0) with ``timeout=None``: a stalled
connection would hang a publish forever. The library's documented hook is
``set_client_factory``; we install a factory that builds the library's default client
(its request hooks included) and sets our timeout on it. The client is process-wide, so the
factory is installed once per distinct timeout, under a lock, before any request is made.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from types import ModuleType
from typing import Any

_lock = threading.Lock()
_installed: dict[str, HttpTimeout] = {}


@dataclass(frozen=True)
class HttpTimeout:
    """Seconds to connect, and to wait for each read/write on an open connection."""

    connect_s: float = 10.0
    read_s: float = 60.0


def http_module() -> ModuleType:
    """The HTTP library ``huggingface_hub`` uses (``httpx2`` in 2.x), through the library's own alias."""
    from huggingface_hub.utils import httpx

    return httpx


def install_http_timeout(timeout: HttpTimeout) -> None:
    """Make every later ``huggingface_hub`` request use ``timeout`` (idempotent)."""
    from huggingface_hub import set_client_factory

    http = http_module()
    with _lock:
        if _installed.get("timeout") == timeout:
            return

        def factory() -> Any:
            client = _library_default_client()
            client.timeout = http.Timeout(timeout.read_s, connect=timeout.connect_s)
            return client

        set_client_factory(factory)
        _installed["timeout"] = timeout


def _library_default_client() -> Any:
    """The client ``huggingface_hub`` would build (its request hook adds request ids and honours offline mode)."""
    try:
        from huggingface_hub.utils._http import default_client_factory
    except ImportError:  # a future release may move it: a plain client still works
        return http_module().Client(follow_redirects=True)
    return default_client_factory()


def current_http_timeout() -> HttpTimeout | None:
    """The timeout installed by ``install_http_timeout``, if any."""
    return _installed.get("timeout")
