"""What a brain uses to act on the run: tool calls that leave evidence in the state, each one
announced on the event stream (`tool_called`, then `evidence_recorded` or `tool_failed`)."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any, TypeVar

from rootcause.core.errors import BadInputError
from rootcause.core.evidence import clip_args
from rootcause.investigate.cancel import CancelToken
from rootcause.investigate.events import (
    EventSink,
    EvidenceRecorded,
    InvestigationEvent,
    ToolCalled,
    ToolFailed,
)
from rootcause.tools.base import In, Out, Tool, ToolOutput
from rootcause.tools.context import ToolContext
from rootcause.tools.registry import ToolResult, call_tool, run_tool

OutputT = TypeVar("OutputT", bound=ToolOutput)


class ToolDisabledError(BadInputError):
    """A brain called a tool that this investigation runs without (an ablation)."""


def _drop(_event: InvestigationEvent) -> None:
    """The sink of a toolbox nobody watches."""


class Toolbox:
    """Calls registry tools on one run; evidence goes to the context's log, which the protocol
    copies into the checkpointed state after each step. Tools named in `disabled` refuse to
    run (ablations: which tools carry an investigation's accuracy). Each call first checks
    `cancel`, so a cancelled job stops between tool calls."""

    def __init__(
        self,
        ctx: ToolContext,
        on_event: EventSink | None = None,
        disabled: Collection[str] = (),
        cancel: CancelToken | None = None,
    ):
        self.ctx = ctx
        self.emit: EventSink = on_event or _drop
        self.disabled = frozenset(disabled)
        self.cancel = cancel or CancelToken()
        self.calls = 0

    def run(self, tool: Tool[In, Out], args: In) -> tuple[Out, str]:
        """Call `tool` with its typed input; its typed output and evidence id (how a brain
        calls a tool: `box.run(detect, DetectInput(behavior=spec))`)."""
        arguments = args.model_dump(exclude_unset=True, exclude_none=True)
        result = self._announced(tool.name, arguments, lambda: run_tool(self.ctx, tool, args))
        return result.output, result.evidence.id

    def call(self, name: str, **args: Any) -> ToolResult[ToolOutput]:
        """Call tool `name` with arguments to validate (a model's or a user's call, by name)."""
        arguments = {k: v for k, v in args.items() if v is not None}
        return self._announced(name, arguments, lambda: call_tool(self.ctx, name, arguments))

    def _announced(
        self, name: str, arguments: dict[str, Any], invoke: Callable[[], ToolResult[OutputT]]
    ) -> ToolResult[OutputT]:
        """Run one call, unless disabled or cancelled, between its events."""
        if name in self.disabled:
            raise ToolDisabledError(f"tool {name} is disabled in this run")
        self.cancel.check()
        evidence_id = self.ctx.evidence.next_id()
        self.emit(ToolCalled(evidence_id=evidence_id, tool=name, arguments=clip_args(arguments)))
        try:
            result = invoke()
        except Exception as exc:
            self.emit(ToolFailed(evidence_id=evidence_id, tool=name, error=_message(exc)))
            raise
        self.calls += 1
        self.emit(EvidenceRecorded(evidence=result.evidence))
        self.finished(result)
        return result

    def finished(self, result: ToolResult[Any]) -> None:
        """A call finished and its evidence is recorded (the chat's toolbox shows it)."""

    def refused(self, tool: str, error: str) -> None:
        """A call refused before it reached a tool (arguments that do not parse, a ledger
        answer that does not hold)."""
        self.emit(ToolFailed(evidence_id=None, tool=tool, error=error))


def _message(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
