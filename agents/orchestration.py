"""The step contract between the workflow engine and the runners: step names and owners, what a
step gets (:class:`StepContext`) and what it returns (:class:`StepOutcome`), and the LLM settings.

The engine (``planning.services``) owns state, persistence and events. For each step it builds a
StepContext from the database and calls ``agents.runner.run_step``, which returns a StepOutcome.
Two runners produce the same outcome shape:

- the deterministic runner (``agents.deterministic``): calls the tools of ``agents.season_tools``
  in a fixed order with template reasoning. Always available; the default without an API key.
- the LLM runner (``agents.llm_runner``): OpenAI Agents SDK agents (Orchestrator, Demand,
  Inventory, Pricing) calling the same tools as function tools, with guardrails, a per-step
  timeout and a max-turns bound.

Both runners import this module and nothing here imports them, so imports point one way:
engine -> runner -> the two runners -> this contract. Nothing here imports Django.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

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
