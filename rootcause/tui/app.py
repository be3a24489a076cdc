"""The chat app: a run's conversation with tool-call blocks, the hypotheses board, evidence,
config and report tabs, and the prompt.

Everything slow runs in thread workers that only post messages (opening and ingesting the
run, each turn, the tabs' reads); one handler turns a worker's failure into an error block,
so the app never goes down on bad input or a failing tool. Esc cancels the running turn or
investigation (what finished stays on screen); Ctrl+Q quits.
"""

from __future__ import annotations

import asyncio
import shlex
import threading
from typing import TYPE_CHECKING, ClassVar

from textual import events, work
from textual.app import App, ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Footer, ProgressBar, Static, TabbedContent, TabPane, Tabs
from textual.worker import Worker, WorkerState

from rootcause.chat.catalog import PromptHistory, list_runs, list_sessions
from rootcause.chat.settings import ChatSettings, OpenRequest
from rootcause.core.errors import RootcauseError
from rootcause.store.workspace import Workspace
from rootcause.tui.first_screen import FirstScreenMixin
from rootcause.tui.keys import APP_BINDINGS, KEY_TABLE, typed_elsewhere
from rootcause.tui.messages import (
    EngineUpdate,
    IngestProgress,
    Opened,
    TurnEnded,
)
from rootcause.tui.palette import SlashCommands
from rootcause.tui.picker import PickerScreen
from rootcause.tui.tabs import TabsMixin
from rootcause.tui.widgets.blocks import plain
from rootcause.tui.widgets.board import HypothesisBoard
from rootcause.tui.widgets.configtab import ConfigTab
from rootcause.tui.widgets.conversation import Conversation
from rootcause.tui.widgets.evidence import EvidenceTab
from rootcause.tui.widgets.header import READY, RunHeader
from rootcause.tui.widgets.prompt import PromptBar, PromptInput
from rootcause.tui.widgets.report import ReportTab

if TYPE_CHECKING:
    from rootcause.chat.engine import ChatEngine
    from rootcause.chat.entries import Update
    from rootcause.chat.welcome import Suggestion
    from rootcause.store.ingest_job import IngestEvent
    from rootcause.tui.router import Router

TABS = ("chat", "evidence", "config", "report")
#: What the board says before it has a hypothesis.
BOARD_EMPTY = (
    "Hypotheses appear here as /investigate (or the chat agent) proposes and tests them: "
    "status, candidate, confidence and the evidence cited, newest investigation first. "
    "Enter on one shows its evidence."
)
#: Narrower than this, the hypotheses board hides itself (Ctrl+B shows it).
BOARD_MIN_COLUMNS = 120


class ChatApp(FirstScreenMixin, TabsMixin):
    """`rootcause chat` (see the module doc)."""

    CSS_PATH = "chat.tcss"
    TITLE = "rootcause"
    COMMANDS = App.COMMANDS | {SlashCommands}
    BINDINGS: ClassVar[list[BindingType]] = APP_BINDINGS

    def __init__(
        self,
        workspace: Workspace,
        request: OpenRequest | None,
        settings: ChatSettings,
        cursor_blink: bool = True,
    ) -> None:
        super().__init__()
        self.workspace = workspace
        self.request = request
        self.settings = settings
        self.cursor_blink = cursor_blink
        self.engine: ChatEngine | None = None
        self.busy = False
        #: Turns finished (whatever their outcome).
        self.turns_done = 0
        #: Why the session could not be opened (the app then exits; the CLI reports it).
        self.open_error: BaseException | None = None
        self.router: Router | None = None
        self.history = PromptHistory(workspace)
        #: The first screen's suggestions (keys 1-N start them until a turn is sent).
        self.suggestions: list[Suggestion] = []
        #: The board shown or hidden by Ctrl+B (None: by the terminal's width).
        self.board_shown: bool | None = None
        #: What Ctrl+Q stopped, if a turn was running (the CLI says it after the app closed).
        self.stopped: str | None = None
        self.ui_changed = asyncio.Event()

    # -- layout ------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield RunHeader(id="header")
        with Horizontal(id="main"):
            with TabbedContent(id="tabs", initial="chat"):
                with TabPane("Chat", id="chat"):
                    with Vertical(id="opening"):
                        yield Static(plain("Opening the run…"), id="opening-text")
                        yield ProgressBar(id="ingest", show_eta=False, show_percentage=False)
                    yield Conversation(id="conversation")
                with TabPane("Evidence", id="evidence"):
                    yield EvidenceTab(id="evidence-tab")
                with TabPane("Config", id="config"):
                    yield ConfigTab(id="config-tab")
                with TabPane("Report", id="report"):
                    yield ReportTab(id="report-tab")
            with Vertical(id="sidebar"):
                yield Static(Content.styled("Hypotheses", "bold"), id="board-title")
                yield Static(plain(BOARD_EMPTY), id="board-empty")
                yield HypothesisBoard(id="board")
        yield PromptBar(id="prompt-bar")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        bar = self.query_one(PromptBar)
        bar.history = list(self.history.items)
        prompt = self.query_one(PromptInput)
        prompt.cursor_blink = self.cursor_blink
        prompt.focus()
        self.query_one("#sidebar").display = self.size.width >= BOARD_MIN_COLUMNS
        if self.request is None:
            sessions, runs = list_sessions(self.workspace), list_runs(self.workspace)
            self.push_screen(PickerScreen(sessions, runs), self._picked)
        else:
            self.open_session(self.request)

    def _picked(self, request: OpenRequest | None) -> None:
        if request is not None:
            self.open_session(request)

    def changed(self) -> None:
        """Something on screen changed (tests wait on this instead of sleeping)."""
        self.ui_changed.set()

    # -- opening -----------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="open", exit_on_error=False)
    def open_session(self, request: OpenRequest) -> None:
        # The engine and what it loads (the toolset, scipy) are imported here, off the UI
        # thread, so the first screen shows while they load.
        import rootcause.remedy.chat  # noqa: F401  (registers /fix and /filter)
        from rootcause.chat.engine import ChatEngine
        from rootcause.chat.opening import open_session
        from rootcause.tui.router import Router

        self.router = Router(self)
        chat, ingested = open_session(
            self.workspace,
            request,
            self.settings,
            on_event=self._ingest_event,
        )
        try:
            engine = ChatEngine(
                self.workspace,
                chat,
                ingested,
                self.settings,
                emit=self._from_engine,
                keys=KEY_TABLE,
            )
            entries = list(engine.replay())
        except BaseException:
            chat.release()
            raise
        self.post_message(Opened(engine, entries))

    def _ingest_event(self, event: IngestEvent) -> None:
        if event.type == "rows_read":
            self.post_message(IngestProgress(event.rows))

    def _from_engine(self, update: Update) -> None:
        self.post_message(EngineUpdate(update))

    def on_ingest_progress(self, message: IngestProgress) -> None:
        self.query_one("#ingest", ProgressBar).update(progress=message.rows)
        self.query_one("#opening-text", Static).update(
            plain(f"Ingesting the run: {message.rows:,} samples")
        )

    def on_opened(self, message: Opened) -> None:
        engine = self.engine = message.engine
        self.query_one("#opening").display = False
        brain = self.settings.brain
        if engine.agent is not None:
            brain += f", model {engine.agent.model_name}"
        self.query_one(RunHeader).set_run(engine.overview, brain, engine.chat.id)
        self.query_one(RunHeader).set_status(READY)
        assert self.router is not None
        for entry in message.entries:
            self.router.apply(entry, live=False)
        self.router.settle_replay()
        self.keyed_choice = len(engine.choice.options) if engine.choice is not None else 0
        self.query_one(Conversation).close_stream()
        self.query_one(PromptBar).completer = engine.complete
        self.load_config()
        if not message.entries:  # a new session: the first screen starts the work
            self.welcome()
        self.changed()

    # -- turns -------------------------------------------------------------------------------
    def on_prompt_input_submitted(self, message: PromptInput.Submitted) -> None:
        bar = self.query_one(PromptBar)
        text = message.text.strip()
        from rootcause.chat.command import face_action

        if face_action(text) == "quit":
            self.exit(0)
            return
        if self.engine is None:
            self.notify("The run is still opening.", severity="warning")
            return
        if self.busy:
            self.notify("A turn is running: Esc cancels it.", severity="warning")
            return
        bar.take()
        self.suggestions = []
        self.keyed_choice = 0
        self.history.add(message.text)
        bar.history = list(self.history.items)
        self.action_tab("chat")
        self.busy = True
        self.submit(message.text)

    def submit(self, text: str) -> None:
        """Run a turn in a daemon thread of its own (not a worker of the executor, which the
        app's exit would wait for): Ctrl+Q during a long tool call or an investigation leaves
        at once, and the job stops at its next step."""
        threading.Thread(
            target=self._turn, args=(text,), name="rootcause-turn", daemon=True
        ).start()

    def _turn(self, text: str) -> None:
        assert self.engine is not None
        error: BaseException | None = None
        try:
            self.engine.submit(text)
        except BaseException as exc:  # shown as an error block; the app stays up
            error = exc
        self.post_message(TurnEnded(error))

    def on_turn_ended(self, message: TurnEnded) -> None:
        if self.stopped is not None:
            return  # Ctrl+Q stopped it: the app is closing
        error = message.error
        if error is not None:
            text = str(error) if isinstance(error, RootcauseError) else repr(error)
            self.query_one(Conversation).error(f"the turn failed: {text}", "the session is kept")
        self.busy = False
        self.turns_done += 1
        self.query_one(Conversation).close_stream()
        self.changed()

    def on_engine_update(self, message: EngineUpdate) -> None:
        if self.router is not None and self.stopped is None:
            self.router.apply(message.update)
        self.changed()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place a worker's failure becomes an error block."""
        worker = event.worker
        if event.state == WorkerState.ERROR and worker.group == "open":
            error = self.open_error = worker.error
            code = error.exit_code if isinstance(error, RootcauseError) else 1
            self.changed()
            self.exit(code, return_code=code)
            return
        if event.state == WorkerState.ERROR:
            error = worker.error
            text = str(error) if isinstance(error, RootcauseError) else repr(error)
            self.query_one(Conversation).error(
                f"the {worker.group} failed: {text}", "the session is kept"
            )
        self.changed()

    # -- actions -----------------------------------------------------------------------------
    def action_cancel(self) -> None:
        bar = self.query_one(PromptBar)
        if bar.menu_open:
            bar.close_menu()
            return
        if self.busy and self.engine is not None:
            self.engine.cancel()
            self.query_one(RunHeader).set_status("cancelling…")

    def action_tab(self, tab: str) -> None:
        """Show a tab and put the focus where its keys work."""
        if tab not in TABS:
            return
        self.query_one("#tabs", TabbedContent).active = tab
        focus = {
            "chat": "#prompt",
            "evidence": "#evidence-table",
            "config": "#config-table",
            "report": "#report-tab",
        }[tab]
        self.query_one(focus).focus()

    def action_toggle_board(self) -> None:
        """Ctrl+B: show or hide the board (the choice holds over later resizes)."""
        sidebar = self.query_one("#sidebar")
        sidebar.display = self.board_shown = not sidebar.display

    def on_resize(self, event: events.Resize) -> None:
        """Below `BOARD_MIN_COLUMNS` the board hides itself (Ctrl+B brings it back)."""
        shown = self.board_shown
        self.query_one("#sidebar").display = (
            event.size.width >= BOARD_MIN_COLUMNS if shown is None else shown
        )

    def on_collapsible_expanded(self) -> None:
        self.changed()

    def on_collapsible_collapsed(self) -> None:
        self.changed()

    def on_key(self, event: events.Key) -> None:
        """Typing while a table or the board has the focus goes to the prompt."""
        typed_elsewhere(self, event)

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        """A tab clicked: the focus goes where its keys work (the prompt for the chat)."""
        pane = event.pane.id
        if pane in TABS and isinstance(self.focused, Tabs):
            self.action_tab(pane)

    def action_scroll(self, key: str) -> None:
        """PageUp/PageDown, Ctrl+Home/Ctrl+End from the prompt: the conversation scrolls
        (shown first, if another tab was)."""
        self.action_tab("chat")
        self.query_one(Conversation).scroll_by_key(key)
        self.changed()

    def action_block(self, delta: int) -> None:
        """Ctrl+Up/Ctrl+Down: step the block cursor to the previous or next tool block."""
        self.action_tab("chat")
        if self.query_one(Conversation).step(delta) is None:
            self.notify("No tool block yet: a slash command makes one (/help lists them).")
        self.changed()

    def action_open_block(self) -> None:
        """Ctrl+O: open (or close) the tool block under the block cursor."""
        self.action_tab("chat")
        self.query_one(Conversation).toggle()
        self.changed()

    def insert_command(self, name: str) -> None:
        """Put `/name ` in the prompt (the palette's commands)."""
        self.query_one(PromptBar).set_text(f"/{name} ")
        self.query_one(PromptInput).focus()

    async def action_quit(self) -> None:
        """Leave at once: a running turn is told to stop (said in the header, and by the CLI
        after the app closed, with how to resume it)."""
        if self.engine is not None and self.busy:
            router = self.router
            self.stopped = router.running_work() if router else "the running turn"
            if router is not None and router.running:
                ident = router.running[max(router.running)]
                self.stopped += f"; to finish it:\n  {router.resume_command(ident)}"
            self.query_one(RunHeader).set_status(f"quitting: stopping {self.stopped}…")
            self.engine.cancel()
            self.call_after_refresh(self.exit, 0)
            return
        self.exit(0)

    def goodbye(self) -> list[str]:
        """What the CLI prints once the app has closed: what Ctrl+Q stopped, and how to
        reopen the session."""
        if self.engine is None:
            return []
        ident = self.engine.chat.id
        workspace = shlex.quote(str(self.workspace.root))
        lines = [f"stopped {self.stopped}"] if self.stopped else []
        return [
            *lines,
            f"session {ident} kept; reopen it:\n"
            f"  rootcause --workspace {workspace} chat --resume {ident}",
        ]

    def on_unmount(self) -> None:
        engine = self.engine
        if engine is None:
            return
        if self.busy:
            engine.cancel()  # its thread may still read the run: the process is leaving
        else:
            engine.close()
        engine.chat.release()
