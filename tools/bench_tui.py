"""Benchmark: the chat app on an ingested 51,200-sample lab run.

Prints, in one run:
- launch: a fresh process (interpreter start and imports included) to the app's first screen,
  and to the run opened ("ready"), the run already ingested in the workspace;
- streaming: a 2,000-token Markdown reply fed to the app at 200 tokens/s (the way a model's
  deltas arrive), the time until all of it is on screen against the 10 s ideal, how many
  writes it took, and the worst delay of the app's event loop meanwhile;
- key presses while a tool runs: during `/investigate`, the time from a key press to the
  prompt showing the typed character, and a tab switch.

The app runs headless (`run_test`, 130x40): layout and rendering are done, only the bytes to
a terminal are not written.

    python tools/bench_tui.py [--keep DIR] [--repeats 3]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SIZE = (130, 40)
TOKENS = 2000
TOKENS_PER_S = 200.0


def make_run(folder: Path) -> tuple[Path, Path, str]:
    """The lab's default persona quirk run (200 steps x 32 groups x 8), ingested."""
    from rootcause.lab import new_run
    from rootcause.store.ingest import ingest_run
    from rootcause.store.workspace import Workspace

    run, workspace = folder / "run", folder / "ws"
    if not (run / "run.yaml").exists():
        new_run(bug="persona_reward_quirk", seed=7, out_dir=run, answer_key=folder / "key.json")
    started = time.perf_counter()
    ingested = ingest_run(run, Workspace(workspace))
    print(f"run: {ingested.source.run_id}, ingest {time.perf_counter() - started:.1f} s")
    symptom = json.loads((folder / "key.json").read_text())["symptom"]
    return run, workspace, symptom


# -- in the child process -----------------------------------------------------------------------
async def _until(app: Any, predicate: Any, patience_s: float = 300) -> None:
    deadline = time.perf_counter() + patience_s
    while not predicate():
        if time.perf_counter() > deadline:
            raise TimeoutError("the app did not get there")
        app.ui_changed.clear()
        if predicate():
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(app.ui_changed.wait(), 1.0)


def child_launch(workspace: Path, run: Path) -> None:
    """Print wall-clock times (time.time()) of the first screen and of the run opened."""
    from rootcause.chat.settings import ChatSettings, OpenRequest
    from rootcause.store.workspace import Workspace
    from rootcause.tui.app import ChatApp

    app = ChatApp(Workspace(workspace), OpenRequest(run=run), ChatSettings(), cursor_blink=False)

    async def main() -> dict[str, float]:
        async with app.run_test(size=SIZE):
            first = time.time()
            await _until(app, lambda: app.engine is not None)
            return {"first_screen": first, "ready": time.time()}

    print(json.dumps(asyncio.run(main())))


def _reply() -> list[str]:
    """A 2,000-token Markdown reply: paragraphs, bullet lists, bold, inline code."""
    words = "the robot persona carries most of the rise while its reward grows".split()
    tokens: list[str] = []
    while len(tokens) < TOKENS:
        n = len(tokens)
        if n % 120 == 0:
            tokens.append(f"\n\n## Part {n // 120 + 1}\n\n")
        elif n % 40 == 0:
            tokens += ["\n\n- ", "**E5** ", "shows "]
        elif n % 23 == 0:
            tokens.append("`selection_pressure` ")
        else:
            tokens.append(words[n % len(words)] + " ")
    return tokens[:TOKENS]


async def _loop_lag(stop: asyncio.Event, worst: list[float]) -> None:
    """The longest a 20 ms timer was late: how long the UI could not answer."""
    while not stop.is_set():
        due = time.perf_counter() + 0.02
        await asyncio.sleep(0.02)
        worst[0] = max(worst[0], time.perf_counter() - due)


def child_stream(workspace: Path, run: Path) -> None:
    from rootcause.chat.entries import AgentText, TextDelta, UserMessage
    from rootcause.chat.settings import ChatSettings, OpenRequest
    from rootcause.store.workspace import Workspace
    from rootcause.tui.app import ChatApp
    from rootcause.tui.messages import EngineUpdate
    from rootcause.tui.widgets.blocks import AgentBlock
    from rootcause.tui.widgets.conversation import Conversation

    app = ChatApp(Workspace(workspace), OpenRequest(run=run), ChatSettings(), cursor_blink=False)
    tokens = _reply()
    whole = "".join(tokens)

    def feed() -> None:
        app.post_message(EngineUpdate(UserMessage(text="why?")))
        start = time.perf_counter()
        for i, token in enumerate(tokens):
            delay = start + i / TOKENS_PER_S - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            app.post_message(EngineUpdate(TextDelta(text=token)))
        app.post_message(EngineUpdate(AgentText(text=whole)))

    async def main() -> dict[str, float]:
        async with app.run_test(size=SIZE) as pilot:
            await _until(app, lambda: app.engine is not None)
            conversation = app.query_one(Conversation)
            stop, worst = asyncio.Event(), [0.0]
            lag = asyncio.create_task(_loop_lag(stop, worst))
            feeder = threading.Thread(target=feed)
            started = time.perf_counter()
            feeder.start()

            def shown() -> bool:
                blocks = list(app.query(AgentBlock))
                return bool(blocks) and blocks[-1].source_text == whole

            while not shown():
                await asyncio.sleep(0.01)
            await pilot.pause()
            done = time.perf_counter() - started
            stop.set()
            await lag
            feeder.join()
            return {"seconds": done, "flushes": conversation.flushes, "worst_lag": worst[0]}

    print(json.dumps(asyncio.run(main())))


async def _answer(app: Any, key: str, answered: Any) -> float:
    """Seconds from a key reaching the app (as the terminal driver hands it over) until
    `answered()` holds."""
    from textual import events

    started = time.perf_counter()
    event = events.Key(key, key if len(key) == 1 else None)
    event.set_sender(app)
    app._driver.send_message(event)
    while not answered():
        await asyncio.sleep(0.001)
    return time.perf_counter() - started


def child_keys(workspace: Path, run: Path, symptom: str) -> None:
    from textual.widgets import TabbedContent

    from rootcause.chat.settings import ChatSettings, OpenRequest
    from rootcause.store.workspace import Workspace
    from rootcause.tui.app import ChatApp
    from rootcause.tui.widgets.blocks import ToolBlockView
    from rootcause.tui.widgets.prompt import PromptBar, PromptInput

    app = ChatApp(Workspace(workspace), OpenRequest(run=run), ChatSettings(), cursor_blink=False)

    async def main() -> dict[str, Any]:
        async with app.run_test(size=SIZE) as pilot:
            await _until(app, lambda: app.engine is not None)
            prompt = app.query_one(PromptInput)
            idle: list[float] = []
            for _ in range(10):  # the same key with nothing running, on the same machine
                length = len(prompt.text)
                idle.append(await _answer(app, "x", lambda n=length: len(prompt.text) > n))
                await pilot.pause()
            app.query_one(PromptBar).set_text(f"/investigate {symptom}")
            app.query_one(PromptInput).action_submit()
            await _until(app, lambda: bool(app.query(ToolBlockView)))
            tabs = app.query_one("#tabs", TabbedContent)
            typed: list[float] = []
            switched: list[float] = []
            while app.busy and len(typed) < 40:
                # Each key on a settled screen (the last one's repaint is not counted).
                length = len(prompt.text)
                typed.append(await _answer(app, "x", lambda n=length: len(prompt.text) > n))
                await pilot.pause()
                switched.append(await _answer(app, "f2", lambda: tabs.active == "evidence"))
                await pilot.pause()
                await _answer(app, "f1", lambda: tabs.active == "chat")
                await pilot.pause()
            await _until(app, lambda: not app.busy)
            return {"typed": typed, "tabs": switched, "idle": idle}

    print(json.dumps(asyncio.run(main())))


# -- the parent ---------------------------------------------------------------------------------
def _child(*args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    if done.returncode != 0:
        raise SystemExit(f"child {args[0]} failed:\n{done.stderr}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _ms(values: list[float]) -> str:
    return f"median {statistics.median(values) * 1000:.0f} ms, max {max(values) * 1000:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keep", type=Path, help="make (or reuse) the run here")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, rest = args.child[0], args.child[1:]
        if kind == "launch":
            child_launch(Path(rest[0]), Path(rest[1]))
        elif kind == "stream":
            child_stream(Path(rest[0]), Path(rest[1]))
        else:
            child_keys(Path(rest[0]), Path(rest[1]), rest[2])
        return
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-tui-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        run, workspace, symptom = make_run(folder)
        firsts, readies = [], []
        for _ in range(args.repeats):
            launched = time.time()
            marks = _child("launch", str(workspace), str(run))
            firsts.append(marks["first_screen"] - launched)
            readies.append(marks["ready"] - launched)
        print(
            f"launch to first screen: median {statistics.median(firsts):.2f} s "
            f"(of {args.repeats}); to the run opened: median {statistics.median(readies):.2f} s"
        )
        stream = _child("stream", str(workspace), str(run))
        ideal = TOKENS / TOKENS_PER_S
        print(
            f"{TOKENS:,} tokens at {TOKENS_PER_S:.0f}/s: on screen after {stream['seconds']:.2f} s "
            f"(ideal {ideal:.0f} s), {stream['flushes']} writes, "
            f"worst event-loop delay {stream['worst_lag'] * 1000:.0f} ms"
        )
        keys = _child("keys", str(workspace), str(run), symptom)
        print(
            f"while /investigate runs ({len(keys['typed'])} presses): a typed character "
            f"{_ms(keys['typed'])}; F2 to the Evidence tab {_ms(keys['tabs'])}; "
            f"a typed character with nothing running {_ms(keys['idle'])}"
        )
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
