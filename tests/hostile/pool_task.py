"""A task for the worker-pool test: it says which process runs it, then waits for ever."""

from __future__ import annotations

import os
import threading
from pathlib import Path


def hang(folder: str) -> None:
    (Path(folder) / str(os.getpid())).write_text("started")
    threading.Event().wait()
