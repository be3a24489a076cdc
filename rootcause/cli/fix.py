"""`rootcause fix`: the config patch, filtered data and (lab runs) re-simulation for a finding."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from rootcause.cli.app import app
from rootcause.cli.common import JsonFlag, WorkspaceOption, workspace_dir
from rootcause.core.errors import BadInputError


@app.command("fix")
def fix_command(
    investigation: Annotated[str, typer.Argument(help="Investigation id (with a cause).")],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Output folder (default: fix/ in the investigation's folder in the workspace).",
        ),
    ] = None,
    lab_key: Annotated[
        Path | None,
        typer.Option("--lab-key", help="Answer key of a lab run, if not key.json beside it."),
    ] = None,
    no_resimulate: Annotated[
        bool, typer.Option("--no-resimulate", help="Skip the lab re-simulation.")
    ] = False,
    data_format: Annotated[
        str, typer.Option("--format", help="Filtered data format: parquet or jsonl.")
    ] = "parquet",
    as_json: JsonFlag = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Write the fix of the investigation's top finding into --out: fix.patch (git diff against
    the run's config repo, never applied to it), the run's samples without the behaviour
    (filtered/ with manifest.json), and on lab runs the re-simulation with the patch; the
    summary is appended to the investigation's report.md."""
    from rootcause.remedy.fix import FixRequest, write_fix
    from rootcause.store.workspace import Workspace

    if data_format not in ("parquet", "jsonl"):
        raise BadInputError(f"--format {data_format}: choose parquet or jsonl")
    request = FixRequest(
        investigation=investigation,
        out=out,
        lab_key=lab_key,
        resimulate=not no_resimulate,
        filter_format="parquet" if data_format == "parquet" else "jsonl",
    )
    result = write_fix(Workspace.resolve(workspace_dir(workspace)), request)
    if as_json:
        sys.stdout.write(result.model_dump_json(indent=2) + "\n")
        return
    sys.stdout.write(result.markdown().split("\n", 1)[1])
