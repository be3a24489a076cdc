"""`rootcause watch`: follow a live run and alert the first time a scan check fires."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from rootcause.cli.app import app
from rootcause.cli.common import SkipBadLinesFlag, WorkspaceOption, format_option, workspace_dir
from rootcause.core.errors import BadInputError

if TYPE_CHECKING:
    from rootcause.scan.watch import WatchAlert

#: Exit code when the watch is stopped with Ctrl+C.
EXIT_INTERRUPTED = 130


@app.command()
def watch(
    run: Annotated[Path, typer.Argument(help="The run folder (or foreign log) being written.")],
    interval: Annotated[
        float, typer.Option("--interval", help="Seconds between looks at the run.")
    ] = 30.0,
    check: Annotated[
        list[str] | None,
        typer.Option("--check", help="cot_exposure, emerging or behavior (repeat)."),
    ] = None,
    behavior: Annotated[
        list[str] | None, typer.Option("--behavior", help="A behaviour spec to follow (repeat).")
    ] = None,
    on_alert: Annotated[
        str | None,
        typer.Option("--on-alert", help="Run this command with each alert as JSON on stdin."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print alerts as JSON Lines.")] = False,
    fmt: Annotated[str, format_option()] = "auto",
    skip_bad_lines: SkipBadLinesFlag = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Follow RUN while it trains: ingest new step files, re-run the scan checks, and print
    an alert the first time each one fires (Ctrl+C stops). The run is only read."""
    from rootcause.scan.model import CheckOptions, chosen_checks
    from rootcause.scan.runner import check_options
    from rootcause.scan.watch import run_on_alert
    from rootcause.scan.watch import watch as follow
    from rootcause.store.workspace import Workspace

    if interval <= 0:
        raise BadInputError(f"--interval {interval}: give a positive number of seconds")
    options = CheckOptions(
        checks=chosen_checks(check),
        behaviors=list(behavior or []),
        fmt=fmt,
        skip_bad_lines=skip_bad_lines,
    )
    check_options(options)
    if not run.expanduser().exists():
        raise BadInputError(f"{run}: no such file or directory")

    def emit(alert: WatchAlert) -> None:
        sys.stdout.write((alert.model_dump_json() if as_json else _line(alert)) + "\n")
        sys.stdout.flush()
        if on_alert:
            run_on_alert(on_alert, alert)

    print(f"watching {run} every {interval:g} s (Ctrl+C stops)", file=sys.stderr)
    try:
        follow(run, Workspace.resolve(workspace_dir(workspace)), options, interval, emit)
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
        raise typer.Exit(EXIT_INTERRUPTED) from None


def _line(watched: WatchAlert) -> str:
    from rootcause.core.untrusted import visible

    a = watched.alert
    where = f" from step {a.first_step}" if a.first_step is not None else ""
    summary = f": {watched.evidence.summary}" if watched.evidence else ""
    return visible(
        f"{a.severity} {a.check} {a.subject}{where} (seen up to step {watched.last_step}) "
        f"[{a.evidence}{summary}] {a.command}",
        1000,
    )
