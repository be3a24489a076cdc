"""Cancelling a running investigation: a token the job checks between protocol steps, between
tool calls and (LLM brain) between model turns. A cancelled job keeps the checkpoint of its
last finished step, says so in its folder, and `--resume ID` finishes it."""

from __future__ import annotations

import threading

from rootcause.core.errors import RootcauseError

#: The conventional exit status of a program stopped by Ctrl-C (128 + SIGINT).
EXIT_CANCELLED = 130


class JobCancelled(RootcauseError):
    """The investigation was cancelled; `investigation` is the id to resume."""

    exit_code = EXIT_CANCELLED

    def __init__(self, investigation: str = "", phase: str = ""):
        self.investigation = investigation
        self.phase = phase
        hint = f"; continue with --resume {investigation}" if investigation else ""
        super().__init__(f"investigation {investigation or '(not started)'} cancelled{hint}")


class CancelToken:
    """Set once by whoever cancels (a face, a signal handler); checked by the job."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        """Raise `JobCancelled` if the job was cancelled (the job fills in its id)."""
        if self._event.is_set():
            raise JobCancelled()
