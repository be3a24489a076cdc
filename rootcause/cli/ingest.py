"""`rootcause ingest`: read a run into the workspace."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
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


@app.command()
@with_overlay_options
def ingest(
    src: Annotated[Path, typer.Argument(help="Run folder, or a foreign log folder or file.")],
    fmt: Annotated[str, format_option()] = "auto",
    skip_bad_lines: SkipBadLinesFlag = None,
    force: Annotated[bool, typer.Option("--force", help="Re-ingest even if unchanged.")] = False,
    workspace: WorkspaceOption = None,
    as_json: JsonFlag = False,
    events_path: Annotated[
        Path | None,
        typer.Option(
            "--events",
            help="Also write the ingest's typed event stream here as JSON Lines (one event per "
            "line, flushed as it happens).",
        ),
    ] = None,
    overlay: OverlayArgs | None = None,
) -> None:
    """Read a run into the workspace (reused while its files are unchanged); the run overlay
    (rootcause.yaml next to the logs, or the overlay options) says what the logs do not."""
    if events_path is not None:
        from rootcause.store.workspace import guard_output

        guard_output(events_path, [src.expanduser()] if src.is_dir() else [], "--events")
    result = ingest_with_progress(src, workspace, fmt, skip_bad_lines, force, overlay, events_path)
    with result.open() as store:
        overview = store.overview()
    summary = {
        "run_id": overview.run_id,
        "format": overview.format,
        "samples": overview.samples,
        "reused": result.reused,
        "appended": result.appended,
        "added_samples": result.added_samples,
        "database": str(result.db_path),
        "skipped_lines": len(result.skipped),
        "notes": result.notes,
    }
    if as_json:
        print(orjson.dumps(summary, option=orjson.OPT_INDENT_2).decode())
        return
    out = stdout_console()
    verb = "reused" if result.reused else "ingested"
    if result.appended:
        verb = f"appended {result.added_samples:,} samples to"
    out.print(f"{verb} {overview.run_id} ({overview.format}): {overview.samples:,} samples")
    out.print(f"database: {result.db_path}")
    for note in result.notes:
        out.print(f"note: {note}")
