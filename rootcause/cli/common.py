"""Options and helpers shared by CLI commands."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from rootcause.cli.app import GlobalOptions

if TYPE_CHECKING:
    from rootcause.investigate.options import BrainOptions
    from rootcause.store.ingest import IngestResult

WorkspaceOption = Annotated[
    Path | None,
    typer.Option(
        "--workspace",
        help="Workspace folder for derived state (default ./.rootcause, or ROOTCAUSE_WORKSPACE).",
    ),
]

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object to stdout.")]


def workspace_dir(option: Path | None) -> Path | None:
    """The workspace the user chose: the command's option, else the global one (or env)."""
    return option if option is not None else GlobalOptions.workspace


def stdout_console() -> Console:
    """Console for data (stdout)."""
    return Console(file=sys.stdout, highlight=False, soft_wrap=True, emoji=False)


def stderr_console() -> Console:
    """Console for diagnostics and progress (stderr)."""
    return Console(file=sys.stderr, highlight=False, emoji=False)


FormatOption = Annotated[
    str,
    typer.Option("--format", help="Run format: auto, native, trl, verl or wandb-table."),
]
SkipBadLinesFlag = Annotated[
    bool | None,
    typer.Option(
        "--skip-bad-lines/--no-skip-bad-lines",
        help="Skip malformed lines and report them, instead of stopping "
        "(default: as the last ingest of this run).",
        show_default=False,
    ),
]


def ingest_with_progress(
    run: Path,
    workspace: Path | None,
    fmt: str = "auto",
    skip_bad_lines: bool | None = None,
    force: bool = False,
) -> IngestResult:
    """Ingest (or reuse) `run`, showing a progress bar on stderr and reporting skipped lines.

    Options left as None are those of the run's earlier ingest."""
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from rootcause.store.ingest import ingest_run
    from rootcause.store.options import IngestOptions
    from rootcause.store.workspace import Workspace

    err = stderr_console()
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]ingest[/bold] {task.description}"),
        BarColumn(bar_width=None),
        TextColumn("{task.completed:,} samples"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as progress:
        task = progress.add_task(run.name, total=None)
        result = ingest_run(
            run,
            Workspace.resolve(workspace_dir(workspace)),
            fmt=fmt,
            options=IngestOptions(skip_bad_lines=skip_bad_lines),
            force=force,
            on_progress=lambda rows: progress.advance(task, rows),
        )
    if result.skipped:
        shown = ", ".join(f"{s.file}:{s.line}" for s in result.skipped[:5])
        more = f" and {len(result.skipped) - 5} more" if len(result.skipped) > 5 else ""
        err.print(f"skipped {len(result.skipped)} bad lines: {shown}{more}")
    return result


def split_names(text: str) -> list[str]:
    """A comma-separated list of names, blanks and repeats dropped, in the order given."""
    return list(dict.fromkeys(name.strip() for name in text.split(",") if name.strip()))


def option_help(model: type[BrainOptions], name: str, lead: str) -> str:
    """An option's help after `lead`: its description and default, read from the options
    model so the default is written once."""
    from rootcause.investigate.options import describe

    text = describe(model, name)
    if text.split(" ", 1)[0][1:].islower():  # a plain word, not a name such as OpenAI
        text = text[0].lower() + text[1:]
    return f"{lead}: {text}"
