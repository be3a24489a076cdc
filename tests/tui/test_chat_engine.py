"""The chat engine without a face: slash commands, errors as blocks, sessions kept and read
back, export, completion, and the chat agent's free-text turn with a scripted model."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from agents.testing import ScriptedModel

from rootcause.chat.builtin import tool_call
from rootcause.chat.catalog import PromptHistory, list_sessions
from rootcause.chat.command import parse_command
from rootcause.chat.completion import complete
from rootcause.chat.entries import (
    AgentText,
    LedgerChange,
    Notice,
    TextDelta,
    ToolBlock,
    ToolStarted,
    UsageTotals,
    UserMessage,
    is_entry,
)
from rootcause.chat.help import HELP_WIDTH, help_text
from rootcause.chat.settings import ChatSettings
from rootcause.chat.toolbox import TextReconciler
from rootcause.core.errors import BadInputError
from rootcause.investigate.llm.config import LLMOptions
from tests.investigate.llm.helpers import Script
from tests.tui.conftest import ChatLab, Recorded


def _of(updates: list[object], kind: type) -> list:  # type: ignore[type-arg]
    return [u for u in updates if isinstance(u, kind)]


def test_slash_commands_read_as_tool_calls() -> None:
    assert tool_call(parse_command("/prevalence behavior=terms:goblin by=persona")) == (
        "prevalence",
        {"behavior": "terms:goblin", "by": "persona"},
    )
    assert tool_call(parse_command("/detect it keeps saying goblin")) == (
        "detect",
        {"symptom": "it keeps saying goblin"},
    )
    assert tool_call(parse_command("/detect behavior=terms:a")) == (
        "detect",
        {"behavior": "terms:a"},
    )
    assert tool_call(parse_command("/diff abc123")) == ("config_diff", {"commit": "abc123"})
    assert tool_call(parse_command("/diff abc123 def456")) == (
        "config_diff",
        {"commit": "def456", "base": "abc123"},
    )
    with pytest.raises(BadInputError, match="did you mean /prevalence"):
        parse_command("/prevalance")
    with pytest.raises(BadInputError, match="unknown argument"):
        tool_call(parse_command("/prevalence colour=red"))
    assert "/investigate SYMPTOM" in help_text()
    assert "--by" in help_text("prevalence")


def test_help_reads_at_80_columns_and_lists_the_keys() -> None:
    keys = [("Ctrl+O", "open or close the tool block stepped to"), ("F1", "the chat")]
    text = help_text(keys=keys)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= HELP_WIDTH
    # Each command's usage on its own line, its description indented under it (no padding
    # to the longest usage).
    at = lines.index("  /investigate SYMPTOM")
    assert lines[at + 1].startswith("      Run the whole protocol")
    assert "  /quit" in lines
    # The keys as a table: a description wrapped under its column, never at column 0.
    assert any(line.startswith("  Ctrl+O  open or close") for line in lines)
    tools = lines[lines.index("Keys:") :]
    starts = (" ", "Keys:", "Tools", "Free", "names")
    assert all(line.startswith(starts) or not line for line in tools)
    # A tool's line is the head of its description; /help NAME gives the whole of it.
    assert "  /sql" in "\n".join(lines) and len(lines) < 100
    whole = help_text("cot_exposure")
    assert "statistical" in whole and max(len(line) for line in whole.splitlines()) <= HELP_WIDTH


def test_completion_names_what_the_run_has(engine_on: Callable[..., Recorded]) -> None:
    engine = engine_on().engine
    names = engine.names

    def values(text: str) -> list[str]:
        return [c.value for c in complete(text, names)]

    assert "/prevalence " in values("/prev")
    assert values("/prevalence by=p") == ["by=persona"]
    persona = names.personas[0]
    assert f"persona={persona}" in values("/samples persona=")
    component = names.components[0]
    assert f"remove=x,{component}" in values("/counterfactual remove=x,")
    assert [c.label for c in complete("/diff ", names)] == [sha for sha, _ in names.commits]
    # `a=` takes values of the level `by=` names.
    source = names.sources[0]
    assert f"a={source}" in values("/compare_traces by=data_source a=")
    # argument names, not yet given ones
    offered = values("/prevalence by=persona ")
    assert "behavior=" in offered and "by=" not in offered
    assert complete("free text", names) == []


def test_commands_and_failures_become_blocks(
    engine_on: Callable[..., Recorded], chat_lab: ChatLab
) -> None:
    recorded = engine_on()
    engine, updates = recorded.engine, recorded.updates
    engine.submit("/overview")
    engine.submit("/prevalence behavior=terms:nothing_like_this by=nope")
    engine.submit("/config_diff commit=deadbeef0")
    engine.submit("/nosuch thing")
    engine.submit("what is going on?")
    blocks = _of(updates, ToolBlock)
    assert [(b.tool, b.ok) for b in blocks] == [
        ("overview", True),
        ("prevalence", False),
        ("config_diff", False),
    ]
    overview, bad_value, failing = blocks
    assert overview.evidence_id == "E1" and "samples" in overview.text
    assert "argument 'by'" in (bad_value.error or "")
    assert "/help prevalence" in (bad_value.hint or "")
    assert failing.error and "deadbeef0" in failing.error
    notices = _of(updates, Notice)
    unknown = next(n for n in notices if "unknown command /nosuch" in n.text)
    assert unknown.level == "error" and unknown.hint
    assert any(n.level == "info" and "needs a model" in n.text for n in notices)
    # A failed call records no evidence: the next call is E2.
    engine.submit("/overview")
    assert _of(updates, ToolBlock)[-1].evidence_id == "E2"
    # Each call announced itself before its result.
    assert [s.tool for s in _of(updates, ToolStarted)][:2] == ["overview", "prevalence"]


def test_a_session_is_named_by_its_first_investigation() -> None:
    from rootcause.chat.entries import UserMessage
    from rootcause.chat.sessions import session_title

    assert session_title(UserMessage(text="/help")) is None
    assert session_title(UserMessage(text="/overview")) is None
    assert session_title(UserMessage(text="/investigate  more  dragons")) == "more dragons"
    assert session_title(UserMessage(text="why the dragons?")) == "why the dragons?"


def test_a_session_is_kept_and_read_back(
    engine_on: Callable[..., Recorded], chat_lab: ChatLab, tmp_path: Path
) -> None:
    first = engine_on()
    first.engine.submit("/prevalence behavior=terms:dragon by=persona")
    session_id = first.engine.chat.id
    logged = [u for u in first.updates if is_entry(u)]
    first.close()
    folder = chat_lab.workspace.root / "sessions" / session_id
    assert {"session.json", "events.jsonl", "transcript.md", "evidence.jsonl"} <= {
        p.name for p in folder.iterdir()
    }
    assert any(p.suffix == ".png" for p in (folder / "plots").iterdir())
    transcript = (folder / "transcript.md").read_text()
    assert "> **you:** /prevalence" in transcript and "**E1 `prevalence`**" in transcript
    summary = next(s for s in list_sessions(chat_lab.workspace) if s.id == session_id)
    assert summary.title == ""  # a slash command other than /investigate names nothing

    again = engine_on(resume=session_id)
    replayed = list(again.engine.replay())
    assert [e.model_dump() for e in replayed] == [e.model_dump() for e in logged]
    block = _of(replayed, ToolBlock)[0]
    assert block.plot is not None and block.plot.series
    again.engine.submit("/overview")
    assert _of(again.updates, ToolBlock)[-1].evidence_id == "E2"  # ids go on

    out = again.engine
    out.submit(f"/export {tmp_path / 'out.md'}")
    exported = (tmp_path / "out.md").read_text()
    assert "# rootcause chat session" in exported and "out-plots/" in exported
    assert any((tmp_path / "out-plots").iterdir())
    # Never into the run folder.
    out.submit(f"/export {chat_lab.run / 'x.md'}")
    refused = _of(again.updates, Notice)[-1]
    assert refused.level == "error" and "only reads" in refused.text
    assert not (chat_lab.run / "x.md").exists()


def test_resume_refuses_a_session_another_process_holds(
    engine_on: Callable[..., Recorded],
) -> None:
    holder = engine_on()
    with pytest.raises(BadInputError, match="being written"):
        engine_on(resume=holder.engine.chat.id)
    with pytest.raises(BadInputError, match="no such session"):
        engine_on(resume="not-a-session")


def test_prompt_history_is_shared_and_bounded(chat_lab: ChatLab, tmp_path: Path) -> None:
    from rootcause.store.workspace import Workspace

    workspace = Workspace(tmp_path / "ws")
    history = PromptHistory(workspace)
    for text in ("/overview", "/overview", "why?\nreally", ""):
        history.add(text)
    assert PromptHistory(workspace).items == ["/overview", "why?\nreally"]
    path = tmp_path / "ws" / "chat-history.jsonl"
    path.write_text("".join(json.dumps(f"p{i}") + "\n" for i in range(2500)))
    assert PromptHistory(workspace).items[-1] == "p2499"
    assert len(path.read_text().splitlines()) == 1000


def test_text_shown_once_whatever_arrives_first() -> None:
    text = TextReconciler()
    assert text.delta("Hello ") == "Hello "
    text.whole("Hello world")  # the whole reply overtook the last piece
    assert text.delta("world") is None
    assert text.delta("Next") == "Next"  # a new reply streams again
    fresh = TextReconciler()
    fresh.whole("All at once")
    assert fresh.delta("All ") is None and fresh.delta("at once") is None


def _scripted(chat_lab: ChatLab, answer: str) -> tuple[ScriptedModel, list[object]]:
    s = Script(tokens=(500, 50))
    hint = chat_lab.lab.hint
    turns = [
        s.call("prevalence", behavior=hint, by="persona"),
        s.call(
            "propose_hypothesis",
            kind="reward_component",
            target=chat_lab.lab.culprit,
            commit=None,
            statement="its reward favours the words",
        ),
        s.say(answer),
    ]
    return ScriptedModel(turns), turns


def test_a_free_text_turn_calls_tools_streams_and_continues_when_resumed(
    engine_on: Callable[..., Recorded], chat_lab: ChatLab
) -> None:
    answer = "The **robot** persona carries it (E2)."
    model, _ = _scripted(chat_lab, answer)
    settings = ChatSettings(brain="llm", options=LLMOptions(), model=model)
    recorded = engine_on(settings)
    engine, updates = recorded.engine, recorded.updates
    engine.submit("/overview")  # the user's own evidence: E1, told to the agent
    engine.submit("show me the dragon trace by persona")
    model.assert_complete()
    first_input = json.dumps(model.calls[0].input, default=str)
    assert "E1 overview" in first_input and "show me the dragon trace" in first_input
    block = _of(updates, ToolBlock)[-1]
    assert (block.tool, block.evidence_id, block.ok) == ("prevalence", "E2", True)
    assert block.plot is not None
    assert "".join(d.text for d in _of(updates, TextDelta)) == answer  # streamed
    assert _of(updates, AgentText)[-1].text == answer
    (change,) = _of(updates, LedgerChange)
    assert change.event.candidate == chat_lab.lab.culprit and change.event.status == "open"
    usage = _of(updates, UsageTotals)[-1]
    assert (usage.tokens_in, usage.tokens_out, usage.tool_calls, usage.turns) == (1500, 150, 1, 3)
    session_id = engine.chat.id
    recorded.close()

    # Resumed: the ledger and the conversation go on.
    s = Script()
    follow_up = ScriptedModel([s.say("Still the robot persona.")])
    resumed = engine_on(
        ChatSettings(brain="llm", options=LLMOptions(), model=follow_up), resume=session_id
    )
    list(resumed.engine.replay())
    agent = resumed.engine.agent
    assert agent is not None and [h.id for h in agent.state.hypotheses] == ["H1"]
    resumed.engine.submit("and now?")
    sent = json.dumps(follow_up.calls[0].input, default=str)
    assert "show me the dragon trace" in sent and answer in sent and "and now?" in sent
    assert "Ledger: H1 reward_component" in sent
    assert _of(resumed.updates, UserMessage)[-1].text == "and now?"
