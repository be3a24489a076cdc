"""What a brain uses to act on the run: tool calls that leave evidence in the state, each one
announced on the event stream (`tool_called`, then `evidence_recorded` or `tool_failed`)."""

from __future__ import annotations

from collections.abc import Collection
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
from rootcause.tools.base import ToolOutput
from rootcause.tools.context import ToolContext
from rootcause.tools.registry import ToolResult, call_tool

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

    def call(self, name: str, **args: Any) -> ToolResult:
        if name in self.disabled:
            raise ToolDisabledError(f"tool {name} is disabled in this run")
        self.cancel.check()
        arguments = {k: v for k, v in args.items() if v is not None}
        evidence_id = self.ctx.evidence.next_id()
        self.emit(ToolCalled(evidence_id=evidence_id, tool=name, arguments=clip_args(arguments)))
        try:
            result = call_tool(self.ctx, name, arguments)
        except Exception as exc:
            self.emit(ToolFailed(evidence_id=evidence_id, tool=name, error=_message(exc)))
            raise
        self.calls += 1
        self.emit(EvidenceRecorded(evidence=result.evidence))
        return result

    def refused(self, tool: str, error: str) -> None:
        """A call refused before it reached a tool (arguments that do not parse, a ledger
        answer that does not hold)."""
        self.emit(ToolFailed(evidence_id=None, tool=tool, error=error))

    def output(self, name: str, model: type[OutputT], **args: Any) -> tuple[OutputT, str]:
        """Call a tool and return its typed output and evidence id."""
        result = self.call(name, **args)
        assert isinstance(result.output, model), type(result.output)
        return result.output, result.evidence.id


def _message(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
