"""Entry point of `rootcause` and the one place where errors become exit codes.

A `RootcauseError` prints one line to stderr and exits with its code (2 for bad input, 1 for a
runtime failure); usage errors exit 2; anything unexpected exits 1. `--debug` (or
`ROOTCAUSE_DEBUG=1`) shows the traceback instead.
"""

from __future__ import annotations

import sys

import click

from rootcause.cli import ingest, lab, overview, tool  # noqa: F401  (each registers its commands)
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
        result = app(args=args, prog_name="rootcause", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        print("Aborted.", file=sys.stderr)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2)
    except RootcauseError as exc:
        if debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:
        if debug:
            raise
        print(
            f"error: unexpected {type(exc).__name__}: {exc} (rerun with --debug)", file=sys.stderr
        )
        sys.exit(1)
    sys.exit(result if isinstance(result, int) else 0)
