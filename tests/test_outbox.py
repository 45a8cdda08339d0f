"""The outbox's pending-run entries on disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from publisher.layout import RunLayout
from publisher.outbox import Outbox, RepoDone


def test_an_entry_records_done_repositories_and_survives_a_reload(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path)
    pending = outbox.begin(RunLayout(tmp_path, "run-1", "2025-03"))
    outbox.save(pending.with_done("results", RepoDone("alice/smoltrace-results", "a" * 40)))

    (reloaded,) = Outbox(tmp_path).pending()

    assert reloaded.run_id == "run-1" and reloaded.month == "2025-03"
    assert reloaded.done == {"results": RepoDone("alice/smoltrace-results", "a" * 40)}
    assert outbox.begin(RunLayout(tmp_path, "run-1", "2025-03")) == reloaded  # begin keeps what was done
    assert [p.name for p in (tmp_path / ".outbox").iterdir()] == ["run-1.json"]  # no temporary file left


def test_a_failed_write_leaves_the_previous_entry_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    outbox = Outbox(tmp_path)
    pending = outbox.begin(RunLayout(tmp_path, "run-1", "2025-03"))
    before = outbox.path("run-1").read_bytes()

    def broken_fsync(_fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("os.fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        outbox.save(pending.with_done("results", RepoDone("alice/smoltrace-results", None)))

    assert outbox.path("run-1").read_bytes() == before
    assert [p.name for p in (tmp_path / ".outbox").iterdir()] == ["run-1.json"]


def test_unreadable_entries_are_skipped_and_pending_runs_come_in_order(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    outbox = Outbox(tmp_path)
    for run_id, month in (("run-b", "2025-02"), ("run-a", "2025-02"), ("run-z", "2024-12")):
        outbox.begin(RunLayout(tmp_path, run_id, month))
    (tmp_path / ".outbox" / "broken.json").write_text("{not json")

    assert [p.run_id for p in outbox.pending()] == ["run-z", "run-a", "run-b"]
    assert "skipping unreadable outbox entry" in caplog.text

    outbox.clear("run-a")
    assert [p.run_id for p in outbox.pending()] == ["run-z", "run-b"]
