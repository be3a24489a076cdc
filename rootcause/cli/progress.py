"""An investigation's progress on stderr: one subscriber to the typed event stream, one line
per event (a label, then what happened).

Streamed text deltas (`model_text`) are not printed piece by piece: the `model` line of each
turn shows what the model wrote or called. The start says nothing before the first step (the
summary names the investigation), and a failure is printed by the CLI's error boundary (one
`error:` line), so `investigation_started` and `investigation_failed` add nothing here.
Every line passes through the one sanitiser (`rootcause.core.untrusted.visible`): model
text and tool arguments are written by a model, so control characters are shown, never sent."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from rootcause.core.untrusted import visible
from rootcause.investigate.events import (
    BudgetStopped,
    ConclusionRejected,
    DetectorSettled,
    EvidenceRecorded,
    HypothesisChanged,
    InvestigationCancelled,
    InvestigationEvent,
    InvestigationFinished,
    ModelRetry,
    ModelTurn,
    PhaseStarted,
    StepFailed,
    ToolCalled,
    ToolFailed,
)

#: How each label shows.
STYLES = {
    "phase": "bold",
    "detector": "bold",
    "hypothesis": "cyan",
    "tool": "dim",
    "result": "dim",
    "model": "magenta",
    "budget": "yellow",
    "grounding": "red",
    "failed": "red",
    "retry": "yellow",
    "finished": "bold",
    "cancelled": "yellow",
}
#: Longest text shown after a label (arguments, summaries, model text).
LINE_CHARS = 140


def _short(text: str, limit: int = LINE_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


#: Longest line printed (a bound on what a model or a run can put on the terminal).
MAX_LINE_CHARS = 600


def _arguments(arguments: dict[str, object]) -> str:
    return _short(" ".join(f"{k}={v}" for k, v in arguments.items()), 120)


def _hypothesis(e: HypothesisChanged) -> str:
    commit = f" @ {e.commit[:10]}" if e.commit else ""
    head = f"{e.id} {e.kind} {e.candidate}{commit}"
    if e.change == "proposed":
        return f"{head} proposed: {_short(e.statement, 100)}"
    note = f"; {_short(e.note, 100)}" if e.note else ""
    return f"{head}: {e.status} ({e.confidence:.2f}){note}"


def _model(e: ModelTurn) -> str:
    what = f"calls {', '.join(e.calls)}" if e.calls else _short(e.text) or "(empty reply)"
    return f"turn {e.turn} ({e.tokens_in:,} in, {e.tokens_out:,} out): {what}"


def describe(event: InvestigationEvent) -> tuple[str, str] | None:
    """The label and text of an event's line, or None for events not shown."""
    match event:
        case PhaseStarted():
            return "phase", event.phase + (f" {event.hypothesis}" if event.hypothesis else "")
        case DetectorSettled():
            b = event.behavior
            return "detector", f"{b.spec} ({b.direction})" if b else "not settled"
        case ToolCalled():
            return "tool", f"{event.evidence_id} {event.tool} {_arguments(event.arguments)}"
        case EvidenceRecorded():
            e = event.evidence
            return "result", f"{e.id} {e.tool}: {_short(e.summary)}"
        case ToolFailed():
            return "result", f"{event.tool} error: {_short(event.error)}"
        case HypothesisChanged():
            return "hypothesis", _hypothesis(event)
        case ModelTurn():
            return "model", _model(event)
        case ModelRetry():
            what = f"answered {event.status}" if event.status else "dropped the connection"
            retry = f"retry {event.attempt} of {event.retries} in {event.delay_s:g} s"
            return "retry", f"the server {what}; {retry}"
        case StepFailed():
            more = " (one corrective turn)" if event.corrective else ""
            return "failed", f"{event.step}: {_short(event.reason)}{more}"
        case ConclusionRejected():
            how = "kept as not grounded" if event.kept else "conclusion rejected"
            return "grounding", f"{how}: {_short('; '.join(event.problems))}"
        case BudgetStopped():
            return "budget", f"stopped on budget: {event.reason}; finishing from the ledger"
        case InvestigationFinished():
            return "finished", f"{event.verdict}: {len(event.findings)} finding(s)"
        case InvestigationCancelled():
            return "cancelled", f"in {event.phase}"
    return None


class StderrProgress:
    """Prints each event's line to the console (stderr)."""

    def __init__(self, console: Console):
        self.console = console

    def __call__(self, event: InvestigationEvent) -> None:
        line = describe(event)
        if line is None:
            return
        label, text = line
        # Model-written text, tool arguments and run labels reach this line: through the one
        # sanitiser, so no escape sequence acts on the terminal.
        text = visible(" ".join(text.split()), MAX_LINE_CHARS)
        style = STYLES.get(label, "")
        shown = f"[{style}]{label:10s}[/{style}]" if style else f"{label:10s}"
        self.console.print(f"{shown} {escape(text)}", markup=True)
