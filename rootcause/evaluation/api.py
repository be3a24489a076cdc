"""The evaluation as a library call: what a face (the CLI, a TUI, a fleet runner) asks for and
gets back.

`run_suite` loads a suite, investigates every scenario (`runner`), scores the reports against
their keys and writes the results folder (`results`); progress goes to a callback as typed
`EvalProgress` values. `rescore` recomputes an earlier eval's results from what it stored.
Rendering (progress bars, tables on a terminal) is the face's business.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from rootcause.core.errors import BadInputError
from rootcause.evaluation.results import (
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

__all__ = ["EvalProgress", "EvalRequest", "EvalResult", "rescore", "run_suite"]


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


def run_suite(request: EvalRequest, on_progress: ProgressFn | None = None) -> EvalResult:
    """Investigate every scenario of the suite, score each report against its answer key,
    and write the results folder; returns the results with `folder` set to it."""
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
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    t0 = time.perf_counter()
    trials = run_eval(suite, root, config, on_progress)
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
    return result


def rescore(workspace: Workspace, folder: Path, out_dir: Path | None = None) -> EvalResult:
    """Re-score an earlier eval's folder from its stored findings and causes (nothing is run)
    and write the results to `out_dir` (default: the same folder)."""
    result = load_results(folder)
    result.folder = out_dir or folder
    guard_output(result.folder, [workspace.eval_cache_dir], "--out")
    write_results(result.folder, result)
    return result
