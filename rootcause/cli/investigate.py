"""`rootcause investigate`: a run and a symptom in, ranked and evidenced root causes out."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from rootcause.cli.app import app
from rootcause.cli.common import (
    FormatOption,
    SkipBadLinesFlag,
    WorkspaceOption,
    stderr_console,
    stdout_console,
    workspace_dir,
)
from rootcause.core.errors import BadInputError
from rootcause.investigate.llm.config import DEFAULT_MAX_OUTPUT_TOKENS, DEFAULT_REQUEST_TIMEOUT_S

if TYPE_CHECKING:
    from rootcause.investigate.events import EventSink
    from rootcause.investigate.handle import InvestigationHandle
    from rootcause.investigate.job import InvestigationRequest, Outcome
    from rootcause.store.workspace import Workspace

LLM_PANEL = "LLM brain (--brain llm)"
#: What each verdict means, after it on the summary line.
VERDICT_MEANING = {
    "cause_found": "a cause is grounded in evidence",
    "no_cause_found": "every candidate proposed was tested and none holds",
    "inconclusive": "no cause established and the candidates not ruled out; it names no cause",
}


@app.command()
def investigate(
    run: Annotated[Path | None, typer.Argument(help="Run folder or foreign log.")] = None,
    symptom: Annotated[
        str | None, typer.Option("--symptom", help="What you noticed, in plain words.")
    ] = None,
    behavior: Annotated[
        str | None, typer.Option("--behavior", help="Detector spec; overrides the symptom's.")
    ] = None,
    brain: Annotated[
        str, typer.Option("--brain", help="Which brain drives it: systematic or llm.")
    ] = "systematic",
    json_path: Annotated[
        Path | None, typer.Option("--json", help="Also write the JSON report here.")
    ] = None,
    markdown_path: Annotated[
        Path | None, typer.Option("--markdown", help="Also write the Markdown report here.")
    ] = None,
    resume: Annotated[
        str | None, typer.Option("--resume", help="Continue the investigation with this id.")
    ] = None,
    events_path: Annotated[
        Path | None,
        typer.Option(
            "--events",
            help="Also write the typed event stream here as JSON Lines (one event per line, "
            "flushed as it happens).",
        ),
    ] = None,
    fail_on_cause: Annotated[
        bool, typer.Option("--fail-on-cause", help="Exit 3 when a cause is found (for CI).")
    ] = False,
    fmt: FormatOption = "auto",
    skip_bad_lines: SkipBadLinesFlag = None,
    workspace: WorkspaceOption = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            help="LLM brain: model name (OpenAI, the server's name with --base-url, or "
            "litellm/PROVIDER/MODEL); default ROOTCAUSE_LLM_MODEL.",
            rich_help_panel=LLM_PANEL,
        ),
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url",
            help="LLM brain: OpenAI-compatible server (vLLM, Ollama, llama.cpp), e.g. "
            "http://localhost:8000/v1; default ROOTCAUSE_LLM_BASE_URL.",
            rich_help_panel=LLM_PANEL,
        ),
    ] = None,
    api_key: Annotated[
        str | None,
        typer.Option(
            "--api-key",
            help="LLM brain: API key (default OPENAI_API_KEY); never stored.",
            rich_help_panel=LLM_PANEL,
        ),
    ] = None,
    max_turns: Annotated[
        int | None,
        typer.Option(
            "--max-turns",
            help="LLM brain: model calls in all (default 80).",
            rich_help_panel=LLM_PANEL,
        ),
    ] = None,
    max_tool_calls: Annotated[
        int | None,
        typer.Option(
            "--max-tool-calls",
            help="LLM brain: tool calls in all (default 60).",
            rich_help_panel=LLM_PANEL,
        ),
    ] = None,
    max_tokens: Annotated[
        int | None,
        typer.Option(
            "--max-tokens",
            help="LLM brain: input+output tokens in all (default 2,000,000).",
            rich_help_panel=LLM_PANEL,
        ),
    ] = None,
    wall_time: Annotated[
        float | None,
        typer.Option(
            "--wall-time",
            help="LLM brain: seconds in all (default 1800).",
            rich_help_panel=LLM_PANEL,
        ),
    ] = None,
    max_output_tokens: Annotated[
        int | None,
        typer.Option(
            "--max-output-tokens",
            help=f"LLM brain: tokens one model reply may write (default "
            f"{DEFAULT_MAX_OUTPUT_TOKENS:,}); a reply cut off there gets one corrective turn.",
            rich_help_panel=LLM_PANEL,
        ),
    ] = None,
    request_timeout: Annotated[
        float | None,
        typer.Option(
            "--request-timeout",
            help=f"LLM brain: seconds one model request may take (default "
            f"{DEFAULT_REQUEST_TIMEOUT_S:g}); a server that takes longer ends the run.",
            rich_help_panel=LLM_PANEL,
        ),
    ] = None,
    prices: Annotated[
        Path | None,
        typer.Option(
            "--prices",
            help="LLM brain: price table (JSON/YAML, $ per million tokens) for stats.",
            rich_help_panel=LLM_PANEL,
        ),
    ] = None,
    stream: Annotated[
        bool | None,
        typer.Option(
            "--stream/--no-stream",
            help="LLM brain: stream model responses (SSE).",
            rich_help_panel=LLM_PANEL,
        ),
    ] = None,
    trace: Annotated[
        bool | None,
        typer.Option(
            "--trace/--no-trace",
            help="LLM brain: export openai-agents traces (off by default).",
            rich_help_panel=LLM_PANEL,
        ),
    ] = None,
) -> None:
    """Investigate why RUN shows SYMPTOM; progress on stderr, the summary on stdout.
    Ctrl-C cancels at the next step or tool call; --resume ID finishes the job later."""
    from rootcause.cli.progress import StderrProgress
    from rootcause.investigate.job import InvestigationRequest
    from rootcause.store.options import IngestOptions
    from rootcause.store.workspace import Workspace

    if resume is None and (run is None or not symptom):
        raise BadInputError("investigate: give RUN and --symptom TEXT (or --resume ID)")

    options = {
        "model": model,
        "base_url": base_url,
        "max_turns": max_turns,
        "max_tool_calls": max_tool_calls,
        "max_tokens": max_tokens,
        "wall_time_s": wall_time,
        "max_output_tokens": max_output_tokens,
        "request_timeout_s": request_timeout,
        "prices": None if prices is None else str(prices.resolve()),
        "stream": stream,
        "trace": trace,
    }

    outputs = (("--json", json_path), ("--markdown", markdown_path), ("--events", events_path))
    request = InvestigationRequest(
        run=run,
        symptom=symptom,
        behavior=behavior,
        brain=brain,
        resume=resume,
        run_format=fmt,
        options={k: v for k, v in options.items() if v is not None},
        api_key=api_key,
        ingest_options=IngestOptions(skip_bad_lines=skip_bad_lines),
        outputs={k: v for k, v in outputs if v},
    )
    workspace_root = Workspace.resolve(workspace_dir(workspace))
    outcome = run_watched(workspace_root, request, StderrProgress(stderr_console()), events_path)
    for src, dest in ((outcome.json_path, json_path), (outcome.markdown_path, markdown_path)):
        if dest is not None:
            shutil.copyfile(src, dest)
    report = outcome.report
    out = stdout_console()
    meaning = VERDICT_MEANING.get(report.verdict, "")
    out.print(f"investigation {report.id}: {report.verdict} ({meaning})", markup=False)
    out.print(report.summary, markup=False)
    for f in report.findings:
        commit = f" @ {f.commit[:10]}" if f.commit else ""
        out.print(
            f"  {f.rank}. {f.kind} {f.id}{commit} (confidence {f.confidence:.2f})", markup=False
        )
    out.print(f"report: {outcome.markdown_path}", markup=False)
    plots = sorted((outcome.folder / "plots").glob("*.png"))
    if plots:
        out.print(f"plots: {outcome.folder / 'plots'} ({len(plots)} files)", markup=False)
    if fail_on_cause and report.verdict == "cause_found":
        raise typer.Exit(3)


def run_watched(
    workspace: Workspace,
    request: InvestigationRequest,
    progress: EventSink,
    events_path: Path | None,
) -> Outcome:
    """Run the investigation in a job thread, its events to `progress` (and to `events_path`
    as JSON Lines). Ctrl-C cancels the job cleanly at its next step or tool call and a second
    one stops at once; either way the command says how to resume and exits 130."""
    from rootcause.investigate.cancel import EXIT_CANCELLED, JobCancelled
    from rootcause.investigate.events import JsonlEventWriter
    from rootcause.investigate.handle import start_investigation

    writer = JsonlEventWriter(events_path) if events_path is not None else None
    handle = start_investigation(workspace, request, on_event=progress)
    if writer is not None:
        handle.subscribe(writer)
    try:
        try:
            return _wait(handle)
        except KeyboardInterrupt:
            print("cancelling at the next step (Ctrl-C again to stop now)", file=sys.stderr)
            handle.cancel()
            return _wait(handle)
    except JobCancelled as exc:
        print(f"cancelled: {exc}", file=sys.stderr)
        raise typer.Exit(EXIT_CANCELLED) from None
    except KeyboardInterrupt:
        where = f"--resume {handle.id}" if handle.id else "the same command"
        print(f"stopped; the last finished step is kept: continue with {where}", file=sys.stderr)
        raise typer.Exit(EXIT_CANCELLED) from None
    finally:
        if writer is not None:
            writer.close()


def _wait(handle: InvestigationHandle) -> Outcome:
    """The job's outcome; waits in short slices so Ctrl-C reaches this (the main) thread."""
    while True:
        try:
            return handle.wait(timeout=0.2)
        except TimeoutError:
            continue
