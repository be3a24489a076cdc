"""Chat sessions kept in the workspace: one folder each.

    sessions/<id>/session.json        what the session is on: run, brain, options (no key)
    sessions/<id>/events.jsonl        the event log: one entry per line (`entries.py`)
    sessions/<id>/transcript.md       the conversation as Markdown, appended as it happens
    sessions/<id>/evidence.jsonl      evidence records of the session's own tool calls
    sessions/<id>/plots/              their plots (PNG)
    sessions/<id>/conversation.json   the chat agent's history, so a resumed chat continues
    sessions/<id>/llm-log.jsonl       every model and tool call of the chat agent

Investigations started from a session keep their own folders (`investigations/<id>/`); the
session's event log holds their events. A session is written by one process at a time (the
lock of `rootcause.investigate.folder`).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from rootcause.chat.catalog import (
    META,
    SESSION_ID,
    SessionMeta,
    list_sessions,
    sessions_dir,
)
from rootcause.chat.entries import ChatEntry, UserMessage, parse_entry
from rootcause.chat.transcript import entry_markdown
from rootcause.core.disk import written_via_temp
from rootcause.core.errors import BadInputError, LocatedError
from rootcause.investigate.folder import FolderLock, write_json
from rootcause.store.workspace import Workspace

logger = logging.getLogger(__name__)

EVENTS = "events.jsonl"
TRANSCRIPT = "transcript.md"
EVIDENCE = "evidence.jsonl"
CONVERSATION = "conversation.json"


def session_title(entry: ChatEntry) -> str | None:
    """What names a session (with its run): its first investigation's symptom, or the first
    question asked in free text; other slash commands (`/help`, `/overview`) name nothing."""
    if not isinstance(entry, UserMessage):
        return None
    text = " ".join(entry.text.split())
    if text.startswith("/investigate "):
        return text.removeprefix("/investigate ")[:120]
    return None if text.startswith("/") else text[:120]


class ChatSession:
    """One session's folder: its meta, event log and transcript. `append` is safe from any
    thread (the engine's worker and an investigation's job thread both log)."""

    def __init__(self, folder: Path, meta: SessionMeta):
        self.folder = folder
        self.meta = meta
        self._write = threading.Lock()
        self._lock: FolderLock | None = None

    @property
    def id(self) -> str:
        return self.meta.id

    @property
    def events_path(self) -> Path:
        return self.folder / EVENTS

    @property
    def evidence_path(self) -> Path:
        return self.folder / EVIDENCE

    @property
    def plots_dir(self) -> Path:
        return self.folder / "plots"

    @classmethod
    def create(cls, workspace: Workspace, meta: SessionMeta) -> ChatSession:
        if not SESSION_ID.fullmatch(meta.id):
            raise BadInputError(f"session id {meta.id!r}: use letters, digits, '.', '_', '-'")
        folder = sessions_dir(workspace) / meta.id
        if (folder / META).exists():
            raise BadInputError(f"session {meta.id} exists already; resume it with --resume")
        session = cls(workspace.ensure(folder), meta)
        session.save_meta()
        return session

    @classmethod
    def open(cls, workspace: Workspace, session_id: str) -> ChatSession:
        """An existing session, for `--resume`; one line naming what is wrong otherwise."""
        folder = sessions_dir(workspace) / session_id
        path = folder / META
        if not SESSION_ID.fullmatch(session_id) or not path.is_file():
            known = ", ".join(s.id for s in list_sessions(workspace)[-5:]) or "none yet"
            raise BadInputError(
                f"--resume {session_id}: no such session in {sessions_dir(workspace)} "
                f"(recent: {known})"
            )
        try:
            meta = SessionMeta.model_validate_json(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:  # ValueError: also not UTF-8, or not valid
            raise LocatedError(f"not a session: {_first_line(exc)}", path) from None
        return cls(folder, meta)

    def lock(self) -> None:
        """Hold the session's folder for this process (a second writer is refused)."""
        if self._lock is None:
            self._lock = FolderLock(self.folder).acquire()

    def release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def save_meta(self) -> None:
        write_json(self.folder / META, self.meta.model_dump(mode="json"))

    def append(self, entry: ChatEntry) -> ChatEntry:
        """Stamp `entry`, add it to the event log and the transcript, and return it."""
        entry.at = entry.at or datetime.now(UTC).isoformat(timespec="milliseconds")
        line = entry.model_dump_json(exclude_none=True) + "\n"
        shown = entry_markdown(entry, self.folder)
        with self._write:
            try:
                with self.events_path.open("a", encoding="utf-8") as out:
                    out.write(line)
                if shown:
                    with (self.folder / TRANSCRIPT).open("a", encoding="utf-8") as out:
                        out.write(shown + "\n\n")
            except OSError as exc:  # the log must never stop the conversation
                logger.warning("cannot write to session %s: %s", self.id, exc)
            title = session_title(entry) if not self.meta.title else None
            if title:
                self.meta.title = title
                self.save_meta()
        return entry

    def entries(self) -> Iterator[ChatEntry]:
        """The logged entries in order; a line that does not parse (a write cut short by a
        crash) is skipped with a warning."""
        if not self.events_path.exists():
            return
        with self.events_path.open("rb") as lines:
            for number, raw in enumerate(lines, start=1):
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    byte = raw[exc.start : exc.start + 1].hex()
                    where = f"{self.events_path}:{number}"
                    logger.warning("%s: skipped: not valid UTF-8 (byte 0x%s)", where, byte)
                    continue
                if not line.strip():
                    continue
                try:
                    yield parse_entry(line)
                except ValidationError as exc:
                    logger.warning("%s:%d: skipped: %s", self.events_path, number, exc)

    # -- the chat agent's history -----------------------------------------------------------
    def load_conversation(self) -> Conversation:
        path = self.folder / CONVERSATION
        if not path.exists():
            return Conversation()
        try:
            return Conversation.model_validate_json(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:  # ValueError: also not UTF-8, or not valid
            logger.warning("%s unreadable, starting the chat afresh: %s", path, exc)
            return Conversation()

    def save_conversation(self, conversation: Conversation) -> None:
        text = json.dumps(conversation.model_dump(mode="json"), default=str)
        with written_via_temp(self.folder / CONVERSATION) as tmp:
            tmp.write_text(text)


class Conversation(BaseModel):
    """The chat agent's history (the SDK's input items) and what it has been told of the
    session's own work (evidence ids, investigations) so far."""

    items: list[Any] = Field(default_factory=list)
    told: list[str] = Field(default_factory=list)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
