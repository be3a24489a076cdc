"""One model run of one protocol step: the agent, the hooks that count and log every model call,
retries on rate limits and server errors, and provider errors turned into one-line errors."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any

from rootcause.core.errors import BadInputError, RootcauseError
from rootcause.investigate.llm.config import Provider, unreachable
from rootcause.investigate.llm.session import BudgetExceeded, Session, budget_cause

if TYPE_CHECKING:
    from agents import Agent, FunctionTool, ModelResponse, RunContextWrapper, RunHooks

logger = logging.getLogger(__name__)

#: HTTP statuses retried by the runner (on top of the OpenAI client's own retries).
RETRY_STATUSES = (408, 409, 429, 500, 502, 503, 504)


class PhaseFailed(Exception):
    """The model did not finish a step (too many turns, or an answer that does not parse)."""


@dataclass
class PhaseOutcome:
    final_output: Any
    items: list[Any]


def prompt(name: str) -> str:
    """A Markdown prompt shipped in `rootcause/prompts/`."""
    return (resources.files("rootcause") / "prompts" / f"{name}.md").read_text(encoding="utf-8")


def instructions(phase: str) -> str:
    return prompt("investigator") + "\n\n" + prompt(phase)


def _hooks(session: Session) -> RunHooks[Any]:
    from agents import RunHooks

    class Hooks(RunHooks[Any]):
        """Budget checks before each model call; usage, cost, log and events after it."""

        started = 0.0

        async def on_llm_start(
            self,
            context: RunContextWrapper[Any],
            agent: Agent[Any],
            system_prompt: str | None,
            input_items: list[Any],
        ) -> None:
            session.check_model()
            turn = session.count_turn()
            self.started = time.perf_counter()
            session.log.write(
                "model_request",
                phase=session.phase,
                turn=turn,
                items=len(input_items),
                last=input_items[-1] if input_items else None,
            )

        async def on_llm_end(
            self, context: RunContextWrapper[Any], agent: Agent[Any], response: ModelResponse
        ) -> None:
            usage = response.usage
            cost = session.add_usage(usage.input_tokens, usage.output_tokens)
            output = [_dump(item) for item in response.output]
            session.log.write(
                "model",
                phase=session.phase,
                turn=session.turns,
                model=session.model_name,
                seconds=round(time.perf_counter() - self.started, 3),
                tokens_in=usage.input_tokens,
                tokens_out=usage.output_tokens,
                cost_usd=round(cost, 6),
                output=output,
            )
            session.emit("model", _describe(session.turns, usage, output))

    return Hooks()


def _dump(item: Any) -> Any:
    dump = getattr(item, "model_dump", None)
    return dump(mode="json", exclude_none=True) if callable(dump) else item


def _describe(turn: int, usage: Any, output: list[Any]) -> str:
    calls = [
        o.get("name") for o in output if isinstance(o, dict) and o.get("type") == "function_call"
    ]
    texts = [
        c.get("text", "")
        for o in output
        if isinstance(o, dict) and o.get("type") == "message"
        for c in o.get("content", [])
        if isinstance(c, dict)
    ]
    what = f"calls {', '.join(str(c) for c in calls)}" if calls else " ".join(texts).strip()
    what = " ".join(what.split())
    if len(what) > 140:
        what = what[:139] + "…"
    return f"turn {turn} ({usage.input_tokens:,} in, {usage.output_tokens:,} out): {what}"


def run_phase(
    session: Session,
    provider: Provider | None,
    task: str | list[Any],
    tools: list[FunctionTool],
    output_type: type[Any] | None = None,
    max_turns: int = 12,
    done: Callable[[], bool] | None = None,
) -> PhaseOutcome:
    """Run the agent for `session.phase` on `task` (a message, or a conversation to continue).

    Stops early when `done()` turns true after a tool call. Raises `BudgetExceeded`,
    `PhaseFailed`, or a one-line `RootcauseError` for a provider that fails."""
    from agents import (
        Agent,
        MaxTurnsExceeded,
        ModelBehaviorError,
        ModelRetrySettings,
        ModelSettings,
        RunConfig,
        ToolsToFinalOutputResult,
        retry_policies,
        set_tracing_disabled,
    )

    o = session.options
    set_tracing_disabled(not o.trace)

    def stop_when_done(_ctx: Any, _results: Any) -> ToolsToFinalOutputResult:
        if done is not None and done():
            return ToolsToFinalOutputResult(is_final_output=True, final_output="done")
        return ToolsToFinalOutputResult(is_final_output=False)

    agent: Agent[Any] = Agent(
        name="rootcause-investigator",
        instructions=instructions(session.phase),
        tools=list(tools),
        output_type=output_type,
        tool_use_behavior=stop_when_done if done is not None else "run_llm_again",
    )
    settings = ModelSettings(
        retry=ModelRetrySettings(
            max_retries=o.model_retries,
            backoff={"initial_delay": o.retry_delay_s, "max_delay": 30.0, "multiplier": 2.0},
            policy=retry_policies.http_status(RETRY_STATUSES),
        )
    )
    config = RunConfig(
        model=session.model,
        model_settings=settings,
        tracing_disabled=not o.trace,
        workflow_name=f"rootcause {session.state.spec.id}",
        tool_not_found_behavior="return_error_to_model",
    )
    session.log.write(
        "phase",
        phase=session.phase,
        instructions=agent.instructions,
        task=task if isinstance(task, str) else task[-1:],
    )
    timeout = session.remaining_wall()
    if timeout <= 0:
        raise BudgetExceeded(f"wall time ({o.wall_time_s:g} s)")
    try:
        return asyncio.run(_run(agent, task, config, _hooks(session), max_turns, o.stream, timeout))
    except TimeoutError:
        raise BudgetExceeded(f"wall time ({o.wall_time_s:g} s)") from None
    except MaxTurnsExceeded:
        raise PhaseFailed(f"the {session.phase} step took more than {max_turns} turns") from None
    except ModelBehaviorError as exc:
        raise PhaseFailed(f"the model's answer did not fit: {exc}") from None
    except Exception as exc:
        budget = budget_cause(exc)
        if budget is not None:
            raise budget from None
        raise provider_error(exc, provider) from exc


async def _run(
    agent: Agent[Any],
    task: str | list[Any],
    config: Any,
    hooks: RunHooks[Any],
    max_turns: int,
    stream: bool,
    timeout: float,
) -> PhaseOutcome:
    from agents import Runner

    async def go() -> PhaseOutcome:
        if stream:
            streamed = Runner.run_streamed(
                agent, task, run_config=config, hooks=hooks, max_turns=max_turns
            )
            async for _event in streamed.stream_events():
                pass
            return PhaseOutcome(streamed.final_output, streamed.to_input_list())
        result = await Runner.run(agent, task, run_config=config, hooks=hooks, max_turns=max_turns)
        return PhaseOutcome(result.final_output, result.to_input_list())

    return await asyncio.wait_for(go(), timeout=timeout)


def provider_error(exc: BaseException, provider: Provider | None) -> BaseException:
    """One line for what went wrong talking to the model; other errors pass through."""
    import openai

    where = provider.label if provider else "the model"
    if isinstance(exc, openai.APIConnectionError | openai.APITimeoutError):
        if provider is not None:
            return unreachable(provider, exc)
        return RootcauseError(f"cannot reach {where}: {exc}")
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        return BadInputError(f"{where}: the server refused the API key ({exc.status_code})")
    if isinstance(exc, openai.NotFoundError):
        return BadInputError(f"{where}: not found on the server (404); check --model")
    if isinstance(exc, openai.APIStatusError):
        message = " ".join(str(exc.message).split())[:200]
        return RootcauseError(f"{where}: the server answered {exc.status_code}: {message}")
    if isinstance(exc, RootcauseError):
        return exc
    return exc
