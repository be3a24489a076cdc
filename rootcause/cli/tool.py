"""`rootcause tool`: call any tool of the investigator's toolset from the shell."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import orjson
import typer

from rootcause.cli.app import app
from rootcause.cli.common import (
    OverlayArgs,
    SkipBadLinesFlag,
    WorkspaceOption,
    format_option,
    ingest_with_progress,
    stdout_console,
    with_overlay_options,
)
from rootcause.core.errors import BadInputError

#: Words that ask for help instead of a call.
HELP_WORDS = ("--help", "-h")


def list_tools() -> None:
    """Every tool with the first line of its description and its arguments."""
    from rootcause.tools.arguments import describe_arguments
    from rootcause.tools.registry import load_all

    out = stdout_console()
    for name, spec in sorted(load_all().items()):
        options = [
            f"{a.option}/--no-{a.option[2:]}" if a.flag else a.option
            for a in describe_arguments(spec.input_model)
        ]
        out.print(f"[bold]{name}[/bold]: {spec.summary}", markup=True)
        if options:
            out.print(f"    [dim]{' '.join(options)}[/dim]", markup=True)


def _wrapped(first: str, text: str, width: int = 90) -> list[str]:
    """`text` wrapped under an option column `first` wide, the later lines indented to it."""
    import textwrap

    lines = textwrap.wrap(text, width - len(first))
    return [first + lines[0], *(" " * len(first) + line for line in lines[1:])]


def print_tool_help(name: str) -> None:
    """`rootcause tool NAME --help`: the tool's description and arguments, from its model."""
    from rootcause.store.frameworks import format_help
    from rootcause.tools.arguments import tool_help
    from rootcause.tools.registry import get_tool

    lines = [
        f"Usage: rootcause tool {name} RUN [ARGUMENTS] [OPTIONS]",
        "",
        *tool_help(get_tool(name)),
        "",
        "Options:",
        "  --json            Print the output as JSON.",
        "  --no-plot         Skip the plot.",
        *_wrapped("  --format FORMAT   ", format_help()),
        "  --skip-bad-lines/--no-skip-bad-lines",
        "                    Skip malformed lines (default: as the last ingest of this run).",
        "  --workspace DIR   Workspace folder for derived state.",
        "  Run overlay options (see `rootcause ingest --help`): --overlay, --run-id, --title,",
        "  --config-repo, --deployments, --label, --components, --exclude-components,",
        "  --weights, --reasoning, --group-size, --table, --checkpoints, --forget-overlay.",
    ]
    sys.stdout.write("\n".join(lines) + "\n")


@app.command(
    "tool",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)
@with_overlay_options
def run_tool(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Tool name, or `list` to list the tools.")],
    run: Annotated[Path | None, typer.Argument(help="Run folder or foreign log.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the output as JSON.")] = False,
    no_plot: Annotated[bool, typer.Option("--no-plot", help="Skip the plot.")] = False,
    fmt: Annotated[str, format_option()] = "auto",
    skip_bad_lines: SkipBadLinesFlag = None,
    workspace: WorkspaceOption = None,
    overlay: OverlayArgs | None = None,
) -> None:
    """Call tool NAME on RUN with its arguments (`rootcause tool NAME --help` lists them:
    --NAME VALUE, --NAME=VALUE or NAME=VALUE); `rootcause tool list` lists the tools."""
    if name in HELP_WORDS:
        sys.stdout.write(ctx.get_help() + "\n")
        return
    if name == "list":
        list_tools()
        return
    words = list(ctx.args)
    if (run is not None and str(run) in HELP_WORDS) or any(w in HELP_WORDS for w in words):
        print_tool_help(name)
        return
    if run is None:
        raise BadInputError(f"tool {name}: missing RUN (rootcause tool {name} RUN --ARG VALUE ...)")
    from rootcause.core.untrusted import json_text
    from rootcause.store.run_store import RunStore
    from rootcause.tools.context import EvidenceLog, ToolContext
    from rootcause.tools.plotting import drawable, render_text
    from rootcause.tools.registry import call_tool, parse_tool_words

    args = parse_tool_words(name, words)
    result = ingest_with_progress(run, workspace, fmt, skip_bad_lines, overlay=overlay)
    workdir = result.db_path.parent / "tool-calls"
    log = EvidenceLog(_evidence_path(workdir))
    with (
        RunStore(result.db_path) as store,
        ToolContext(store, workdir, log, make_plots=not no_plot) as tool_ctx,
    ):
        outcome = call_tool(tool_ctx, name, args)
    if as_json:
        payload = {"evidence": outcome.evidence.id, **outcome.output.model_dump(mode="json")}
        text = orjson.dumps(payload, option=orjson.OPT_INDENT_2).decode()
        sys.stdout.write(json_text(text) + "\n")
        return
    # The rendering is plain text, run text in it already made visible (core.untrusted):
    # written as it is, as the JSON is, without loading rich.
    sys.stdout.write(outcome.text + "\n")
    plot = None if no_plot else drawable(outcome.output.plot_spec())
    if plot is not None:
        sys.stdout.write(render_text(plot) + "\n")
    if outcome.evidence.plot:
        print(f"plot: {outcome.evidence.plot}", file=sys.stderr)


def _evidence_path(workdir: Path) -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    return workdir / "evidence.jsonl"
