"""One protocol step run by the model: the agent, the hooks that count and log every model call,
and the step's one corrective turn.

A step runs in one event loop of its own (`asyncio.run`), with a model built for that loop and
closed at its end, so no connection outlives its loop (servers keep connections open) and the
step may run in any thread. When the model ends the step without what the step needs (a
settled detector, hypotheses, a recorded result, a conclusion), or its turn fails (a reply cut
off at the output limit, an answer that does not parse, too many turns), it gets one
corrective turn saying what is missing; what is still missing after it is returned as the
step's failure for the brain to record.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any

from rootcause.investigate.events import ModelText, ModelTurn, StepFailed
from rootcause.investigate.llm.session import BudgetExceeded, Session, stop_cause

if TYPE_CHECKING:
    from agents import Agent, FunctionTool, Model, ModelResponse, RunContextWrapper, RunHooks

    from rootcause.investigate.llm.guard import GuardedModel

logger = logging.getLogger(__name__)

#: Model turns the corrective run of a step may take.
CORRECTIVE_TURNS = 4
#: Characters per token, for estimates where the server reports no usage.
CHARS_PER_TOKEN = 4

#: Builds the model of one event loop and the coroutine function that closes it.
ModelFactory = Callable[[], "tuple[Model, Callable[[], Any]]"]


@dataclass(frozen=True)
class Missing:
    """What a finished run still lacks: `what` for the report, `ask` for the model."""

    what: str
    ask: str


#: What a finished run still lacks, or None.
Need = Callable[["PhaseOutcome"], Missing | None]


@dataclass
class PhaseOutcome:
    """How a run of the agent ended: its final output, the conversation so far, and why its
    last turn failed (None if the run finished normally)."""

    final_output: Any
    items: list[Any]
    failure: str | None = None


@dataclass
class StepResult:
    """A step's last outcome, and what it still lacks after its corrective turn (None: done)."""

    outcome: PhaseOutcome
    missing: str | None


def prompt(name: str) -> str:
    """A Markdown prompt shipped in `rootcause/prompts/`."""
    return (resources.files("rootcause") / "prompts" / f"{name}.md").read_text(encoding="utf-8")


def instructions(phase: str) -> str:
    return prompt("investigator") + "\n\n" + prompt(phase)


def estimate_tokens(*parts: Any) -> int:
    """A rough token count (characters / 4) of strings and JSON-able values."""
    chars = sum(len(p) if isinstance(p, str) else len(json.dumps(p, default=str)) for p in parts)
    return chars // CHARS_PER_TOKEN


def opening_tokens(phase: str, task: str | list[Any], tools: list[FunctionTool]) -> int:
    """About how many tokens the step's first request sends: instructions, task, tools."""
    schemas = [(t.name, t.description, t.params_json_schema) for t in tools]
    return estimate_tokens(instructions(phase), task, schemas)


def _hooks(session: Session, model: GuardedModel) -> RunHooks[Any]:
    from agents import RunHooks

    class Hooks(RunHooks[Any]):
        """Budget checks before each model call; usage, cost, log and events after it."""

        started = 0.0
        sent_tokens = 0

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
            self.sent_tokens = estimate_tokens(system_prompt or "", input_items)
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
            output = [_dump(item) for item in response.output]
            tokens_in, tokens_out = response.usage.input_tokens, response.usage.output_tokens
            estimated = tokens_in == 0 and tokens_out == 0
            if estimated:  # the server reported no usage: count something, not nothing
                tokens_in, tokens_out = self.sent_tokens, estimate_tokens(output)
            cost = session.add_usage(tokens_in, tokens_out)
            session.log.write(
                "model",
                phase=session.phase,
                turn=session.turns,
                model=session.model_name,
                seconds=round(time.perf_counter() - self.started, 3),
                tokens_in=tokens_in,
                tokens_out=tokens_out,
                usage="estimated" if estimated else "reported",
                finish_reason=model.finish_reason,
                cost_usd=round(cost, 6),
                output=output,
            )
            stats = session.state.stats
            calls, text = _calls_and_text(output)
            session.emit(
                ModelTurn(
                    phase=session.phase,
                    turn=session.turns,
                    tokens_in=tokens_in,
                    tokens_out=tokens_out,
                    usage_estimated=estimated,
                    tokens_in_total=stats.tokens_in,
                    tokens_out_total=stats.tokens_out,
                    cost_usd_total=stats.cost_usd,
                    calls=calls,
                    text=text,
                    finish_reason=model.finish_reason,
                )
            )

    return Hooks()


def _dump(item: Any) -> Any:
    dump = getattr(item, "model_dump", None)
    return dump(mode="json", exclude_none=True) if callable(dump) else item


def _calls_and_text(output: list[Any]) -> tuple[list[str], str]:
    """The tools a model turn called and the text it wrote (its output items, dumped)."""
    calls = [
        str(o.get("name"))
        for o in output
        if isinstance(o, dict) and o.get("type") == "function_call"
    ]
    texts = [
        str(c.get("text", ""))
        for o in output
        if isinstance(o, dict) and o.get("type") == "message"
        for c in o.get("content", [])
        if isinstance(c, dict)
    ]
    return calls, "\n".join(t for t in texts if t)


def corrective_message(what: str, ask: str) -> str:
    return (
        f"Your step is not done: {what}. {ask} This is your last chance in this step: do only "
        "that, briefly."
    )


def run_phase(
    session: Session,
    factory: ModelFactory,
    task: str | list[Any],
    tools: list[FunctionTool],
    need: Need,
    max_turns: int = 12,
    done: Callable[[], bool] | None = None,
) -> StepResult:
    """Run the agent for `session.phase` on `task` (a message, or a conversation to continue),
    with one corrective turn if `need` says something is missing.

    Stops early when `done()` turns true after a tool call. Raises `BudgetExceeded`, or a
    one-line `RootcauseError` for a server that fails, or `JobCancelled`."""
    from agents import set_tracing_disabled

    o = session.options
    set_tracing_disabled(not o.trace)
    session.log.write(
        "phase",
        phase=session.phase,
        instructions=instructions(session.phase),
        task=task if isinstance(task, str) else task[-1:],
        request_tokens_est=opening_tokens(session.phase, task, tools),
    )
    timeout = session.remaining_wall()
    if timeout <= 0:
        raise BudgetExceeded(f"wall time ({o.wall_time_s:g} s)")
    step = _Step(session, factory, tools, need, done)
    try:
        return asyncio.run(asyncio.wait_for(step.run(task, max_turns), timeout=timeout))
    except TimeoutError:
        raise BudgetExceeded(f"wall time ({o.wall_time_s:g} s)") from None
    except Exception as exc:
        stop = stop_cause(exc)
        if stop is not None:
            raise stop from None
        raise


class _Step:
    """The runs of one step inside its event loop."""

    def __init__(
        self,
        session: Session,
        factory: ModelFactory,
        tools: list[FunctionTool],
        need: Need,
        done: Callable[[], bool] | None,
    ) -> None:
        self.session, self.factory, self.tools = session, factory, tools
        self.need, self.done = need, done

    async def run(self, task: str | list[Any], max_turns: int) -> StepResult:
        from rootcause.investigate.llm.guard import GuardedModel

        s = self.session
        inner, close = self.factory()
        model = GuardedModel(inner, s.options, s.provider, s.log, s.emit)
        model.phase = s.phase
        try:
            outcome = await self._attempt(model, task, max_turns)
            missing = self.need(outcome)
            if missing is None:
                return StepResult(outcome, None)
            what = _what(outcome, missing)
            message = corrective_message(what, missing.ask)
            s.log.write("corrective", phase=s.phase, message=message)
            s.emit(StepFailed(step=s.phase, reason=what, corrective=True))
            retry = [*outcome.items, {"role": "user", "content": message}]
            second = await self._attempt(model, retry, CORRECTIVE_TURNS)
            missing = self.need(second)
            return StepResult(second, None if missing is None else _what(second, missing))
        finally:
            result = close()
            if asyncio.iscoroutine(result):
                await result

    async def _attempt(
        self, model: GuardedModel, task: str | list[Any], max_turns: int
    ) -> PhaseOutcome:
        from agents import MaxTurnsExceeded, ModelBehaviorError, Runner

        from rootcause.investigate.llm.guard import CutOff

        s = self.session
        agent, config = self._agent(model)
        hooks = _hooks(s, model)
        try:
            if s.options.stream:
                streamed = Runner.run_streamed(
                    agent, task, run_config=config, hooks=hooks, max_turns=max_turns
                )
                async for event in streamed.stream_events():
                    delta = _text_delta(event)
                    if delta:
                        s.emit(ModelText(phase=s.phase, delta=delta))
                return PhaseOutcome(streamed.final_output, streamed.to_input_list())
            result = await Runner.run(
                agent, task, run_config=config, hooks=hooks, max_turns=max_turns
            )
            return PhaseOutcome(result.final_output, result.to_input_list())
        except MaxTurnsExceeded as exc:
            return _failed(exc, task, f"the step took more than {max_turns} model turns")
        except CutOff as exc:
            return _failed(exc, task, str(exc))
        except ModelBehaviorError as exc:
            return _failed(exc, task, f"the reply could not be used ({exc})")

    def _agent(self, model: Model) -> tuple[Agent[Any], Any]:
        from agents import Agent, ModelSettings, RunConfig, ToolsToFinalOutputResult

        s, done = self.session, self.done

        def stop_when_done(_ctx: Any, _results: Any) -> ToolsToFinalOutputResult:
            if done is not None and done():
                return ToolsToFinalOutputResult(is_final_output=True, final_output="done")
            return ToolsToFinalOutputResult(is_final_output=False)

        agent: Agent[Any] = Agent(
            name="rootcause-investigator",
            instructions=instructions(s.phase),
            tools=list(self.tools),
            tool_use_behavior=stop_when_done if done is not None else "run_llm_again",
        )
        settings = ModelSettings(
            max_tokens=s.options.max_output_tokens,
            temperature=s.options.temperature,
            include_usage=True if s.options.stream else None,
        )
        config = RunConfig(
            model=model,
            model_settings=settings,
            tracing_disabled=not s.options.trace,
            workflow_name=f"rootcause {s.state.spec.id}",
            tool_not_found_behavior="return_error_to_model",
        )
        return agent, config


def _text_delta(event: Any) -> str | None:
    """The text a streamed response event adds to the model's message, if any."""
    if getattr(event, "type", None) != "raw_response_event":
        return None
    data = getattr(event, "data", None)
    if getattr(data, "type", None) != "response.output_text.delta":
        return None
    delta = getattr(data, "delta", None)
    return delta if isinstance(delta, str) else None


def _what(outcome: PhaseOutcome, missing: Missing) -> str:
    return f"{outcome.failure}; {missing.what}" if outcome.failure else missing.what


def _failed(exc: Exception, task: str | list[Any], reason: str) -> PhaseOutcome:
    """The conversation up to a failed turn (from the SDK's error details) and why it failed."""
    data = getattr(exc, "run_data", None)
    if data is None:
        items = [{"role": "user", "content": task}] if isinstance(task, str) else list(task)
    else:
        start = data.input
        items = [{"role": "user", "content": start}] if isinstance(start, str) else list(start)
        items += [item.to_input_item() for item in data.new_items]
    return PhaseOutcome(None, items, failure=reason)
