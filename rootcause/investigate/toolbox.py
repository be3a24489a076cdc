"""What a brain uses to act on the run: tool calls that leave evidence in the state."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any, TypeVar

from rootcause.core.errors import BadInputError
from rootcause.tools.base import ToolOutput
from rootcause.tools.context import ToolContext
from rootcause.tools.registry import ToolResult, call_tool

OutputT = TypeVar("OutputT", bound=ToolOutput)


@dataclass
class Event:
    """Something worth showing while an investigation runs (phase, tool call, hypothesis)."""

    kind: str
    message: str


EventSink = Callable[[Event], None]


class ToolDisabledError(BadInputError):
    """A brain called a tool that this investigation runs without (an ablation)."""


class Toolbox:
    """Calls registry tools on one run; evidence goes to the context's log, which the protocol
    copies into the checkpointed state after each step. Tools named in `disabled` refuse to
    run (ablations: which tools carry an investigation's accuracy)."""

    def __init__(
        self,
        ctx: ToolContext,
        on_event: EventSink | None = None,
        disabled: Collection[str] = (),
    ):
        self.ctx = ctx
        self._on_event = on_event
        self.disabled = frozenset(disabled)
        self.calls = 0

    def emit(self, kind: str, message: str) -> None:
        if self._on_event is not None:
            self._on_event(Event(kind, message))

    def call(self, name: str, **args: Any) -> ToolResult:
        if name in self.disabled:
            raise ToolDisabledError(f"tool {name} is disabled in this run")
        self.emit("tool", f"{name} {_short(args)}")
        result = call_tool(self.ctx, name, {k: v for k, v in args.items() if v is not None})
        self.calls += 1
        return result

    def output(self, name: str, model: type[OutputT], **args: Any) -> tuple[OutputT, str]:
        """Call a tool and return its typed output and evidence id."""
        result = self.call(name, **args)
        assert isinstance(result.output, model), type(result.output)
        return result.output, result.evidence.id


def _short(args: dict[str, Any]) -> str:
    text = " ".join(f"{k}={v}" for k, v in args.items() if v is not None)
    return text if len(text) < 120 else text[:117] + "..."
