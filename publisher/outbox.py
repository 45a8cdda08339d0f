"""The outbox: runs staged locally whose Hub publish has not finished.

A publish first writes ``<root>/.outbox/<run_id>.json`` (atomically: temporary file, fsync,
rename), then records each repository as it lands (its id and the commit holding the run's
files), and deletes the entry once all four are done. If the Hub cannot be reached, or the
process is killed mid-publish, the entry and the staged files stay; ``resume_pending``
(``smoltrace publish --resume``) pushes every pending run, one commit per repository for
all of them together, skipping repositories already done. No token is ever written here.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from publisher.layout import REPOS, Repo, RunLayout

if TYPE_CHECKING:
    from publisher.hub_publish import HubPublishResult
    from publisher.hub_settings import HubSettings

log = logging.getLogger(__name__)
OUTBOX_DIR = ".outbox"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class RepoDone:
    """A repository that holds the run's files: its id and the commit that holds them."""

    repo_id: str
    commit: str | None


@dataclass(frozen=True)
class PendingRun:
    run_id: str
    month: str
    done: dict[Repo, RepoDone] = field(default_factory=dict)

    def with_done(self, repo: Repo, state: RepoDone) -> PendingRun:
        return replace(self, done={**self.done, repo: state})

    def layout(self, root: Path) -> RunLayout:
        return RunLayout(root=root, run_id=self.run_id, month=self.month)

    def to_json(self) -> dict[str, Any]:
        done = {repo: {"repo_id": s.repo_id, "commit": s.commit} for repo, s in sorted(self.done.items())}
        return {"version": FORMAT_VERSION, "run_id": self.run_id, "month": self.month, "done": done}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PendingRun:
        done = {
            repo: RepoDone(s["repo_id"], s.get("commit")) for repo, s in data.get("done", {}).items() if repo in REPOS
        }
        return cls(run_id=data["run_id"], month=data["month"], done=done)


class Outbox:
    """Pending-run entries under one local output root."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.directory = self.root / OUTBOX_DIR

    def path(self, run_id: str) -> Path:
        return self.directory / f"{run_id}.json"

    def load(self, run_id: str) -> PendingRun | None:
        try:
            return PendingRun.from_json(json.loads(self.path(run_id).read_text()))
        except FileNotFoundError:
            return None

    def begin(self, layout: RunLayout) -> PendingRun:
        """The run's entry, created (nothing done yet) if it had none."""
        pending = self.load(layout.run_id) or PendingRun(layout.run_id, layout.month)
        self.save(pending)
        return pending

    def save(self, pending: PendingRun) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        data = json.dumps(pending.to_json(), indent=2, sort_keys=True).encode()
        fd, temporary = tempfile.mkstemp(prefix=f".{pending.run_id}.", suffix=".tmp", dir=self.directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            Path(temporary).replace(self.path(pending.run_id))
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def clear(self, run_id: str) -> None:
        self.path(run_id).unlink(missing_ok=True)

    def pending(self) -> list[PendingRun]:
        """Every pending run, oldest month first, then by run id; unreadable entries are logged and skipped."""
        runs = []
        for entry in sorted(self.directory.glob("*.json")) if self.directory.is_dir() else []:
            try:
                runs.append(PendingRun.from_json(json.loads(entry.read_text())))
            except (ValueError, KeyError, TypeError) as error:
                log.error("skipping unreadable outbox entry %s: %s", entry, error)
        return sorted(runs, key=lambda run: (run.month, run.run_id))


def resume_pending(root: Path, settings: HubSettings) -> list[HubPublishResult]:
    """Push every run pending under ``root``: one commit per repository for all of them; entries cleared when done."""
    from publisher.hub_publish import publish_batch

    outbox = Outbox(root)
    runs = outbox.pending()
    if not runs:
        log.info("nothing pending in %s", outbox.directory)
        return []
    log.info("resuming %d pending run(s) from %s", len(runs), outbox.directory)
    return publish_batch([run.layout(outbox.root) for run in runs], settings, outbox)
