"""Run ids: generated when absent, validated when given, refused with a clear reason."""

from __future__ import annotations

import argparse
import uuid
from pathlib import Path

import pytest

from smoltrace_otel.cliargs import add_run_id_argument
from smoltrace_otel.errors import InvalidRunIdError
from smoltrace_otel.runid import resolve_run_id, validate_run_id
from smoltrace_otel.telemetry import TelemetryConfig, setup_telemetry

BAD_IDS = ["../x", "", "a" * 300, "a/b", "..", "x..y", ".hidden", "unassigned", "with space", "a\\b", "é"]


def test_generated_run_id_is_a_uuid4() -> None:
    run_id = resolve_run_id(None)
    assert uuid.UUID(run_id).version == 4
    assert resolve_run_id(None) != run_id


@pytest.mark.parametrize("value", ["550e8400-e29b-41d4-a716-446655440000", "nightly_2026.11.26", "A1"])
def test_valid_run_ids_are_kept(value: str) -> None:
    assert validate_run_id(value) == value


@pytest.mark.parametrize("value", BAD_IDS)
def test_invalid_run_id_is_refused_with_the_rule(value: str) -> None:
    with pytest.raises(InvalidRunIdError) as caught:
        validate_run_id(value)
    message = str(caught.value)
    assert "\n" not in message
    assert "letters, digits" in message
    assert len(message) < 300


@pytest.mark.parametrize("value", BAD_IDS)
def test_invalid_run_id_flag_exits_2_with_one_line(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="tool")
    add_run_id_argument(parser)
    with pytest.raises(SystemExit) as caught:
        parser.parse_args(["--run-id", value])
    assert caught.value.code == 2
    error_line = capsys.readouterr().err.strip().splitlines()[-1]
    assert error_line.startswith("tool: error: argument --run-id: invalid run id")


@pytest.mark.parametrize("value", BAD_IDS)
def test_invalid_run_id_writes_nothing(value: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidRunIdError):
        setup_telemetry(TelemetryConfig("x", value, exports_dir=tmp_path / "exports"))
    assert not (tmp_path / "exports").exists()
    assert list(tmp_path.iterdir()) == []
