"""`rootcause index`: build a run's semantic index ahead of the tools that use it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import orjson
import typer

from rootcause.cli.app import app
from rootcause.cli.common import (
    JsonFlag,
    SkipBadLinesFlag,
    WorkspaceOption,
    format_option,
    ingest_with_progress,
    stderr_console,
    stdout_console,
)
from rootcause.core.errors import BadInputError
from rootcause.store.schema import TEXT_COLUMNS as FIELDS

if TYPE_CHECKING:
    from rootcause.search.index_job import IndexRequest, IndexResult


@app.command()
def index(
    run: Annotated[Path, typer.Argument(help="Run folder, or a foreign log folder or file.")],
    field: Annotated[
        str, typer.Option("--field", help=f"Text field to index: {', '.join(FIELDS)}.")
    ] = "completion",
    sample: Annotated[
        int | None,
        typer.Option(
            "--sample",
            help="Texts in the stratified sample (default: ROOTCAUSE_SEMANTIC_SAMPLE, else "
            "20,000): the same cap the semantic tools use, so they find the index built.",
            show_default=False,
        ),
    ] = None,
    events_path: Annotated[
        Path | None,
        typer.Option(
            "--events",
            help="Also write the build's typed event stream here as JSON Lines (one event per "
            "line, flushed as it happens).",
        ),
    ] = None,
    fmt: Annotated[str, format_option()] = "auto",
    skip_bad_lines: SkipBadLinesFlag = None,
    workspace: WorkspaceOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Embed a run's sampled texts and store the semantic index (the `semantic` extra), so the
    first semantic tool of an investigation or a chat does not wait for it."""
    from rootcause.behaviour.semantic import SemanticSettings
    from rootcause.search.embedders import default_embedder
    from rootcause.search.index_job import IndexRequest
    from rootcause.store.workspace import guard_output

    if field not in FIELDS:
        raise BadInputError(f"--field {field}: choose one of {', '.join(FIELDS)}")
    if sample is not None and sample < 1:
        raise BadInputError(f"--sample {sample}: give a positive number of texts")
    if events_path is not None:
        guard_output(events_path, [run.expanduser()] if run.is_dir() else [], "--events")
    embedder = default_embedder()  # the extra missing is one line before anything is read
    ingested = ingest_with_progress(run, workspace, fmt, skip_bad_lines)
    cap = sample if sample is not None else SemanticSettings.from_env().cap
    result = _build(IndexRequest(ingested.db_path, field, cap, embedder), events_path)
    summary = {
        "database": str(ingested.db_path),
        "field": field,
        "texts": result.texts,
        "embedded": result.embedded,
        "seconds": round(result.seconds, 2),
    }
    if as_json:
        print(orjson.dumps(summary, option=orjson.OPT_INDENT_2).decode())
        return
    stdout_console().print(
        f"indexed {result.texts:,} {field} texts ({result.embedded:,} of them embedded now, "
        f"the others cached) in {result.seconds:.1f} s",
        markup=False,
        highlight=False,
    )


def _build(request: IndexRequest, events: Path | None) -> IndexResult:
    """Run the build as a job under a progress bar on stderr that follows its events (and
    write them to `events`). The first Ctrl-C cancels it, exit 130."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TimeElapsedColumn

    from rootcause.cli.jobs import events_file, watch
    from rootcause.core.jobs import EXIT_CANCELLED
    from rootcause.search.index_job import (
        IndexCancelledError,
        IndexEvent,
        IndexEventWriter,
        start_index,
    )

    err = stderr_console()
    bar = Progress(
        "{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
    with events_file(events, IndexEventWriter) as writer, bar:
        tasks: dict[str, TaskID] = {}

        def show(event: IndexEvent) -> None:
            if event.type == "index_progress":
                if event.stage not in tasks:
                    tasks[event.stage] = bar.add_task(event.stage, total=event.total)
                bar.update(tasks[event.stage], completed=event.done, total=event.total)

        job = start_index(request, on_event=show)
        if writer is not None:
            job.subscribe(writer)
        try:
            return watch(job, "cancelling the index build (Ctrl-C again to stop now)")
        except (IndexCancelledError, KeyboardInterrupt):
            bar.stop()  # the line goes below the bar, not over it
            err.print("stopped; the next build starts from what was cached", markup=False)
            raise typer.Exit(EXIT_CANCELLED) from None
