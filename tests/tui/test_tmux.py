"""The real app in a real terminal: `rootcause chat` started in tmux, driven with send-keys and
read with capture-pane (`/overview`, `/investigate` to a verdict, Ctrl+Q with exit status 0).

Waiting is on the terminal's output: tmux copies everything the app writes into a FIFO
(pipe-pane), and the screen is read again each time something arrives; never a sleep."""

from __future__ import annotations

import os
import select
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.tui.conftest import PATIENCE_S, ChatLab

ROOT = Path(__file__).parents[2]
pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


class Terminal:
    """One tmux server (its own socket) running one command in a 130x40 window."""

    def __init__(self, folder: Path, command: str) -> None:
        self.socket = f"rc-smoke-{uuid.uuid4().hex[:8]}"
        self.status = folder / "status"
        self.fifo = folder / "screen.fifo"
        os.mkfifo(self.fifo)
        self.reader = os.open(self.fifo, os.O_RDONLY | os.O_NONBLOCK)
        self.keeper = os.open(self.fifo, os.O_WRONLY)  # so the FIFO never reads as closed
        status = shlex.quote(str(self.status))
        script = f"{command}; echo $? > {status}; tmux -L {self.socket} wait-for -S ended"
        self.tmux("new-session", "-d", "-s", "app", "-x", "130", "-y", "40", script)
        self.tmux("pipe-pane", "-t", "app", f"cat >> {shlex.quote(str(self.fifo))}")

    def tmux(self, *args: str, timeout: float = 30) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )
        return done.stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "app")

    def wait_for(self, text: str, patience_s: float = PATIENCE_S) -> str:
        """The screen once it shows `text`; read again whenever the app writes something."""
        deadline = time.monotonic() + patience_s
        while True:
            screen = self.screen()
            if text in screen:
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"the screen never showed {text!r}:\n{screen}")
            ready, _, _ = select.select([self.reader], [], [], 1.0)
            if ready:
                self._drain()

    def _drain(self) -> None:
        try:
            while os.read(self.reader, 65536):
                pass
        except BlockingIOError:
            pass

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "app", *keys)

    def typed(self, text: str) -> None:
        self.tmux("send-keys", "-t", "app", "-l", text)
        self.keys("Enter")

    def exit_status(self) -> int:
        self.tmux("wait-for", "ended", timeout=PATIENCE_S)
        return int(self.status.read_text())

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)
        os.close(self.reader)
        os.close(self.keeper)


@pytest.fixture
def terminal(chat_lab: ChatLab, tmp_path: Path) -> Iterator[Terminal]:
    # COLUMNS and LINES (set by pytest or the shell) would override the window's size.
    env = f"-u COLUMNS -u LINES PYTHONPATH={shlex.quote(str(ROOT))} TERM=xterm-256color"
    command = (
        f"cd {shlex.quote(str(ROOT))} && env {env} {shlex.quote(sys.executable)} -m rootcause "
        f"--workspace {shlex.quote(str(chat_lab.workspace.root))} "
        f"chat {shlex.quote(str(chat_lab.run))}"
    )
    term = Terminal(tmp_path, command)
    yield term
    term.close()


def test_the_real_app_in_tmux(terminal: Terminal, chat_lab: ChatLab) -> None:
    """A keyboard-only session: /overview (open and readable), /investigate to a verdict, a
    block stepped to and opened, the tabs, back to the top, and Ctrl+Q (the session id
    printed)."""
    terminal.wait_for("ready")
    terminal.typed("/overview")
    terminal.wait_for("E1 overview ✓")
    terminal.wait_for("personas:")  # asked for: open, its output on screen
    terminal.typed(f"/investigate {chat_lab.symptom}")
    screen = terminal.wait_for("Investigation 1: cause found")
    assert chat_lab.lab.culprit in screen and "supported" in screen
    terminal.keys("C-Up")
    terminal.keys("C-o")
    terminal.wait_for("▼ I1:E")  # the newest block of the investigation, opened
    terminal.keys("F2")
    terminal.wait_for("key figures")
    terminal.keys("F1")
    terminal.wait_for("Ask about the run")  # the Chat tab is back
    # The first screen, at the top. A Ctrl+Home that lands while the tab is still being laid
    # out can be undone by the view's anchor (a known race, left open in the issue), so the
    # key is pressed again until the top shows, as a user would.
    for _ in range(5):
        terminal.keys("C-Home")
        try:
            terminal.wait_for("Reward components (", patience_s=PATIENCE_S / 5)
            break
        except AssertionError:
            continue
    terminal.wait_for("Reward components (")
    terminal.keys("C-q")
    assert terminal.exit_status() == 0
