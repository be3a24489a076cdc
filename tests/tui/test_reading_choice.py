"""A symptom that fits two behaviours: the chat lists the readings before it investigates, and
the user picks one (`/reading N`, a digit with the prompt empty, or Enter for the first)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from rootcause.chat.engine import ChatEngine
from rootcause.chat.entries import InvestigationUpdate, Notice, ReadingChoice, Update
from rootcause.chat.opening import open_session
from rootcause.chat.readings import choice_lines
from rootcause.chat.settings import ChatSettings, OpenRequest
from rootcause.chat.transcript import entry_markdown
from rootcause.investigate.events import DetectorSettled, InvestigationFinished
from rootcause.store.ingest import ingest_run
from rootcause.store.workspace import Workspace
from rootcause.tui.app import ChatApp
from rootcause.tui.widgets.blocks import MilestoneLine
from rootcause.tui.widgets.prompt import PromptInput
from tests.tools.planted import write_two_creatures
from tests.tui.conftest import async_test, opened, send, wait_for

#: Names both tics; they never share a sample's slots, so each word is a reading of its own.
SYMPTOM = "replies keep mentioning goblins and gremlins"


@dataclass
class Creatures:
    run: Path
    workspace: Workspace
    opened: list[ChatEngine]

    def engine(self, updates: list[Update], resume: str | None = None) -> ChatEngine:
        request = OpenRequest(resume=resume) if resume else OpenRequest(run=self.run)
        chat, ingested = open_session(self.workspace, request, ChatSettings())
        engine = ChatEngine(self.workspace, chat, ingested, ChatSettings(), updates.append)
        self.opened.append(engine)
        return engine

    def close(self, engine: ChatEngine) -> None:
        engine.close()
        engine.chat.release()
        self.opened.remove(engine)


@pytest.fixture(scope="module")
def creatures(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Creatures]:
    root = tmp_path_factory.mktemp("choice")
    run = write_two_creatures(root / "runs").run
    workspace = Workspace(root / "ws")
    ingest_run(run, workspace)
    lab = Creatures(run, workspace, [])
    yield lab
    for engine in list(lab.opened):
        lab.close(engine)


def _settled(updates: list[Update]) -> list[str]:
    return [
        u.event.behavior.spec
        for u in updates
        if isinstance(u, InvestigationUpdate)
        and isinstance(u.event, DetectorSettled)
        and u.event.behavior is not None
    ]


def test_the_readings_are_offered_and_the_one_picked_is_investigated(
    creatures: Creatures,
) -> None:
    updates: list[Update] = []
    engine = creatures.engine(updates)
    engine.submit(f"/investigate {SYMPTOM}")
    choices = [u for u in updates if isinstance(u, ReadingChoice)]
    assert len(choices) == 1 and not any(isinstance(u, InvestigationUpdate) for u in updates)
    choice = choices[0]
    specs = [o.behavior for o in choice.options]
    assert len(specs) == 2 and all(s.startswith("terms:") for s in specs)
    assert all(o.hits > 0 and o.rate_late > o.rate_early and o.example for o in choice.options)
    shown = "\n".join(choice_lines(choice))
    assert "1  " + specs[0] in shown and "2  " + specs[1] in shown and "/reading N" in shown
    assert "⟦" in shown  # examples are quoted as data
    assert specs[1] in entry_markdown(choice, engine.chat.folder)
    # The session keeps the choice: a reopened one can still take it.
    ident = engine.chat.id
    creatures.close(engine)
    updates = []
    engine = creatures.engine(updates, resume=ident)
    list(engine.replay())
    assert engine.choice is not None and engine.choice.options == choice.options
    engine.submit("/reading 7")
    assert isinstance(updates[-2], Notice) and "readings 1 to 2" in updates[-2].text
    engine.submit("/reading 2")
    assert _settled(updates) == [specs[1]]
    finished = [
        u.event
        for u in updates
        if isinstance(u, InvestigationUpdate) and isinstance(u.event, InvestigationFinished)
    ]
    assert len(finished) == 1 and engine.choice is None
    # Taken: no choice is open any more.
    engine.submit("/reading 1")
    assert isinstance(updates[-2], Notice) and "no choice of readings is open" in updates[-2].text
    creatures.close(engine)


def _choice_shown(app: ChatApp) -> bool:
    return any(m.has_class("choice") for m in app.query(MilestoneLine))


@async_test
async def test_enter_takes_the_first_reading_and_a_digit_another(creatures: Creatures) -> None:
    request = OpenRequest(run=creatures.run)
    app = ChatApp(creatures.workspace, request, ChatSettings(), cursor_blink=False)
    async with app.run_test(size=(140, 44)) as pilot:
        await opened(app)
        await send(app, f"/investigate {SYMPTOM}")
        assert _choice_shown(app) and app.keyed_choice == 2
        assert app.engine is not None and app.engine.choice is not None
        specs = [o.behavior for o in app.engine.choice.options]
        # Enter with the prompt empty: reading 1.
        done = app.turns_done
        await pilot.press("enter")
        await wait_for(app, lambda: app.turns_done > done, "reading 1's investigation")
        verdicts = [m for m in app.query(MilestoneLine) if m.has_class("verdict")]
        assert len(verdicts) == 1 and app.keyed_choice == 0
        settled = [m for m in app.query(MilestoneLine) if m.has_class("detector")]
        assert specs[0] in str(settled[-1].render())
        # Asked again: a digit picks reading 2.
        await send(app, f"/investigate {SYMPTOM}")
        done = app.turns_done
        await pilot.press("2")
        await wait_for(app, lambda: app.turns_done > done, "reading 2's investigation")
        settled = [m for m in app.query(MilestoneLine) if m.has_class("detector")]
        assert len(settled) == 2 and specs[1] in str(settled[-1].render())
        # With no choice open, a digit is text again and Enter sends nothing.
        await pilot.press("enter")
        await pilot.press("2")
        assert app.query_one(PromptInput).text == "2" and app.turns_done == done + 1
