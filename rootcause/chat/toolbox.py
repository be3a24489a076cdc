"""Tool calls made in a chat session (slash commands and the chat agent), as blocks.

`ChatToolbox` is the investigation's `Toolbox` (evidence in the session's log, the same events,
the cancel check before each call) that also hands each finished call to the session as a
`ToolBlock`: the full rendered output and the plot, which an evidence record does not keep.
Events of the toolbox, the ledger and the model are turned into session updates here.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from rootcause.chat.entries import (
    SESSION,
    AgentText,
    LedgerChange,
    Notice,
    TextDelta,
    ToolBlock,
    ToolStarted,
    Update,
)
from rootcause.core.untrusted import prose
from rootcause.investigate.cancel import CancelToken
from rootcause.investigate.events import (
    BudgetStopped,
    HypothesisChanged,
    InvestigationEvent,
    ModelRetry,
    ModelText,
    ModelTurn,
    StepFailed,
    ToolCalled,
    ToolFailed,
)
from rootcause.investigate.toolbox import Toolbox
from rootcause.tools.base import ToolOutput
from rootcause.tools.context import ToolContext
from rootcause.tools.plotting import drawable, sanitised
from rootcause.tools.registry import ToolResult

UpdateSink = Callable[[Update], None]

#: What to do after a tool error, said under its block.
TOOL_HINT = "/help {tool} lists its arguments; fix them and send the command again."


def tool_block(result: ToolResult[ToolOutput], asked: bool = False) -> ToolBlock:
    """The block of a finished call: its output without the `[evidence En]` line (the block's
    title carries the id) and its plot; `asked`: the user asked for it by a slash command."""
    text = result.text
    header = f"[evidence {result.evidence.id}]\n"
    spec = drawable(result.output.plot_spec())
    return ToolBlock(
        evidence_id=result.evidence.id,
        tool=result.evidence.tool,
        arguments=result.evidence.args,
        text=text.removeprefix(header),
        figures=result.evidence.figures,
        plot=None if spec is None else sanitised(spec),
        plot_png=result.evidence.plot,
        asked=asked,
    )


class TextReconciler:
    """Streamed text and whole replies, shown once.

    The model's whole reply for a turn (`model_turn`) can reach us before the last streamed
    pieces of the same text (the stream is read by another task than the one that runs the
    turn). Pieces already covered by a whole reply are dropped, so a face that shows both
    never shows text twice."""

    def __init__(self) -> None:
        self.received = ""
        self.expected = ""

    def delta(self, piece: str) -> str | None:
        """The piece to show, or None when a whole reply already carried it."""
        if self.expected:
            if self.expected.startswith(piece):
                self.expected = self.expected[len(piece) :]
                return None
            self.expected = ""
        self.received += piece
        return piece

    def whole(self, text: str) -> None:
        self.expected = text[len(self.received) :] if text.startswith(self.received) else ""
        self.received = ""


class EventTranslator:
    """Turns the events of the session's toolbox, ledger and chat agent into updates."""

    def __init__(self, emit: UpdateSink) -> None:
        self.emit = emit
        self.text = TextReconciler()
        self._arguments: dict[str | None, dict[str, Any]] = {}
        self.on_model_turn: Callable[[ModelTurn], None] | None = None

    def __call__(self, event: InvestigationEvent) -> None:
        match event:
            case ToolCalled():
                self._arguments[event.evidence_id] = event.arguments
                self.emit(ToolStarted(event.tool, event.evidence_id, event.arguments, SESSION))
            case ToolFailed():
                self.emit(
                    ToolBlock(
                        evidence_id=event.evidence_id,
                        tool=event.tool,
                        arguments=self._arguments.pop(event.evidence_id, {}),
                        error=event.error,
                        hint=TOOL_HINT.format(tool=event.tool),
                    )
                )
            case HypothesisChanged():
                self.emit(LedgerChange(event=event))
            case ModelText():
                shown = self.text.delta(event.delta)
                if shown:
                    self.emit(TextDelta(prose(shown)))  # model-written: the one sanitiser
            case ModelTurn():
                if event.text.strip():
                    self.text.whole(event.text)
                    self.emit(AgentText(text=prose(event.text)))
                if self.on_model_turn is not None:
                    self.on_model_turn(event)
            case ModelRetry():
                what = f"answered {event.status}" if event.status else "dropped the connection"
                self.emit(
                    Notice(
                        level="info",
                        text=f"the model server {what}; retry {event.attempt} of "
                        f"{event.retries} in {event.delay_s:g} s",
                    )
                )
            case StepFailed() if not event.corrective:
                self.emit(Notice(level="error", text=f"the turn failed: {event.reason}"))
            case BudgetStopped():
                self.emit(
                    Notice(
                        level="error",
                        text=f"stopped on budget: {event.reason}",
                        hint="raise it with the option of the same name (see rootcause chat "
                        "--help) or ask a narrower question",
                    )
                )


class ChatToolbox(Toolbox):
    """A toolbox whose finished calls also become `ToolBlock`s."""

    def __init__(
        self,
        ctx: ToolContext,
        translator: EventTranslator,
        cancel: CancelToken | None = None,
        disabled: Collection[str] = (),
        asked: bool = False,
    ):
        super().__init__(ctx, translator, disabled, cancel)
        self.translator = translator
        #: Its calls are the user's slash commands (their blocks show open).
        self.asked = asked

    def finished(self, result: ToolResult[Any]) -> None:
        self.translator.emit(tool_block(result, self.asked))
