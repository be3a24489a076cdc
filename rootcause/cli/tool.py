"""`rootcause tool`: call any tool of the investigator's toolset from the shell."""

from __future__ import annotations

import sys
import types
import typing
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer

from rootcause.cli.app import app
from rootcause.cli.common import (
    FormatOption,
    SkipBadLinesFlag,
    WorkspaceOption,
    ingest_with_progress,
    stdout_console,
)
from rootcause.core.errors import BadInputError


def list_tools() -> None:
    """Every tool with the first line of its description."""
    from rootcause.tools.registry import load_all

    out = stdout_console()
    for name, spec in sorted(load_all().items()):
        fields = " ".join(f"--{f.replace('_', '-')}" for f in spec.input_model.model_fields)
        out.print(f"[bold]{name}[/bold]: {spec.summary}", markup=True)
        if fields:
            out.print(f"    [dim]{fields}[/dim]")


def _is_list(annotation: Any) -> bool:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return any(_is_list(a) for a in typing.get_args(annotation))
    return typing.get_origin(annotation) is list


def parse_tool_args(model: type[Any], words: list[str]) -> dict[str, Any]:
    """`--some-field VALUE` pairs (a bare `--flag` means true) into the input model's fields."""
    fields = model.model_fields
    args: dict[str, Any] = {}
    i = 0
    while i < len(words):
        word = words[i]
        if not word.startswith("--"):
            raise BadInputError(f"unexpected argument {word!r}; tool arguments are --NAME VALUE")
        name, _, inline = word[2:].partition("=")
        key = name.replace("-", "_")
        if key not in fields:
            known = ", ".join(f"--{f.replace('_', '-')}" for f in fields) or "(none)"
            raise BadInputError(f"unknown argument --{name}; this tool takes {known}")
        if inline:
            value: Any = inline
        elif i + 1 < len(words) and not words[i + 1].startswith("--"):
            value = words[i + 1]
            i += 1
        else:
            value = True
        if isinstance(value, str) and _is_list(fields[key].annotation):
            value = [v.strip() for v in value.split(",") if v.strip()]
        args[key] = value
        i += 1
    return args


@app.command(
    "tool",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def run_tool(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Tool name, or `list` to list the tools.")],
    run: Annotated[Path | None, typer.Argument(help="Run folder or foreign log.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the output as JSON.")] = False,
    no_plot: Annotated[bool, typer.Option("--no-plot", help="Skip the plot.")] = False,
    fmt: FormatOption = "auto",
    skip_bad_lines: SkipBadLinesFlag = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Call tool NAME on RUN with --FIELD VALUE arguments; `rootcause tool list` lists them."""
    if name == "list":
        list_tools()
        return
    if run is None:
        raise BadInputError(f"tool {name}: missing RUN (rootcause tool {name} RUN --ARG VALUE ...)")
    from rootcause.store.run_store import RunStore
    from rootcause.tools.context import EvidenceLog, ToolContext
    from rootcause.tools.plotting import render_text
    from rootcause.tools.registry import call_tool, get_tool
    from rootcause.tools.untrusted import json_text

    spec = get_tool(name)
    args = parse_tool_args(spec.input_model, list(ctx.args))
    result = ingest_with_progress(run, workspace, fmt, skip_bad_lines)
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
    out = stdout_console()
    out.print(outcome.text, markup=False, highlight=False)
    plot = None if no_plot else outcome.output.plot_spec()
    if plot is not None:
        sys.stdout.write(render_text(plot) + "\n")
    if outcome.evidence.plot:
        print(f"plot: {outcome.evidence.plot}", file=sys.stderr)


def _evidence_path(workdir: Path) -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    return workdir / "evidence.jsonl"
