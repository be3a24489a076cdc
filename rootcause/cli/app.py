"""The typer app and its global options; command modules register themselves on `app`."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from rootcause.core.limits import DEFAULT_MAX_READ_MB, ReadLimits

app = typer.Typer(
    name="rootcause",
    help="Find out why a language model picked up a pathology during RL training.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


class GlobalOptions:
    """Options given before the command name; read by commands and by the error boundary."""

    debug: bool = os.environ.get("ROOTCAUSE_DEBUG", "") not in ("", "0")
    workspace: Path | None = None


@app.callback()
def _root(
    workspace: Annotated[
        Path | None,
        typer.Option(
            "--workspace",
            envvar="ROOTCAUSE_WORKSPACE",
            help="Workspace folder for derived state (default ./.rootcause).",
        ),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log diagnostics.")] = False,
    max_read_mb: Annotated[
        float | None,
        typer.Option(
            "--max-read-mb",
            envvar="ROOTCAUSE_MAX_READ_MB",
            help=f"Cap in MB on one file or zip member read whole (an Inspect .eval sample, an "
            f"overlay or deployments file) [default: {DEFAULT_MAX_READ_MB}].",
            show_default=False,
        ),
    ] = None,
) -> None:
    GlobalOptions.workspace = workspace
    ReadLimits.set_max_read_mb(DEFAULT_MAX_READ_MB if max_read_mb is None else max_read_mb)
    GlobalOptions.debug = GlobalOptions.debug or debug
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
