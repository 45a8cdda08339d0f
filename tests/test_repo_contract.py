"""The repository keeps the promises its README makes."""

from __future__ import annotations

import re
import shlex

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


def _readme_commands(program: str) -> list[list[str]]:
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        for line in block.splitlines():
            for part in line.split("&&"):
                words = shlex.split(part.strip())
                while words and "=" in words[0] and not words[0].startswith("-"):
                    words = words[1:]  # leading VAR=value assignments
                if words and words[0] == program:
                    commands.append(words[1:])
    return commands


def test_every_smoltrace_command_in_the_readme_parses_with_the_real_cli() -> None:
    from smoltrace_otel.cli import build_parser

    commands = _readme_commands("smoltrace")
    assert len(commands) >= 7
    for args in commands:
        build_parser(args).parse_args(args)  # exits (fails the test) on an unknown flag or value


def test_every_gpu_sidecar_command_in_the_readme_parses_with_the_real_cli() -> None:
    from gpu_sidecar.cli import build_parser

    commands = _readme_commands("gpu-sidecar")
    assert len(commands) >= 2
    for args in commands:
        build_parser().parse_args(args)


def test_readme_links_point_at_files_that_exist() -> None:
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)#:]+)\)", text)
    assert links
    for link in links:
        assert (REPO_ROOT / link).exists(), link
