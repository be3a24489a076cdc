"""The app driven headless (`run_test`), waiting on what it shows, never sleeping."""

from __future__ import annotations

import json
import shlex
import shutil
from pathlib import Path

import pytest
from agents.testing import ScriptedModel
from textual.widgets import DataTable, Markdown, TabbedContent

from rootcause.chat.settings import ChatSettings, OpenRequest
from rootcause.core.report import Report
from rootcause.investigate.llm.config import LLMOptions
from rootcause.tui.app import ChatApp
from rootcause.tui.widgets.blocks import AgentBlock, MilestoneLine, NoticeBlock, ToolBlockView
from rootcause.tui.widgets.board import HypothesisBoard
from rootcause.tui.widgets.configtab import ConfigTab
from rootcause.tui.widgets.conversation import Conversation
from rootcause.tui.widgets.evidence import EvidenceTab
from rootcause.tui.widgets.header import RunHeader
from rootcause.tui.widgets.plot import PlotView
from rootcause.tui.widgets.prompt import PromptBar, PromptInput
from rootcause.tui.widgets.report import ReportTab
from tests.investigate.llm.helpers import Script
from tests.tui.conftest import ChatLab, async_test, make_app, opened, send, wait_for

SIZE = (140, 44)


def _tools(app: ChatApp) -> list[ToolBlockView]:
    return list(app.query(ToolBlockView))


def _text(widget: object) -> str:
    return str(widget.render())  # type: ignore[attr-defined]


@async_test
async def test_opening_a_run_and_a_tool_block_with_its_plot(chat_lab: ChatLab) -> None:
    app = make_app(chat_lab, "open")
    async with app.run_test(size=SIZE) as pilot:
        await opened(app)
        header = _text(app.query_one(RunHeader))
        assert "15,360 samples" in header and "80 steps" in header and "ready" in header
        await send(app, f"/prevalence behavior={chat_lab.lab.hint} by=persona")
        (view,) = _tools(app)
        # Asked for by a slash command: open.
        assert view.entry is not None and view.entry.ok and not view.collapsed
        assert "✓" in view.title and "E1 prevalence" in view.title
        await pilot.pause()
        assert view.query(PlotView) and "rate" in _text(view.query(".tool-output").first())
        rows = app.query_one(EvidenceTab).rows
        assert list(rows) == [":E1"]


@async_test
async def test_bad_command_and_failing_tool_give_error_blocks(chat_lab: ChatLab) -> None:
    app = make_app(chat_lab, "errors")
    async with app.run_test(size=SIZE):
        await opened(app)
        await send(app, "/prevalance by=persona")
        await send(app, "/prevalence behavior=terms:dragon by=colour")
        await send(app, "/config_diff commit=0000000000")
        await send(app, "why does it say dragon?")
        notices = list(app.query(NoticeBlock))
        assert any("did you mean /prevalence" in _text(n) for n in notices)
        failed = [v for v in _tools(app) if v.has_class("failed")]
        assert len(failed) == 2 and all(not v.collapsed for v in failed)
        assert any("argument 'by'" in _text(v.query(".tool-error").first()) for v in failed)
        assert "needs a model" in _text(notices[-1])
        # The app is still up and answers.
        await send(app, "/help")
        assert "Session commands" in _text(app.query(NoticeBlock).last())


@async_test
async def test_investigate_offline_reaches_a_verdict_with_the_board_right(
    chat_lab: ChatLab, tmp_path: Path
) -> None:
    app = make_app(chat_lab, "investigate")
    async with app.run_test(size=SIZE) as pilot:
        await opened(app)
        await send(app, f"/investigate {chat_lab.symptom}")
        verdicts = [m for m in app.query(MilestoneLine) if m.has_class("verdict")]
        assert len(verdicts) == 1 and "cause found" in _text(verdicts[0])
        assert chat_lab.lab.culprit in _text(verdicts[0])
        board = app.query_one(HypothesisBoard)
        await wait_for(app, lambda: board.option_count > 0 and not board._dirty, "the board")
        items = {i.candidate: i for i in board.items.values()}
        culprit = items[chat_lab.lab.culprit]
        assert culprit.status == "supported" and culprit.evidence
        # The board ends as the report does: every hypothesis, its status and evidence.
        report = app.query_one(ReportTab).path
        assert report is not None
        stored = Report.model_validate_json(report.with_name("report.json").read_text())
        assert {(i.id, i.status, tuple(i.evidence)) for i in board.items.values()} == {
            (h.id, h.status, tuple(h.evidence)) for h in stored.hypotheses
        }
        # Selecting it scrolls to (and opens) the block of its first evidence.
        index = board.get_option_index(culprit.key)
        board.highlighted = index
        board.action_select()
        await pilot.pause()
        view = app.query_one(Conversation).find(culprit.owner, culprit.evidence[0])
        assert view is not None and not view.collapsed and view.has_class("flash")
        # The evidence tab lists the investigation's records; opening one runs it again.
        evidence = app.query_one(EvidenceTab)
        assert len(evidence.rows) == len([v for v in _tools(app) if v.owner == "#1"])
        app.action_tab("evidence")
        table = evidence.query_one(DataTable)
        # Ids unique in the session (investigation 1's E3 is I1:E3); the detector's row shows
        # its behaviour.
        rows = [table.get_row_at(i) for i in range(table.row_count)]
        assert rows and all(str(r[0]).startswith("I1:E") for r in rows)
        detects = [r for r in rows if r[1] == "detect"]
        assert detects and all(str(r[2]) not in ("", "-") for r in detects)
        assert any(v.title.startswith("[b]I1:E") for v in _tools(app))
        table.move_cursor(row=2)
        await pilot.press("enter")
        await wait_for(
            app,
            lambda: "shown again" in _text(evidence.query(".detail-note").last()),
            "the record shown again",
        )
        assert evidence.query(PlotView)
        # The report tab holds the report.
        report = app.query_one(ReportTab)
        assert report.path is not None and report.path.name == "report.md"
        await send(app, "/report")
        assert app.query_one("#tabs", TabbedContent).active == "report"
        # The quirk's report measures its effects; the report tab shows them.
        assert stored.effects is not None and stored.effects.spread
        shown = report.query_one(Markdown).source
        assert "## Effects" in shown
        assert all(line in shown for line in stored.effects.lines())
        # /fix (the session's investigation with a cause) writes the fix: its block, and the
        # report tab shows the report with its Fix section.
        # By default into the investigation's folder in the workspace; key= names the lab
        # run's answer key kept elsewhere, so the fix is verified by re-simulation.
        key = tmp_path / "elsewhere" / "answer-key.json"
        key.parent.mkdir()
        key.write_text((chat_lab.run.parent / "key.json").read_text())
        await send(app, f"/fix key={key}")
        remedies = [b for b in app.query(AgentBlock) if b.has_class("remedy")]
        assert remedies, _text(app.query(NoticeBlock).last())
        assert len(remedies) == 1 and "fix.patch" in remedies[0].source_text
        fix = chat_lab.workspace.investigations_dir / stored.id / "fix"
        assert (fix / "fix.patch").is_file() and (fix / "resimulated").is_dir()
        assert "not done" not in remedies[0].source_text
        assert "<!-- rootcause fix -->" in report.query_one(Markdown).source
        # /filter with a spec that does not parse is one error line; a good one writes.
        await send(app, f"/filter behavior=nonsense:x out={tmp_path / 'bad'}")
        assert "nonsense" in _text(app.query(NoticeBlock).last())
        await send(app, f"/filter behavior={shlex.quote(chat_lab.lab.hint)} out={tmp_path / 'sft'}")
        remedies = [b for b in app.query(AgentBlock) if b.has_class("remedy")]
        assert len(remedies) == 2 and "manifest.json" in remedies[1].source_text
        assert (tmp_path / "sft" / "samples.parquet").is_file()


@async_test
async def test_config_tab_shows_commits_and_a_coloured_diff(chat_lab: ChatLab) -> None:
    app = make_app(chat_lab, "config")
    async with app.run_test(size=SIZE) as pilot:
        await opened(app)
        tab = app.query_one(ConfigTab)
        await wait_for(app, lambda: bool(tab.commits), "the config history")
        app.action_tab("config")
        table = tab.query_one(DataTable)
        live = [c for c in tab.commits if c[:10] in {s for s, _ in app.engine.names.commits}]  # type: ignore[union-attr]
        table.move_cursor(row=tab.commits.index(live[2]))
        await pilot.press("enter")
        await wait_for(app, lambda: "diff " in _text(tab.query_one("#diff-text")), "the diff")
        one = _text(tab.query_one("#diff-text"))
        assert f"→ {live[2][:10]}" in one
        # Two picked: compared with each other.
        table.move_cursor(row=tab.commits.index(live[0]))
        await pilot.press("space")
        table.move_cursor(row=tab.commits.index(live[3]))
        await pilot.press("space", "enter")
        await wait_for(
            app, lambda: f"diff {live[0][:10]}" in _text(tab.query_one("#diff-text")), "two"
        )


@async_test
async def test_escape_cancels_an_investigation_and_keeps_what_finished(
    chat_lab: ChatLab,
) -> None:
    app = make_app(chat_lab, "cancel")
    async with app.run_test(size=SIZE) as pilot:
        await opened(app)
        done = app.turns_done
        app.query_one(PromptBar).set_text(f"/investigate {chat_lab.symptom}")
        app.query_one(PromptInput).action_submit()
        await wait_for(app, lambda: bool(_tools(app)), "the first tool call")
        await pilot.press("escape")
        await wait_for(app, lambda: app.turns_done > done, "the turn to stop")
        notices = [_text(n) for n in app.query(NoticeBlock)]
        assert any("investigation 1 cancelled" in n for n in notices), notices
        assert not [m for m in app.query(MilestoneLine) if m.has_class("verdict")]
        assert _tools(app)  # what finished stays
        assert "ready" in _text(app.query_one(RunHeader))
        # The hint is runnable as printed: the workspace is in it; /resume finishes it here.
        (hint,) = [n for n in notices if "cancelled" in n]
        ident = app.engine.cancelled[-1]  # type: ignore[union-attr]
        workspace = str(chat_lab.workspace.root)
        assert f"rootcause --workspace {workspace} investigate --resume {ident}" in hint
        assert f"/resume {ident}" in hint
        await send(app, "/resume")
        verdicts = [m for m in app.query(MilestoneLine) if m.has_class("verdict")]
        assert len(verdicts) == 1 and "Investigation 2: cause found" in _text(verdicts[0])
        assert app.engine.cancelled == []  # type: ignore[union-attr]


@async_test
async def test_ctrl_q_during_an_investigation_says_what_it_stops_and_leaves(
    chat_lab: ChatLab,
) -> None:
    app = make_app(chat_lab, "quitting")
    async with app.run_test(size=SIZE) as pilot:
        await opened(app)
        app.query_one(PromptBar).set_text(f"/investigate {chat_lab.symptom}")
        app.query_one(PromptInput).action_submit()
        await wait_for(app, lambda: bool(_tools(app)), "the first tool call")
        await pilot.press("ctrl+q")
    # The app closed without waiting for the investigation to stop; it says what it stopped
    # and how to reopen the session, runnable as printed.
    assert app.return_code == 0
    stopped, kept = app.goodbye()
    assert stopped.startswith("stopped investigation 1 (")
    assert f"\n  rootcause --workspace {chat_lab.workspace.root} investigate --resume" in stopped
    session = app.engine.chat.id  # type: ignore[union-attr]
    assert kept.endswith(
        f"\n  rootcause --workspace {chat_lab.workspace.root} chat --resume {session}"
    )
    # Reopened as it was when the app closed (its log up to the first call, which had not
    # answered): nothing shows as still running, and the line says how to finish it.
    reopened = _cut_session(chat_lab, session, upto="tool_called")
    again = make_app(chat_lab, resume=reopened)
    async with again.run_test(size=SIZE) as pilot:
        await opened(again)
        await pilot.pause()
        titles = [v.title for v in _tools(again)]
        assert titles and not any("running" in t for t in titles), titles
        assert "not finished" in titles[-1]
        (line,) = [m for m in again.query(MilestoneLine) if "did not finish" in _text(m)]
        assert "/resume " in _text(line) and "investigate --resume" in _text(line)
        assert "working" not in _text(again.query_one(RunHeader))


def _cut_session(lab: ChatLab, session: str, upto: str) -> str:
    """A copy of `session` whose event log ends at its first `upto` event."""
    source = lab.workspace.root / "sessions" / session
    copy = lab.session_id("cut")
    target = source.with_name(copy)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("*.lock", "lock*"))
    meta = json.loads((target / "session.json").read_text())
    (target / "session.json").write_text(json.dumps({**meta, "id": copy}))
    kept = []
    for line in (source / "events.jsonl").read_text().splitlines():
        kept.append(line)
        if f'"type":"{upto}"' in line.replace(" ", ""):
            break
    (target / "events.jsonl").write_text("\n".join(kept) + "\n")
    return copy


@async_test
async def test_a_session_resumes_with_its_blocks_evidence_and_board(chat_lab: ChatLab) -> None:
    first = make_app(chat_lab, "resume")
    async with first.run_test(size=SIZE):
        await opened(first)
        await send(first, "/overview")
        await send(first, f"/prevalence behavior={chat_lab.lab.hint}")
        session = first.engine.chat.id  # type: ignore[union-attr]
    again = make_app(chat_lab, resume=session)
    async with again.run_test(size=SIZE) as pilot:
        await opened(again)
        await pilot.pause()
        assert [v.title.split()[0] for v in _tools(again)] == ["[b]E1", "[b]E2"]
        assert all(v.entry is not None for v in _tools(again))
        assert list(again.query_one(EvidenceTab).rows) == [":E1", ":E2"]
        # The prompt history came back too (shared by the workspace's sessions).
        prompt = again.query_one(PromptInput)
        prompt.focus()
        await pilot.press("up")
        assert prompt.text.startswith("/prevalence")
        await send(again, "/overview")
        assert _tools(again)[-1].evidence_id == "E3"


@async_test
async def test_a_free_text_turn_with_a_model_calls_a_tool_and_streams(
    chat_lab: ChatLab,
) -> None:
    s = Script(tokens=(800, 80))
    answer = "Mostly the **robot** persona: see E1."
    model = ScriptedModel(
        [s.call("prevalence", behavior=chat_lab.lab.hint, by="persona"), s.say(answer)]
    )
    settings = ChatSettings(brain="llm", options=LLMOptions(model="scripted"), model=model)
    app = make_app(chat_lab, "llm", settings)
    async with app.run_test(size=SIZE) as pilot:
        await opened(app)
        assert "model scripted" in _text(app.query_one(RunHeader))
        await send(app, "show me the dragon trace for each persona")
        model.assert_complete()
        (view,) = _tools(app)
        assert view.entry is not None and view.entry.tool == "prevalence" and view.entry.ok
        assert view.collapsed  # the agent's own call; the user did not ask for it
        await pilot.pause()
        blocks = list(app.query(AgentBlock))
        assert [b.source_text for b in blocks] == [answer]
        header = _text(app.query_one(RunHeader))
        assert "1,600 in / 160 out tokens" in header and "1 tool calls" in header


@async_test
async def test_a_run_that_cannot_be_opened_closes_the_app_with_its_error(
    chat_lab: ChatLab, tmp_path: Path
) -> None:
    (tmp_path / "empty").mkdir()
    app = ChatApp(
        chat_lab.workspace,
        OpenRequest(run=tmp_path / "empty"),
        ChatSettings(),
        cursor_blink=False,
    )
    async with app.run_test(size=SIZE):
        await wait_for(app, lambda: app.open_error is not None, "the error")
    assert app.return_code == 2 and "not a run" in str(app.open_error)


@pytest.mark.parametrize("text", ["/pre", "/prevalence by=d", "/diff "])
@async_test
async def test_completion_menu_offers_and_takes(chat_lab: ChatLab, text: str) -> None:
    app = make_app(chat_lab, "complete")
    async with app.run_test(size=SIZE) as pilot:
        await opened(app)
        bar = app.query_one(PromptBar)
        bar.set_text(text)
        await pilot.pause()
        assert bar.menu_open
        await pilot.press("tab")
        assert bar.input.text != text and bar.input.text.startswith(text.split("=")[0])
