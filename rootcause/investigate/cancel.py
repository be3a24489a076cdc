"""Cancelling a running investigation: a token the job checks between protocol steps, between
tool calls and (LLM brain) between model turns. A cancelled job keeps the checkpoint of its
last finished step, says so in its folder, and `--resume ID` finishes it.

The token and the error are the job seam's (`rootcause.core.jobs`), made to say which
investigation stopped and how to resume it."""

from __future__ import annotations

from typing import ClassVar

from rootcause.core import jobs
from rootcause.core.jobs import EXIT_CANCELLED, Cancelled

__all__ = ["EXIT_CANCELLED", "CancelToken", "JobCancelled"]


class JobCancelled(Cancelled):
    """The investigation was cancelled; `investigation` is the id to resume."""

    def __init__(self, investigation: str = "", phase: str = ""):
        self.investigation = investigation
        self.phase = phase
        hint = f"; continue with --resume {investigation}" if investigation else ""
        super().__init__(f"investigation {investigation or '(not started)'} cancelled{hint}")


class CancelToken(jobs.CancelToken):
    """Set once by whoever cancels (a face, a signal handler); checked by the job, which then
    raises `JobCancelled`. Given another token, it is set with that one."""

    error: ClassVar[type[Cancelled]] = JobCancelled
