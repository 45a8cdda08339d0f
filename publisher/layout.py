"""Where a run's published files live: the same relative paths locally and on the Hub.

The local output directory mirrors the four Hub dataset repositories, so a later
publish to the Hub pushes exactly the staged files::

    <output_dir>/
      results/data/<YYYY-MM>/<run_id>.parquet       one row per task
      traces/data/<YYYY-MM>/<run_id>.parquet        one row per span
      metrics/data/<YYYY-MM>/<run_id>.parquet       one row per GPU data point
      metrics/raw/<YYYY-MM>/<run_id>.json           the run's metric_data (OTLP JSON resourceMetrics + aggregates)
      leaderboard/data/<YYYY-MM>/<run_id>.parquet   the run's leaderboard row

Paths depend only on the run id and the month (UTC) the run started in, so a re-publish
of the same run writes the same paths and concurrent runs never touch the same file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from smoltrace_otel.runid import validate_run_id

Repo = Literal["results", "traces", "metrics", "leaderboard"]
REPOS: tuple[Repo, ...] = ("results", "traces", "metrics", "leaderboard")


def month_of(timestamp_unix_nano: int) -> str:
    """``YYYY-MM`` (UTC) of a timestamp in nanoseconds since the epoch."""
    return datetime.fromtimestamp(timestamp_unix_nano / 1e9, tz=UTC).strftime("%Y-%m")


@dataclass(frozen=True)
class RunLayout:
    """The paths of one run's files, relative to each repository and under a local root."""

    root: Path
    run_id: str
    month: str
    """``YYYY-MM`` of the run's start (UTC)."""

    def __post_init__(self) -> None:
        validate_run_id(self.run_id)
        datetime.strptime(self.month, "%Y-%m")

    def repo_dir(self, repo: Repo) -> Path:
        """The local directory that mirrors ``repo``."""
        return self.root / repo

    def data_path_in_repo(self, repo: Repo) -> str:
        """Path of the run's Parquet file inside ``repo`` (also its Hub path)."""
        return f"data/{self.month}/{self.run_id}.parquet"

    def raw_metrics_path_in_repo(self) -> str:
        """Path of the run's raw ``metric_data`` JSON inside the metrics repository."""
        return f"raw/{self.month}/{self.run_id}.json"

    def data_file(self, repo: Repo) -> Path:
        return self.repo_dir(repo) / self.data_path_in_repo(repo)

    def raw_metrics_file(self) -> Path:
        return self.repo_dir("metrics") / self.raw_metrics_path_in_repo()

    def files_for(self, repo: Repo) -> list[tuple[Path, str]]:
        """(local file, path in repo) for every file of this run in ``repo``."""
        files = [(self.data_file(repo), self.data_path_in_repo(repo))]
        if repo == "metrics":
            files.append((self.raw_metrics_file(), self.raw_metrics_path_in_repo()))
        return files
