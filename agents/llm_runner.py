"""The LLM runner: one workflow step through the OpenAI Agents SDK agents (SPEC §8).

``run_step`` is what ``agents.runner.run_step`` calls when an API key is configured. It
raises on any failure (timeout, model error, guardrail trip, max turns, a tool error); the caller
then hands the step to the deterministic runner and reports the reason. An exception raised after
the model was called carries ``.usage``, so the tokens spent before the failure are still counted.

Threads: the SDK needs an event loop, while the tools (through the fit cache) and ``on_progress``
(the engine persists events) touch Django, which refuses to run inside one, and the caller may
itself be inside a loop. So the run's loop lives in a helper thread and hands tool computations
and progress back to the calling thread, which serves them until the run ends.

The model is any OpenAI-compatible chat-completions server (``OPENAI_BASE_URL``); tests swap
``model_factory`` for a scripted model. Tracing stays off unless the operator enables it: the SDK
would otherwise upload run data to OpenAI.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import queue
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from openai import AsyncOpenAI

from agents import (
    Agent,
    Model,
    OpenAIChatCompletionsModel,
    OutputGuardrailTripwireTriggered,
    RunConfig,
    RunContextWrapper,
    RunHooks,
    Runner,
    ToolInputGuardrailTripwireTriggered,
    ToolOutputGuardrailTripwireTriggered,
)
from agents.orchestration import LLMConfig, ProgressCallback, StepContext, StepOutcome
from agents.season_agents import ORCHESTRATOR, STEP_OUTPUTS, SeasonRunContext, step_brief

T = TypeVar("T")

SUMMARY_MAX_CHARS = 2000
CLIENT_MAX_RETRIES = 1  # one retry of a failed HTTP call; the deterministic runner is the real fallback
DEADLINE_GRACE_S = 5.0  # the calling thread stops waiting this long after the step timeout, whatever the loop does


class GuardrailTripped(RuntimeError):
    """A guardrail rejected the step; the message names it and says what it found."""


class StepTimedOut(TimeoutError):
    """The step did not finish within ``LLMConfig.step_timeout_s``."""


def chat_completions_model(config: LLMConfig, client: AsyncOpenAI) -> Model:
    """The production model: ``config.model`` on any OpenAI-compatible chat-completions server."""
    return OpenAIChatCompletionsModel(model=config.model, openai_client=client)


# Builds the model for a run; tests replace it with one returning a scripted model.
model_factory: Callable[[LLMConfig, AsyncOpenAI], Model] = chat_completions_model


def run_step(ctx: StepContext, *, config: LLMConfig, on_progress: ProgressCallback) -> StepOutcome:
    """Run one step with the agents; the outputs are what the tools returned, the summary is the
    agent's explanation. Raises on any failure (with ``.usage`` once tokens were spent)."""
    bridge = _LoopBridge()
    progress: list[str] = []

    def say(message: str) -> None:
        progress.append(message)
        bridge.post(on_progress, message)

    run_ctx = SeasonRunContext.for_step(ctx, work=bridge.work, say=say)
    run = bridge.start_loop(functools.partial(_run, run_ctx, config))
    try:
        bridge.serve(within_s=config.step_timeout_s + DEADLINE_GRACE_S)
        result = run.result()
    except Exception as exc:
        usage = _usage_dict(run_ctx)
        if usage["requests"]:
            exc.usage = usage  # type: ignore[attr-defined]  (read by runner.run_step)
        raise
    summary = str(result.final_output).strip()
    if len(summary) > SUMMARY_MAX_CHARS:
        summary = summary[: SUMMARY_MAX_CHARS - 1].rstrip() + "…"
    return StepOutcome(
        outputs={key: run_ctx.outputs[key] for key in STEP_OUTPUTS[ctx.step]},
        summary=summary,
        runner="llm",
        usage=_usage_dict(run_ctx),
        progress=progress,
    )


async def _run(run_ctx: SeasonRunContext, config: LLMConfig) -> Any:
    """The SDK run, bounded in time and turns, with SDK failures turned into planner-readable ones."""
    client = AsyncOpenAI(api_key=config.api_key, base_url=config.base_url or None,
                         timeout=config.step_timeout_s, max_retries=CLIENT_MAX_RETRIES)
    try:
        run_config = RunConfig(
            model=model_factory(config, client),
            tracing_disabled=not config.tracing,
            tracing={"api_key": config.api_key} if config.tracing else None,
            workflow_name=f"Season plan: {run_ctx.step}",
        )
        return await asyncio.wait_for(
            Runner.run(ORCHESTRATOR, step_brief(run_ctx), context=run_ctx, max_turns=config.max_turns,
                       hooks=_StepHooks(), run_config=run_config),
            timeout=config.step_timeout_s,
        )
    except TimeoutError as exc:
        raise StepTimedOut(f"no answer within {config.step_timeout_s:g}s") from exc
    except OutputGuardrailTripwireTriggered as exc:
        result = exc.guardrail_result
        raise GuardrailTripped(f"{result.guardrail.get_name()}: {result.output.output_info}") from exc
    except (ToolInputGuardrailTripwireTriggered, ToolOutputGuardrailTripwireTriggered) as exc:
        raise GuardrailTripped(f"{exc.guardrail.get_name()}: {exc.output.output_info}") from exc
    finally:
        await client.close()


class _StepHooks(RunHooks[SeasonRunContext]):
    """Keeps the run's token counter in the context (so a failed run still reports what it spent)
    and tells the planner which agent took the step."""

    async def on_llm_start(self, context: RunContextWrapper[SeasonRunContext], agent: Agent[Any],
                           system_prompt: str | None, input_items: list[Any]) -> None:
        context.context.usage = context.usage

    async def on_handoff(self, context: RunContextWrapper[SeasonRunContext], from_agent: Agent[Any],
                         to_agent: Agent[Any]) -> None:
        context.context.say(f"{from_agent.name} handed the {context.context.step} step to the {to_agent.name} agent")


def _usage_dict(run_ctx: SeasonRunContext) -> dict:
    usage = run_ctx.usage
    return {"requests": usage.requests, "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens, "total_tokens": usage.total_tokens}


_RUN_ENDED = object()


class _LoopBridge:
    """Connects the run's event loop, in a helper thread, with the thread that called
    ``run_step``, which serves the loop's tool computations and progress callbacks."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()

    def start_loop(self, coroutine_function: Callable[[], Any]) -> concurrent.futures.Future:
        """Run the coroutine in a fresh event loop on a daemon thread; the future holds its result."""
        run: concurrent.futures.Future = concurrent.futures.Future()

        def main() -> None:
            try:
                run.set_result(asyncio.run(coroutine_function()))
            except BaseException as exc:  # noqa: BLE001  (handed to the calling thread)
                run.set_exception(exc)
            finally:
                self._jobs.put(_RUN_ENDED)

        threading.Thread(target=main, name="season-agents-run", daemon=True).start()
        return run

    async def work(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """From the loop: run ``fn`` on the calling thread and await its result."""
        future: concurrent.futures.Future = concurrent.futures.Future()
        self._jobs.put((functools.partial(fn, *args, **kwargs), future))
        return await asyncio.wrap_future(future)

    def post(self, fn: Callable[..., Any], /, *args: Any) -> None:
        """From the loop: run ``fn`` on the calling thread, without waiting."""
        self._jobs.put((functools.partial(fn, *args), None))

    def serve(self, *, within_s: float) -> None:
        """On the calling thread: run the jobs until the run ends. After ``within_s`` stop waiting
        for a loop that stopped answering (a tool already running here finishes first)."""
        deadline = time.monotonic() + within_s
        while True:
            try:
                job = self._jobs.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise StepTimedOut(f"the run did not end within {within_s:g}s") from None
            if job is _RUN_ENDED:
                return
            call, future = job
            if future is None:
                call()
            elif future.set_running_or_notify_cancel():
                try:
                    future.set_result(call())
                except Exception as exc:  # noqa: BLE001  (raised in the tool, inside the run)
                    future.set_exception(exc)
