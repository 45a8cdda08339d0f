"""Secrets never survive into text we log, store or publish."""

from __future__ import annotations

import logging

import pytest

from smoltrace_otel.logs import RedactingFilter
from smoltrace_otel.redact import REDACTED, redact, redact_obj

HF = "hf_" + "AbCdEfGhIjKlMnOpQrStUvWxYz01234567"


@pytest.mark.parametrize(
    "text",
    [
        f"401 Client Error for token {HF}",
        "Incorrect API key provided: sk-proj-abcdefghijklmnop1234",
        "Authorization: Bearer abc.def.ghijklmnop",
        "https://x/api?api_key=supersecretvalue1&x=1",
    ],
)
def test_known_token_shapes_are_redacted(text: str) -> None:
    cleaned = redact(text)
    assert REDACTED in cleaned
    for secret in (HF, "sk-proj-abcdefghijklmnop1234", "abc.def.ghijklmnop", "supersecretvalue1"):
        assert secret not in cleaned


def test_values_of_secret_environment_variables_are_redacted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_PROVIDER_API_KEY", "plainvalue-without-prefix")
    monkeypatch.setenv("HOME_DIR_PLAIN", "plainvalue-visible")
    cleaned = redact("key=plainvalue-without-prefix home=plainvalue-visible")
    assert "plainvalue-without-prefix" not in cleaned
    assert "plainvalue-visible" in cleaned


def test_nested_values_are_redacted() -> None:
    cleaned = redact_obj({"a": [f"x {HF}"], "b": {"c": HF}, "n": 3})
    assert HF not in repr(cleaned)
    assert cleaned["n"] == 3


def test_log_records_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("test.redact")
    log.addFilter(RedactingFilter())
    with caplog.at_level(logging.INFO):
        log.info("calling with %s", HF)
    assert HF not in caplog.text
    assert REDACTED in caplog.text


def test_redactor_redacts_like_redact_with_its_secrets_taken_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from smoltrace_otel.redact import Redactor

    monkeypatch.setenv("SOME_SERVICE_TOKEN", "value-from-the-environment")
    redactor = Redactor(["extra-secret-given-directly"])
    for text in (
        f"token {HF} and value-from-the-environment",
        "Bearer abc.def.ghijklmnop and extra-secret-given-directly",
        "nothing to hide here",
        "x" * 600 + " value-from-the-environment",
    ):
        assert redactor(text) == redact(text, ["extra-secret-given-directly"])
        assert redactor(text) == redactor(text)
    assert "extra-secret-given-directly" not in redactor("extra-secret-given-directly")
