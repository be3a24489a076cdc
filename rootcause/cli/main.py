"""Entry point of `rootcause` and the one place where errors become exit codes.

A `RootcauseError` prints one line to stderr and exits with its code (2 for bad input, 1 for a
runtime failure); usage errors exit 2; anything unexpected prints one line and exits 1.
`--debug` (or `ROOTCAUSE_DEBUG=1`) shows the traceback instead.

Errors are given their place before they get here: the ingest wraps an unforeseen failure
while reading into a `ReadError` naming the file and line, and an investigation records any
failure in its folder's `error.json` before re-raising it.
"""

from __future__ import annotations

import sys

from rootcause.cli import (  # noqa: F401  (each registers its commands)
    chat,
    eval,
    filter,
    fix,
    ingest,
    investigate,
    lab,
    overview,
    scan,
    tool,
    watch,
)
from rootcause.cli.app import GlobalOptions, app
from rootcause.core.errors import RootcauseError


def main(argv: list[str] | None = None) -> None:
    """Run the CLI with `argv` (default: the process arguments) and exit."""
    args = sys.argv[1:] if argv is None else list(argv)
    # --debug is accepted anywhere on the line, not only before the command name.
    debug = "--debug" in args or GlobalOptions.debug
    args = [arg for arg in args if arg != "--debug"]
    GlobalOptions.debug = debug
    try:
        # Standalone mode: click prints usage errors and help itself (exit 2 / 0).
        app(args=args, prog_name="rootcause")
    except RootcauseError as exc:
        if debug:
            raise
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except Exception as exc:
        if debug:
            raise
        kind = type(exc).__name__
        print(f"error: unexpected {kind}: {_one_line(exc)} (rerun with --debug)", file=sys.stderr)
        sys.exit(1)


def _one_line(exc: BaseException) -> str:
    """The first line of an error's message (the CLI prints one line per error)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
