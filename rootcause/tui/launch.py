"""Running the app from the CLI: diagnostics go to a log file while it owns the terminal."""

from __future__ import annotations

import logging
import sys

from rootcause.chat.catalog import CHAT_LOG
from rootcause.chat.settings import ChatSettings, OpenRequest
from rootcause.store.workspace import Workspace


def run_chat(workspace: Workspace, request: OpenRequest | None, settings: ChatSettings) -> int:
    """Run `rootcause chat` in the terminal and return its exit status. Log records go to
    `<workspace>/chat.log` while the app runs (a line on stderr would tear the screen). When
    the session cannot be opened (a bad run, a session another process holds), the app
    closes and the error is raised here, for the CLI to print in one line. On the way out it
    says what Ctrl+Q stopped and how to reopen the session (on stderr)."""
    from rootcause.tui.app import ChatApp

    root = logging.getLogger()
    workspace.ensure(workspace.root)
    handler = logging.FileHandler(workspace.root / CHAT_LOG, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    streams = [h for h in root.handlers if isinstance(h, logging.StreamHandler)]
    streams = [h for h in streams if not isinstance(h, logging.FileHandler)]
    for stream in streams:
        root.removeHandler(stream)
    root.addHandler(handler)
    try:
        app = ChatApp(workspace, request, settings)
        code = app.run()
        if app.open_error is not None:
            raise app.open_error
        for line in app.goodbye():
            print(line, file=sys.stderr)
    finally:
        root.removeHandler(handler)
        handler.close()
        for stream in streams:
            root.addHandler(stream)
    return 0 if code is None else int(code)
