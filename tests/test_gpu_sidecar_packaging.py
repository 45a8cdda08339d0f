"""The sidecar stands alone: its own requirements, no agent/publisher imports, CI and image recipes."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

from tests.conftest import REPO_ROOT

SIDECAR_DIR = REPO_ROOT / "gpu_sidecar"
HEAVY = {"litellm", "huggingface_hub", "pyarrow"}


def _requirements(lines: list[str]) -> dict[str, Requirement]:
    found = {}
    for raw in lines:
        line = raw.split("#", 1)[0].strip()
        if line:
            requirement = Requirement(line)
            found[requirement.name.lower().replace("_", "-")] = requirement
    return found


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_sidecar_requirements_agree_with_pyproject() -> None:
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    project = _requirements(pyproject["project"]["dependencies"])
    sidecar = _requirements((REPO_ROOT / "requirements" / "sidecar.txt").read_text(encoding="utf-8").splitlines())
    assert {
        "opentelemetry-api",
        "opentelemetry-sdk",
        "opentelemetry-exporter-otlp-proto-grpc",
        "opentelemetry-exporter-otlp-json-file",
        "nvidia-ml-py",
    } <= set(sidecar)
    assert not HEAVY & {name.replace("-", "_") for name in sidecar}
    for name, requirement in sidecar.items():
        assert name in project, f"{name} is not a project dependency"
        assert requirement.specifier == project[name].specifier, name
    assert pyproject["project"]["scripts"]["gpu-sidecar"] == "gpu_sidecar.cli:main"


def test_sidecar_imports_nothing_from_agent_publisher_or_heavy_libraries() -> None:
    for path in sorted(SIDECAR_DIR.glob("*.py")):
        roots = {name.split(".")[0] for name in _imports(path)}
        assert not roots & ({"agent", "publisher"} | HEAVY), path.name
        internal = {name for name in _imports(path) if name.startswith("smoltrace_otel")}
        # Stdlib-only modules of the foundation, plus the telemetry wiring (OTel SDK). The sample
        # generator (sample_*.py) also reads the contracts: run ids and the agent's span names.
        assert internal <= {
            "smoltrace_otel",
            "smoltrace_otel.attributes",
            "smoltrace_otel.runid",
            "smoltrace_otel.cliargs",
            "smoltrace_otel.errors",
            "smoltrace_otel.logs",
            "smoltrace_otel.redact",
            "smoltrace_otel.signals",
            "smoltrace_otel.telemetry",
        }, path.name


def test_metric_model_depends_on_neither_nvml_nor_the_otel_sdk() -> None:
    for module in ("device.py", "model.py", "energy.py", "semconv.py"):
        roots = {name.split(".")[0] for name in _imports(SIDECAR_DIR / module)}
        assert roots <= {"__future__", "collections", "dataclasses", "functools", "typing", "logging", "gpu_sidecar"}, (
            module
        )


def test_ci_installs_and_runs_the_sidecar_alone_before_the_tests() -> None:
    lines = [line.strip() for line in (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()]
    step = lines.index(next(line for line in lines if "-r requirements/sidecar.txt" in line))
    tests = max(i for i, line in enumerate(lines) if line == "python -m pytest")
    sidecar_lines = "\n".join(lines[step:tests])
    assert step < tests
    assert "pip install --quiet --no-deps ." in sidecar_lines
    assert re.search(r"gpu-sidecar\" --help", sidecar_lines)
    assert re.search(r"gpu-sidecar\" --allow-no-gpu --duration 1", sidecar_lines)
    assert 'import litellm" 2> /dev/null; then' in sidecar_lines
