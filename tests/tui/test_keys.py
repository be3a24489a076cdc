"""Keyboard first: the prompt keeps (or gets back) the focus, the conversation scrolls from it,
a block cursor steps between tool blocks and opens one, and what a slash command asked for
shows open and in view. Driven headless with `run_test`, waiting on what the app shows."""

from __future__ import annotations

from typing import Any

from textual.widgets import DataTable

from rootcause.tui.app import ChatApp
from rootcause.tui.widgets.blocks import NoticeBlock, ToolBlockView
from rootcause.tui.widgets.board import HypothesisBoard
from rootcause.tui.widgets.conversation import Conversation
from rootcause.tui.widgets.prompt import PromptInput
from tests.tui.conftest import ChatLab, async_test, make_app, opened, send, wait_for

SIZE = (100, 30)


async def ready(app: ChatApp) -> None:
    """Opened, with the first screen complete (its suggestions change the layout)."""
    await opened(app)
    await wait_for(app, lambda: app.welcomed, "the first screen")


def _prompt(app: ChatApp) -> PromptInput:
    return app.query_one(PromptInput)


def _in_view(conversation: Conversation, view: ToolBlockView) -> bool:
    """The block's top row is inside the conversation's visible rows."""
    top = view.virtual_region.y
    return conversation.scroll_y <= top < conversation.scroll_y + conversation.size.height


@async_test
async def test_typing_after_a_click_or_a_tab_goes_to_the_prompt(chat_lab: ChatLab) -> None:
    app = make_app(chat_lab, "focus")
    async with app.run_test(size=SIZE) as pilot:
        await ready(app)
        await send(app, "/overview")
        (view,) = app.query(ToolBlockView)
        assert not view.collapsed  # asked for: open
        await pilot.pause()
        # A click on a block's title closes (or opens) it; the prompt keeps the focus.
        await pilot.click(view.query_one("CollapsibleTitle"))
        await wait_for(app, lambda: view.collapsed, "the block to close")
        assert app.focused is _prompt(app)
        await pilot.press("a", "b")
        assert _prompt(app).text == "ab"
        # Shift+Tab moves the focus away; what is typed next still lands in the prompt.
        await pilot.press("shift+tab")
        assert app.focused is not _prompt(app)
        await pilot.press("c")
        assert app.focused is _prompt(app) and _prompt(app).text == "abc"
        # F2 puts the focus on the evidence table (its keys work there); typing comes back.
        await pilot.press("f2")
        assert isinstance(app.focused, DataTable)
        await pilot.press("d")
        assert app.focused is _prompt(app) and _prompt(app).text == "abcd"
        # Enter sends from there, as the footer says.
        shown = [b.binding.description for b in app.active_bindings.values() if b.binding.show]
        assert "Send" in shown


@async_test
async def test_page_keys_and_ctrl_home_end_scroll_the_conversation(chat_lab: ChatLab) -> None:
    app = make_app(chat_lab, "scroll")
    async with app.run_test(size=SIZE) as pilot:
        await ready(app)
        await send(app, "/help")
        conversation = app.query_one(Conversation)
        await wait_for(app, lambda: conversation.max_scroll_y > 0, "help taller than the pane")
        await wait_for(app, lambda: conversation.scroll_y == conversation.max_scroll_y, "end")
        assert app.focused is _prompt(app)
        await pilot.press("pageup")
        await wait_for(app, lambda: conversation.scroll_y < conversation.max_scroll_y, "pageup")
        await pilot.press("ctrl+home")
        await wait_for(app, lambda: conversation.scroll_y == 0, "the top")
        help_text = str(app.query(NoticeBlock).last().render())
        assert "Session commands" in help_text
        assert "Keys:" in help_text and "Ctrl+Up / Ctrl+Down" in help_text
        await pilot.press("pagedown")
        await wait_for(app, lambda: conversation.scroll_y > 0, "pagedown")
        await pilot.press("ctrl+end")
        await wait_for(app, lambda: conversation.scroll_y == conversation.max_scroll_y, "end")
        # The prompt kept the focus and its text through all of it.
        assert app.focused is _prompt(app)


@async_test
async def test_a_slash_command_result_opens_in_view_and_blocks_step(chat_lab: ChatLab) -> None:
    app = make_app(chat_lab, "asked")
    async with app.run_test(size=SIZE) as pilot:
        await ready(app)
        conversation = app.query_one(Conversation)
        await send(app, "/overview")
        await send(app, f"/prevalence behavior={chat_lab.lab.hint} by=persona")
        first, second = app.query(ToolBlockView)
        # Both were asked for: open; the last one is scrolled to its top.
        assert not first.collapsed and not second.collapsed
        await wait_for(app, lambda: _in_view(conversation, second), "the result in view")
        # Ctrl+Up steps to the newest block, then the one before; Ctrl+O closes and opens.
        await pilot.press("ctrl+up")
        assert conversation.selected is second and second.has_class("selected")
        await pilot.press("ctrl+up")
        assert conversation.selected is first
        await wait_for(app, lambda: _in_view(conversation, first), "the first block in view")
        await pilot.press("ctrl+o")
        assert first.collapsed
        await pilot.press("ctrl+o")
        assert not first.collapsed
        await wait_for(app, lambda: _in_view(conversation, first), "the opened block's top")
        await pilot.press("ctrl+down")
        assert conversation.selected is second
        assert app.focused is _prompt(app)


def _hypothesis(ident: str, kind: str, candidate: str, commit: str | None = None) -> Any:
    from rootcause.investigate.events import HypothesisChanged

    return HypothesisChanged(
        change="recorded",
        id=ident,
        kind=kind,  # type: ignore[arg-type]
        candidate=candidate,
        commit=commit,
        statement="",
        status="supported",
        confidence=0.81,
        evidence=["E4", "E7", "E9"],
    )


@async_test
async def test_the_board_newest_first_one_line_each_and_hidden_when_narrow(
    chat_lab: ChatLab,
) -> None:
    app = make_app(chat_lab, "board")
    async with app.run_test(size=(100, 30)) as pilot:
        await opened(app)
        sidebar = app.query_one("#sidebar")
        # Narrow: the board hides itself; Ctrl+B brings it back (and the choice holds).
        assert not sidebar.display
        await pilot.press("ctrl+b")
        assert sidebar.display
        empty = app.query_one("#board-empty")
        assert empty.display and "appear here" in str(empty.render())
        board = app.query_one(HypothesisBoard)
        commit = "217bc064a2ffee"
        board.change("#1", "investigation 1", _hypothesis("H1", "persona", "sage"))
        board.change("#2", "investigation 2", _hypothesis("H1", "config_change", commit, commit))
        board.change("#2", "investigation 2", _hypothesis("H2", "reward_component", "rm", commit))
        await wait_for(app, lambda: len(board.items) == 3 and not board._dirty, "the board")
        lines = [str(board.get_option_at_index(i).prompt) for i in range(board.option_count)]
        assert lines[0] == "investigation 2" and lines[3] == "investigation 1", lines
        # One line each: status, confidence, candidate (a commit named once), evidence.
        assert lines[1] == "H1 supported 0.81 217bc064a2 E4 E7 +1"
        assert lines[2] == "H2 supported 0.81 rm@217bc064 E4 E7 +1"
        assert all("\n" not in line for line in lines)
        assert not empty.display
        await pilot.resize_terminal(160, 40)
        await pilot.press("ctrl+b")
        assert not sidebar.display
    wide = make_app(chat_lab, "board-wide")
    async with wide.run_test(size=(160, 40)):
        await opened(wide)
        assert wide.query_one("#sidebar").display


@async_test
async def test_the_first_screen_shows_the_run_and_a_key_starts_a_suggestion(
    chat_lab: ChatLab,
) -> None:
    from rootcause.tui.widgets.blocks import UserBlock

    app = make_app(chat_lab, "welcome")
    async with app.run_test(size=SIZE) as pilot:
        await opened(app)
        welcome = app.query_one("#welcome")
        text = str(welcome.render())
        assert "15,360 samples over 80 steps" in text and "Reward components" in text
        await wait_for(app, lambda: bool(app.suggestions), "the suggestions")
        text = str(welcome.render())
        assert "  1  " in text and "press its number" in text
        first = app.suggestions[0]
        assert first.line in text and first.command.startswith("/investigate ")
        # 1 with the prompt empty starts it; Esc stops it (the test needs no verdict).
        done = app.turns_done
        await pilot.press("1")
        await wait_for(app, lambda: bool(app.query(UserBlock)), "the investigation to start")
        assert str(app.query_one(UserBlock).render()) == f"› {first.command}"
        await pilot.press("escape")
        await wait_for(app, lambda: app.turns_done > done, "the turn to stop")
        # Afterwards a digit is text again.
        await pilot.press("1")
        assert app.query_one(PromptInput).text == "1"


def test_the_readme_key_table_lists_the_keys_help_lists() -> None:
    """The README's key table and `/help`'s (`KEY_TABLE`) name the same keys."""
    from pathlib import Path

    from rootcause.tui.keys import KEY_TABLE

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    table = readme[readme.index("| key | does |") :].split("\n\n", 1)[0]
    rows = [line.split(" | ")[0].lstrip("| ") for line in table.splitlines()[2:]]
    assert rows == [key for key, _ in KEY_TABLE]
