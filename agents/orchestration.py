"""How the workflow engine runs one agent step, whoever executes it.

The engine (``planning.services.workflow``) owns state, persistence and events. For each step it
builds a :class:`StepContext` from the database and calls :func:`run_step`, which returns a
:class:`StepOutcome`. Two runners produce the same outcome shape:

- the deterministic runner (``agents.deterministic``): calls the tools of ``agents.season_tools``
  in a fixed order with template reasoning. Always available; the default without an API key.
- the LLM runner (``agents.llm_runner``): OpenAI Agents SDK agents (Orchestrator, Demand,
  Inventory, Pricing) calling the same tools as function tools, with guardrails, a per-step
  timeout and a max-turns bound.

Any LLM failure (timeout, error, guardrail trip, invalid output) hands the step to the
deterministic runner and says so in ``fallback_reason``, which the engine puts in the events.
Nothing here imports Django.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

logger = logging.getLogger(__name__)

# Step names. The agent that owns each step is in STEP_AGENT.
DEMAND = "demand"  # forecast the category and split it to clusters
INVENTORY = "inventory"  # size the manufacturing order, split initial/holdback, allocate to stores
PRICING = "pricing"  # schedule the markdown checkpoint (skipped when it is null)
REFORECAST = "reforecast"  # re-estimate the remaining weeks from actuals to date
MARKDOWN = "markdown"  # recommend a markdown at the checkpoint week

STEP_AGENT = {
    DEMAND: "demand",
    INVENTORY: "inventory",
    PRICING: "pricing",
    REFORECAST: "demand",
    MARKDOWN: "pricing",
}


class FitCache(Protocol):
    """Where fitted forecasts are kept between runs (the engine passes a DB-backed one)."""

    def get(self, key: str) -> dict | None: ...

    def set(self, key: str, value: dict) -> None: ...


@dataclass
class LLMConfig:
    api_key: str
    model: str = "gpt-4o-mini"
    base_url: str | None = None
    step_timeout_s: float = 20.0
    max_turns: int = 6
    tracing: bool = False


@dataclass
class StepContext:
    step: str
    parameters: dict  # the 7 SeasonParameters fields, JSON-safe (dates as ISO strings)
    inputs: dict  # the data the step's tools need, prepared by the engine (documented per tool)
    previous: dict = field(default_factory=dict)  # outputs of earlier steps, by step name
    cache: FitCache | None = None


@dataclass
class StepOutcome:
    outputs: dict  # tool results, JSON-safe
    summary: str  # what was done and why, for the planner
    runner: str  # "llm" or "deterministic"
    fallback_reason: str | None = None  # why the deterministic runner took over, if it did
    usage: dict = field(default_factory=dict)  # requests, input_tokens, output_tokens, total_tokens
    progress: list[str] = field(default_factory=list)


ProgressCallback = Callable[[str], None]


def run_step(
    ctx: StepContext,
    *,
    llm: LLMConfig | None = None,
    on_progress: ProgressCallback | None = None,
) -> StepOutcome:
    """Run one step with the LLM agents when configured, else (or on any failure) deterministically."""
    from agents import deterministic

    notify = on_progress or (lambda message: None)
    if llm is None or not llm.api_key:
        return deterministic.run_step(ctx, on_progress=notify)

    from agents import llm_runner

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


def llm_config_from(settings: Any) -> LLMConfig | None:
    """The LLM configuration from a settings object, or None when no key is set."""
    key = getattr(settings, "OPENAI_API_KEY", "")
    if not key:
        return None
    return LLMConfig(
        api_key=key,
        model=getattr(settings, "OPENAI_MODEL", "gpt-4o-mini"),
        base_url=getattr(settings, "OPENAI_BASE_URL", "") or None,
        step_timeout_s=float(getattr(settings, "OPENAI_TIMEOUT_SECONDS", 20.0)),
        tracing=bool(getattr(settings, "OPENAI_TRACING", False)),
    )
