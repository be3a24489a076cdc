"""`rootcause investigate`: a run and a symptom in, ranked and evidenced root causes out."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import typer

from rootcause.cli.app import app
from rootcause.cli.common import (
    FormatOption,
    WorkspaceOption,
    stderr_console,
    stdout_console,
    workspace_dir,
)
from rootcause.core.errors import BadInputError


@app.command()
def investigate(
    run: Annotated[Path | None, typer.Argument(help="Run folder or foreign log.")] = None,
    symptom: Annotated[
        str | None, typer.Option("--symptom", help="What you noticed, in plain words.")
    ] = None,
    behavior: Annotated[
        str | None, typer.Option("--behavior", help="Detector spec; overrides the symptom's.")
    ] = None,
    brain: Annotated[str, typer.Option("--brain", help="Which brain drives it.")] = "systematic",
    json_path: Annotated[
        Path | None, typer.Option("--json", help="Also write the JSON report here.")
    ] = None,
    markdown_path: Annotated[
        Path | None, typer.Option("--markdown", help="Also write the Markdown report here.")
    ] = None,
    resume: Annotated[
        str | None, typer.Option("--resume", help="Continue the investigation with this id.")
    ] = None,
    fail_on_cause: Annotated[
        bool, typer.Option("--fail-on-cause", help="Exit 3 when a cause is found (for CI).")
    ] = False,
    fmt: FormatOption = "auto",
    workspace: WorkspaceOption = None,
) -> None:
    """Investigate why RUN shows SYMPTOM; progress on stderr, the summary on stdout."""
    from rootcause.investigate.job import investigate as run_job
    from rootcause.investigate.toolbox import Event
    from rootcause.store.workspace import Workspace

    if resume is None and (run is None or not symptom):
        raise BadInputError("investigate: give RUN and --symptom TEXT (or --resume ID)")
    err = stderr_console()

    def show(event: Event) -> None:
        style = {"phase": "bold", "hypothesis": "cyan", "tool": "dim"}.get(event.kind, "")
        err.print(f"[{style}]{event.kind:10s}[/{style}] {event.message}", markup=True)

    outcome = run_job(
        Workspace.resolve(workspace_dir(workspace)),
        run=run,
        symptom=symptom,
        behavior=behavior,
        brain=brain,
        resume=resume,
        run_format=fmt,
        on_event=show,
    )
    for src, dest in ((outcome.json_path, json_path), (outcome.markdown_path, markdown_path)):
        if dest is not None:
            shutil.copyfile(src, dest)
    report = outcome.report
    out = stdout_console()
    out.print(f"investigation {report.id}: {report.verdict}", markup=False)
    out.print(report.summary, markup=False)
    for f in report.findings:
        commit = f" @ {f.commit[:10]}" if f.commit else ""
        out.print(
            f"  {f.rank}. {f.kind} {f.id}{commit} (confidence {f.confidence:.2f})", markup=False
        )
    out.print(f"report: {outcome.markdown_path}", markup=False)
    plots = sorted((outcome.folder / "plots").glob("*.png"))
    if plots:
        out.print(f"plots: {outcome.folder / 'plots'} ({len(plots)} files)", markup=False)
    if fail_on_cause and report.verdict == "cause_found":
        raise typer.Exit(3)
