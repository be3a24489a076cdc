"""The evaluation as a library call: what a face (the CLI, a TUI, a fleet runner) asks for and
gets back.

`run_suite` loads a suite, investigates every scenario (`runner`), scores the reports against
their keys and writes the results folder (`results`); progress goes to a callback as typed
`EvalProgress` values. It is a job of the seam (`rootcause.core.jobs`): `start_eval` runs it in
a thread and returns an `EvalJob` (typed events, `rootcause.evaluation.events`; cancel; wait),
and `evaluate` runs the same in the caller's thread. `rescore` recomputes an earlier eval's
results from what it stored. Rendering (progress bars, tables on a terminal) is the face's business.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from rootcause.core import jobs
from rootcause.core.errors import BadInputError
from rootcause.evaluation.events import (
    EvalCancelled,
    EvalEvent,
    EvalEventSink,
    EvalEventStream,
    EvalFailed,
    EvalFinished,
    EvalStarted,
    LabRunPrepared,
    Stage,
    StageStarted,
    TrialInvestigated,
)
from rootcause.evaluation.results import (
    RESULTS_MARKDOWN,
    EvalResult,
    EvalSpec,
    build_result,
    check_out_dir,
    load_results,
    machine,
    write_results,
)
from rootcause.evaluation.runner import (
    EvalConfig,
    EvalProgress,
    ProgressFn,
    check_brain,
    run_eval,
)
from rootcause.evaluation.suite import load_suite
from rootcause.investigate.options import BrainOptions, stored_form
from rootcause.store.workspace import Workspace, guard_output

__all__ = [
    "EvalCancelledError",
    "EvalEvent",
    "EvalJob",
    "EvalProgress",
    "EvalRequest",
    "EvalResult",
    "evaluate",
    "rescore",
    "run_suite",
    "start_eval",
]


@dataclass(frozen=True)
class EvalRequest:
    """An eval to run: a suite (YAML file or folder), the brain and its options (the tools
    disabled for an ablation among them; None: the brain's defaults), repeats per scenario,
    worker processes, and the results folder (default
    `<workspace>/evals/<suite>-<brain>-<time>/`). The llm brain's API key is read from
    `OPENAI_API_KEY` by each worker and never stored."""

    suite: Path
    workspace: Workspace
    brain: str = "systematic"
    options: BrainOptions | None = None
    repeats: int = 1
    workers: int = 1
    out_dir: Path | None = None


class EvalCancelledError(jobs.Cancelled):
    """The eval was cancelled; nothing was written. Its lab runs stay cached, so running it
    again generates none of them again."""

    def __init__(self, stage: str | None = None) -> None:
        self.stage = stage
        where = f" while it was at the {stage} stage" if stage else ""
        super().__init__(f"eval cancelled{where}; nothing written (its lab runs stay cached)")


class EvalJob(jobs.Job[EvalEvent, EvalResult]):
    """A running (or finished) eval: its events, `cancel()` (nothing more is started; the
    lab runs and investigations under way finish) and `wait()` for its result."""

    what: ClassVar[str] = "eval"


def evaluate(
    request: EvalRequest,
    on_event: EvalEventSink | None = None,
    cancel: jobs.CancelToken | None = None,
) -> EvalResult:
    """Investigate every scenario of the suite, score each report against its answer key,
    and write the results folder, in this thread; returns the results with `folder` set to
    it. The events go to `on_event`; cancelled, it raises `EvalCancelledError`."""
    stream = EvalEventStream(on_event)
    stage = _Stage()
    stream.subscribe(stage)
    try:
        return _evaluate(request, stream, cancel or jobs.CancelToken())
    except (jobs.Cancelled, KeyboardInterrupt) as exc:
        stream(EvalCancelled(stage=stage.last))
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise EvalCancelledError(stage.last) from None
    except Exception as exc:
        stream(EvalFailed(error=type(exc).__name__, message=str(exc)))
        raise


class _Stage:
    """The last stage the eval started: where a cancelled eval stopped."""

    def __init__(self) -> None:
        self.last: Stage | None = None

    def __call__(self, event: EvalEvent) -> None:
        if isinstance(event, StageStarted):
            self.last = event.stage


def _evaluate(
    request: EvalRequest, stream: EvalEventStream, cancel: jobs.CancelToken
) -> EvalResult:
    if request.workers < 1:
        raise BadInputError(f"--workers must be at least 1 (got {request.workers})")
    if request.repeats < 1:
        raise BadInputError(f"--repeats must be at least 1 (got {request.repeats})")
    suite = load_suite(request.suite)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    root = request.workspace.root
    folder = request.out_dir or root / "evals" / f"{suite.name}-{request.brain}-{stamp}"
    guard_output(folder, [request.workspace.eval_cache_dir], "--out")
    check_out_dir(folder)
    options = check_brain(request.brain, request.options)
    config = EvalConfig(request.brain, options, request.repeats, request.workers)
    stream.folder = str(folder)
    stream(EvalStarted(suite=suite.name, brain=request.brain, scenarios=len(suite.scenarios),
                       repeats=request.repeats, workers=request.workers))  # fmt: skip
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    t0 = time.perf_counter()
    trials = run_eval(suite, root, config, stream, cancel)
    spec = EvalSpec(
        suite=suite.name,
        suite_files=suite.files,
        scenarios=suite.scenarios,
        brain=request.brain,
        brain_options={k: v for k, v in stored_form(options).items() if k != "disabled_tools"},
        repeats=request.repeats,
        disabled_tools=list(options.disabled_tools),
        workers=request.workers,
        started=started,
        wall_s=round(time.perf_counter() - t0, 1),
        machine=machine(),
    )
    result = build_result(spec, trials)
    write_results(folder, result)
    result.folder = folder
    stream(EvalFinished(summary=result.summary, results_markdown=str(folder / RESULTS_MARKDOWN)))
    return result


def start_eval(
    request: EvalRequest,
    on_event: EvalEventSink | None = None,
    cancel: jobs.CancelToken | None = None,
) -> EvalJob:
    """Start an eval in a thread of its own and return its job. `on_event`, if given, is
    subscribed before it starts; `cancel`, if given, is set with `job.cancel()`."""
    return jobs.start_job(
        EvalJob(cancel), lambda publish, token: evaluate(request, publish, token), on_event
    )


class _Progress:
    """An eval's events as the `EvalProgress` values `run_suite(on_progress=...)` gives."""

    def __init__(self, tick: ProgressFn) -> None:
        self.tick = tick

    def __call__(self, event: EvalEvent) -> None:
        if isinstance(event, StageStarted):
            self.tick(EvalProgress(event.stage, 0, event.total))
        elif isinstance(event, LabRunPrepared):
            self.tick(EvalProgress("prepare", event.done, event.total))
        elif isinstance(event, TrialInvestigated):
            self.tick(EvalProgress("investigate", event.done, event.total, event.trial))


def run_suite(request: EvalRequest, on_progress: ProgressFn | None = None) -> EvalResult:
    """Investigate every scenario of the suite, score each report against its answer key,
    and write the results folder; returns the results with `folder` set to it. (The events
    form is `evaluate` / `start_eval`.)"""
    return evaluate(request, None if on_progress is None else _Progress(on_progress))


def rescore(workspace: Workspace, folder: Path, out_dir: Path | None = None) -> EvalResult:
    """Re-score an earlier eval's folder from its stored findings and causes (nothing is run)
    and write the results to `out_dir` (default: the same folder)."""
    result = load_results(folder)
    result.folder = out_dir or folder
    guard_output(result.folder, [workspace.eval_cache_dir], "--out")
    write_results(result.folder, result)
    return result
