"""Removing secrets (HF tokens, API keys) from text before it is logged, stored or published.

Two sources of secrets are covered: well-known token shapes (``hf_...``, ``sk-...``,
``Bearer ...``, ``api_key=...``) and the values of environment variables whose names
say they hold a secret (``HF_TOKEN``, ``OPENAI_API_KEY``, ``*_SECRET``, OTLP headers...).
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

REDACTED = "[REDACTED]"

# Each pattern's one group is the prefix that stays; the rest of the match is the secret.
_TOKEN_PATTERNS = [
    re.compile(r"()\bhf_[A-Za-z0-9]{8,}"),
    re.compile(r"()\bsk-(?:proj-|ant-)?[A-Za-z0-9_\-]{12,}"),
    re.compile(r"()\b(?:gh[pousr]|github_pat)_[A-Za-z0-9_]{16,}"),
    re.compile(r"()\bAIza[0-9A-Za-z_\-]{20,}"),
    re.compile(r"(?i)(\bbearer\s+)[A-Za-z0-9._~+/\-]{8,}=*"),
    re.compile(r"(?i)((?:api[_-]?key|access[_-]?token|token|secret|password)\s*[=:]\s*[\"']?)[^\s\"'&,;]{6,}"),
]

# A cheap first look: text without any of these cannot match a pattern above.
_TRIGGER = re.compile(r"(?i)hf_|sk-|gh[pousr]_|github_pat_|aiza|bearer|api[_-]?key|token|secret|password")

_SECRET_ENV_NAME = re.compile(r"(?i)(TOKEN|API_?KEY|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH|OTLP.*HEADERS|PRIVATE_KEY)")
_MIN_SECRET_LENGTH = 8


def secret_env_values(environ: Mapping[str, str] | None = None) -> list[str]:
    """Values of environment variables whose names say they are secrets."""
    environ = os.environ if environ is None else environ
    values = {v for k, v in environ.items() if _SECRET_ENV_NAME.search(k) and len(v) >= _MIN_SECRET_LENGTH}
    # Longest first so that a secret containing another is replaced whole.
    return sorted(values, key=len, reverse=True)


def redact(text: str, extra_secrets: Iterable[str] = ()) -> str:
    """Return ``text`` with every known secret replaced by ``[REDACTED]``."""
    if not text:
        return text
    for secret in [*secret_env_values(), *extra_secrets]:
        if secret and len(secret) >= _MIN_SECRET_LENGTH and secret in text:
            text = text.replace(secret, REDACTED)
    return _redact_token_shapes(text)


def _redact_token_shapes(text: str) -> str:
    if not _TRIGGER.search(text):
        return text
    for pattern in _TOKEN_PATTERNS:
        text = pattern.sub(r"\1" + REDACTED, text)
    return text


class Redactor:
    """:func:`redact` for hot paths: the secret list is taken once, results of short texts are cached.

    Secrets that enter the environment after it was made are not known to it: make one per
    run (or per operation), not one per process.
    """

    _CACHED_LENGTH = 512

    def __init__(self, extra_secrets: Iterable[str] = ()) -> None:
        values = {*secret_env_values(), *extra_secrets}
        self.secrets = tuple(sorted((v for v in values if v and len(v) >= _MIN_SECRET_LENGTH), key=len, reverse=True))
        self._cached = functools.lru_cache(maxsize=4096)(self._redact)

    def __call__(self, text: str) -> str:
        if not text:
            return text
        return self._cached(text) if len(text) <= self._CACHED_LENGTH else self._redact(text)

    def _redact(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return _redact_token_shapes(text)


def redact_obj(value: Any, extra_secrets: Iterable[str] = ()) -> Any:
    """Redact every string inside nested dicts, lists and tuples."""
    extra = tuple(extra_secrets)
    if isinstance(value, str):
        return redact(value, extra)
    if isinstance(value, Mapping):
        return {k: redact_obj(v, extra) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact_obj(v, extra) for v in value)
    return value
