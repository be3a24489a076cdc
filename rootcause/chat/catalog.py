"""What a workspace holds for chats, read without loading the engine: where sessions live,
their metas, the prompt history shared by all sessions, and the runs ingested (for a face's
picker and its first screen).

    sessions/<id>/                    one folder per session (`sessions.py`)
    chat-history.jsonl                prompts typed in any session (Up/Down walk them)
    chat.log                          diagnostics while a chat app runs
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from rootcause.core.disk import written_via_temp
from rootcause.store.workspace import Workspace

logger = logging.getLogger(__name__)

SESSIONS = "sessions"
META = "session.json"
PROMPT_HISTORY = "chat-history.jsonl"
#: Diagnostics of chat sessions, in the workspace (a face owns the terminal).
CHAT_LOG = "chat.log"
#: Prompts kept in the shared history (the newest); the file is cut back past twice this.
MAX_HISTORY = 1000
SESSION_ID = re.compile(r"[A-Za-z0-9_.-]+")


class SessionMeta(BaseModel):
    """What a session is on, written when it is created (and its title once it has one)."""

    id: str
    run: str = Field(description="The run folder or log, as given (resolved).")
    run_id: str
    run_format: str = "auto"
    created: str
    brain: str = "systematic"
    options: dict[str, Any] = Field(default_factory=dict)
    title: str = Field(
        "",
        description="Its first investigation's symptom, or the first question typed in free "
        "text (other slash commands name nothing).",
    )


def new_session_id(run_id: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", run_id).strip("-.")[:40] or "run"
    return f"{slug}-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"


def sessions_dir(workspace: Workspace) -> Path:
    return workspace.root / SESSIONS


@dataclass(frozen=True)
class SessionSummary:
    """A session as a picker lists it."""

    id: str
    run: str
    run_id: str
    created: str
    title: str
    folder: Path


def list_sessions(workspace: Workspace) -> list[SessionSummary]:
    """Every session in the workspace, oldest first."""
    root = sessions_dir(workspace)
    if not root.is_dir():
        return []
    found = []
    for folder in sorted(root.iterdir()):
        try:
            meta = SessionMeta.model_validate_json((folder / META).read_text(encoding="utf-8"))
        except (OSError, ValueError):  # ValueError: also not UTF-8, or not valid
            continue
        found.append(
            SessionSummary(meta.id, meta.run, meta.run_id, meta.created, meta.title, folder)
        )
    return sorted(found, key=lambda s: (s.created, s.id))


@dataclass(frozen=True)
class RunSummary:
    """A run the workspace has ingested, as a picker lists it."""

    run_id: str
    source: Path


def list_runs(workspace: Workspace) -> list[RunSummary]:
    """The runs ingested in the workspace whose source is still there, by run id."""
    from rootcause.store.ingest import DB_NAME
    from rootcause.store.run_store import RunStore

    root = workspace.root / "runs"
    if not root.is_dir():
        return []
    found = []
    for folder in sorted(root.iterdir()):
        db = folder / DB_NAME
        if not db.is_file():
            continue
        source = RunStore.info_of(db, "source")
        run_id = RunStore.info_of(db, "run_id")
        if isinstance(source, str) and Path(source).exists():
            found.append(RunSummary(str(run_id or folder.name), Path(source)))
    return sorted(found, key=lambda r: r.run_id)


class PromptHistory:
    """The prompts typed in the workspace's sessions, oldest first, shared by all of them."""

    def __init__(self, workspace: Workspace):
        self.path = workspace.root / PROMPT_HISTORY
        self.items: list[str] = []
        try:
            with self.path.open(encoding="utf-8", errors="replace") as lines:
                for line in lines:
                    try:
                        text = json.loads(line)
                    except ValueError:
                        continue
                    if isinstance(text, str) and text.strip():
                        self.items.append(text)
        except OSError:
            pass
        if len(self.items) > 2 * MAX_HISTORY:
            self._rewrite(self.items[-MAX_HISTORY:])
        self.items = self.items[-MAX_HISTORY:]

    def add(self, text: str) -> None:
        if not text.strip() or (self.items and self.items[-1] == text):
            return
        self.items.append(text)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as out:
                out.write(json.dumps(text) + "\n")
        except OSError as exc:
            logger.warning("cannot keep the prompt history in %s: %s", self.path, exc)

    def _rewrite(self, items: list[str]) -> None:
        try:
            with written_via_temp(self.path) as tmp:
                tmp.write_text("".join(json.dumps(t) + "\n" for t in items), encoding="utf-8")
        except OSError as exc:
            logger.warning("cannot cut the prompt history in %s: %s", self.path, exc)
