"""The Collector configs, docker-compose.yml, .env.example and the images fit together (no Docker needed).

The Collector refuses to start on an unknown component or option, and a compose file that points a
service at the wrong port or path fails only on the GPU box, so these checks read every file the way its
consumer does and compare them with each other and with the facts of the pinned otelcol-contrib release
(tests/data/otelcol-contrib-0.159.0.yaml, with its sources).
"""

from __future__ import annotations

import json
import re
import tomllib
from importlib.resources import files
from pathlib import Path, PurePosixPath
from typing import Any

import jsonschema
import pytest

from smoltrace_otel.errors import ExitCode
from smoltrace_otel.runid import RUN_ID_ATTRIBUTE, UNASSIGNED
from smoltrace_otel.telemetry import TelemetryConfig, embedded_file, setup_telemetry
from tests.conftest import REPO_ROOT
from tests.deploy_files import (
    COLLECTOR_CONFIGS,
    COMPOSE_FILE,
    CONTRIB_RELEASE,
    ENV_EXAMPLE,
    MissingRequiredVariable,
    command_words,
    compose_env,
    documented_names,
    load_compose,
    load_yaml,
    read_env_file,
    strings_in,
    variables_in,
)
from tests.doubles.collector import DEFAULT_RUN_ID, RUN_ID_KEY, CollectorDouble

SIGNALS = ("traces", "metrics", "logs")
KINDS = ("receivers", "processors", "exporters", "extensions", "connectors")
FILE_EXPORTING = ("config", "gateway")
SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD)$")
RUN_ID = "run-compose-1"


@pytest.fixture(scope="module")
def release() -> dict[str, Any]:
    return load_yaml(CONTRIB_RELEASE)


@pytest.fixture(scope="module")
def configs() -> dict[str, dict[str, Any]]:
    return {name: load_yaml(path) for name, path in COLLECTOR_CONFIGS.items()}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose()


def _type(component_id: str) -> str:
    """``file/traces`` -> ``file``: a component id is ``type[/name]``."""
    return component_id.split("/", 1)[0]


def _port(endpoint: str) -> int:
    return int(endpoint.rsplit(":", 1)[1])


def _host(endpoint: str) -> str:
    return endpoint.rsplit(":", 1)[0]


def _seconds(duration: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    total = 0.0
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", duration):
        total += float(number) * units[unit]
    assert total > 0, f"not a duration: {duration!r}"
    return total


def _file_exporters(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {cid: body for cid, body in config["exporters"].items() if _type(cid) == "file"}


def _referenced_authenticators(config: dict[str, Any]) -> set[str]:
    found = set()
    for protocol in config["receivers"].get("otlp", {}).get("protocols", {}).values():
        if protocol and "auth" in protocol:
            found.add(protocol["auth"]["authenticator"])
    return found


# --- Collector configuration ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", COLLECTOR_CONFIGS)
def test_collector_config_parses_with_every_section(name: str, configs: dict[str, dict[str, Any]]) -> None:
    config = configs[name]
    assert isinstance(config, dict)
    for section in ("extensions", "receivers", "processors", "exporters", "service"):
        assert isinstance(config[section], dict), f"{name}.yaml: {section} missing"
    assert set(config["service"]["pipelines"]) == set(SIGNALS)


@pytest.mark.parametrize("name", COLLECTOR_CONFIGS)
def test_every_component_exists_in_the_pinned_contrib_release(
    name: str, configs: dict[str, dict[str, Any]], release: dict[str, Any]
) -> None:
    config = configs[name]
    for kind in ("receivers", "processors", "exporters", "extensions"):
        for component_id in config.get(kind, {}):
            known = release["types"][kind]
            assert _type(component_id) in known, (
                f"{name}.yaml: {kind[:-1]} type {_type(component_id)!r} is not in {CONTRIB_RELEASE.name}; "
                "check its metadata.yaml at the pinned release, then add it there with its source"
            )
            module = known[_type(component_id)]["module"]
            assert module in release["modules"][kind], f"{module} is not part of otelcol-contrib {release['version']}"


def _unknown_keys(body: Any, spec: dict[str, Any], where: str) -> list[str]:
    problems = []
    nested = spec.get("nested", {})

    def walk(node: Any, path: str, allowed: list[str]) -> None:
        if node is None:
            return
        assert isinstance(node, dict), f"{where}{path}: expected a mapping"
        for key, value in node.items():
            if key not in allowed:
                problems.append(f"{where}{path}.{key}")
                continue
            child = f"{path}.{key}".lstrip(".")
            if child in nested:
                walk(value, f"{path}.{key}", nested[child])
            elif f"{child}[]" in nested:
                for item in value:
                    walk(item, f"{path}.{key}[]", nested[f"{child}[]"])

    walk(body, "", spec["keys"])
    return problems


@pytest.mark.parametrize("name", COLLECTOR_CONFIGS)
def test_every_option_is_one_the_component_accepts(
    name: str, configs: dict[str, dict[str, Any]], release: dict[str, Any]
) -> None:
    """The Collector refuses a config with an unknown key ("has invalid keys") at startup."""
    config = configs[name]
    problems = []
    for kind in ("receivers", "processors", "exporters", "extensions"):
        for component_id, body in config.get(kind, {}).items():
            spec = release["types"][kind][_type(component_id)]
            problems += _unknown_keys(body, spec, f"{name}.yaml {kind}.{component_id}")
    problems += _unknown_keys(config["service"]["telemetry"], release["service_telemetry"], f"{name}.yaml telemetry")
    for reader in config["service"]["telemetry"]["metrics"]["readers"]:
        prometheus = reader["pull"]["exporter"]["prometheus"]
        allowed = release["service_telemetry"]["nested"]["metrics.readers[].pull.exporter.prometheus"]
        problems += [f"{name}.yaml telemetry prometheus.{key}" for key in prometheus if key not in allowed]
    assert problems == []


@pytest.mark.parametrize("name", COLLECTOR_CONFIGS)
def test_every_pipeline_component_is_defined_and_every_defined_one_is_used(
    name: str, configs: dict[str, dict[str, Any]]
) -> None:
    config = configs[name]
    service = config["service"]
    used: dict[str, set[str]] = {kind: set() for kind in ("receivers", "processors", "exporters")}
    for signal, pipeline in service["pipelines"].items():
        assert pipeline["receivers"] and pipeline["exporters"], f"{signal} pipeline is empty"
        for kind, ids in used.items():
            for component_id in pipeline.get(kind, []):
                assert component_id in config[kind], f"{name}.yaml: {signal} uses undefined {component_id}"
                ids.add(component_id)
    for kind, ids in used.items():
        assert set(config[kind]) == ids, f"{name}.yaml: {kind} defined but unused: {set(config[kind]) - ids}"
    enabled = set(service["extensions"])
    assert enabled <= set(config["extensions"])
    assert set(config["extensions"]) <= enabled, "an extension that is defined but not enabled does nothing"
    assert _referenced_authenticators(config) <= enabled
    assert "health_check" in enabled


@pytest.mark.parametrize("name", COLLECTOR_CONFIGS)
def test_memory_limiter_first_then_the_run_id_default_then_batch(name: str, configs: dict[str, dict[str, Any]]) -> None:
    for signal, pipeline in configs[name]["service"]["pipelines"].items():
        types = [_type(p) for p in pipeline["processors"]]
        assert types == ["memory_limiter", "resource", "batch"], f"{name}.yaml {signal}: {types}"


@pytest.mark.parametrize("name", COLLECTOR_CONFIGS)
def test_resources_without_a_run_id_are_filed_as_unassigned(name: str, configs: dict[str, dict[str, Any]]) -> None:
    config = configs[name]
    for pipeline in config["service"]["pipelines"].values():
        resource = next(p for p in pipeline["processors"] if _type(p) == "resource")
        actions = config["processors"][resource]["attributes"]
        assert {"key": RUN_ID_ATTRIBUTE, "value": UNASSIGNED, "action": "insert"} in actions
        assert all(a["action"] == "insert" for a in actions if a["key"] == RUN_ID_ATTRIBUTE), (
            "only insert keeps a run id the sender set"
        )


@pytest.mark.parametrize("name", COLLECTOR_CONFIGS)
def test_otlp_receiver_listens_on_all_interfaces_with_a_raised_grpc_limit(
    name: str, configs: dict[str, dict[str, Any]]
) -> None:
    protocols = configs[name]["receivers"]["otlp"]["protocols"]
    assert protocols["grpc"]["endpoint"] == "0.0.0.0:4317"
    assert protocols["http"]["endpoint"] == "0.0.0.0:4318"
    assert protocols["grpc"]["max_recv_msg_size_mib"] > 4, "the receiver's default limit is 4 MiB"


@pytest.mark.parametrize("name", COLLECTOR_CONFIGS)
def test_health_check_and_own_metrics_listen_on_all_interfaces(name: str, configs: dict[str, dict[str, Any]]) -> None:
    config = configs[name]
    assert config["extensions"]["health_check"]["endpoint"] == "0.0.0.0:13133"
    metrics = config["service"]["telemetry"]["metrics"]
    prometheus = metrics["readers"][0]["pull"]["exporter"]["prometheus"]
    assert (prometheus["host"], prometheus["port"]) == ("0.0.0.0", 8888)
    assert metrics["level"] != "none"


@pytest.mark.parametrize("name", FILE_EXPORTING)
def test_file_exporters_append_one_json_lines_file_per_signal_and_run_id(
    name: str, configs: dict[str, dict[str, Any]]
) -> None:
    config = configs[name]
    for signal, pipeline in config["service"]["pipelines"].items():
        exporters = [config["exporters"][e] for e in pipeline["exporters"] if _type(e) == "file"]
        assert len(exporters) == 1, f"{name}.yaml {signal}: one file exporter per signal"
        exporter = exporters[0]
        path = PurePosixPath(exporter["path"])
        assert exporter["path"].count("*") == 1
        assert path.parent.name == "*" and path.name == f"{signal}.jsonl"
        assert exporter["group_by"] == {**exporter["group_by"], "enabled": True, "resource_attribute": RUN_ID_ATTRIBUTE}
        assert exporter["group_by"]["max_open_files"] > 0
        assert exporter["format"] == "json"
        assert exporter["append"] is True, "without append a Collector restart truncates the run's files"
        # the file exporter refuses append together with rotation or compression
        assert "rotation" not in exporter and "compression" not in exporter
        assert _seconds(exporter["flush_interval"]) > 0


def _export_root(config: dict[str, Any]) -> PurePosixPath:
    roots = {PurePosixPath(body["path"]).parent.parent for body in _file_exporters(config).values()}
    assert len(roots) == 1, f"file exporters write under different roots: {roots}"
    return roots.pop()


@pytest.mark.parametrize("name", FILE_EXPORTING)
def test_collector_layout_is_the_one_the_publisher_and_embedded_mode_use(
    name: str, configs: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    """Relative to the export root, the Collector writes <run_id>/<signal>.jsonl: the directory embedded
    mode writes its own files into, and the one the publisher reads every *.jsonl of."""
    config = configs[name]
    root = _export_root(config)
    for body in _file_exporters(config).values():
        written = PurePosixPath(body["path"].replace("*", RUN_ID)).relative_to(root)
        assert written.parent == PurePosixPath(RUN_ID)
        assert written.suffix == ".jsonl"
        embedded = embedded_file(tmp_path, RUN_ID, written.stem, "smoltrace-agent")
        assert embedded.parent.relative_to(tmp_path).as_posix() == written.parent.as_posix()
        assert embedded.suffix == written.suffix


def test_collector_double_writes_what_the_real_config_writes(
    configs: dict[str, dict[str, Any]], collector: CollectorDouble, tmp_path: Path
) -> None:
    """The tests' Collector double stands in for this config: same attribute, default and file paths."""
    config = configs["config"]
    assert (RUN_ID_KEY, DEFAULT_RUN_ID) == (RUN_ID_ATTRIBUTE, UNASSIGNED)
    for run_id in (RUN_ID, None):
        telemetry = setup_telemetry(
            TelemetryConfig("deploy-test", run_id, otlp_endpoint=collector.endpoint, metrics=False)
        )
        with telemetry.tracer("deploy-test").start_as_current_span("one span"):
            pass
        telemetry.shutdown()
    root = _export_root(config)
    expected = {
        Path(
            collector.out_dir,
            PurePosixPath(config["exporters"]["file/traces"]["path"].replace("*", rid)).relative_to(root),
        )
        for rid in (RUN_ID, UNASSIGNED)
    }
    written = set(collector.out_dir.rglob("*.jsonl"))
    assert written == expected
    for path in written:
        line = json.loads(path.read_text().splitlines()[0])
        attributes = line["resourceSpans"][0]["resource"]["attributes"]
        assert {"key": RUN_ID_ATTRIBUTE, "value": {"stringValue": path.parent.name}} in attributes


def test_gateway_requires_tls_and_a_token_from_a_file_on_both_protocols(configs: dict[str, dict[str, Any]]) -> None:
    gateway = configs["gateway"]
    local = configs["config"]
    for protocol in ("grpc", "http"):
        settings = gateway["receivers"]["otlp"]["protocols"][protocol]
        assert settings["tls"]["cert_file"] and settings["tls"]["key_file"]
        authenticator = settings["auth"]["authenticator"]
        assert _type(authenticator) == "bearertokenauth"
        token_settings = gateway["extensions"][authenticator]
        assert "filename" in token_settings and "token" not in token_settings and "tokens" not in token_settings
    assert (
        gateway["receivers"]["otlp"]["protocols"]["grpc"]["max_recv_msg_size_mib"]
        > local["receivers"]["otlp"]["protocols"]["grpc"]["max_recv_msg_size_mib"]
    )
    assert min(e["group_by"]["max_open_files"] for e in _file_exporters(gateway).values()) > max(
        e["group_by"]["max_open_files"] for e in _file_exporters(local).values()
    )


def test_object_storage_variant_keys_objects_by_run_id_with_settings_from_the_environment(
    configs: dict[str, dict[str, Any]],
) -> None:
    config = configs["object-storage"]
    (exporter_id,) = {e for p in config["service"]["pipelines"].values() for e in p["exporters"]}
    exporter = config["exporters"][exporter_id]
    assert _type(exporter_id) == "awss3"
    assert exporter["marshaler"] == "otlp_json"
    assert exporter["resource_attrs_to_s3"]["s3_prefix"] == RUN_ID_ATTRIBUTE
    assert exporter["s3uploader"]["s3_bucket"].startswith("${env:")
    assert not any(SECRET_NAME.search(key.upper()) for key in strings_in(exporter))


# --- docker-compose.yml -------------------------------------------------------------------------------------


def test_compose_file_is_valid_against_the_compose_specification(compose: dict[str, Any]) -> None:
    schema = json.loads((files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json").read_text())
    jsonschema.validate(compose, schema)


def test_compose_refuses_to_start_without_a_run_id_or_a_model() -> None:
    for missing in ("RUN_ID", "MODEL"):
        env = compose_env(RUN_ID=RUN_ID, MODEL="openai/gpt-4o-mini")
        env[missing] = ""
        with pytest.raises(MissingRequiredVariable, match=missing):
            load_compose(env)


def test_collector_image_is_the_pinned_release(compose: dict[str, Any], release: dict[str, Any]) -> None:
    assert compose["services"]["collector"]["image"] == release["image"]
    assert release["image"].endswith(":" + release["version"])


def test_collector_publishes_the_ports_its_config_listens_on(
    compose: dict[str, Any], configs: dict[str, dict[str, Any]]
) -> None:
    config = configs["config"]
    protocols = config["receivers"]["otlp"]["protocols"]
    prometheus = config["service"]["telemetry"]["metrics"]["readers"][0]["pull"]["exporter"]["prometheus"]
    listening = {
        _port(protocols["grpc"]["endpoint"]),
        _port(protocols["http"]["endpoint"]),
        _port(config["extensions"]["health_check"]["endpoint"]),
        prometheus["port"],
    }
    published = {}
    for mapping in compose["services"]["collector"]["ports"]:
        host_ip, host_port, container_port = mapping.split(":")
        published[int(container_port)] = (host_ip, int(host_port))
    assert set(published) == listening
    assert {ip for ip, _ in published.values()} == {read_env_file()["COLLECTOR_BIND_ADDRESS"]} == {"127.0.0.1"}


def test_collector_runs_as_the_host_user_and_drains_before_it_is_killed(
    configs: dict[str, dict[str, Any]], compose: dict[str, Any]
) -> None:
    raw = load_yaml(COMPOSE_FILE)["services"]["collector"]
    assert raw["user"] == "${UID:-1000}:${GID:-1000}"
    env = read_env_file()
    assert compose["services"]["collector"]["user"] == f"{env['UID']}:{env['GID']}"
    config = configs["config"]
    drain = _seconds(config["processors"]["batch"]["timeout"]) + max(
        _seconds(e["flush_interval"]) for e in _file_exporters(config).values()
    )
    assert _seconds(compose["services"]["collector"]["stop_grace_period"]) >= 5 * drain


def test_collector_reads_the_mounted_config(compose: dict[str, Any]) -> None:
    collector = compose["services"]["collector"]
    (config_flag,) = [w for w in command_words(collector) if w.startswith("--config")]
    target = config_flag.split("=", 1)[1]
    (mount,) = [v for v in collector["volumes"] if v["target"] == target]
    assert mount["read_only"] is True
    assert (REPO_ROOT / mount["source"]).resolve() == COLLECTOR_CONFIGS["config"]
    for name in ("gateway", "object-storage"):
        assert COLLECTOR_CONFIGS[name].exists()


def test_one_export_directory_is_written_by_the_collector_and_read_by_the_publisher(
    compose: dict[str, Any], configs: dict[str, dict[str, Any]]
) -> None:
    root = str(_export_root(configs["config"]))
    collector = compose["services"]["collector"]
    publisher = compose["services"]["publisher"]
    (written,) = [v for v in collector["volumes"] if v["target"] == root]
    (read,) = [v for v in publisher["volumes"] if v["source"] == written["source"]]
    assert written["type"] == read["type"] == "bind"
    assert written["bind"]["create_host_path"] is False, "a directory Docker creates belongs to root"
    assert not written.get("read_only") and read["read_only"] is True
    words = command_words(publisher)
    exports = words[words.index("--exports") + 1]
    assert exports == read["target"]
    settled = PurePosixPath(words[words.index("--settled") + 1])
    assert settled == PurePosixPath(exports, RUN_ID, "traces.jsonl")
    (results,) = [v for v in publisher["volumes"] if v["target"] == words[words.index("--output-dir") + 1]]
    assert not results.get("read_only")


def _exporting_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = {}
    for name, service in compose["services"].items():
        words = command_words(service)
        if "gpu-sidecar" in words or ("smoltrace" in words and "agent" in words):
            found[name] = service
    return found


def test_every_exporting_service_sends_to_the_collector_grpc_port(
    compose: dict[str, Any], configs: dict[str, dict[str, Any]]
) -> None:
    grpc_port = _port(configs["config"]["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"])
    exporting = _exporting_services(compose)
    assert set(exporting) == {"agent", "gpu-sidecar"}
    for name, service in exporting.items():
        assert service["environment"]["OTEL_EXPORTER_OTLP_ENDPOINT"] == f"http://collector:{grpc_port}", name
        assert service["depends_on"]["collector"]["condition"] == "service_started"


def test_exporting_services_wait_for_the_collector_health_endpoint(
    compose: dict[str, Any], configs: dict[str, dict[str, Any]]
) -> None:
    health = configs["config"]["extensions"]["health_check"]
    url = f"http://collector:{_port(health['endpoint'])}{health.get('path', '/')}"
    for name, service in _exporting_services(compose).items():
        words = command_words(service)
        assert words[:3] == ["python", "-m", "smoltrace_otel.waitfor"], name
        assert words[words.index("--http") + 1] == url, name
        assert "--" in words


def test_run_id_reaches_the_agent_the_sidecar_and_the_publisher(compose: dict[str, Any]) -> None:
    for name in ("agent", "gpu-sidecar", "publisher"):
        words = command_words(compose["services"][name])
        command = words[words.index("--") + 1 :]
        assert command[command.index("--run-id") + 1] == RUN_ID, name


def test_publisher_starts_once_the_agent_has_completed(compose: dict[str, Any]) -> None:
    publisher = compose["services"]["publisher"]
    assert publisher["depends_on"]["agent"]["condition"] == "service_completed_successfully"
    words = command_words(publisher)
    assert words[words.index("--") + 1 : words.index("--") + 3] == ["smoltrace", "publish"]
    assert (
        _seconds(words[words.index("--settle-seconds") + 1] + "s")
        > int(read_env_file()["GPU_METRIC_EXPORT_INTERVAL_MS"]) / 1000
    )


def test_a_run_with_failed_tasks_still_counts_as_completed(compose: dict[str, Any]) -> None:
    words = command_words(compose["services"]["agent"])
    codes = {int(code) for code in words[words.index("--completed-codes") + 1].split(",")}
    assert codes == {ExitCode.OK, ExitCode.TASKS_FAILED}


def test_hub_repositories_become_publisher_flags_only_when_set() -> None:
    publisher = load_compose(compose_env(RUN_ID=RUN_ID, HF_RESULTS_REPO="me/results"))["services"]["publisher"]
    words = command_words(publisher)
    assert words[words.index("--results-repo") + 1] == "me/results"
    assert "--traces-repo" not in words


_GPU_RESERVATION = {"driver": "nvidia", "count": "all", "capabilities": ["gpu"]}


def test_gpu_services_reserve_every_nvidia_gpu(compose: dict[str, Any]) -> None:
    for name in ("gpu-sidecar", "vllm"):
        devices = compose["services"][name]["deploy"]["resources"]["reservations"]["devices"]
        assert devices == [_GPU_RESERVATION], name
    assert compose["services"]["gpu-sidecar"]["environment"]["NVIDIA_DRIVER_CAPABILITIES"] == "utility"
    assert "deploy" not in compose["services"]["agent"] and "deploy" not in compose["services"]["publisher"]


def test_local_model_profile_serves_the_agent_an_openai_compatible_api(compose: dict[str, Any]) -> None:
    vllm = compose["services"]["vllm"]
    assert vllm["profiles"] == ["local-model"]
    words = command_words(vllm)
    served = next(w.split("=", 1)[1] for w in words if w.startswith("--served-model-name="))
    port = next(w.split("=", 1)[1] for w in words if w.startswith("--port="))
    assert "--enable-auto-tool-choice" in words, "the agent calls tools"
    agent = compose["services"]["agent"]
    assert agent["environment"]["HOSTED_VLLM_API_BASE"] == f"http://vllm:{port}/v1"
    assert agent["depends_on"]["vllm"] == {"condition": "service_healthy", "required": False}
    assert f"localhost:{port}/health" in " ".join(vllm["healthcheck"]["test"])
    assert read_env_file()["VLLM_SERVED_MODEL_NAME"] == served


def test_every_compose_variable_is_documented_in_env_example() -> None:
    used = set().union(*(variables_in(text) for text in strings_in(load_yaml(COMPOSE_FILE))))
    assert used, "the compose file reads no settings"
    assert used - documented_names() == set()


def test_secrets_are_passed_by_name_and_never_written_down() -> None:
    raw = load_yaml(COMPOSE_FILE)
    secret_names = set()
    for name, service in raw["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if SECRET_NAME.search(key):
                assert value is None, f"{name}: {key} must be passed by name, not given a value"
                secret_names.add(key)
    assert {"HF_TOKEN", "OPENAI_API_KEY"} <= secret_names
    assert secret_names <= documented_names()
    for key, value in read_env_file().items():
        if SECRET_NAME.search(key):
            assert value == "", f".env.example gives {key} a value"
    assert ".env" in (REPO_ROOT / ".gitignore").read_text().splitlines()


def test_compose_commands_run_programs_the_images_install() -> None:
    scripts = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    compose = load_compose()
    for name in ("agent", "gpu-sidecar", "publisher"):
        words = command_words(compose["services"][name])
        program = words[words.index("--") + 1]
        assert program in scripts, f"{name} runs {program}, which pyproject.toml does not install"


def _service_command(service: str, **settings: str) -> list[str]:
    """The program and arguments a service runs after its ``waitfor ... --`` prefix."""
    words = command_words(load_compose(compose_env(RUN_ID=RUN_ID, **settings))["services"][service])
    return words[words.index("--") + 1 :]


def _env_example_comments() -> str:
    """The comment text of .env.example as one line (so an example may wrap)."""
    lines = [line.strip() for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()]
    return " ".join(" ".join(line.lstrip("#").split()) for line in lines if line.startswith("#"))


@pytest.mark.parametrize(
    ("service", "settings"),
    [
        pytest.param("agent", {}, id="agent"),
        # The examples .env.example gives for AGENT_ARGS.
        pytest.param(
            "agent",
            {"AGENT_ARGS": "--dataset-name ORG/TASKS --dataset-revision SHA --difficulty easy"},
            id="agent-dataset-args",
        ),
        pytest.param("agent", {"AGENT_ARGS": "--parallel-workers 4 --limit 20"}, id="agent-selection-args"),
        pytest.param("publisher", {"HF_RESULTS_REPO": "me/results"}, id="publisher"),
        pytest.param("publisher", {"PUBLISH_ARGS": "--grid-intensity 350 --pue 1.2"}, id="publisher-energy-args"),
    ],
)
def test_compose_command_lines_parse_with_the_real_cli(service: str, settings: dict[str, str]) -> None:
    from smoltrace_otel.cli import COMMANDS, build_parser

    for value in settings.values():
        assert value.startswith("me/") or value in _env_example_comments(), f"{value!r} is not documented"
    command = _service_command(service, **settings)
    assert command[0] == "smoltrace"
    assert command[1] in {c.name for c in COMMANDS}, f"`smoltrace {command[1]}` is not a registered subcommand"
    args = build_parser(command[1:]).parse_args(command[1:])
    assert args.run_id == RUN_ID
    if service == "agent":
        from agent.cli import settings_from_args

        settings_from_args(args)  # the flags also make valid settings


@pytest.mark.parametrize("sidecar_args", ["", "--interval 0.5", "--naming genai"])
def test_sidecar_command_line_parses_with_the_real_sidecar_cli(sidecar_args: str) -> None:
    from gpu_sidecar.cli import build_parser

    assert sidecar_args in _env_example_comments(), f"{sidecar_args!r} is not the example .env.example gives"
    command = _service_command("gpu-sidecar", SIDECAR_ARGS=sidecar_args)
    assert command[0] == "gpu-sidecar"
    args = build_parser().parse_args(command[1:])
    assert args.run_id == RUN_ID


# --- Images -----------------------------------------------------------------------------------------------

DOCKERFILES = {"agent": REPO_ROOT / "docker" / "Dockerfile", "gpu-sidecar": REPO_ROOT / "docker" / "sidecar.Dockerfile"}


def _instructions(path: Path) -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", path.read_text(encoding="utf-8"))
    found = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            keyword, _, rest = stripped.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


@pytest.mark.parametrize("service", DOCKERFILES)
def test_compose_builds_each_image_from_its_dockerfile(service: str) -> None:
    build = load_compose()["services"][service]["build"]
    assert (REPO_ROOT / build["context"] / build["dockerfile"]).resolve() == DOCKERFILES[service]


@pytest.mark.parametrize("service", DOCKERFILES)
def test_images_are_multi_stage_python_slim_and_run_unprivileged(service: str) -> None:
    instructions = _instructions(DOCKERFILES[service])
    base = next(rest for keyword, rest in instructions if keyword == "ARG" and rest.startswith("PYTHON_IMAGE="))
    assert base == "PYTHON_IMAGE=python:3.11-slim"
    stages = [rest for keyword, rest in instructions if keyword == "FROM"]
    assert len(stages) >= 2 and all(stage.startswith("${PYTHON_IMAGE}") for stage in stages)
    final = instructions[max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM") :]
    users = [rest for keyword, rest in final if keyword == "USER"]
    assert users, "the final stage must switch to an unprivileged user"
    uid = int(users[-1].split(":")[0])
    assert uid >= 1000
    assert not any(keyword == "RUN" and "pip install" in rest for keyword, rest in final), "install in the build stage"


def test_sidecar_image_installs_neither_litellm_nor_huggingface_hub() -> None:
    instructions = _instructions(DOCKERFILES["gpu-sidecar"])
    installs = [rest for keyword, rest in instructions if keyword == "RUN" and "pip install" in rest]
    assert installs
    for command in installs:
        assert "--no-deps" in command or "-r /src/requirements/sidecar.txt" in command, command
    assert ("COPY", "requirements/sidecar.txt /src/requirements/sidecar.txt") in instructions
    text = DOCKERFILES["gpu-sidecar"].read_text().lower()
    assert "pip install litellm" not in text and "pip install huggingface" not in text


def test_sidecar_requirements_leave_out_the_agent_and_hub_dependencies() -> None:
    requirements = REPO_ROOT / "requirements" / "sidecar.txt"
    names = {
        re.split(r"[<>=!~\[; ]", line.strip(), maxsplit=1)[0].lower().replace("_", "-")
        for line in requirements.read_text().splitlines()
        if line.strip() and not line.strip().startswith(("#", "-"))
    }
    assert names.isdisjoint({"litellm", "huggingface-hub", "pyarrow"})
    assert {"opentelemetry-sdk", "opentelemetry-exporter-otlp-proto-grpc", "nvidia-ml-py"} <= names


def test_dockerignore_admits_only_what_the_package_build_needs() -> None:
    lines = [
        line.strip()
        for line in (REPO_ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "**", "start from nothing, then admit"
    admitted = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    packages = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"][
        "include"
    ]
    needed = {"pyproject.toml", "README.md", "requirements"} | {p.rstrip("*") for p in packages}
    assert needed <= admitted
    assert admitted.isdisjoint({".env", "tests", "exports", "smoltrace-results", ".git"})


def test_env_example_is_a_plain_env_file() -> None:
    values = read_env_file(ENV_EXAMPLE)
    assert values["RUN_ID"] == "", "every run needs its own id; the example must not share one"
    assert values["OUTPUT_FORMAT"] in {"local", "hub"}
