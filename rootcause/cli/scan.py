"""`rootcause scan`: every run checked for CoT exposure, emerging and given behaviours; one
alert table across runs. The CLI parses, calls `rootcause.scan`, and renders."""

from __future__ import annotations

import contextlib
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer

from rootcause.cli.app import app
from rootcause.cli.common import (
    SkipBadLinesFlag,
    WorkspaceOption,
    format_option,
    stderr_console,
    stdout_console,
    workspace_dir,
)
from rootcause.core.errors import BadInputError

if TYPE_CHECKING:
    from rootcause.scan import ScanRequest, ScanResult
    from rootcause.scan.events import ScanEvent
    from rootcause.scan.model import Severity
    from rootcause.store.workspace import Workspace

#: Exit code when --fail-on-alert finds an alert at or above the threshold.
EXIT_ALERT = 3
#: Exit code when the scan is stopped with Ctrl+C.
EXIT_INTERRUPTED = 130
#: Severities an alert can have (`info` rows are listed, never alerts).
SEVERITIES = ("low", "medium", "high")
#: The checks are read from their registry when the command runs (not at import: the checks
#: load the toolset, and `--help` stays fast); a name it does not know lists the known ones.
CHECK_HELP = (
    "A registered check to run (repeat; default: every default check, plus the per-behaviour "
    "check with --behavior). See the README's table; an unknown name lists them."
)


@app.command()
def scan(
    runs: Annotated[
        list[str] | None, typer.Argument(help="Run folders, foreign logs or globs of them.")
    ] = None,
    check: Annotated[
        list[str] | None,
        typer.Option(
            "--check",
            help=CHECK_HELP,
        ),
    ] = None,
    behavior: Annotated[
        list[str] | None,
        typer.Option("--behavior", help="A behaviour spec to check in every run (repeat)."),
    ] = None,
    clusters: Annotated[
        int,
        typer.Option(
            "--clusters",
            help="Semantic clusters in the emerging check (needs the semantic extra; embeds a "
            "sample of each run; 0 skips them).",
        ),
    ] = 0,
    workers: Annotated[
        int | None, typer.Option("--workers", help="Local worker processes (default: cores).")
    ] = None,
    ray: Annotated[
        str | None,
        typer.Option(
            "--ray",
            help="Run on Ray: 'local' starts one here, or give the cluster ADDRESS.",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Scan folder (default <workspace>/scans/<time>-<id>)."),
    ] = None,
    resume: Annotated[
        Path | None, typer.Option("--resume", help="Continue the scan in this folder.")
    ] = None,
    json_path: Annotated[
        Path | None, typer.Option("--json", help="Also write the alert table as JSON here.")
    ] = None,
    markdown_path: Annotated[
        Path | None, typer.Option("--markdown", help="Also write the Markdown table here.")
    ] = None,
    fail_on_alert: Annotated[
        bool,
        typer.Option("--fail-on-alert", help="Exit 3 when an alert is at or above --threshold."),
    ] = False,
    threshold: Annotated[
        str, typer.Option("--threshold", help="Severity for --fail-on-alert: low, medium, high.")
    ] = "low",
    rescan: Annotated[
        bool,
        typer.Option("--rescan", help="Scan every run again, even those unchanged since a scan."),
    ] = False,
    investigate: Annotated[
        bool,
        typer.Option(
            "--investigate",
            help="Triage: investigate each alert at or above --threshold that names a behaviour "
            "(its behaviour as the detector, the most severe first), with the systematic brain; "
            "verdicts, top causes and reports go in triage.json in the scan folder.",
        ),
    ] = False,
    max_investigations: Annotated[
        int,
        typer.Option("--max-investigations", help="Most investigations --investigate starts."),
    ] = 3,
    events_path: Annotated[
        Path | None,
        typer.Option(
            "--events",
            help="Also write the scan's typed event stream here as JSON Lines (one event per "
            "line, flushed as it happens).",
        ),
    ] = None,
    fmt: Annotated[str, format_option()] = "auto",
    skip_bad_lines: SkipBadLinesFlag = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Scan RUNS (paths or globs) for CoT exposure, emerging behaviours and given behaviours;
    write the alert table (Parquet, JSON, Markdown) to a scan folder; print it."""
    from rootcause.scan import CheckOptions, ScanRequest
    from rootcause.store.workspace import Workspace

    if threshold not in SEVERITIES:
        raise BadInputError(f"--threshold {threshold}: choose one of {', '.join(SEVERITIES)}")
    from rootcause.scan.model import chosen_checks

    checks = chosen_checks(check)
    if max_investigations < 0:
        raise BadInputError(f"--max-investigations {max_investigations}: give 0 or more")
    _guard_outputs(runs or [], json_path, markdown_path, events_path)
    use_ray = ray is not None
    ws = Workspace.resolve(workspace_dir(workspace))
    request = ScanRequest(
        runs=list(runs or []),
        workspace=ws,
        options=CheckOptions(
            checks=checks,
            behaviors=list(behavior or []),
            clusters=clusters,
            fmt=fmt,
            skip_bad_lines=skip_bad_lines,
        ),
        out=out,
        resume=resume,
        workers=workers,
        ray=(use_ray or None) if resume is not None else use_ray,
        ray_address=None if ray in (None, "", "local") else ray,
        reuse=not rescan,
    ).planned()
    result = _run(request, events_path)
    _copy_outputs(result, json_path, markdown_path)
    _render(result)
    if investigate:
        _triage(result, ws, max_investigations, cast("Severity", threshold))
    if fail_on_alert and result.has_alert(cast("Severity", threshold)):
        raise typer.Exit(EXIT_ALERT)


def _run(request: ScanRequest, events_path: Path | None) -> ScanResult:
    """Run the scan as a job, its events to the progress bar (and `--events`). The first
    Ctrl-C hands out no more runs and lets those under way finish; a second stops at once;
    either way the command says how to resume and exits 130."""
    from rootcause.cli.jobs import events_file, watch
    from rootcause.scan import ScanCancelledError, start_scan
    from rootcause.scan.events import ScanEventWriter

    folder = request.resume or request.out
    with events_file(events_path, ScanEventWriter) as writer, _progress() as progress:
        job = start_scan(request, on_event=progress)
        if writer is not None:
            job.subscribe(writer)
        try:
            return watch(job, "cancelling: no more runs are started (Ctrl-C again to stop now)")
        except (ScanCancelledError, KeyboardInterrupt):
            print(f"stopped; continue with --resume {folder}", file=sys.stderr)
            raise typer.Exit(EXIT_INTERRUPTED) from None


@contextlib.contextmanager
def _progress() -> Iterator[Callable[[ScanEvent], None]]:
    """A rich progress bar over runs on stderr, with alerts and errors counted as they come:
    a subscriber to the scan's events. Without a terminal there is no bar to draw, and
    nothing is loaded for one."""
    err = stderr_console()
    if not err.is_terminal:
        yield lambda event: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from rootcause.scan.events import RunFinished, ScanStarted

    with Progress(
        TextColumn("[bold]scan[/bold]"),
        BarColumn(bar_width=None),
        MofNCompleteColumn(),
        TextColumn("runs, {task.fields[alerts]} alerts, {task.fields[errors]} failed"),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task("scan", total=None, alerts=0, errors=0)

        def show(event: ScanEvent) -> None:
            if isinstance(event, ScanStarted):
                bar.update(task, completed=0, total=event.runs)
            elif isinstance(event, RunFinished):
                bar.update(
                    task,
                    completed=event.done,
                    total=event.total,
                    alerts=event.alerts_total,
                    errors=event.errors_total,
                )

        yield show


def _triage(result: ScanResult, ws: Workspace, most: int, threshold: Severity) -> None:
    """Investigate the alerts (a progress bar on stderr) and print a line per alert."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from rootcause.core.untrusted import visible
    from rootcause.fleet import TriageProgress, triage

    err = stderr_console()
    with Progress(
        TextColumn("[bold]triage[/bold]"),
        BarColumn(bar_width=None),
        MofNCompleteColumn(),
        TextColumn("investigations"),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bar:
        task = bar.add_task("triage", total=None)

        def tick(p: TriageProgress) -> None:
            bar.update(task, completed=p.done, total=p.total)

        rows = triage(result, ws, most, threshold, tick)
    out = stdout_console()
    for row in rows:
        if row.error is not None:
            said = f"not investigated: {row.error}"
        else:
            cause = row.top_cause or "no cause"
            sure = f" ({row.confidence:.2f})" if row.confidence is not None else ""
            said = f"{row.verdict}: {cause}{sure}; report {row.report}"
        line = f"triage {row.severity:<6} {row.run_id} {row.subject}: {said}"
        out.print(visible(line, 800), markup=False, highlight=False)
    if not rows:
        print("triage: no alert names a behaviour to investigate", file=sys.stderr)


def _guard_outputs(runs: list[str], *outputs: Path | None) -> None:
    """Refuse, before scanning, an output inside a run folder named without a glob."""
    from rootcause.store.workspace import guard_output

    protected = [Path(r).expanduser() for r in runs if not set("*?[") & set(r)]
    for option, path in zip(("--json", "--markdown", "--events"), outputs, strict=True):
        if path is not None:
            guard_output(path, [p for p in protected if p.is_dir()], option)


def _copy_outputs(result: ScanResult, json_path: Path | None, markdown_path: Path | None) -> None:
    from rootcause.scan.folder import ALERTS_JSON, ALERTS_MARKDOWN
    from rootcause.store.workspace import guard_output

    protected = [Path(r) for r in result.spec.runs if Path(r).is_dir()]
    for option, path, name in (
        ("--json", json_path, ALERTS_JSON),
        ("--markdown", markdown_path, ALERTS_MARKDOWN),
    ):
        if path is not None:
            target = guard_output(path, protected, option)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(result.folder / name, target)


def _render(result: ScanResult) -> None:
    from rootcause.core.untrusted import visible
    from rootcause.scan.model import is_alert
    from rootcause.scan.table import sorted_alerts

    out = stdout_console()
    s = result.summary
    for alert in sorted_alerts([a for r in result.results for a in r.alerts]):
        if not is_alert(alert.severity):
            continue
        where = f" from step {alert.first_step}" if alert.first_step is not None else ""
        share = f", {alert.share:.1%} of samples" if alert.share is not None else ""
        out.print(
            f"{alert.severity:<6} {visible(alert.run_id, 80)} {alert.check} "
            f"{visible(alert.subject, 120)}{where}{share} [{alert.evidence}] "
            f"{visible(alert.command, 400)}",
            markup=False,
            highlight=False,
        )
    for failed in (r for r in result.results if r.status == "error"):
        shown = visible(f"failed {failed.run}: {failed.error}", 600)
        out.print(shown, markup=False, highlight=False)
    print(
        f"{s.runs} runs ({s.scanned} scanned, {s.reused} reused, {s.errors} failed), "
        f"{s.alerts} alerts in {s.seconds:.1f} s on {s.executor}; folder {result.folder}",
        file=sys.stderr,
    )
