"""Shared pieces of the chat tests: the small lab run (ingested once per test session), apps
on it, and waiting on what the app shows instead of sleeping."""

from __future__ import annotations

import asyncio
import functools
import itertools
import os
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import rootcause.remedy.chat  # noqa: F401  (registers /fix and /filter, as the app does)
from rootcause.chat.command import CommandHandler
from rootcause.chat.engine import ChatEngine
from rootcause.chat.entries import Update
from rootcause.chat.opening import open_session
from rootcause.chat.settings import ChatSettings, OpenRequest
from rootcause.store.ingest import ingest_run
from rootcause.store.workspace import Workspace
from rootcause.tui.app import ChatApp
from tests.conftest import LabRun

#: Seconds a test waits for what the app is doing (an investigation of the small run takes
#: a few seconds on a loaded machine); never a timed assertion, only a bound on waiting.
PATIENCE_S = float(os.environ.get("PATIENCE", 120))
_ids = itertools.count(1)


@dataclass
class ChatLab:
    """The quirk run, ingested in its workspace."""

    lab: LabRun
    workspace: Workspace

    @property
    def run(self) -> Path:
        return self.lab.run

    @property
    def symptom(self) -> str:
        return str(self.lab.key["symptom"])

    def session_id(self, name: str) -> str:
        return f"{name}-{next(_ids)}"


@pytest.fixture(scope="session")
def chat_lab(quirk_run: LabRun) -> ChatLab:
    workspace = Workspace(quirk_run.workspace)
    ingest_run(quirk_run.run, workspace)
    return ChatLab(quirk_run, workspace)


def make_app(
    lab: ChatLab,
    name: str = "t",
    settings: ChatSettings | None = None,
    resume: str | None = None,
) -> ChatApp:
    request = (
        OpenRequest(resume=resume)
        if resume
        else OpenRequest(run=lab.run, session_id=lab.session_id(name))
    )
    return ChatApp(lab.workspace, request, settings or ChatSettings(), cursor_blink=False)


def async_test(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async test in its own event loop (the app's pilot needs one)."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return run


async def wait_for(app: ChatApp, predicate: Callable[[], bool], what: str = "") -> None:
    """Wait until `predicate()` holds, woken by each change the app makes (never polling on
    a timer); fail after `PATIENCE_S`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PATIENCE_S
    started = loop.time()
    while not predicate():
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise AssertionError(f"gave up waiting for {what or predicate}")
        app.ui_changed.clear()
        if predicate():
            break
        try:
            await asyncio.wait_for(app.ui_changed.wait(), remaining)
        except TimeoutError:
            continue
    if os.environ.get("WAITLOG"):
        print(f"waited {loop.time() - started:.1f}s for {what}")


async def opened(app: ChatApp) -> None:
    await wait_for(app, lambda: app.engine is not None, "the run to open")


async def send(app: ChatApp, text: str) -> None:
    """Type `text` in the prompt and send it; wait until its turn is over."""
    from rootcause.tui.widgets.prompt import PromptBar, PromptInput

    done = app.turns_done
    app.query_one(PromptBar).set_text(text)
    app.query_one(PromptInput).action_submit()
    await wait_for(app, lambda: app.turns_done > done, f"{text!r} to finish")


@dataclass
class Recorded:
    engine: ChatEngine
    updates: list[Update]

    def close(self) -> None:
        self.engine.close()
        self.engine.chat.release()


@pytest.fixture
def engine_on(chat_lab: ChatLab) -> Iterator[Callable[..., Recorded]]:
    """An engine on a new (or resumed) session of the lab run, recording its updates; it
    runs `/fix` and `/filter` as the app's does unless given other handlers."""
    opened_engines: list[ChatEngine] = []

    def make(
        settings: ChatSettings | None = None,
        resume: str | None = None,
        handlers: dict[str, CommandHandler] | None = None,
    ) -> Recorded:
        updates: list[Update] = []
        request = (
            OpenRequest(resume=resume)
            if resume
            else OpenRequest(run=chat_lab.run, session_id=chat_lab.session_id("engine"))
        )
        chosen = settings or ChatSettings()
        chat, ingested = open_session(chat_lab.workspace, request, chosen)
        engine = ChatEngine(
            chat_lab.workspace,
            chat,
            ingested,
            chosen,
            updates.append,
            handlers=handlers,
        )
        opened_engines.append(engine)
        return Recorded(engine, updates)

    yield make
    for engine in opened_engines:
        Recorded(engine, []).close()
