"""The repository keeps the promises its README makes."""

from __future__ import annotations

import re

from tests.conftest import REPO_ROOT


def _readme_block(heading: str) -> list[str]:
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split(f"## {heading}", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block, f"README section {heading!r} has no bash block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_ci_runs_exactly_the_readme_test_command() -> None:
    test_command = _readme_block("Run the tests")[-1]
    ci_lines = [
        line.strip()
        for line in (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    assert ci_lines[-1] == test_command


def test_ci_installs_dev_and_local_extras_and_runs_ruff() -> None:
    ci = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert 'pip install --quiet ".[dev,local]"' in ci
    assert "ruff check ." in ci
    assert "ruff format --check ." in ci
