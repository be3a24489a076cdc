"""`rootcause investigate`: a run and a symptom in, ranked and evidenced root causes out."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from rootcause.cli.app import app
from rootcause.cli.common import (
    OverlayArgs,
    SkipBadLinesFlag,
    WorkspaceOption,
    format_option,
    ingest_options,
    lazy_module,
    stderr_console,
    stdout_console,
    with_overlay_options,
    workspace_dir,
)
from rootcause.core.errors import BadInputError
from rootcause.core.untrusted import visible

if TYPE_CHECKING:
    from rootcause.cli import brain_flags
    from rootcause.investigate.events import EventSink
    from rootcause.investigate.job import InvestigationRequest, Outcome
    from rootcause.store.workspace import Workspace
else:  # read when the command is built or runs, not when it is listed (`rootcause --help`)
    brain_flags = lazy_module("rootcause.cli.brain_flags")

#: What each verdict means, after it on the summary line.
#: Longest summary printed on stdout (the report holds all of it).
MAX_SUMMARY_CHARS = 4000
VERDICT_MEANING = {
    "cause_found": "a cause is grounded in evidence",
    "no_cause_found": "every candidate proposed was tested and none holds",
    "inconclusive": "no cause established and the candidates not ruled out; it names no cause",
    "symptom_not_found": "no detector that carries the symptom matches the run; see the "
    "report's suggestions",
}


@app.command()
@with_overlay_options
def investigate(
    ctx: typer.Context,
    run: Annotated[Path | None, typer.Argument(help="Run folder or foreign log.")] = None,
    symptom: Annotated[
        str | None, typer.Option("--symptom", help="What you noticed, in plain words.")
    ] = None,
    behavior: Annotated[
        str | None, typer.Option("--behavior", help="Detector spec; overrides the symptom's.")
    ] = None,
    brain: Annotated[
        str, typer.Option("--brain", help="Which brain drives it: systematic or llm.")
    ] = "systematic",
    json_path: Annotated[
        Path | None, typer.Option("--json", help="Also write the JSON report here.")
    ] = None,
    markdown_path: Annotated[
        Path | None, typer.Option("--markdown", help="Also write the Markdown report here.")
    ] = None,
    resume: Annotated[
        str | None, typer.Option("--resume", help="Continue the investigation with this id.")
    ] = None,
    events_path: Annotated[
        Path | None,
        typer.Option(
            "--events",
            help="Also write the typed event stream here as JSON Lines (one event per line, "
            "flushed as it happens).",
        ),
    ] = None,
    fail_on_cause: Annotated[
        bool, typer.Option("--fail-on-cause", help="Exit 3 when a cause is found (for CI).")
    ] = False,
    fmt: Annotated[str, format_option()] = "auto",
    skip_bad_lines: SkipBadLinesFlag = None,
    workspace: WorkspaceOption = None,
    disabled_tools: brain_flags.DisableToolsFlag = None,
    model: brain_flags.ModelsFlag = None,
    base_url: brain_flags.BaseUrlFlag = None,
    api_key: brain_flags.ApiKeyFlag = None,
    max_turns: brain_flags.MaxTurnsFlag = None,
    max_tool_calls: brain_flags.MaxToolCallsFlag = None,
    max_tokens: brain_flags.MaxTokensFlag = None,
    wall_time_s: brain_flags.WallTimeFlag = None,
    max_output_tokens: brain_flags.MaxOutputTokensFlag = None,
    request_timeout_s: brain_flags.RequestTimeoutFlag = None,
    prices: brain_flags.PricesFlag = None,
    stream: brain_flags.StreamFlag = None,
    trace: brain_flags.TraceFlag = None,
    referee: brain_flags.RefereeFlag = None,
    temperature: brain_flags.TemperatureFlag = None,
    ensemble: Annotated[
        int | None,
        typer.Option(
            "--ensemble",
            min=1,
            help="LLM brain: run N independent investigations (temperatures varied, or one per "
            "--model given) and aggregate the cause the referee confirms in most of them.",
            rich_help_panel=brain_flags.LLM_PANEL,
        ),
    ] = None,
    overlay: OverlayArgs | None = None,
) -> None:
    """Investigate why RUN shows SYMPTOM; progress on stderr, the summary on stdout.
    Ctrl-C cancels at the next step or tool call; --resume ID finishes the job later."""
    from rootcause.cli.progress import StderrProgress
    from rootcause.investigate.job import InvestigationRequest
    from rootcause.store.workspace import Workspace

    if resume is None and (run is None or not symptom):
        raise BadInputError("investigate: give RUN and --symptom TEXT (or --resume ID)")

    several = ensemble is not None or len(model or []) > 1
    if several and (brain != "llm" or resume is not None):
        raise BadInputError("--ensemble / --model given twice: only with --brain llm, not --resume")
    ws = Workspace.resolve(workspace_dir(workspace))
    values = {**brain_flags.brain_flag_values(ctx), "model": model[0] if model else None}
    if resume is not None:
        from rootcause.investigate.job import load_spec

        brain = load_spec(ws, resume).brain
    options = brain_flags.brain_options(ctx, brain, values, api_key)
    outputs = (("--json", json_path), ("--markdown", markdown_path), ("--events", events_path))
    request = InvestigationRequest(
        run=run,
        symptom=symptom,
        behavior=behavior,
        brain=brain,
        resume=resume,
        run_format=fmt,
        options=options,
        api_key=api_key,
        ingest_options=ingest_options(skip_bad_lines, overlay),
        outputs={k: v for k, v in outputs if v},
    )
    if several:
        _ensemble(ws, request, ensemble or 1, model or [], json_path, markdown_path, events_path)
        return
    if events_path is not None:  # refused before the job starts; nothing is written yet
        from rootcause.core.jobs import check_events_path

        check_events_path(events_path)
    outcome = run_watched(ws, request, StderrProgress(stderr_console()), events_path)
    for src, dest in ((outcome.json_path, json_path), (outcome.markdown_path, markdown_path)):
        if dest is not None:
            shutil.copyfile(src, dest)
    report = outcome.report
    out = stdout_console()
    meaning = VERDICT_MEANING.get(report.verdict, "")
    out.print(f"investigation {report.id}: {report.verdict} ({meaning})", markup=False)
    out.print(visible(report.summary, MAX_SUMMARY_CHARS), markup=False)  # model-written
    for f in report.findings:
        commit = f" @ {f.commit[:10]}" if f.commit else ""
        mark = ""
        if f.referee is not None:
            mark = ", confirmed by the referee" if f.referee.confirmed else ", NOT confirmed"
            mark += f" ({', '.join(f.referee.evidence[-3:])})"
        out.print(
            f"  {f.rank}. {f.kind} {f.id}{commit} (confidence {f.confidence:.2f}{mark})",
            markup=False,
        )
    if report.suggestions:
        out.print("what the run does show (pass one as --behavior):", markup=False)
    for s in report.suggestions:
        out.print(f"  --behavior '{s.behavior}'  ({s.direction}: {s.label})", markup=False)
    out.print(f"report: {outcome.markdown_path}", markup=False)
    plots = sorted((outcome.folder / "plots").glob("*.png"))
    if plots:
        out.print(f"plots: {outcome.folder / 'plots'} ({len(plots)} files)", markup=False)
    if fail_on_cause and report.verdict == "cause_found":
        raise typer.Exit(3)


def _ensemble(
    ws: Workspace,
    request: InvestigationRequest,
    runs: int,
    models: list[str],
    json_path: Path | None,
    markdown_path: Path | None,
    events_path: Path | None,
) -> None:
    """Run an ensemble of LLM investigations, each watched as one, and print the aggregate."""
    from rootcause.cli.progress import StderrProgress
    from rootcause.investigate.llm.config import LLMOptions
    from rootcause.investigate.llm.ensemble import render_markdown, run_ensemble, run_options

    assert isinstance(request.options, LLMOptions), type(request.options)
    if events_path is not None:
        raise BadInputError("--events: not with an ensemble (each run keeps its own folder)")
    progress = StderrProgress(stderr_console())
    options = run_options(request.options, runs, models)
    report, _ = run_ensemble(
        ws, request, options, run=lambda w, r: run_watched(w, r, progress, None)
    )
    out = stdout_console()
    out.print(f"ensemble {report.id}: {report.verdict}", markup=False)
    out.print(visible(report.summary, MAX_SUMMARY_CHARS), markup=False)
    for r in report.runs:
        confirmed = ", ".join(r.confirmed) or "none confirmed"
        out.print(
            f"  run {r.run} ({r.model or 'default model'}, temperature {r.temperature}): "
            f"{r.verdict}, {confirmed}; {r.stats.tool_calls} tool calls, "
            f"{r.stats.tokens_in + r.stats.tokens_out} tokens, ${r.stats.cost_usd:.4f} "
            f"({r.investigation})",
            markup=False,
        )
    t = report.total
    out.print(
        f"  total: {t.tool_calls} tool calls, {t.tokens_in + t.tokens_out} tokens, "
        f"${t.cost_usd:.4f}, {t.wall_s:.1f} s",
        markup=False,
    )
    if json_path is not None:
        json_path.write_text(report.model_dump_json(indent=2) + "\n")
    if markdown_path is not None:
        markdown_path.write_text(render_markdown(report))


def run_watched(
    workspace: Workspace,
    request: InvestigationRequest,
    progress: EventSink,
    events_path: Path | None,
) -> Outcome:
    """Run the investigation in a job thread, its events to `progress` (and to `events_path`
    as JSON Lines). Ctrl-C cancels the job cleanly at its next step or tool call and a second
    one stops at once; either way the command says how to resume and exits 130."""
    from rootcause.cli.jobs import watch
    from rootcause.investigate.cancel import EXIT_CANCELLED, JobCancelled
    from rootcause.investigate.events import JsonlEventWriter
    from rootcause.investigate.handle import start_investigation

    writer = JsonlEventWriter(events_path) if events_path is not None else None
    handle = start_investigation(workspace, request, on_event=progress)
    if writer is not None:
        handle.subscribe(writer)
    try:
        return watch(handle, "cancelling at the next step (Ctrl-C again to stop now)")
    except JobCancelled as exc:
        print(f"cancelled: {exc}", file=sys.stderr)
        raise typer.Exit(EXIT_CANCELLED) from None
    except KeyboardInterrupt:
        where = f"--resume {handle.id}" if handle.id else "the same command"
        print(f"stopped; the last finished step is kept: continue with {where}", file=sys.stderr)
        raise typer.Exit(EXIT_CANCELLED) from None
    finally:
        if writer is not None:
            writer.close()
