"""`rootcause filter`: a copy of a run's samples without a behaviour's hits (SFT reuse)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from rootcause.cli.app import app
from rootcause.cli.common import JsonFlag, WorkspaceOption, workspace_dir
from rootcause.core.errors import BadInputError


def parse_slices(values: list[str]) -> dict[str, str]:
    """`field=value` words as a mapping; a word without `=` is bad input naming it."""
    out: dict[str, str] = {}
    for value in values:
        field, sep, level = value.partition("=")
        if not sep or not field.strip() or not level.strip():
            raise BadInputError(f"--slice {value}: expected FIELD=VALUE, e.g. persona=nerdy")
        out[field.strip()] = level.strip()
    return out


@app.command("filter")
def filter_command(
    run: Annotated[Path, typer.Argument(help="Run folder or foreign log.")],
    behavior: Annotated[
        str, typer.Option("--behavior", help="Behaviour spec whose hits are left out.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Folder for the copy and its manifest.")],
    output_format: Annotated[
        str, typer.Option("--format", help="Output format: parquet or jsonl.")
    ] = "parquet",
    slices: Annotated[
        list[str] | None,
        typer.Option("--slice", help="Keep only this slice, FIELD=VALUE (repeatable)."),
    ] = None,
    run_format: Annotated[
        str,
        typer.Option("--run-format", help="Run format: auto, native, trl, verl or wandb-table."),
    ] = "auto",
    as_json: JsonFlag = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Write RUN's samples without the hits of --behavior into --out (Parquet or JSON Lines)
    with manifest.json: counts kept and removed per persona, source, env and step window, and
    the detector. The run folder is only read."""
    from rootcause.remedy.filter import FilterRequest, filter_samples
    from rootcause.store.workspace import Workspace

    if output_format not in ("parquet", "jsonl"):
        raise BadInputError(f"--format {output_format}: choose parquet or jsonl")
    request = FilterRequest(
        run=run,
        behavior=behavior,
        out=out,
        format="parquet" if output_format == "parquet" else "jsonl",
        slices=parse_slices(slices or []),
        run_format=run_format,
    )
    result = filter_samples(Workspace.resolve(workspace_dir(workspace)), request)
    if as_json:
        sys.stdout.write(result.manifest.model_dump_json(indent=2) + "\n")
        return
    sys.stdout.write(result.summary() + "\n")
