"""Run a brain over a suite: generate (or reuse) each lab run, investigate it, score it.

Two phases, each over a pool of processes (`workers`; 1 runs in this process):

1. prepare, once per distinct lab run: generate it into the cache, ingest it into the
   workspace, and count its candidates for the chance baseline;
2. investigate, once per scenario and repeat, through `rootcause.investigate.job.investigate`
   with the run folder and the key's symptom only. The worker never receives the key's path or
   its causes; the key is read here, in the parent, by the scorer.

A scenario that fails (generation, ingest or investigation) is recorded with its error and
scored as a miss; the eval goes on.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from pydantic import BaseModel, Field, SerializeAsAny

from rootcause.core.errors import BadInputError
from rootcause.core.jobs import CancelToken
from rootcause.core.report import Report, Stats
from rootcause.evaluation.cache import ensure_run
from rootcause.evaluation.scorer import Cause, Flags, Metrics, causes_of, score
from rootcause.evaluation.suite import LabOptions, Scenario, Suite
from rootcause.investigate.options import BrainOptions, check_tools, override

if TYPE_CHECKING:  # the events name the summary, which names this module's results
    from rootcause.evaluation.events import EvalEventSink

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class EvalProgress:
    """How far an eval is: `done` of `total` lab runs prepared (stage "prepare") or scenarios
    investigated ("investigate"); `label` names the scenario just finished."""

    stage: Literal["prepare", "investigate"]
    done: int
    total: int
    label: str = ""


ProgressFn = Callable[[EvalProgress], None]


@dataclass
class EvalConfig:
    """How to investigate: which brain, its options (ablations included; checked by
    `check_brain`), repeats and parallelism."""

    brain: str
    options: BrainOptions
    repeats: int = 1
    workers: int = 1


class Prepared(BaseModel):
    """A lab run ready to investigate (or why it is not)."""

    run_dir: str | None = None
    key_path: str | None = None
    candidates: int | None = None
    seconds: float = 0.0
    error: str | None = None


class InvestigateTask(BaseModel):
    """Everything an investigation worker gets: deliberately no answer key, path or cause."""

    trial: str
    workspace: str
    run_dir: str
    symptom: str
    brain: str
    options: SerializeAsAny[BrainOptions]


class InvestigateOutcome(BaseModel):
    trial: str
    investigation: str | None = None
    folder: str | None = None
    report: str | None = None
    error: str | None = None
    seconds: float = 0.0


class TrialResult(BaseModel):
    """One investigated scenario (one repeat) with its flags and metrics."""

    id: str
    scenario: str
    bug: str
    seed: int
    repeat: int
    options: LabOptions
    run_dir: str | None = None
    investigation: str | None = None
    report_path: str | None = None
    verdict: str | None = None
    causes: list[Cause] = Field(default_factory=list)
    flags: Flags
    metrics: Metrics
    stats: Stats = Field(default_factory=Stats)
    seconds: float = 0.0
    error: str | None = None


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:500]


def prepare_run(workspace: str, bug: str, seed: int, options: dict[str, Any]) -> Prepared:
    """Generate (or reuse) the lab run and ingest it; count the candidates of the chance
    baseline (reward components + data sources + deployed commits)."""
    from rootcause.store.ingest import ingest_run
    from rootcause.store.run_store import RunStore
    from rootcause.store.workspace import Workspace

    t0 = time.perf_counter()
    try:
        cached = ensure_run(Path(workspace), bug, seed, LabOptions.model_validate(options))
        ingested = ingest_run(cached.run_dir, Workspace(Path(workspace)))
        with RunStore(ingested.db_path) as store:
            ov = store.overview()
        commits = {d.commit for d in ov.deployments}
        candidates = len(ov.components) + len(ov.data_sources) + len(commits)
    except Exception as exc:  # recorded per scenario; the eval goes on
        log.warning("preparing %s seed %s failed: %s", bug, seed, exc)
        return Prepared(error=_describe(exc), seconds=time.perf_counter() - t0)
    return Prepared(
        run_dir=str(cached.run_dir),
        key_path=str(cached.key_path),
        candidates=candidates,
        seconds=time.perf_counter() - t0,
    )


def check_brain(name: str, options: BrainOptions | None) -> BrainOptions:
    """The brain's options, checked before anything is generated: the brain is known, takes
    these options, and can be built with them (for the llm brain: a model is configured and
    its endpoint answers)."""
    from rootcause.investigate.job import BRAINS, make_brain

    if name not in BRAINS:
        raise BadInputError(f"--brain {name}: unknown brain; choose one of {', '.join(BRAINS)}")
    checked = override(BRAINS[name].options(), options, name)
    check_tools(checked.disabled_tools, "--disable-tools")
    make_brain(name, checked)
    return checked


def investigate_task(task: InvestigateTask) -> InvestigateOutcome:
    """Investigate one run from its folder and symptom (runs in a worker process)."""
    from rootcause.investigate.job import investigate
    from rootcause.store.workspace import Workspace

    t0 = time.perf_counter()
    try:
        outcome = investigate(
            Workspace(Path(task.workspace)),
            run=Path(task.run_dir),
            symptom=task.symptom,
            brain=task.brain,
            options=task.options,
        )
    except Exception as exc:  # recorded per scenario; the eval goes on
        log.warning("investigating %s failed: %s", task.trial, exc)
        return InvestigateOutcome(
            trial=task.trial, error=_describe(exc), seconds=time.perf_counter() - t0
        )
    return InvestigateOutcome(
        trial=task.trial,
        investigation=outcome.report.id,
        folder=str(outcome.folder),
        report=outcome.report.model_dump_json(),
        seconds=time.perf_counter() - t0,
    )


def _star_prepare(args: tuple[str, str, int, dict[str, Any]]) -> Prepared:
    return prepare_run(*args)


def _pool_map(
    fn: Callable[[T], R],
    items: list[T],
    workers: int,
    on_done: Callable[[int, R], None],
    stop: Callable[[], bool],
) -> dict[int, R]:
    """`{i: fn(x)}` for the items, computed `workers` processes at a time (1: in this one),
    each handed out as a worker is free; once `stop()` is true no more are handed out (those
    under way finish). `on_done` gets each result as it comes."""
    out: dict[int, R] = {}
    if workers <= 1 or len(items) <= 1:
        for i, item in enumerate(items):
            if stop():
                break
            out[i] = fn(item)
            on_done(i, out[i])
        return out
    ctx = multiprocessing.get_context("spawn")
    size = min(workers, len(items))
    with ProcessPoolExecutor(max_workers=size, mp_context=ctx) as pool:
        waiting = iter(enumerate(items))
        running: dict[Future[R], int] = {}

        def hand_out() -> None:
            while len(running) < size and not stop():
                nxt = next(waiting, None)
                if nxt is None:
                    return
                running[pool.submit(fn, nxt[1])] = nxt[0]

        hand_out()
        while running:
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in finished:
                i = running.pop(fut)
                out[i] = fut.result()
                on_done(i, out[i])
            hand_out()
    return out


def trials(suite: Suite, repeats: int) -> Iterator[tuple[str, Scenario, int]]:
    """(trial id, scenario, repeat) in suite order; the id gains `-r<k>` with repeats."""
    for scn in suite.scenarios:
        for r in range(1, repeats + 1):
            yield (f"{scn.id}-r{r}" if repeats > 1 else scn.id), scn, r


RunKey = tuple[str, int, LabOptions]


def _prepare_all(
    suite: Suite, workspace: Path, workers: int, emit: EvalEventSink, cancel: CancelToken
) -> tuple[dict[RunKey, int], list[Prepared]]:
    """Every distinct lab run of the suite generated (or reused) and ingested."""
    from rootcause.evaluation.events import LabRunPrepared, StageStarted

    runs: dict[RunKey, int] = {}
    for scn in suite.scenarios:
        runs.setdefault((scn.bug, scn.seed, scn.options), len(runs))
    run_list = list(runs)
    jobs = [(str(workspace), b, s, o.model_dump()) for b, s, o in run_list]
    done = [0]

    def prepared(i: int, p: Prepared) -> None:
        done[0] += 1
        bug, seed, _ = run_list[i]
        emit(LabRunPrepared(bug=bug, seed=seed, error=p.error, seconds=p.seconds,
                            done=done[0], total=len(jobs)))  # fmt: skip

    emit(StageStarted(stage="prepare", total=len(jobs)))
    prep = _pool_map(_star_prepare, jobs, workers, prepared, lambda: cancel.cancelled)
    cancel.check()
    return runs, [prep[i] for i in range(len(jobs))]


def run_eval(
    suite: Suite,
    workspace: Path,
    config: EvalConfig,
    emit: EvalEventSink | None = None,
    cancel: CancelToken | None = None,
) -> list[TrialResult]:
    """Investigate every scenario of `suite` (times `repeats`) and score each report; the
    stages and each lab run and investigation as they end go to `emit`. Once `cancel` is set
    nothing more is started, and `cancel.check()` raises when those under way are done."""
    from rootcause.evaluation.events import StageStarted, TrialInvestigated

    tell = emit or (lambda _: None)
    token = cancel or CancelToken()
    runs, prep = _prepare_all(suite, workspace, config.workers, tell, token)
    keys = {
        i: json.loads(Path(p.key_path).read_text()) if p.key_path else None
        for i, p in enumerate(prep)
    }
    all_trials = list(trials(suite, config.repeats))
    tasks: list[InvestigateTask] = []
    for tid, scn, _ in all_trials:
        i = runs[(scn.bug, scn.seed, scn.options)]
        key = keys[i]
        if prep[i].run_dir is None or key is None:
            continue
        tasks.append(
            InvestigateTask(
                trial=tid,
                workspace=str(workspace),
                run_dir=str(prep[i].run_dir),
                symptom=scn.symptom or str(key["symptom"]),
                brain=config.brain,
                options=config.options,
            )
        )
    done = [0]

    def investigated(_: int, o: InvestigateOutcome) -> None:
        done[0] += 1
        tell(TrialInvestigated(trial=o.trial, investigation=o.investigation, error=o.error,
                               seconds=o.seconds, done=done[0], total=len(tasks)))  # fmt: skip

    tell(StageStarted(stage="investigate", total=len(tasks)))
    finished = _pool_map(investigate_task, tasks, config.workers, investigated,
                         lambda: token.cancelled)  # fmt: skip
    token.check()
    outcomes = {o.trial: o for o in finished.values()}
    results = []
    for tid, scn, r in all_trials:
        i = runs[(scn.bug, scn.seed, scn.options)]
        results.append(_result(tid, scn, r, prep[i], keys[i], outcomes.get(tid)))
    return results


def _result(
    tid: str,
    scn: Scenario,
    repeat: int,
    prep: Prepared,
    key: dict[str, Any] | None,
    outcome: InvestigateOutcome | None,
) -> TrialResult:
    key = key or {"bug": scn.bug, "causes": []}
    if scn.absent:
        key = {**key, "absent": True}
    error = prep.error or (outcome.error if outcome else "not investigated")
    report = None
    if outcome is not None and outcome.report is not None:
        report, error = Report.model_validate_json(outcome.report), None
    flags, metrics = score(report, key, prep.candidates, error)
    return TrialResult(
        id=tid,
        scenario=scn.id,
        bug=scn.bug,
        seed=scn.seed,
        repeat=repeat,
        options=scn.options,
        run_dir=prep.run_dir,
        investigation=outcome.investigation if outcome else None,
        report_path=str(Path(outcome.folder) / "report.json")
        if outcome and outcome.folder
        else None,
        verdict=None if report is None else report.verdict,
        causes=causes_of(key),
        flags=flags,
        metrics=metrics,
        stats=Stats() if report is None else report.stats,
        seconds=(outcome.seconds if outcome else 0.0),
        error=error,
    )
