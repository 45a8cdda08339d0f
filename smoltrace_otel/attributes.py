"""Span, event and metric names the agent writes and the publisher reads.

This module is the contract between the two. Standard OpenTelemetry GenAI
semantic-convention names are used wherever one exists; every attribute without a
standard name lives under the one project prefix ``smoltrace.`` and is listed here.
The schema is versioned: the run span and every task root span carry
``smoltrace.schema_version``.
"""

from __future__ import annotations

SCHEMA_VERSION = "1"
PREFIX = "smoltrace."

# --- span names ---------------------------------------------------------------
RUN_SPAN_NAME = "smoltrace.run"
"""The run-level span (INTERNAL, its own trace); every task trace links to it."""
INVOKE_AGENT = "invoke_agent"
"""Task root span: ``invoke_agent {agent}`` (INTERNAL), one trace per task."""
CHAT = "chat"
"""Model call span: ``chat {model}`` (CLIENT)."""
EXECUTE_TOOL = "execute_tool"
"""Tool call span: ``execute_tool {tool}`` (INTERNAL)."""

# --- standard attributes (OpenTelemetry semantic conventions) ------------------
GEN_AI_OPERATION_NAME = "gen_ai.operation.name"
GEN_AI_PROVIDER_NAME = "gen_ai.provider.name"
GEN_AI_AGENT_NAME = "gen_ai.agent.name"
GEN_AI_REQUEST_MODEL = "gen_ai.request.model"
GEN_AI_RESPONSE_MODEL = "gen_ai.response.model"
GEN_AI_RESPONSE_ID = "gen_ai.response.id"
GEN_AI_RESPONSE_FINISH_REASONS = "gen_ai.response.finish_reasons"
GEN_AI_REQUEST_TEMPERATURE = "gen_ai.request.temperature"
GEN_AI_REQUEST_TOP_P = "gen_ai.request.top_p"
GEN_AI_REQUEST_MAX_TOKENS = "gen_ai.request.max_tokens"
GEN_AI_REQUEST_SEED = "gen_ai.request.seed"
GEN_AI_USAGE_INPUT_TOKENS = "gen_ai.usage.input_tokens"
GEN_AI_USAGE_OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
GEN_AI_TOOL_NAME = "gen_ai.tool.name"
GEN_AI_TOOL_TYPE = "gen_ai.tool.type"
GEN_AI_TOOL_CALL_ID = "gen_ai.tool.call.id"
GEN_AI_TOOL_CALL_ARGUMENTS = "gen_ai.tool.call.arguments"
"""Opt-in content (``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``)."""
GEN_AI_TOOL_CALL_RESULT = "gen_ai.tool.call.result"
"""Opt-in content."""
GEN_AI_INPUT_MESSAGES = "gen_ai.input.messages"
"""Opt-in content."""
GEN_AI_OUTPUT_MESSAGES = "gen_ai.output.messages"
"""Opt-in content."""
GEN_AI_TOKEN_TYPE = "gen_ai.token.type"
SERVER_ADDRESS = "server.address"
SERVER_PORT = "server.port"
ERROR_TYPE = "error.type"

# --- the score event ----------------------------------------------------------
EVALUATION_EVENT = "gen_ai.evaluation.result"
GEN_AI_EVALUATION_NAME = "gen_ai.evaluation.name"
GEN_AI_EVALUATION_SCORE_VALUE = "gen_ai.evaluation.score.value"
GEN_AI_EVALUATION_SCORE_LABEL = "gen_ai.evaluation.score.label"
GEN_AI_EVALUATION_EXPLANATION = "gen_ai.evaluation.explanation"

# --- project attributes: schema -------------------------------------------------
SCHEMA_VERSION_ATTR = "smoltrace.schema_version"
HARNESS_VERSION = "smoltrace.harness.version"

# --- project attributes: the run span ------------------------------------------
RUN_MODEL = "smoltrace.run.model"
RUN_PROVIDER = "smoltrace.run.provider"
RUN_AGENT_TYPE = "smoltrace.run.agent_type"
RUN_DATASET = "smoltrace.run.dataset"
RUN_DATASET_REVISION = "smoltrace.run.dataset_revision"
RUN_DATASET_SPLIT = "smoltrace.run.dataset_split"
RUN_PLANNED_TASKS = "smoltrace.run.planned_tasks"
RUN_SHARD = "smoltrace.run.shard"
"""``"I/N"`` when the run is one shard of several."""
RUN_MAX_STEPS = "smoltrace.run.max_steps"
RUN_PARALLEL_WORKERS = "smoltrace.run.parallel_workers"
RUN_UNAPPLIED_PARAMS = "smoltrace.run.unapplied_params"
"""Generation settings the provider did not apply (string array)."""
RUN_STATUS = "smoltrace.run.status"
"""``completed``, ``interrupted`` or ``failed``."""
RUN_COMPLETED_TASKS = "smoltrace.run.completed_tasks"
RUN_ERROR = "smoltrace.run.error"
"""Redacted reason when the run failed (e.g. an authentication error)."""
RUN_TASK_TIMEOUT_S = "smoltrace.run.task_timeout_s"
RUN_TOOL_TIMEOUT_S = "smoltrace.run.tool_timeout_s"
RUN_REQUEST_TIMEOUT_S = "smoltrace.run.request_timeout_s"
RUN_RETRIES = "smoltrace.run.retries"

# --- project attributes: the task root span ------------------------------------
TASK_ID = "smoltrace.task.id"
TASK_DIFFICULTY = "smoltrace.task.difficulty"
TASK_CATEGORY = "smoltrace.task.category"
TASK_AGENT_TYPE = "smoltrace.task.agent_type"
TASK_PROMPT = "smoltrace.task.prompt"
TASK_EXPECTED_TOOL = "smoltrace.task.expected_tool"
TASK_EXPECTED_ANSWER = "smoltrace.task.expected_answer"
TASK_FINAL_ANSWER = "smoltrace.task.final_answer"
TASK_STEPS = "smoltrace.task.steps"
TASK_STOP_REASON = "smoltrace.task.stop_reason"
"""``final_answer``, ``max_steps``, ``timeout``, ``error`` or ``interrupted``."""
TASK_ERROR = "smoltrace.task.error"
"""Redacted error text when the task ended in an error."""
TASK_INDEX = "smoltrace.task.index"
"""0-based position of the task in the list this process runs (after selection and sharding)."""
TASK_EXPECTED_TOOL_CALLS = "smoltrace.task.expected_tool_calls"
"""An int (a count) or a string array (tool names), as the task gave it."""
TASK_EXPECTED_KEYWORDS = "smoltrace.task.expected_keywords"
TASK_TOOLS_USED = "smoltrace.task.tools_used"
"""Names of the tools the model called, in order (string array, ``final_answer`` excluded)."""

SCORE_TOOL_CALLED = "smoltrace.score.tool_called"
SCORE_CORRECT_TOOL = "smoltrace.score.correct_tool"
SCORE_FINAL_ANSWER_CALLED = "smoltrace.score.final_answer_called"
SCORE_RESPONSE_CORRECT = "smoltrace.score.response_correct"
SCORE_SUCCESS = "smoltrace.score.success"
SCORE_RULE = "smoltrace.score.rule"
"""Which rule decided ``response_correct``: ``expected_answer``, ``expected_keywords`` or ``none``."""

# --- project attributes: chat and tool spans -----------------------------------
USAGE_COST_USD = "smoltrace.usage.cost_usd"
"""Cost of one model call from litellm's offline price map; absent for unknown models."""
CHAT_STEP = "smoltrace.chat.step"
CHAT_ATTEMPTS = "smoltrace.chat.attempts"

# --- metric names ---------------------------------------------------------------
METRIC_TOKEN_USAGE = "gen_ai.client.token.usage"
METRIC_OPERATION_DURATION = "gen_ai.client.operation.duration"
TOKEN_USAGE_BUCKETS = (
    1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
)  # fmt: skip
OPERATION_DURATION_BUCKETS = (
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
)  # fmt: skip
