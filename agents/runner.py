"""Which runner runs a step: the LLM agents when configured, else, or on any failure of theirs,
the deterministic twin, saying why in ``StepOutcome.fallback_reason`` (the engine puts it in the
events). The step types are in ``agents.orchestration``.
"""
from __future__ import annotations

import logging

from agents import deterministic, llm_runner
from agents.orchestration import LLMConfig, ProgressCallback, StepContext, StepOutcome

logger = logging.getLogger(__name__)


def run_step(
    ctx: StepContext,
    *,
    llm: LLMConfig | None = None,
    on_progress: ProgressCallback | None = None,
) -> StepOutcome:
    """Run one step with the LLM agents when configured, else (or on any failure) deterministically."""
    notify = on_progress or (lambda message: None)
    if llm is None or not llm.api_key:
        return deterministic.run_step(ctx, on_progress=notify)
    try:
        return llm_runner.run_step(ctx, config=llm, on_progress=notify)
    except Exception as exc:  # noqa: BLE001  (any LLM failure falls back; the reason is reported)
        reason = f"{type(exc).__name__}: {exc}"[:300]
        logger.warning("LLM step %s failed, rule-based fallback: %s", ctx.step, reason)
        notify(f"LLM unavailable ({reason}); rule-based fallback")
        outcome = deterministic.run_step(ctx, on_progress=notify)
        outcome.fallback_reason = reason
        usage = getattr(exc, "usage", None)
        if usage:
            outcome.usage = dict(usage)
        return outcome
