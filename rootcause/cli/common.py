"""Options and helpers shared by CLI commands."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from rootcause.cli.app import GlobalOptions

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
    return Console(file=sys.stdout, highlight=False, soft_wrap=False)


def stderr_console() -> Console:
    """Console for diagnostics and progress (stderr)."""
    return Console(file=sys.stderr, highlight=False)
