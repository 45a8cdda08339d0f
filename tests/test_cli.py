"""The smoltrace command answers --help and --version without importing heavy libraries."""

from __future__ import annotations

import subprocess

from smoltrace_otel import __version__
from tests.conftest import PYTHON, subprocess_env


def test_version_and_help() -> None:
    version = subprocess.run(
        [PYTHON, "-m", "smoltrace_otel", "--version"], capture_output=True, text=True, env=subprocess_env()
    )
    assert version.returncode == 0
    assert version.stdout.strip() == f"smoltrace-otel {__version__}"
    helped = subprocess.run(
        [PYTHON, "-m", "smoltrace_otel", "--help"], capture_output=True, text=True, env=subprocess_env()
    )
    assert helped.returncode == 0
    assert "usage: smoltrace" in helped.stdout


def test_help_does_not_import_litellm_or_hub() -> None:
    code = (
        "import sys\n"
        "from smoltrace_otel.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('litellm', 'huggingface_hub', 'pyarrow') if m in sys.modules))\n"
    )
    result = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, env=subprocess_env())
    assert result.stdout.strip().splitlines()[-1] == "[]"
