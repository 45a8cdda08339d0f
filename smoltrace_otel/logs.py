"""Logging for our command-line tools: one format, to stderr, secrets redacted."""

from __future__ import annotations

import logging
import sys

from smoltrace_otel.redact import redact


class RedactingFilter(logging.Filter):
    """Replaces secrets in every record's final message before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = redact(text)
        return True


def configure_logging(verbosity: int = 0, quiet: bool = False) -> None:
    """Log to stderr at INFO (``-v``: DEBUG, ``-q``: WARNING), with secrets redacted."""
    level = logging.WARNING if quiet else logging.DEBUG if verbosity > 0 else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # Third-party libraries are chatty at INFO; keep their warnings.
    for noisy in ("httpx", "httpx2", "httpcore", "LiteLLM", "litellm", "urllib3", "huggingface_hub", "grpc"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
