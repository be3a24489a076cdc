"""Many investigators in one (`--ensemble N`, `--model` given more than once): independent LLM
investigations of the same spec, then one aggregate.

Each run is a whole investigation of its own (its folder, checkpoint, report, budgets and
referee); the runs differ by model (run i takes the i-th `--model`, cycling) and, unless
`--temperature` is given, by sampling temperature (`TEMPERATURES`, cycling). The aggregate
names the cause the referee confirmed in the most runs (ties: the higher summed confidence),
lists every run whose verdict or confirmed cause differs from it (its verdict, what it named
and confirmed, its folder), and adds up the costs. With the referee off, a run's grounded
findings stand in for its confirmed ones, and the aggregate says so.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from rootcause.core.errors import BadInputError
from rootcause.core.report import Finding, Report, Stats, Verdict
from rootcause.core.untrusted import inline
from rootcause.investigate.events import EventSink
from rootcause.investigate.job import InvestigationRequest, Outcome, new_id, run_investigation
from rootcause.investigate.llm.config import LLMOptions
from rootcause.investigate.report import write_atomic
from rootcause.store.workspace import Workspace

ENSEMBLE_FORMAT: Literal["rootcause-ensemble/1"] = "rootcause-ensemble/1"
#: Sampling temperatures of an ensemble's runs when none is given (run i takes the i-th).
TEMPERATURES = (0.2, 0.7, 1.0)
#: Most runs one ensemble may start.
MAX_RUNS = 16


class EnsembleRun(BaseModel):
    """One investigator of an ensemble: how it ran and what it concluded."""

    run: int
    model: str | None
    temperature: float | None
    investigation: str
    folder: str
    verdict: Verdict
    named: list[str] = Field(description="Its findings, as 'kind id'.")
    confirmed: list[str] = Field(description="The findings its referee confirmed.")
    stats: Stats


class EnsembleReport(BaseModel):
    """The aggregate of an ensemble (`rootcause-ensemble/1`)."""

    format: Literal["rootcause-ensemble/1"] = ENSEMBLE_FORMAT
    id: str
    symptom: str
    verdict: Verdict
    cause: str | None
    runs_naming_cause: int
    referee: bool
    summary: str
    disagreements: list[str]
    runs: list[EnsembleRun]
    total: Stats


def run_options(options: LLMOptions, runs: int, models: list[str]) -> list[LLMOptions]:
    """Each run's options: `max(runs, len(models))` runs, cycling over the models and, unless
    a temperature is set, over `TEMPERATURES`."""
    count = max(runs, len(models), 1)
    if count > MAX_RUNS:
        raise BadInputError(f"--ensemble {count}: at most {MAX_RUNS} runs")
    out = []
    for i in range(count):
        update: dict[str, object] = {}
        if models:
            update["model"] = models[i % len(models)]
        if options.temperature is None:
            update["temperature"] = TEMPERATURES[i % len(TEMPERATURES)]
        out.append(options.model_copy(update=update))
    return out


def _name(f: Finding) -> str:
    return f"{f.kind} {f.id}"


def _counted(report: Report, referee: bool) -> list[Finding]:
    """The findings a run counts for: confirmed by its referee (grounded with it off)."""
    if not referee:
        return [f for f in report.findings if f.grounded]
    return [f for f in report.findings if f.grounded and f.referee and f.referee.confirmed]


def aggregate(
    ensemble_id: str, outcomes: list[Outcome], options: list[LLMOptions]
) -> EnsembleReport:
    """The cause most runs confirmed, the runs that disagree, and the costs in total."""
    referee = all(o.referee for o in options)
    runs: list[EnsembleRun] = []
    votes: Counter[str] = Counter()
    weight: dict[str, float] = {}
    for i, (outcome, opts) in enumerate(zip(outcomes, options, strict=True), start=1):
        report = outcome.report
        counted = _counted(report, referee)
        for f in {_name(f): f for f in counted}.values():
            votes[_name(f)] += 1
            weight[_name(f)] = weight.get(_name(f), 0.0) + f.confidence
        runs.append(
            EnsembleRun(
                run=i,
                model=opts.model,
                temperature=opts.temperature,
                investigation=report.id,
                folder=str(outcome.folder),
                verdict=report.verdict,
                named=[_name(f) for f in report.findings],
                confirmed=[_name(f) for f in counted],
                stats=report.stats,
            )
        )
    cause = max(votes, key=lambda n: (votes[n], weight[n])) if votes else None
    verdicts = {r.verdict for r in runs}
    verdict: Verdict = "cause_found" if cause else "inconclusive"
    if cause is None and len(verdicts) == 1:
        verdict = next(iter(verdicts))
    disagreements = [
        f"run {r.run} ({r.model or 'default model'}, temperature {r.temperature}): {r.verdict}, "
        f"named {', '.join(r.named) or 'nothing'}, confirmed {', '.join(r.confirmed) or 'none'}"
        f" ({r.folder})"
        for r in runs
        if r.verdict != verdict or (cause is not None and (r.confirmed[:1] != [cause]))
    ]
    what = "the referee confirmed" if referee else "grounded (referee off)"
    summary = (
        f"{cause}: {what} in {votes[cause]} of {len(runs)} runs"
        if cause
        else f"no cause {what} in any of {len(runs)} runs"
    ) + (f"; {len(disagreements)} run(s) disagree" if disagreements else "; all runs agree")
    return EnsembleReport(
        id=ensemble_id,
        symptom=outcomes[0].report.symptom if outcomes else "",
        verdict=verdict,
        cause=cause,
        runs_naming_cause=votes[cause] if cause else 0,
        referee=referee,
        summary=summary,
        disagreements=disagreements,
        runs=runs,
        total=_total([r.stats for r in runs]),
    )


def _total(stats: list[Stats]) -> Stats:
    return Stats(
        wall_s=round(sum(s.wall_s for s in stats), 3),
        tool_calls=sum(s.tool_calls for s in stats),
        tokens_in=sum(s.tokens_in for s in stats),
        tokens_out=sum(s.tokens_out for s in stats),
        cost_usd=round(sum(s.cost_usd for s in stats), 6),
    )


def render_markdown(report: EnsembleReport) -> str:
    lines = [
        f"# rootcause ensemble {report.id}",
        "",
        f"**Symptom:** {inline(report.symptom)}",
        "",
        f"## Verdict: {report.verdict}",
        "",
        report.summary,
        "",
        "| run | model | temperature | verdict | confirmed | tool calls | tokens | $ | folder |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report.runs:
        s = r.stats
        lines.append(
            f"| {r.run} | {r.model or '-'} | {r.temperature} | {r.verdict} | "
            f"{', '.join(r.confirmed) or '-'} | {s.tool_calls} | {s.tokens_in + s.tokens_out} | "
            f"{s.cost_usd:.4f} | {r.folder} |"
        )
    t = report.total
    lines += [
        f"| total | | | | | {t.tool_calls} | {t.tokens_in + t.tokens_out} | {t.cost_usd:.4f} | |",
        "",
    ]
    if report.disagreements:
        lines += ["## Disagreements", "", *(f"- {d}" for d in report.disagreements), ""]
    return "\n".join(lines)


def write_ensemble(workspace: Workspace, report: EnsembleReport) -> tuple[Path, Path]:
    folder = workspace.ensure(workspace.root / "ensembles" / report.id)
    json_path, md_path = folder / "ensemble.json", folder / "ensemble.md"
    write_atomic(json_path, report.model_dump_json(indent=2) + "\n")
    write_atomic(md_path, render_markdown(report))
    return json_path, md_path


def run_ensemble(
    workspace: Workspace,
    request: InvestigationRequest,
    options: list[LLMOptions],
    run: Callable[[Workspace, InvestigationRequest], Outcome] | None = None,
    on_event: EventSink | None = None,
) -> tuple[EnsembleReport, list[Outcome]]:
    """Run the request once per options (in turn, each a whole investigation) and aggregate.
    `run` runs one (default: `run_investigation` with `on_event`); a request whose `brain` is
    a brain object is used as is (tests inject scripted models that way)."""
    if request.resume is not None:
        raise BadInputError("--ensemble: start new investigations (an ensemble is not resumed)")
    go = run or (lambda ws, r: run_investigation(ws, r, on_event))
    outcomes = [go(workspace, dataclasses.replace(request, options=o)) for o in options]
    first = outcomes[0].report.run_id if outcomes else "run"
    report = aggregate(f"ensemble-{new_id(first)}", outcomes, options)
    write_ensemble(workspace, report)
    return report, outcomes
