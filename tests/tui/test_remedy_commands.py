"""`/fix` and `/filter` in the chat engine: help, completion, a filter end to end on the
shared run, and bad input as one-line error blocks. (The app's `/fix` after an investigation
is in test_app.py, on the investigation it runs.)"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from pathlib import Path

import pytest

from rootcause.behaviour.behavior import parse_behavior
from rootcause.chat.completion import complete
from rootcause.chat.entries import Notice, RemedyResult, is_entry
from rootcause.chat.help import help_text
from rootcause.chat.transcript import entry_markdown
from tests.tui.conftest import ChatLab, Recorded


def _errors(updates: list[object]) -> list[Notice]:
    return [u for u in updates if isinstance(u, Notice) and u.level == "error"]


def test_help_and_completion_know_fix_and_filter(engine_on: Callable[..., Recorded]) -> None:
    engine = engine_on().engine
    names = engine.names
    assert "/fix [INVESTIGATION_ID] [out=DIR] [key=PATH]" in help_text()
    assert "/filter behavior=SPEC out=DIR" in help_text()
    assert "slice=" in help_text("filter") and "out=" in help_text("fix")

    def values(text: str) -> list[str]:
        return [c.value for c in engine.complete(text)]

    assert {"/fix ", "/filter "} <= set(values("/fi"))
    assert set(values("/filter ")) == {"behavior=", "out=", "format=", "slice="}
    assert "out=" not in values("/filter out=x ") and "slice=" in values("/filter slice=a=b ")
    assert "behavior=terms:" in values("/filter behavior=")
    assert values("/filter format=j") == ["format=jsonl"]
    assert "slice=persona=" in values("/filter slice=")
    persona = names.personas[0]
    assert f"slice=persona={persona}" in values("/filter slice=persona=")
    assert values("/fix ") == ["out=", "key="]
    engine.causes.append("20260101-000000-abcdef")
    assert values("/fix ")[0] == "20260101-000000-abcdef"
    assert complete("/fix 2026", names) == []  # the run's names alone know no investigation


def test_filter_writes_the_run_without_the_behaviour(
    engine_on: Callable[..., Recorded], chat_lab: ChatLab, tmp_path: Path
) -> None:
    recorded = engine_on()
    engine, updates = recorded.engine, recorded.updates
    out = tmp_path / "sft"
    hint = shlex.quote(chat_lab.lab.hint)
    engine.submit(f"/filter behavior={hint} out={out} format=jsonl")
    assert not _errors(updates), _errors(updates)
    block = next(u for u in updates if isinstance(u, RemedyResult))
    assert block.command == "filter" and is_entry(block)
    manifest = json.loads((out / "manifest.json").read_text())
    assert (
        manifest["removed"] > 0 and manifest["detector"] == parse_behavior(chat_lab.lab.hint).spec
    )
    assert (
        str(out / "manifest.json") in block.text
        and f"removed {manifest['removed']:,}" in block.text
    )
    rows = (out / "samples.jsonl").read_text().splitlines()
    assert len(rows) == manifest["kept"]
    # A slice keeps to one persona; the block is kept in the session and its transcript.
    persona = engine.names.personas[0]
    sliced = tmp_path / "one"
    engine.submit(f"/filter behavior={hint} out={sliced} slice=persona={persona}")
    assert json.loads((sliced / "manifest.json").read_text())["slices"] == {"persona": persona}
    logged = [e for e in engine.chat.entries() if isinstance(e, RemedyResult)]
    assert len(logged) == 2
    assert "Filtered samples" in entry_markdown(logged[0], engine.chat.folder)


def test_bad_remedy_input_is_one_error_line(
    engine_on: Callable[..., Recorded], tmp_path: Path
) -> None:
    recorded = engine_on()
    engine, updates = recorded.engine, recorded.updates
    out = tmp_path / "x"
    bad = [
        (f"/filter behavior=nonsense:x out={out}", "nonsense"),
        (f"/filter out={out}", "needs behavior="),
        ("/filter behavior=terms:x", "needs out="),
        (f"/filter behavior=terms:x out={out} colour=red", "takes no colour="),
        (f"/filter behavior=terms:x out={out} format=csv", "parquet or jsonl"),
        (f"/filter behavior=terms:x out={out} slice=mood=calm", "slice=FIELD=VALUE"),
        ("/fix", "no investigation of this session has found a cause"),
        ("/fix 20990101-000000-nosuch", "20990101-000000-nosuch"),
        ("/fix a b", "one investigation id"),
    ]
    for text, expected in bad:
        before = len(_errors(updates))
        engine.submit(text)
        errors = _errors(updates)
        assert len(errors) == before + 1, text
        assert expected in errors[-1].text and "\n" not in errors[-1].text, errors[-1].text
        assert errors[-1].hint == f"/help {text.split()[0][1:]} says how to use it"
    assert not out.exists()
    assert not [u for u in updates if isinstance(u, RemedyResult)]


def test_a_command_is_one_registered_object(engine_on: Callable[..., Recorded]) -> None:
    """/fix and /filter are the remedy's commands, registered whole; help, completion and
    the engine read them from the registry, and an engine can be handed a stand-in."""
    from rootcause.chat.command import COMMANDS, ChatCommand, chat_command
    from rootcause.remedy.chat import FIX

    assert COMMANDS["fix"] is FIX and FIX.handler.__module__ == "rootcause.remedy.chat"
    with pytest.raises(ValueError, match="registered twice"):
        chat_command(ChatCommand("fix", "/fix", "another", FIX.handler))
    called: list[str] = []
    recorded = engine_on(handlers={"fix": lambda engine, command: called.append(command.rest)})
    recorded.engine.submit("/fix abc out=x")
    assert called == ["abc out=x"] and not _errors(recorded.updates)
