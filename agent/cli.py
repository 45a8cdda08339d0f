"""``smoltrace agent``: run a task set against a model and emit every step as GenAI telemetry.

The flags only build :class:`agent.settings.AgentSettings`; the work is in
:mod:`agent.runner`. Heavy imports (litellm, huggingface_hub) happen in :func:`run`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from agent.settings import (
    AGENT_TYPES,
    AgentSettings,
    GenerationSettings,
    LoopSettings,
    ModelSettings,
    RunOptions,
    Shard,
    TaskSource,
)
from smoltrace_otel.cliargs import add_logging_arguments, add_run_id_argument, add_telemetry_arguments
from smoltrace_otel.runid import resolve_run_id

HELP = "Run a task set against a model through litellm; every step becomes a GenAI span."


MODEL_HELP = "litellm model id, e.g. openai/gpt-4o-mini or openai/<name> with --api-base"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_agent_arguments(parser, MODEL_HELP, model_required=True)
    add_run_id_argument(parser)
    add_telemetry_arguments(parser)
    add_logging_arguments(parser)


def add_agent_arguments(parser: argparse.ArgumentParser, model_help: str, model_required: bool) -> None:
    """The flags that build AgentSettings (shared with ``smoltrace run``)."""
    model = parser.add_argument_group("model")
    model.add_argument("--model", required=model_required, default=None, help=model_help)
    model.add_argument(
        "--api-base", default=None, help="base URL of an OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1"
    )
    model.add_argument(
        "--api-key-env",
        metavar="NAME",
        default=None,
        help="environment variable holding the API key (default: the provider's usual variable)",
    )
    model.add_argument(
        "--request-timeout", type=float, default=60.0, metavar="S", help="seconds per model request (default 60)"
    )
    model.add_argument(
        "--retries", type=int, default=3, help="retries after a 429, timeout, connection error or 5xx (default 3)"
    )
    model.add_argument(
        "--retry-backoff", type=float, default=1.0, metavar="S", help="first retry delay, doubled each time (default 1)"
    )

    gen = parser.add_argument_group("generation (sent with every model call)")
    gen.add_argument("--temperature", type=float, default=None)
    gen.add_argument("--top-p", type=float, default=None)
    gen.add_argument("--max-tokens", type=int, default=None)
    gen.add_argument("--seed", type=int, default=None)

    tasks = parser.add_argument_group("tasks")
    tasks.add_argument(
        "--tasks-file", type=Path, default=None, help="local .json or .jsonl task set (default: the built-in set)"
    )
    tasks.add_argument("--dataset-name", default=None, help="Hugging Face Hub dataset repo id with the tasks")
    tasks.add_argument(
        "--dataset-revision", default=None, help="branch, tag or commit of the dataset (recorded as a commit sha)"
    )
    tasks.add_argument("--split", default="train", help="dataset split (default train)")
    tasks.add_argument(
        "--difficulty", action="append", default=[], help="only tasks of this difficulty (repeat, or comma-separate)"
    )
    tasks.add_argument("--limit", type=int, default=None, help="only the first N selected tasks")
    tasks.add_argument(
        "--shard",
        default=None,
        metavar="I/N",
        help="run shard I of N of the selected tasks (several machines, one run id)",
    )

    loop = parser.add_argument_group("agent")
    loop.add_argument(
        "--agent-type", choices=AGENT_TYPES, default="tool", help="tool (built); code and both are not available yet"
    )
    loop.add_argument("--max-steps", type=int, default=6, help="model calls per task (default 6)")
    loop.add_argument("--task-timeout", type=float, default=300.0, metavar="S", help="seconds per task (default 300)")
    loop.add_argument(
        "--tool-timeout", type=float, default=10.0, metavar="S", help="seconds per tool call (default 10)"
    )
    loop.add_argument("--parallel-workers", type=int, default=1, metavar="N", help="tasks run at once (default 1)")
    loop.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, default=None, help="progress bar (default: on a terminal)"
    )


def settings_from_args(args: argparse.Namespace) -> AgentSettings:
    difficulties = tuple(d.strip() for value in args.difficulty for d in value.split(",") if d.strip())
    return AgentSettings(
        model=ModelSettings(
            model=args.model,
            api_base=args.api_base,
            api_key_env=args.api_key_env,
            request_timeout_s=args.request_timeout,
            retries=args.retries,
            retry_backoff_s=args.retry_backoff,
        ),
        tasks=TaskSource(
            path=args.tasks_file,
            dataset_name=args.dataset_name,
            dataset_revision=args.dataset_revision,
            split=args.split,
            difficulty=difficulties,
            limit=args.limit,
            shard=Shard.parse(args.shard) if args.shard else None,
        ),
        generation=GenerationSettings(args.temperature, args.top_p, args.max_tokens, args.seed),
        loop=LoopSettings(args.max_steps, args.task_timeout, args.tool_timeout),
        run=RunOptions(args.parallel_workers, args.agent_type, args.progress),
    )


def run(args: argparse.Namespace) -> int:
    from agent.runner import execute_run, prepare_run, telemetry_config
    from smoltrace_otel.telemetry import setup_telemetry

    settings = settings_from_args(args)
    prepared = prepare_run(settings)  # refuses bad settings and task sets before anything is written
    run_id = resolve_run_id(args.run_id)
    telemetry = setup_telemetry(telemetry_config(run_id, args.otlp_endpoint, args.exports_dir))
    try:
        summary = execute_run(prepared, telemetry)
    finally:
        telemetry.shutdown()
    where = (
        ", ".join(str(p) for p in telemetry.files.values())
        if telemetry.mode == "embedded"
        else f"OTLP {args.otlp_endpoint or 'endpoint from OTEL_EXPORTER_OTLP_*'}"
    )
    print(  # noqa: T201 - the command's own report
        f"run {summary.run_id}: {summary.succeeded}/{summary.completed} task(s) succeeded, "
        f"{summary.errors} error(s), {summary.completed} of {summary.planned} completed; telemetry: {where}"
    )
    if summary.unapplied_params:
        print(f"generation settings not applied by the provider: {', '.join(summary.unapplied_params)}")  # noqa: T201
    undelivered = telemetry.delivery.spans_failed
    if undelivered:
        print(f"{undelivered} span(s) could not be delivered", file=sys.stderr)  # noqa: T201
    if summary.fatal_error:
        print(f"smoltrace agent: error: {summary.fatal_error}", file=sys.stderr)  # noqa: T201
    elif summary.interrupted:
        print("smoltrace agent: interrupted", file=sys.stderr)  # noqa: T201
    return int(summary.exit_code)
