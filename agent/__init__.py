"""The evaluation agent: loads tasks, runs a tool-calling agent through litellm, scores each
task, and emits GenAI spans and metrics (``smoltrace agent``; see docs/agent.md).

Programmatic use::

    from agent.runner import run_evaluation, telemetry_config
    from agent.settings import AgentSettings, ModelSettings
    from smoltrace_otel.telemetry import setup_telemetry

    telemetry = setup_telemetry(telemetry_config(run_id))
    summary = run_evaluation(AgentSettings(ModelSettings("openai/gpt-4o-mini")), telemetry)
    telemetry.shutdown()
"""
