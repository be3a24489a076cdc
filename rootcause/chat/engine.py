"""The chat engine: what a chat face calls. It runs what the user types in a session (slash
commands, investigations, free-text turns of the chat agent) and reports everything as updates
(`entries.py`), logging the entries in the session's folder as they happen.

    engine = ChatEngine(workspace, session, ingested, settings, emit=face_callback)
    for entry in engine.replay(): ...     # a resumed session's blocks, as they were
    engine.submit("/prevalence behavior=terms:goblin by=persona")   # blocking: a worker's job
    engine.cancel()                       # from any thread: stops the running turn

`submit` never raises for what the user typed or what a tool did: bad input and failures
become error notices with what to do next, so a face stays up whatever happens.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from rootcause.chat.agent import ChatAgent, ModelSetup, News
from rootcause.chat.catalog import CHAT_LOG
from rootcause.chat.command import CommandHandler, is_command, parse_command
from rootcause.chat.completion import Completion, complete
from rootcause.chat.entries import (
    ChatEntry,
    InvestigationUpdate,
    LedgerChange,
    Notice,
    ReadingChoice,
    ToolBlock,
    Update,
    UsageTotals,
    UserMessage,
    Working,
    is_entry,
)
from rootcause.chat.names import RunNames
from rootcause.chat.sessions import ChatSession
from rootcause.chat.settings import ChatSettings
from rootcause.chat.toolbox import TOOL_HINT, ChatToolbox, EventTranslator, UpdateSink
from rootcause.core.errors import BadInputError, RootcauseError
from rootcause.investigate.cancel import CancelToken, JobCancelled
from rootcause.investigate.events import (
    InvestigationCancelled,
    InvestigationEvent,
    InvestigationFinished,
    InvestigationStarted,
    ModelText,
)
from rootcause.store.ingest import IngestResult
from rootcause.store.run_store import RunStore
from rootcause.store.workspace import Workspace
from rootcause.tools.base import ToolOutput
from rootcause.tools.context import EvidenceLog, ToolContext
from rootcause.tools.registry import ToolResult, call_tool

logger = logging.getLogger(__name__)

NO_MODEL = (
    "Free text needs a model: start the chat with --model NAME (and OPENAI_API_KEY), "
    "--base-url http://HOST:PORT/v1, or ROOTCAUSE_LLM_MODEL / ROOTCAUSE_LLM_BASE_URL. "
    "Slash commands work without one: /help lists them, /investigate SYMPTOM runs the "
    "systematic brain."
)


class ChatEngine:
    """One open session on one ingested run (see the module doc)."""

    def __init__(
        self,
        workspace: Workspace,
        chat: ChatSession,
        ingested: IngestResult,
        settings: ChatSettings,
        emit: UpdateSink,
        handlers: Mapping[str, CommandHandler] | None = None,
        keys: Sequence[tuple[str, str]] = (),
    ) -> None:
        self.workspace = workspace
        #: The face's keys (keys, what they do), for `/help`.
        self.keys = list(keys)
        #: Handlers that stand in for registered commands' own (a test's, say), by name.
        self.handlers = dict(handlers or {})
        self.chat = chat
        self.ingested = ingested
        self.settings = settings
        self._face = emit
        self.store = RunStore(ingested.db_path)
        self.ctx = ToolContext(self.store, chat.folder, EvidenceLog(chat.evidence_path))
        self.overview = self.store.overview()
        self.names = RunNames.of(self.overview)
        self._cancel = CancelToken()
        self._investigation: Any = None
        self._guard = threading.Lock()
        self.investigations = 0
        self.last_report: Path | None = None
        #: Investigations of the session that found a cause, oldest first.
        self.causes: list[str] = []
        #: Investigations of the session cancelled and not finished since, oldest first.
        self.cancelled: list[str] = []
        #: The readings offered for the last ambiguous symptom, until one is investigated.
        self.choice: ReadingChoice | None = None
        self._concluded: list[News] = []
        self.agent: ChatAgent | None = None
        if settings.llm:
            setup = ModelSetup(settings.llm_options(), settings.api_key, settings.model)
            self.agent = ChatAgent(setup, self.ctx, chat, self.emit)

    # -- updates ----------------------------------------------------------------------------
    def emit(self, update: Update) -> None:
        """Log an entry in the session, then hand the update to the face."""
        if is_entry(update):
            self.chat.append(update)
        self._face(update)

    def replay(self) -> Iterator[ChatEntry]:
        """The session's logged entries, for a face to rebuild its blocks; the engine takes
        back its own state from them (the chat's ledger, usage, concluded investigations)."""
        for entry in self.chat.entries():
            if isinstance(entry, LedgerChange | UsageTotals) and self.agent is not None:
                self.agent.restore(entry)
            if isinstance(entry, InvestigationUpdate):
                self._note_investigation(entry)
            if isinstance(entry, ReadingChoice):
                self.choice = entry
            yield entry

    # -- what the user typed ----------------------------------------------------------------
    def submit(self, text: str) -> None:
        """Run what the user typed; blocks until it is done (call it from a worker)."""
        text = text.strip()
        if not text:
            return
        with self._guard:
            self._cancel = CancelToken()
        self.emit(UserMessage(text=text))
        try:
            if is_command(text):
                self._command(text)
            else:
                self._free_text(text)
        except JobCancelled:
            self.emit(Notice(level="info", text="cancelled; what finished is kept"))
        except BadInputError as exc:
            self.emit(Notice(level="error", text=str(exc), hint=_hint(text)))
        except RootcauseError as exc:
            self.emit(Notice(level="error", text=str(exc), hint="the session is kept"))
        except Exception as exc:  # a bug must not take the session down
            logger.exception("chat: %s failed", text[:80])
            self.emit(
                Notice(
                    level="error",
                    text=f"unexpected {type(exc).__name__}: {exc}",
                    hint=f"a bug in rootcause; the session is kept (details in "
                    f"{self.workspace.root / CHAT_LOG})",
                )
            )
        finally:
            self.emit(Working(None))

    def cancel(self) -> None:
        """Stop the running turn at its next tool call, model call or protocol step."""
        with self._guard:
            self._cancel.cancel()
            handle = self._investigation
        if handle is not None:
            handle.cancel()

    def complete(self, text: str) -> list[Completion]:
        names = dataclasses.replace(self.names, investigations=list(reversed(self.causes)))
        return complete(text, names)

    def _command(self, text: str) -> None:
        command = parse_command(text)
        handler = self.handlers.get(command.name, command.spec.handler)
        handler(self, command)

    def call_tool(
        self, tool: str, args: dict[str, Any], asked: bool = False
    ) -> ToolResult[ToolOutput] | None:
        """Call a registry tool in the session: its block (or error block) is emitted;
        `asked`: the user asked for it by a slash command."""
        translator = EventTranslator(self.emit)
        box = ChatToolbox(self.ctx, translator, self._cancel, self._disabled(), asked)
        try:
            return box.call(tool, **args)
        except JobCancelled:
            raise
        except RootcauseError:
            return None  # the toolbox announced the failure: its block says it
        except Exception as exc:
            logger.exception("tool %s failed", tool)
            self.emit(
                ToolBlock(
                    evidence_id=None,
                    tool=tool,
                    arguments=args,
                    error=f"{tool} failed: {type(exc).__name__}: {exc}",
                    hint="a bug in the tool; the session is kept",
                )
            )
            return None

    def _disabled(self) -> list[str]:
        options = self.settings.options
        return list(options.disabled_tools) if options is not None else []

    def _free_text(self, text: str) -> None:
        if self.agent is None:
            self.emit(Notice(level="info", text=NO_MODEL))
            return
        self.emit(Working("the chat agent"))
        self.agent.turn(text, self._cancel, self._news())

    def _news(self) -> list[News]:
        told = set(self.agent.conversation.told) if self.agent else set()
        news = [
            (e.id, f"{e.id} {e.tool}: {e.summary}")
            for e in self.ctx.evidence.records
            if e.id not in told
        ]
        return news + [(key, line) for key, line in self._concluded if key not in told]

    # -- investigations ---------------------------------------------------------------------
    def brain(self) -> Any:
        """The brain an investigation of this session runs: the LLM brain when a model is
        configured, else the configured one."""
        s = self.settings
        if s.llm and s.model is not None:
            from rootcause.investigate.llm import LLMBrain

            return LLMBrain(s.llm_options(), model=s.model)
        return s.brain

    def run_investigation(self, request: Any) -> None:
        """Run an investigation (`/investigate`, `/resume`) and forward its events as
        updates, blocking until it ends."""
        from rootcause.investigate.handle import start_investigation

        self.investigations += 1
        number = self.investigations
        self.emit(Working(f"investigation {number}"))

        def forward(event: InvestigationEvent) -> None:
            if isinstance(event, ModelText):
                return  # whole model turns are shown; deltas would only repeat them
            update = InvestigationUpdate(number=number, event=event)
            self._note_investigation(update)
            self.emit(update)

        with self._guard:
            if self._cancel.cancelled:
                raise JobCancelled()
            self._investigation = start_investigation(self.workspace, request, forward)
        try:
            self._investigation.wait()
        except JobCancelled:
            pass  # its cancelled event says where it stopped and how to resume
        except RootcauseError:
            pass  # its failed event carries the message
        finally:
            with self._guard:
                self._investigation = None

    def _note_investigation(self, update: InvestigationUpdate) -> None:
        event = update.event
        if isinstance(event, InvestigationStarted):
            self.investigations = max(self.investigations, update.number)
            self.choice = None  # an investigation started: the choice offered before is made
        if isinstance(event, InvestigationCancelled) and event.resume not in self.cancelled:
            self.cancelled.append(event.resume)
        if isinstance(event, InvestigationFinished) and event.investigation in self.cancelled:
            self.cancelled.remove(event.investigation)
        if isinstance(event, InvestigationFinished):
            self.last_report = Path(event.report_markdown)
            if event.verdict == "cause_found" and event.investigation not in self.causes:
                self.causes.append(event.investigation)
            causes = "; ".join(f"{f.rank}. {f.kind} {f.id}" for f in event.findings) or "none"
            line = (
                f"Investigation {update.number} ({event.investigation}) concluded "
                f"{event.verdict}: {event.summary} Findings: {causes}."
            )
            self._concluded.append((f"investigation:{event.investigation}", line))

    # -- reading without recording ----------------------------------------------------------
    def peek(self, tool: str, args: dict[str, Any]) -> ToolResult[ToolOutput]:
        """Call a tool without recording evidence (a config tab's diffs, an investigation's
        evidence shown again from its arguments). Safe beside a running turn: it reads the
        run through a connection of its own."""
        with (
            RunStore(self.ingested.db_path) as store,
            ToolContext(store, self.chat.folder / "peek", make_plots=False) as ctx,
        ):
            return call_tool(ctx, tool, args)

    def close(self) -> None:
        self.cancel()
        self.ctx.close()
        self.store.close()


def _hint(text: str) -> str:
    if not is_command(text):
        return "/help lists the commands"
    name = text.strip()[1:].split(" ", 1)[0]
    try:
        command = parse_command(f"/{name}")
    except BadInputError:
        return "/help lists the commands"
    if command.spec.tool is not None:
        return TOOL_HINT.format(tool=command.name)
    return f"/help {command.name} says how to use it"
