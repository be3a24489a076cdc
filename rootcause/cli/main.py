"""Entry point of `rootcause` and the one place where errors become exit codes.

A `RootcauseError` prints one line to stderr and exits with its code (2 for bad input, 1 for a
runtime failure); usage errors exit 2; anything unexpected prints one line and exits 1.
`--debug` (or `ROOTCAUSE_DEBUG=1`) shows the traceback instead.

Errors are given their place before they get here: the ingest wraps an unforeseen failure
while reading into a `ReadError` naming the file and line, and an investigation records any
failure in its folder's `error.json` before re-raising it.
"""

from __future__ import annotations

import copy
import functools
import importlib
import inspect
import sys
from collections.abc import Sequence

import typer
from typer.core import TyperCommand, TyperGroup
from typer.models import CommandInfo, TyperInfo

from rootcause.cli.app import GlobalOptions, app
from rootcause.core.errors import RootcauseError

#: Every command by name, and the module of `rootcause.cli` that registers it on `app`, in the
#: order `rootcause --help` lists them. A command's call imports its own module only (the
#: chat's and the investigation's options, say, are not loaded to call a tool); help, an
#: unknown command or none imports them all.
COMMANDS: dict[str, str] = {
    "chat": "chat",
    "eval": "eval",
    "filter": "filter",
    "fix": "fix",
    "index": "index",
    "ingest": "ingest",
    "investigate": "investigate",
    "overview": "overview",
    "scan": "scan",
    "tool": "tool",
    "watch": "watch",
    "lab": "lab",
}


def register_commands(args: Sequence[str] = ()) -> bool:
    """Import the module of the command `args` call, or every command's module when they call
    none that is known (each module registers its commands on `app` as it is imported);
    whether they call one."""
    name = command_word(args)
    modules = [COMMANDS[name]] if name in COMMANDS else list(COMMANDS.values())
    for module in modules:
        importlib.import_module(f"{__package__}.{module}")
    if len(modules) > 1:  # listed in the table's order, whatever was imported before
        order = {f"{__package__}.{m}": i for i, m in enumerate(COMMANDS.values())}
        app.registered_commands.sort(
            key=lambda c: order.get(getattr(c.callback, "__module__", ""), 0)
        )
    return name in COMMANDS


def command_listing() -> TyperGroup:
    """The root command as typer builds it, its commands listed but not built: each is its
    name and help (as typer reads them) without its options. `rootcause --help`, no command
    or an unknown one need no more, and building every command's options would load what
    their help is read from (the brain options' models, say) for nothing. The list is the
    one typer prints from the built commands (`tests/test_headless.py` compares them)."""
    bare = copy.copy(app)
    bare.registered_commands, bare.registered_groups = [], []
    root = typer.main.get_group(bare)
    for info in app.registered_commands:
        root.add_command(_listed_command(info))
    for group in app.registered_groups:
        root.add_command(_listed_group(group))
    return root


def _listed_command(info: CommandInfo) -> TyperCommand:
    """A command's name and help as `typer.main.get_command_from_info` reads them."""
    assert info.callback is not None
    help_text = inspect.getdoc(info.callback) if info.help is None else inspect.cleandoc(info.help)
    return TyperCommand(
        name=info.name or typer.main.get_command_name(info.callback.__name__),
        help=help_text,
        short_help=info.short_help,
        hidden=info.hidden,
        deprecated=info.deprecated,
        rich_help_panel=info.rich_help_panel,
    )


def _listed_group(info: TyperInfo) -> TyperGroup:
    """A group of commands (`lab`): its name and help as typer solves them."""
    solved = typer.main.solve_typer_info_defaults(info)
    return TyperGroup(
        name=solved.name,
        help=solved.help,
        short_help=solved.short_help,
        hidden=solved.hidden,
        deprecated=solved.deprecated,
        rich_help_panel=solved.rich_help_panel,
    )


def command_word(args: Sequence[str]) -> str | None:
    """The command `args` call: their first word that is neither a global option nor the value
    of one (`rootcause --workspace DIR tool ...` calls `tool`)."""
    valued = _valued_global_options()
    words = iter(args)
    for word in words:
        if word == "--":
            return next(words, None)
        if word in valued:
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


@functools.cache
def _valued_global_options() -> frozenset[str]:
    """The global options that take a value (`--workspace`, `--max-read-mb`), read from the
    root callback's declarations (built alone, without the commands) so they are written once."""
    assert app.registered_callback is not None and app.registered_callback.callback is not None
    alone = typer.Typer()
    alone.callback()(app.registered_callback.callback)
    params = typer.main.get_command(alone).params
    return frozenset(
        name
        for param in params
        if not getattr(param, "is_flag", True)
        for name in (*param.opts, *param.secondary_opts)
    )


def main(argv: list[str] | None = None) -> None:
    """Run the CLI with `argv` (default: the process arguments) and exit."""
    args = sys.argv[1:] if argv is None else list(argv)
    # --debug is accepted anywhere on the line, not only before the command name.
    debug = "--debug" in args or GlobalOptions.debug
    args = [arg for arg in args if arg != "--debug"]
    GlobalOptions.debug = debug
    called = register_commands(args)
    try:
        # Standalone mode: click prints usage errors and help itself (exit 2 / 0).
        command = typer.main.get_command(app) if called else command_listing()
        command(args=args, prog_name="rootcause")
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
