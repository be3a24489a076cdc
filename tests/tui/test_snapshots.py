"""SVG snapshots of the app (pytest-textual-snapshot) at the sizes people use: the main screen
(160x48), the board after an investigation (120x40, the narrowest that shows it), a tool
block with its plot and the config diff (130 columns), the first screen at 80x24. Sessions get fixed ids so the header
is the same on every run; the prompt's cursor does not blink. Update with
`pytest tests/tui/test_snapshots.py --snapshot-update` and look at the SVGs before committing."""

from __future__ import annotations

import shutil
from collections.abc import Awaitable, Callable
from typing import Any

from textual.pilot import Pilot

from rootcause.chat.settings import ChatSettings, OpenRequest
from rootcause.tui.app import ChatApp
from rootcause.tui.widgets.blocks import ToolBlockView
from rootcause.tui.widgets.board import HypothesisBoard
from rootcause.tui.widgets.configtab import ConfigTab
from tests.tui.conftest import ChatLab, opened, send, wait_for

SIZE = (130, 40)
Compare = Callable[..., bool]


def _app(lab: ChatLab, session_id: str) -> ChatApp:
    """An app on a new session named `session_id` (a folder left by an earlier run of the
    tests is removed first: same id, same header)."""
    shutil.rmtree(lab.workspace.root / "sessions" / session_id, ignore_errors=True)
    request = OpenRequest(run=lab.run, session_id=session_id)
    return ChatApp(lab.workspace, request, ChatSettings(), cursor_blink=False)


def _before(steps: Callable[[ChatApp, Pilot[Any]], Awaitable[None]]) -> Any:
    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, ChatApp)
        await opened(app)
        await wait_for(app, lambda: app.welcomed, "the first screen")  # the same every run
        await steps(app, pilot)
        await pilot.pause()

    return run_before


def test_main_screen(snap_compare: Compare, chat_lab: ChatLab) -> None:
    async def steps(app: ChatApp, pilot: Pilot[Any]) -> None:
        await send(app, "/overview")
        await send(app, "what went wrong?")

    app = _app(chat_lab, "snap-main")
    assert snap_compare(app, terminal_size=(160, 48), run_before=_before(steps))


def test_tool_block_with_a_plot(snap_compare: Compare, chat_lab: ChatLab) -> None:
    async def steps(app: ChatApp, pilot: Pilot[Any]) -> None:
        await send(app, f"/prevalence behavior={chat_lab.lab.hint} by=persona")
        view = app.query_one(ToolBlockView)
        view.collapsed = False
        await pilot.pause()
        app.query_one("#conversation").scroll_end(animate=False)

    app = _app(chat_lab, "snap-plot")
    assert snap_compare(app, terminal_size=(130, 50), run_before=_before(steps))


def test_board_after_an_investigation(snap_compare: Compare, chat_lab: ChatLab) -> None:
    async def steps(app: ChatApp, pilot: Pilot[Any]) -> None:
        await send(app, f"/investigate {chat_lab.symptom}")
        board = app.query_one(HypothesisBoard)
        await wait_for(app, lambda: board.option_count > 0 and not board._dirty, "the board")

    app = _app(chat_lab, "snap-board")
    assert snap_compare(app, terminal_size=(120, 40), run_before=_before(steps))


def test_config_diff(snap_compare: Compare, chat_lab: ChatLab) -> None:
    async def steps(app: ChatApp, pilot: Pilot[Any]) -> None:
        tab = app.query_one(ConfigTab)
        await wait_for(app, lambda: bool(tab.commits), "the config history")
        app.action_tab("config")
        # The commit that added the culprit, against its parent.
        culprit = chat_lab.lab.key["causes"][0]["commit"]
        tab.query_one("#config-table").move_cursor(row=tab.commits.index(culprit))  # type: ignore[attr-defined]
        await pilot.press("enter")
        await wait_for(app, lambda: "diff " in str(tab.query_one("#diff-text").render()), "diff")

    app = _app(chat_lab, "snap-diff")
    assert snap_compare(app, terminal_size=SIZE, run_before=_before(steps))


def test_first_screen_at_80_columns(snap_compare: Compare, chat_lab: ChatLab) -> None:
    """The welcome with its numbered suggestions; the board hidden (below 120 columns); the
    footer's keys fit."""

    async def steps(app: ChatApp, pilot: Pilot[Any]) -> None:
        await wait_for(app, lambda: bool(app.suggestions), "the suggestions")

    app = _app(chat_lab, "snap-first")
    assert snap_compare(app, terminal_size=(80, 24), run_before=_before(steps))
