"""What a chat session is made of: typed entries, each one block of the conversation.

A face renders a session from one stream: the entries (kept in the session's event log, so a
resumed session is rebuilt from them) and a few live updates that only matter while they
happen (streamed text, a tool call under way, what the engine is busy with, budget used).
Both are emitted by the chat engine in order; replaying the logged entries alone gives the
same blocks, evidence and hypotheses as the live session showed.

Tool blocks carry their owner: `""` for a call made in the session (a slash command or the
chat agent, with its evidence in the session's own log) or the id of an investigation run
from the session (its evidence ids are its own: `E3` of an investigation is not `E3` of the
session).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, TypeGuard

from pydantic import BaseModel, Field, TypeAdapter

from rootcause.core.evidence import Figure
from rootcause.investigate.events import HypothesisChanged, InvestigationEvent
from rootcause.tools.plotting import PlotSpec

#: The owner of what the session itself did (not an investigation run from it).
SESSION = ""


class _Entry(BaseModel):
    at: str = Field("", description="When it was logged (ISO 8601, UTC).")


class UserMessage(_Entry):
    """What the user typed: a slash command or free text."""

    type: Literal["user"] = "user"
    text: str


class AgentText(_Entry):
    """One Markdown block the chat agent wrote (whole; it may have streamed in first)."""

    type: Literal["agent"] = "agent"
    text: str


class ToolBlock(_Entry):
    """A tool call made in the session: its arguments and rendered output (sample text
    quoted as data), its plot, or the error that stopped it."""

    type: Literal["tool"] = "tool"
    owner: str = SESSION
    evidence_id: str | None = Field(description="None: refused before it ran.")
    tool: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    text: str = ""
    figures: dict[str, Figure] = Field(default_factory=dict)
    plot: PlotSpec | None = None
    plot_png: str | None = None
    error: str | None = None
    hint: str | None = Field(None, description="What to do next, for an error.")
    asked: bool = Field(
        False,
        description="The user asked for it by a slash command (a face shows it open); "
        "False for the chat agent's own calls.",
    )

    @property
    def ok(self) -> bool:
        return self.error is None


class Notice(_Entry):
    """A line from the engine: an error with what to do next, information, or help text."""

    type: Literal["notice"] = "notice"
    level: Literal["error", "info", "help"]
    text: str
    hint: str | None = None


class RemedyResult(_Entry):
    """What `/fix` or `/filter` wrote: its Markdown summary (the fix's, or the filter's
    counts and manifest path)."""

    type: Literal["remedy"] = "remedy"
    command: Literal["fix", "filter"]
    text: str


class ReadingOption(BaseModel):
    """One reading of a symptom the user may investigate: the detector, what it rests on, its
    hits and rates (first vs last quarter of samples) and a sample it marks (quoted as data)."""

    behavior: str
    basis: str
    hits: int
    rate_early: float
    rate_late: float
    sample_id: str = ""
    example: str = ""


class ReadingChoice(_Entry):
    """The symptom fits more than one behaviour about equally (or the chosen detector's check
    was weak): the readings, the one rootcause would take first; the user picks one to
    investigate (`/reading N`)."""

    type: Literal["choice"] = "choice"
    symptom: str
    why: str
    options: list[ReadingOption]


class InvestigationUpdate(_Entry):
    """An event of an investigation run from the session (`/investigate`)."""

    type: Literal["investigation"] = "investigation"
    number: int = Field(description="1 for the session's first investigation, and so on.")
    event: InvestigationEvent


class LedgerChange(_Entry):
    """A hypothesis the chat agent proposed or a result it recorded in the session's ledger."""

    type: Literal["ledger"] = "ledger"
    event: HypothesisChanged


class UsageTotals(_Entry):
    """Model use of the session so far, logged after each turn of the chat agent."""

    type: Literal["usage"] = "usage"
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    tool_calls: int = 0
    turns: int = 0


ChatEntry = Annotated[
    UserMessage
    | AgentText
    | ToolBlock
    | Notice
    | RemedyResult
    | ReadingChoice
    | InvestigationUpdate
    | LedgerChange
    | UsageTotals,
    Field(discriminator="type"),
]

_ADAPTER: TypeAdapter[ChatEntry] = TypeAdapter(ChatEntry)


def parse_entry(line: str | bytes) -> ChatEntry:
    """An entry from one line of a session's event log."""
    return _ADAPTER.validate_json(line)


# -- live updates: shown while they happen, never logged -------------------------------------


@dataclass(frozen=True)
class TextDelta:
    """A piece of the chat agent's reply as it streams in."""

    text: str


@dataclass(frozen=True)
class ToolStarted:
    """A tool call under way (its block opens before the result arrives)."""

    tool: str
    evidence_id: str | None
    arguments: dict[str, Any] = field(default_factory=dict)
    owner: str = SESSION


@dataclass(frozen=True)
class Working:
    """What the engine is busy with (`what` None: idle again)."""

    what: str | None


@dataclass(frozen=True)
class UsageLive:
    """Model use so far, the running turn included (for a face's header)."""

    tokens_in: int
    tokens_out: int
    cost_usd: float
    tool_calls: int


@dataclass(frozen=True)
class ShowReport:
    """Show this report (`/report`: a face's report view)."""

    path: Path


LiveUpdate = TextDelta | ToolStarted | Working | UsageLive | ShowReport
Update = ChatEntry | LiveUpdate


def is_entry(update: Update) -> TypeGuard[ChatEntry]:
    """True for what the session logs (an entry), False for a live update."""
    return isinstance(update, _Entry)
