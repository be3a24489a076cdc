"""How the CLI watches a job of the seam (`rootcause.core.jobs`): wait for it so Ctrl-C
reaches the main thread, cancel it on the first Ctrl-C, and write its events to `--events`."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from rootcause.core.jobs import Job, JsonlEventWriter, check_events_path

R = TypeVar("R")
#: How long the main thread waits for a job at a time, so a Ctrl-C reaches it (seconds).
WAIT_SLICE_S = 0.2


def wait_for(job: Job[Any, R]) -> R:
    """The job's result (or its error); waits in short slices so Ctrl-C reaches this (the
    main) thread."""
    while True:
        try:
            return job.wait(timeout=WAIT_SLICE_S)
        except TimeoutError:
            continue


def watch(job: Job[Any, R], cancelling: str) -> R:
    """Wait for `job`. The first Ctrl-C cancels it (`cancelling` says so on stderr) and waits
    for it to stop, which raises the job's `Cancelled` error; a second Ctrl-C raises
    `KeyboardInterrupt` at once."""
    try:
        return wait_for(job)
    except KeyboardInterrupt:
        print(cancelling, file=sys.stderr)
        job.cancel()
        return wait_for(job)


@contextmanager
def events_file(
    path: Path | None, writer: Callable[[Path], JsonlEventWriter[Any]]
) -> Iterator[JsonlEventWriter[Any] | None]:
    """The `--events` writer for `path` (None: no file), checked before the job starts (a
    path that cannot be written is one line, exit 2) and closed when the job ends."""
    if path is None:
        yield None
        return
    check_events_path(path)
    opened = writer(path)
    try:
        yield opened
    finally:
        opened.close()
