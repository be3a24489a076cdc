"""`rootcause overview`: what is in a run, at a glance."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from rootcause.cli.app import app
from rootcause.cli.common import (
    FormatOption,
    JsonFlag,
    SkipBadLinesFlag,
    WorkspaceOption,
    ingest_with_progress,
    stdout_console,
)
from rootcause.core.run import RunOverview


@app.command()
def overview(
    run: Annotated[Path, typer.Argument(help="Run folder, or a foreign log folder or file.")],
    as_json: JsonFlag = False,
    fmt: FormatOption = "auto",
    skip_bad_lines: SkipBadLinesFlag = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Steps, sample counts, personas, sources, envs, reward components, config commits."""
    result = ingest_with_progress(run, workspace, fmt, skip_bad_lines)
    with result.open() as store:
        summary = store.overview()
    if as_json:
        print(summary.model_dump_json(indent=2))
        return
    render_overview(summary)


def _counts_table(title: str, counts: dict[str, int], total: int) -> Table:
    table = Table(title=title, title_justify="left", box=None, pad_edge=False)
    table.add_column("name")
    table.add_column("samples", justify="right")
    table.add_column("share", justify="right")
    for name, count in counts.items():
        table.add_row(name, f"{count:,}", f"{count / total:.1%}" if total else "-")
    return table


def render_overview(summary: RunOverview) -> None:
    out = stdout_console()
    title = f" - {summary.title}" if summary.title else ""
    out.print(f"[bold]{summary.run_id}[/bold]{title}  ({summary.format}, {summary.source})")
    out.print(
        f"{summary.samples:,} samples in {summary.groups:,} groups over {summary.steps} steps "
        f"({summary.first_step}..{summary.last_step}); reasoning: "
        f"{'yes' if summary.has_reasoning else 'no'}; advantage: "
        f"{'logged' if summary.has_advantage else 'not logged'}"
    )
    out.print(f"reward components: {', '.join(summary.components) or '(none)'}")
    if summary.graders_with_inputs:
        out.print(f"logged grader inputs: {', '.join(summary.graders_with_inputs)}")
    if summary.metrics:
        out.print(f"metrics: {', '.join(summary.metrics)}")
    for title, counts in (
        ("personas", summary.personas),
        ("data sources", summary.data_sources),
        ("envs", summary.envs),
        ("splits", summary.splits),
    ):
        if counts:
            out.print()
            out.print(_counts_table(title, counts, summary.samples))
    if summary.deployments:
        out.print()
        table = Table(title="deployments", title_justify="left", box=None, pad_edge=False)
        table.add_column("step", justify="right")
        table.add_column("commit")
        table.add_column("message")
        for d in summary.deployments:
            table.add_row(str(d.step), d.commit[:10], d.message or "")
        out.print(table)
    for note in summary.notes:
        out.print(f"note: {note}")
