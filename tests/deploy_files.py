"""Read the deployment files the way their consumers do: Compose's interpolation, the Collector's config tree.

Compose interpolates ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``, ``${VAR:+alt}``, ``${VAR+alt}``,
``${VAR:?error}``, ``${VAR?error}`` (nested in defaults and alternatives) and ``$$`` in every string value
after parsing the YAML, and splits a string ``command`` into words like a shell (without running one).
This module does the same so tests can check what the containers will really receive.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import REPO_ROOT

COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
ENV_EXAMPLE = REPO_ROOT / ".env.example"
COLLECTOR_DIR = REPO_ROOT / "collector-config"
COLLECTOR_CONFIGS = {name: COLLECTOR_DIR / f"{name}.yaml" for name in ("config", "gateway", "object-storage")}
CONTRIB_RELEASE = REPO_ROOT / "tests" / "data" / "otelcol-contrib-0.159.0.yaml"

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BRACED = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:(:-|-|:\+|\+|:\?|\?)(.*))?$", re.S)


class MissingRequiredVariable(ValueError):
    """``${VAR:?message}`` with VAR empty or unset: Compose refuses the file with this message."""


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def read_env_file(path: Path = ENV_EXAMPLE) -> dict[str, str]:
    """``NAME=value`` lines of a Compose ``.env`` file (comments and blank lines skipped)."""
    values: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        name, sep, value = stripped.partition("=")
        assert sep, f"{path.name}: not a NAME=value line: {line!r}"
        values[name.strip()] = value.strip()
    return values


def documented_names(path: Path = ENV_EXAMPLE) -> set[str]:
    """Names set in the file or shown there commented out (``# NAME=``)."""
    names = set(read_env_file(path))
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"#\s*([A-Za-z_][A-Za-z0-9_]*)=", line.strip())
        if match:
            names.add(match.group(1))
    return names


def _closing_brace(text: str, start: int) -> int:
    depth = 0
    for index in range(start, len(text)):
        if text[index] == "{":
            depth += 1
        elif text[index] == "}":
            depth -= 1
            if depth == 0:
                return index
    raise ValueError(f"unclosed ${{ in {text!r}")


def interpolate(text: str, env: Mapping[str, str]) -> str:
    """``text`` with Compose's variable syntax substituted from ``env``."""
    out: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char != "$":
            out.append(char)
            index += 1
            continue
        following = text[index + 1 : index + 2]
        if following == "$":
            out.append("$")
            index += 2
        elif following == "{":
            end = _closing_brace(text, index + 1)
            out.append(_expand(text[index + 2 : end], env))
            index = end + 1
        else:
            match = _NAME.match(text, index + 1)
            if match is None:
                raise ValueError(f"invalid interpolation in {text!r}")
            out.append(env.get(match.group(), ""))
            index = match.end()
    return "".join(out)


def _expand(body: str, env: Mapping[str, str]) -> str:
    match = _BRACED.match(body)
    if match is None:
        raise ValueError(f"invalid interpolation ${{{body}}}")
    name, operator, argument = match.groups()
    value = env.get(name)
    if operator is None:
        return value or ""
    if operator == ":-":
        return value if value else interpolate(argument, env)
    if operator == "-":
        return value if value is not None else interpolate(argument, env)
    if operator == ":+":
        return interpolate(argument, env) if value else ""
    if operator == "+":
        return interpolate(argument, env) if value is not None else ""
    if (operator == ":?" and not value) or (operator == "?" and value is None):
        raise MissingRequiredVariable(f"{name}: {interpolate(argument, env)}")
    return value or ""


def variables_in(text: str) -> set[str]:
    """Every variable name ``text`` refers to, in taken and untaken branches alike."""
    unescaped = text.replace("$$", "")
    return set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", unescaped)) | set(
        re.findall(r"\$([A-Za-z_][A-Za-z0-9_]*)", unescaped)
    )


def strings_in(node: Any) -> Iterator[str]:
    """Every string value (and mapping key) in a parsed YAML tree."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from strings_in(key)
            yield from strings_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings_in(item)


def interpolate_tree(node: Any, env: Mapping[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, dict):
        return {key: interpolate_tree(value, env) for key, value in node.items()}
    if isinstance(node, list):
        return [interpolate_tree(item, env) for item in node]
    return node


def compose_env(**overrides: str) -> dict[str, str]:
    """The settings of ``.env.example`` with ``overrides`` (e.g. a RUN_ID, which the example leaves empty)."""
    return {**read_env_file(), **overrides}


def load_compose(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """docker-compose.yml as Compose sees it with ``env`` (default: .env.example plus a run id)."""
    env = compose_env(RUN_ID="run-compose-1") if env is None else env
    return interpolate_tree(load_yaml(COMPOSE_FILE), env)


def command_words(service: Mapping[str, Any]) -> list[str]:
    """A service's command as the container receives it (a string is split like a shell would)."""
    command = service.get("command", [])
    return shlex.split(command) if isinstance(command, str) else [str(word) for word in command]
