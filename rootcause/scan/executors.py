"""Where the per-run task runs: a local process pool, or Ray past one machine.

Both take the same function and tasks and yield results as runs finish; the driver alone
writes them. Ray is an optional extra (`rootcause[ray]`), imported only when asked for.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from typing import Any, Protocol

from rootcause.core.errors import BadInputError
from rootcause.scan.model import RunResult, RunTask

logger = logging.getLogger(__name__)

TaskFn = Callable[[RunTask], RunResult]


#: Called with each task as it is handed to a worker.
StartFn = Callable[[RunTask], None]
#: Whether to hand out no more tasks (the scan was cancelled).
StopFn = Callable[[], bool]


def _never() -> bool:
    return False


def _ignore(_: RunTask) -> None:
    return None


class Executor(Protocol):
    """Runs `fn` over `tasks`, yielding each result as it finishes (in any order). `on_start`
    is called with each task as it is handed out; once `stop()` is true no more are (the
    tasks under way still finish and are yielded, except on Ray, where they are cancelled)."""

    name: str

    def run(
        self,
        fn: TaskFn,
        tasks: Sequence[RunTask],
        on_start: StartFn | None = None,
        stop: StopFn | None = None,
    ) -> Iterator[RunResult]: ...


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


class LocalExecutor:
    """A pool of `workers` processes (spawned: no state inherited); 1 runs in this process."""

    def __init__(self, workers: int | None = None):
        self.workers = workers or default_workers()
        self.name = f"local x{self.workers}"

    def run(
        self,
        fn: TaskFn,
        tasks: Sequence[RunTask],
        on_start: StartFn | None = None,
        stop: StopFn | None = None,
    ) -> Iterator[RunResult]:
        started, stopped = on_start or _ignore, stop or _never
        if self.workers <= 1 or len(tasks) <= 1:
            for task in tasks:
                if stopped():
                    return
                started(task)
                yield fn(task)
            return
        # the pool's modules (25 ms) load only for a pool, not for a scan in this process
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        ctx = multiprocessing.get_context("spawn")
        size = min(self.workers, len(tasks))
        pool = ProcessPoolExecutor(
            max_workers=size, mp_context=ctx, initializer=die_with_parent, initargs=(os.getpid(),)
        )
        waiting = iter(tasks)
        running: set[Future[RunResult]] = set()

        def hand_out() -> None:  # a task per free worker, so a task handed out starts now
            while len(running) < size and not stopped():
                task = next(waiting, None)
                if task is None:
                    return
                started(task)
                running.add(pool.submit(fn, task))

        try:
            hand_out()
            while running:
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    running.discard(future)
                    yield future.result()
                hand_out()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


#: How often the Ray driver looks whether the scan was cancelled while it waits (seconds).
RAY_POLL_S = 0.5
#: How often a pool worker checks that the scan that started it is still alive (seconds).
PARENT_POLL_S = 1.0
_PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int) -> None:
    """Run in each pool worker at start: the worker ends when the scan process that started
    it dies, even by kill -9 (which runs no clean-up in the parent). On Linux the kernel sends
    SIGKILL at once (prctl PR_SET_PDEATHSIG); everywhere a daemon thread also checks every
    `PARENT_POLL_S` that the parent is still the one that started the worker."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            logger.debug("prctl(PR_SET_PDEATHSIG) unavailable; polling the parent only")
    if os.getppid() != parent_pid:  # the parent died before the worker got here
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()


def _watch_parent(parent_pid: int) -> None:
    # A dead parent's children are re-parented, so getppid() changes; Event.wait paces the
    # loop without a busy wait.
    pause = threading.Event()
    while os.getppid() == parent_pid:
        pause.wait(PARENT_POLL_S)
    os._exit(1)


class RayExecutor:
    """The task as Ray tasks (one CPU each): on the Ray already initialised in this process,
    else a local one (`address` None) or the cluster at `address`. Every node must import
    rootcause and see the runs and the workspace at the same paths (a shared filesystem)."""

    def __init__(self, address: str | None = None):
        self.address = address
        self.name = "ray" + (f" {address}" if address else "")

    def _ray(self) -> Any:
        try:
            import ray
        except ImportError:
            raise BadInputError("--ray needs the ray extra: pip install 'rootcause[ray]'") from None
        return ray

    def run(
        self,
        fn: TaskFn,
        tasks: Sequence[RunTask],
        on_start: StartFn | None = None,
        stop: StopFn | None = None,
    ) -> Iterator[RunResult]:
        ray = self._ray()
        started, stopped = on_start or _ignore, stop or _never
        began = False
        if not ray.is_initialized():
            ray.init(address=self.address, include_dashboard=False, log_to_driver=False)
            began = True
        remote = ray.remote(num_cpus=1, max_retries=0)(fn)
        pending = []
        for task in tasks:  # dispatched at once: the cluster schedules them
            started(task)
            pending.append(remote.remote(task))
        try:
            while pending and not stopped():
                ready, pending = ray.wait(pending, num_returns=1, timeout=RAY_POLL_S)
                if ready:
                    yield ray.get(ready[0])
        finally:
            for ref in pending:
                ray.cancel(ref, force=True)
            if began:
                ray.shutdown()


def make_executor(workers: int | None, ray: bool, address: str | None) -> Executor:
    if ray:
        return RayExecutor(address)
    if workers is not None and workers < 1:
        raise BadInputError(f"--workers {workers}: give at least 1")
    return LocalExecutor(workers)
