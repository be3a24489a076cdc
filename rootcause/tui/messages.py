"""Messages the app's workers post to it (workers only post; the app changes the screen)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.message import Message

if TYPE_CHECKING:
    from rootcause.chat.engine import ChatEngine
    from rootcause.chat.entries import ChatEntry, Update


class EngineUpdate(Message):
    """An update of the chat engine, from whichever thread emitted it."""

    def __init__(self, update: Update) -> None:
        super().__init__()
        self.update = update


class IngestProgress(Message):
    """The opening ingest has read `rows` samples so far (from its `rows_read` events)."""

    def __init__(self, rows: int) -> None:
        super().__init__()
        self.rows = rows


class Opened(Message):
    """The session is open: its engine and the entries it already had."""

    def __init__(self, engine: ChatEngine, entries: list[ChatEntry]) -> None:
        super().__init__()
        self.engine = engine
        self.entries = entries


class Peeked(Message):
    """A tool called without recording evidence (for a tab) returned."""

    def __init__(self, purpose: str, output: Any, key: str = "") -> None:
        super().__init__()
        self.purpose = purpose
        self.output = output
        self.key = key


class PeekFailed(Message):
    def __init__(self, purpose: str, error: str, key: str = "") -> None:
        super().__init__()
        self.purpose = purpose
        self.error = error
        self.key = key


class TurnEnded(Message):
    """A turn's thread ended: `error` is what it raised (None: it ran to its end)."""

    def __init__(self, error: BaseException | None) -> None:
        super().__init__()
        self.error = error


class Suggested(Message):
    """The run's top emerging behaviours for the first screen (`welcome.Suggestion`s)."""

    def __init__(self, suggestions: list[Any]) -> None:
        super().__init__()
        self.suggestions = suggestions
