"""`rootcause eval`: run a brain over a suite of lab scenarios and score it against the keys."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from rootcause.cli.app import app
from rootcause.cli.common import (
    WorkspaceOption,
    lazy_module,
    option_help,
    stderr_console,
    stdout_console,
    workspace_dir,
)
from rootcause.core.errors import BadInputError
from rootcause.store.overlay_text import split_names

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

    from rootcause.evaluation.api import EvalRequest, EvalResult
    from rootcause.evaluation.events import EvalEvent
    from rootcause.investigate import options as option_models
    from rootcause.investigate.llm import config
    from rootcause.investigate.options import BrainOptions
else:  # the options' models: read when the command is built, not when it is listed
    config = lazy_module("rootcause.investigate.llm.config")
    option_models = lazy_module("rootcause.investigate.options")


#: Brain options `eval` takes as flags of their own rather than as --brain-option.
FLAGGED = ("model", "base_url", "disabled_tools")


def _brain_options(
    brain: str,
    model: str | None,
    base_url: str | None,
    pairs: list[str],
    disable_tools: str | None,
) -> BrainOptions:
    """The options given for `brain`, typed; one it does not take, or a value that does not
    fit, is refused in one line naming the option as it was given."""
    from rootcause.investigate.job import options_model
    from rootcause.investigate.options import parse_options

    values: dict[str, object] = {}
    labels: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise BadInputError(f"--brain-option {pair!r}: expected NAME=VALUE")
        if name == "disabled_tools":
            raise BadInputError("--brain-option disabled_tools: give the tools as --disable-tools")
        values[name], labels[name] = value, f"--brain-option {name}"
    flags = (("model", "--model", model), ("base_url", "--base-url", base_url))
    for name, flag, given in flags:
        if given is not None:
            values[name], labels[name] = given, flag
    if disable_tools:
        values["disabled_tools"] = split_names(disable_tools)
        labels["disabled_tools"] = "--disable-tools"
    model_cls = options_model(brain)
    return parse_options(model_cls, brain, values, lambda name: labels.get(name, name))


def _progress_bar(err: Console) -> Progress:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("[bold]{task.description:12s}[/bold]"),
        BarColumn(bar_width=None),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[label]}"),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )


def _run(request: EvalRequest, events_path: Path | None) -> EvalResult:
    """Run the eval as a job with a progress bar on stderr (two bars: lab runs,
    investigations) that subscribes to its events (and `--events`). The first Ctrl-C starts
    nothing more and lets what is under way finish; a second stops at once; exit 130."""
    from rootcause.cli.jobs import events_file, watch
    from rootcause.core.jobs import EXIT_CANCELLED
    from rootcause.evaluation.api import EvalCancelledError, start_eval
    from rootcause.evaluation.events import EvalEventWriter

    err = stderr_console()
    with events_file(events_path, EvalEventWriter) as writer, _progress_bar(err) as bar:
        job = start_eval(request, on_event=_ProgressBars(bar))
        if writer is not None:
            job.subscribe(writer)
        try:
            result = watch(job, "cancelling: nothing more is started (Ctrl-C again to stop now)")
        except (EvalCancelledError, KeyboardInterrupt) as exc:
            said = str(exc) if isinstance(exc, EvalCancelledError) else "eval stopped"
            print(f"cancelled: {said}", file=sys.stderr)
            raise typer.Exit(EXIT_CANCELLED) from None
    err.print(f"results: {result.folder}", markup=False, highlight=False)
    return result


class _ProgressBars:
    """The eval's events as two progress bars (lab runs, investigations)."""

    def __init__(self, bar: Progress) -> None:
        self.bar = bar
        self.bars: dict[str, TaskID] = {}

    def __call__(self, event: EvalEvent) -> None:
        from rootcause.evaluation.events import LabRunPrepared, StageStarted, TrialInvestigated

        if isinstance(event, StageStarted):
            name = "lab runs" if event.stage == "prepare" else "investigate"
            self.bars[event.stage] = self.bar.add_task(name, total=event.total, label="")
        elif isinstance(event, LabRunPrepared):
            self.bar.update(self.bars["prepare"], completed=event.done, total=event.total)
        elif isinstance(event, TrialInvestigated):
            self.bar.update(
                self.bars["investigate"],
                completed=event.done,
                total=event.total,
                label=event.trial,
            )


def _emit(text: str, dest: Path) -> None:
    if str(dest) == "-":
        stdout_console().print(text.rstrip("\n"), markup=False, highlight=False)
    else:
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(text)


@app.command("eval")
def eval_command(
    suite: Annotated[
        Path | None, typer.Option("--suite", help="Suite YAML file or folder of them.")
    ] = None,
    brain: Annotated[str, typer.Option("--brain", help="Brain to evaluate.")] = "systematic",
    model: Annotated[
        str | None,
        typer.Option("--model", help=option_help(config.LLMOptions, "model", "llm brain")),
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option("--base-url", help=option_help(config.LLMOptions, "base_url", "llm brain")),
    ] = None,
    brain_option: Annotated[
        list[str] | None,
        typer.Option(
            "--brain-option",
            help="NAME=VALUE, an option of the brain (llm: "
            f"{', '.join(n for n in config.LLMOptions.model_fields if n not in FLAGGED)}); "
            "repeatable. A name the brain does not take is refused.",
        ),
    ] = None,
    repeats: Annotated[int, typer.Option("--repeats", help="Investigations per scenario.")] = 1,
    disable_tools: Annotated[
        str | None,
        typer.Option(
            "--disable-tools",
            help=f"{option_models.describe(option_models.BrainOptions, 'disabled_tools')} "
            "Comma-separated.",
        ),
    ] = None,
    json_path: Annotated[
        Path | None, typer.Option("--json", help="Write the results JSON here ('-': stdout).")
    ] = None,
    markdown_path: Annotated[
        Path | None, typer.Option("--markdown", help="Write the Markdown table here ('-': stdout).")
    ] = None,
    workers: Annotated[int, typer.Option("--workers", help="Parallel worker processes.")] = 1,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Results folder (default <workspace>/evals/<suite>-<brain>-<time>)."
        ),
    ] = None,
    rescore_dir: Annotated[
        Path | None,
        typer.Option("--rescore", help="Re-score an earlier eval's folder instead of running."),
    ] = None,
    events_path: Annotated[
        Path | None,
        typer.Option(
            "--events",
            help="Also write the eval's typed event stream here as JSON Lines (one event per "
            "line, flushed as it happens).",
        ),
    ] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Investigate every scenario of a suite, score each report against its answer key, and
    print the per-bug table (progress on stderr)."""
    from rootcause.evaluation.api import EvalRequest, rescore
    from rootcause.store.workspace import Workspace, guard_output

    ws = Workspace.resolve(workspace_dir(workspace))
    # The eval cache holds the run folders investigated: outputs stay out of it.
    outputs = (("--json", json_path), ("--markdown", markdown_path), ("--events", events_path))
    for option, path in outputs:
        if path is not None and str(path) != "-":
            guard_output(path, [ws.eval_cache_dir], option)
    if rescore_dir is not None:
        if suite is not None:
            raise BadInputError("eval: give --suite PATH or --rescore DIR, not both")
        if events_path is not None:
            raise BadInputError("--events: not with --rescore (nothing runs)")
        result = rescore(ws, rescore_dir, out)
    elif suite is None:
        raise BadInputError("eval: give --suite PATH (or --rescore DIR)")
    else:
        options = _brain_options(brain, model, base_url, brain_option or [], disable_tools)
        request = EvalRequest(suite, ws, brain, options, repeats, workers, out)
        result = _run(request, events_path)
    if json_path is not None:
        _emit(json.dumps(result.to_json(), indent=2) + "\n", json_path)
    if markdown_path is not None:
        _emit(result.markdown(), markdown_path)
    if "-" not in (str(json_path), str(markdown_path)):
        stdout_console().print(result.markdown().rstrip("\n"), markup=False, highlight=False)
    failed = result.summary.errors
    if failed:
        first = next(s for s in result.scenarios if s.error)
        stderr_console().print(
            f"{failed} scenario(s) failed, e.g. {first.id}: {first.error}",
            markup=False,
            highlight=False,
        )
