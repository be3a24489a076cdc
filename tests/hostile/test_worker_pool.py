"""Scan's local worker pool dies with the scan, even when it is killed with -9 (issue 24, 5)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

SCRIPT = """
import sys
from rootcause.scan.executors import LocalExecutor
from tests.hostile.pool_task import hang
for _ in LocalExecutor(2).run(hang, [sys.argv[1], sys.argv[1]]):
    pass
"""


def _wait_for(condition: Callable[[], bool], limit_s: float = 60.0) -> bool:
    """Poll `condition` until it holds (True) or `limit_s` passes (False)."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def _running(pid: int) -> bool:
    """Whether `pid` is a live process (a zombie waiting to be reaped is not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")


def test_killing_the_scan_with_sigkill_ends_its_workers(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    parent = subprocess.Popen([sys.executable, "-c", SCRIPT, str(tmp_path)], env=env, cwd=REPO)
    workers: list[int] = []
    try:
        assert _wait_for(lambda: len(list(tmp_path.iterdir())) == 2), "workers never started"
        workers = [int(p.name) for p in tmp_path.iterdir()]
        assert all(_running(pid) for pid in workers)
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        assert _wait_for(lambda: not any(_running(pid) for pid in workers)), workers
    finally:
        if parent.poll() is None:
            parent.kill()
        for pid in workers:  # a failed run leaves no workers behind either
            if _running(pid):
                os.kill(pid, signal.SIGKILL)
