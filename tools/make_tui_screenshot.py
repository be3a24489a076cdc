"""Write `docs/tui-investigation.svg`, the README's picture of the chat: the demo's lab run
(the seeded persona quirk of `make demo`), `/investigate` with the answer key's symptom, and
the screen when the verdict is in (conversation, tool blocks, the board).

    .venv/bin/python tools/make_tui_screenshot.py [--out docs/tui-investigation.svg]

Offline and deterministic: the systematic brain, a fixed seed and a fixed session id.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from rootcause.chat.settings import ChatSettings, OpenRequest
from rootcause.store.workspace import Workspace
from rootcause.tui.app import ChatApp

SIZE = (160, 48)
PATIENCE_S = 600.0


async def _until(app: ChatApp, done: Callable[[], bool]) -> None:
    """Wait, woken by each change the app makes, until `done()` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PATIENCE_S
    while not done():
        if loop.time() > deadline:
            raise SystemExit("gave up waiting for the app")
        app.ui_changed.clear()
        if done():
            break
        try:
            await asyncio.wait_for(app.ui_changed.wait(), 5)
        except TimeoutError:
            continue


async def _shoot(run: Path, workspace: Path, symptom: str, out: Path) -> None:
    from rootcause.tui.widgets.prompt import PromptBar, PromptInput

    request = OpenRequest(run=run, session_id="readme")
    app = ChatApp(Workspace(workspace), request, ChatSettings(), cursor_blink=False)
    async with app.run_test(size=SIZE) as pilot:
        await _until(app, lambda: app.welcomed)
        done = app.turns_done
        app.query_one(PromptBar).set_text(f"/investigate {symptom}")
        app.query_one(PromptInput).action_submit()
        await _until(app, lambda: app.turns_done > done)
        app.action_tab("chat")
        await pilot.pause()
        out.write_text(app.export_screenshot(title="rootcause chat"), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/tui-investigation.svg"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        key = root / "key.json"
        subprocess.run(
            [sys.executable, "-m", "rootcause", "lab", "new", "--bug", "persona_reward_quirk",
             "--seed", "7", "--answer-key", str(key), str(root / "run")],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        symptom = json.loads(key.read_text(encoding="utf-8"))["symptom"]
        asyncio.run(_shoot(root / "run", root / "workspace", symptom, args.out))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
