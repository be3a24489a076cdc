"""`rootcause chat`: the terminal app (conversation, tool-call blocks, hypotheses board,
evidence/config/report tabs), over a run or a session kept in the workspace."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from rootcause.cli.app import app
from rootcause.cli.common import (
    OverlayArgs,
    SkipBadLinesFlag,
    WorkspaceOption,
    format_option,
    ingest_options,
    lazy_module,
    with_overlay_options,
    workspace_dir,
)
from rootcause.core.errors import BadInputError

if TYPE_CHECKING:
    from rootcause.cli import brain_flags
    from rootcause.investigate.llm import config
    from rootcause.investigate.options import BrainOptions
else:  # read when the command is built or runs, not when it is listed (`rootcause --help`)
    brain_flags = lazy_module("rootcause.cli.brain_flags")
    config = lazy_module("rootcause.investigate.llm.config")


@app.command()
@with_overlay_options
def chat(
    ctx: typer.Context,
    run: Annotated[
        Path | None, typer.Argument(help="Run folder or foreign log; none: pick one.")
    ] = None,
    resume: Annotated[
        str | None, typer.Option("--resume", help="Reopen the chat session with this id.")
    ] = None,
    brain: Annotated[
        str | None,
        typer.Option(
            "--brain",
            help="The brain of /investigate and free text: llm or systematic (default: llm "
            f"when a model is given, by option or ${config.ENV_MODEL} / ${config.ENV_BASE_URL}).",
        ),
    ] = None,
    fmt: Annotated[str, format_option()] = "auto",
    skip_bad_lines: SkipBadLinesFlag = None,
    workspace: WorkspaceOption = None,
    disabled_tools: brain_flags.DisableToolsFlag = None,
    model: brain_flags.ModelFlag = None,
    base_url: brain_flags.BaseUrlFlag = None,
    api_key: brain_flags.ApiKeyFlag = None,
    max_turns: brain_flags.MaxTurnsFlag = None,
    max_tool_calls: brain_flags.MaxToolCallsFlag = None,
    max_tokens: brain_flags.MaxTokensFlag = None,
    wall_time_s: brain_flags.WallTimeFlag = None,
    max_output_tokens: brain_flags.MaxOutputTokensFlag = None,
    request_timeout_s: brain_flags.RequestTimeoutFlag = None,
    prices: brain_flags.PricesFlag = None,
    stream: brain_flags.StreamFlag = None,
    trace: brain_flags.TraceFlag = None,
    overlay: OverlayArgs | None = None,
) -> None:
    """Open RUN in the terminal app: ask why it went wrong, run slash commands (/help) and
    /investigate, watch hypotheses get tested. Each session is kept in the workspace
    (sessions/<id>/); --resume SESSION reopens one. Without a model, free text says how to
    configure one and everything else works offline. Budgets apply to each free-text turn."""
    from rootcause.chat.engine import ChatSettings
    from rootcause.chat.opening import OpenRequest
    from rootcause.chat.sessions import ChatSession
    from rootcause.store.workspace import Workspace
    from rootcause.tui.launch import run_chat

    if run is not None and resume is not None:
        raise BadInputError("chat: give RUN or --resume SESSION, not both")
    if run is not None and not run.expanduser().exists():
        raise BadInputError(f"{run}: no such file or directory")
    ws = Workspace.resolve(workspace_dir(workspace))
    meta = ChatSession.open(ws, resume).meta if resume is not None else None
    values = brain_flags.brain_flag_values(ctx)
    chosen = brain or (meta.brain if meta is not None else None) or _default_brain(values)
    options = brain_flags.brain_options(ctx, chosen, values, api_key)
    if meta is not None:
        options = _over_stored(chosen, meta.options, options)
    settings = ChatSettings(
        brain=chosen,
        options=options,
        api_key=api_key,
        run_format=fmt,
        ingest_options=ingest_options(skip_bad_lines, overlay),
    )
    if settings.llm:
        from rootcause.investigate.llm.config import resolve_provider

        resolve_provider(settings.llm_options(), api_key)  # one line on how to configure it
    request = None if run is None and resume is None else OpenRequest(run=run, resume=resume)
    code = run_chat(ws, request, settings)
    if code:
        raise typer.Exit(code)


def _default_brain(values: Mapping[str, object]) -> str:
    """llm when a model is named (by option or environment), else systematic."""
    named = values.get("model") or values.get("base_url")
    return (
        "llm"
        if named or os.environ.get(config.ENV_MODEL) or os.environ.get(config.ENV_BASE_URL)
        else ("systematic")
    )


def _over_stored(brain: str, stored: Mapping[str, object], given: BrainOptions) -> BrainOptions:
    """A resumed session's stored options with the ones given now replacing them."""
    from rootcause.investigate.job import options_model
    from rootcause.investigate.options import override, parse_options

    model = options_model(brain)
    kept = {k: v for k, v in stored.items() if k in model.model_fields}
    return override(parse_options(model, brain, kept), given, brain)
