"""`rootcause overview`: what is in a run, at a glance.

rich and the run's types are imported when the overview is drawn: every command module is
imported for `rootcause --help`, which should not pay for them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from rootcause.cli.app import app
from rootcause.cli.common import (
    JsonFlag,
    OverlayArgs,
    SkipBadLinesFlag,
    WorkspaceOption,
    format_option,
    ingest_with_progress,
    stdout_console,
    with_overlay_options,
)
from rootcause.core.untrusted import inline, json_text, label, labels

if TYPE_CHECKING:
    from rich.table import Table

    from rootcause.core.run import RunOverview


@app.command()
@with_overlay_options
def overview(
    run: Annotated[Path, typer.Argument(help="Run folder, or a foreign log folder or file.")],
    as_json: JsonFlag = False,
    fmt: Annotated[str, format_option()] = "auto",
    skip_bad_lines: SkipBadLinesFlag = None,
    workspace: WorkspaceOption = None,
    overlay: OverlayArgs | None = None,
) -> None:
    """Steps, sample counts, personas, sources, envs, reward components, config commits."""
    result = ingest_with_progress(run, workspace, fmt, skip_bad_lines, overlay=overlay)
    with result.open() as store:
        summary = store.overview()
    if as_json:
        print(json_text(summary.model_dump_json(indent=2)))
        return
    render_overview(summary)


def _counts_table(title: str, counts: dict[str, int], total: int) -> Table:
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=title, title_justify="left", box=None, pad_edge=False)
    table.add_column("name")
    table.add_column("samples", justify="right")
    table.add_column("share", justify="right")
    for name, count in counts.items():
        table.add_row(escape(label(name)), f"{count:,}", f"{count / total:.1%}" if total else "-")
    return table


def render_overview(summary: RunOverview) -> None:
    """The overview as tables; every name from the run goes through the sanitiser (quoted when
    not a plain identifier, controls made visible) and is escaped from rich markup."""
    from rich.markup import escape
    from rich.table import Table

    out = stdout_console()
    title = f" - {inline(summary.title)}" if summary.title else ""
    source = inline(f"{summary.format}, {summary.source}")
    out.print(f"[bold]{escape(label(summary.run_id))}[/bold]{escape(title)}  ({escape(source)})")
    out.print(
        f"{summary.samples:,} samples in {summary.groups:,} groups over {summary.steps} steps "
        f"({summary.first_step}..{summary.last_step}); reasoning: "
        f"{'yes' if summary.has_reasoning else 'no'}; advantage: "
        f"{'logged' if summary.has_advantage else 'not logged'}"
    )
    out.print(f"reward components: {escape(labels(summary.components))}")
    if summary.graders_with_inputs:
        out.print(f"logged grader inputs: {escape(labels(summary.graders_with_inputs))}")
    if summary.metrics:
        out.print(f"metrics: {escape(labels(summary.metrics))}")
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
            message = label(d.message) if d.message else ""
            table.add_row(str(d.step), escape(label(d.commit[:10])), escape(message))
        out.print(table)
    for note in summary.notes:
        out.print(f"note: {escape(inline(note))}")
