"""Options and helpers shared by CLI commands."""

from __future__ import annotations

import functools
import importlib
import inspect
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from rootcause.cli.app import GlobalOptions

if TYPE_CHECKING:
    from rich.console import Console

    from rootcause.investigate.options import BrainOptions
    from rootcause.store.ingest import IngestResult
    from rootcause.store.ingest_job import IngestEvent
    from rootcause.store.options import IngestOptions
    from rootcause.store.overlay import RunOverlay

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
    """Console for data (stdout); rich loads here, not when the CLI starts (`--help`)."""
    from rich.console import Console

    return Console(file=sys.stdout, highlight=False, soft_wrap=True, emoji=False)


def stderr_console() -> Console:
    """Console for diagnostics and progress (stderr). Lines are never wrapped: when stderr is
    a file or pipe (no terminal width) a long progress or note line stays one line."""
    from rich.console import Console

    return Console(file=sys.stderr, highlight=False, emoji=False, soft_wrap=True)


def format_option() -> Any:
    """The `--format` option, for a command's signature: `fmt: Annotated[str, format_option()]`.
    A function, not an alias, so the format list (which reads the installed packages' entry
    points) is made when typer builds the command, not when its module is imported."""
    from rootcause.store.frameworks import format_help

    return typer.Option("--format", help=format_help())


SkipBadLinesFlag = Annotated[
    bool | None,
    typer.Option(
        "--skip-bad-lines/--no-skip-bad-lines",
        help="Skip malformed lines and report them, instead of stopping "
        "(default: as the last ingest of this run).",
        show_default=False,
    ),
]


def ingest_with_progress(
    run: Path,
    workspace: Path | None,
    fmt: str = "auto",
    skip_bad_lines: bool | None = None,
    force: bool = False,
    overlay: OverlayArgs | None = None,
    events: Path | None = None,
) -> IngestResult:
    """Ingest (or reuse) `run` as a job of the seam, its rows read shown as a progress bar on
    stderr (and its events written to `events`), and report skipped lines. The first Ctrl-C
    cancels it at the next batch of rows (the workspace is left as it was), exit 130.

    Options left as None are those of the run's earlier ingest."""
    from rootcause.cli.jobs import events_file, watch
    from rootcause.core.jobs import EXIT_CANCELLED
    from rootcause.store.ingest_job import (
        IngestCancelledError,
        IngestEventWriter,
        IngestRequest,
        start_ingest,
    )
    from rootcause.store.workspace import Workspace

    request = IngestRequest(
        run,
        Workspace.resolve(workspace_dir(workspace)),
        fmt=fmt,
        options=ingest_options(skip_bad_lines, overlay),
        force=force,
    )
    with events_file(events, IngestEventWriter) as writer, _IngestProgress(run.name) as bar:
        job = start_ingest(request, on_event=bar)
        if writer is not None:
            job.subscribe(writer)
        try:
            result = watch(job, "cancelling the ingest (Ctrl-C again to stop now)")
        except (IngestCancelledError, KeyboardInterrupt):
            bar.stop()  # the line goes below the bar, not over it
            stderr_console().print(
                "stopped; the workspace is unchanged", markup=False, highlight=False
            )
            raise typer.Exit(EXIT_CANCELLED) from None
    if result.skipped:
        shown = ", ".join(s.place for s in result.skipped[:5])
        more = f" and {len(result.skipped) - 5} more" if len(result.skipped) > 5 else ""
        stderr_console().print(f"skipped {len(result.skipped)} bad lines: {shown}{more}")
    return result


class _IngestProgress:
    """The ingest's progress bar on a terminal's stderr, a subscriber to its events, made
    when the first rows are read: a reused ingest (most commands after the first) shows none
    and does not load rich."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.err: Console | None = None  # made with the bar: rich is not loaded for a reuse
        self.bar: Any = None
        self.task: Any = None

    def __call__(self, event: IngestEvent) -> None:
        if event.type == "rows_read":
            self.show(event.rows)

    def show(self, rows: int) -> None:
        if self.bar is None:
            self.err = self.err or stderr_console()
            if not self.err.is_terminal:
                return
            from rich.progress import (
                BarColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )

            self.bar = Progress(
                SpinnerColumn(),
                TextColumn("[bold]ingest[/bold] {task.description}"),
                BarColumn(bar_width=None),
                TextColumn("{task.completed:,} samples"),
                TimeElapsedColumn(),
                console=self.err,
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task(self.name, total=None)
        self.bar.update(self.task, completed=rows)

    def __enter__(self) -> _IngestProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def option_help(model: type[BrainOptions], name: str, lead: str) -> str:
    """An option's help after `lead`: its description and default, read from the options
    model so the default is written once."""
    from rootcause.investigate.options import describe

    text = describe(model, name)
    if text.split(" ", 1)[0][1:].islower():  # a plain word, not a name such as OpenAI
        text = text[0].lower() + text[1:]
    return f"{lead}: {text}"


# --- the run overlay as command-line options ---------------------------------------------------

OVERLAY_PANEL = "Run overlay (what the logs do not say; also read from rootcause.yaml)"


@dataclass(frozen=True)
class OverlayArgs:
    """What the overlay options of a command gave: an overlay file, overlay keys, and whether
    to forget the ones stored with the run."""

    file: Path | None = None
    overlay: RunOverlay | None = None
    forget: bool = False


def ingest_options(skip_bad_lines: bool | None, overlay: OverlayArgs | None) -> IngestOptions:
    """The ingest options a command's flags give (None: as the run's last ingest had them)."""
    from rootcause.store.options import IngestOptions

    args = overlay or OverlayArgs()
    return IngestOptions(
        skip_bad_lines=skip_bad_lines,
        overlay_file=None if args.file is None else str(args.file.expanduser().resolve()),
        overlay=args.overlay,
        forget_overlay=args.forget,
    )


def _option(*names: str, help: str, kind: Any, default: Any = None) -> inspect.Parameter:
    annotation = Annotated[kind, typer.Option(*names, help=help, rich_help_panel=OVERLAY_PANEL)]
    return inspect.Parameter(
        names[0].lstrip("-").replace("-", "_"),
        inspect.Parameter.KEYWORD_ONLY,
        default=default,
        annotation=annotation,
    )


@functools.cache
def overlay_options() -> tuple[inspect.Parameter, ...]:
    """The overlay options every command that reads a run takes (ingest, overview, tool,
    investigate, chat), added by `with_overlay_options`; made when such a command is built
    (some of their help names the formats that read them)."""
    from rootcause.store.frameworks import option_formats

    return (
        _option("--overlay", help="Overlay file (default: rootcause.yaml next to the logs).",
                kind=Path | None),
        _option("--run-id", help="Run id.", kind=str | None),
        _option("--title", help="Run title.", kind=str | None),
        _option("--config-repo", help="Git repository of the run's reward and data configs.",
                kind=Path | None),
        _option("--deployments", help="Commit live from each step: STEP:COMMIT,... or a file of "
                "STEP COMMIT lines.", kind=str | None),
        _option("--label", help="NAME=SOURCE:VALUE for persona, data_source, env or split: "
                "prompt:REGEX (also completion, reasoning, reference), column:NAME or value:TEXT. "
                "Repeatable.", kind=list[str] | None),
        _option("--components", help="Only these columns are reward components (comma-separated).",
                kind=str | None),
        _option("--exclude-components", help="These columns are not reward components.",
                kind=str | None),
        _option("--weights", help="NAME=W,... fixed; fit (from the logged advantage or total); or "
                "config:PATH[#KEY] (a file in the config repo at each deployed commit).",
                kind=str | None),
        _option("--reasoning", help="Split reasoning from completions: think_tags or regex:PATTERN "
                "(its first group is the reasoning).", kind=str | None),
        _option("--group-size", help="Samples per group, as consecutive rows of a file (read by "
                f"{', '.join(option_formats('group_size'))}).", kind=int | None),
        _option("--table", help="The table key to read, e.g. completions (read by "
                f"{', '.join(option_formats('table'))}).", kind=str | None),
        _option("--checkpoints", help="The checkpoints in training order, comma-separated: "
                "eval.model values or log file names (read by "
                f"{', '.join(option_formats('checkpoints'))}).", kind=str | None),
        _option("--forget-overlay", help="Forget the overlay options stored with the run.",
                kind=bool, default=False),
    )  # fmt: skip


F = TypeVar("F", bound=Callable[..., Any])


def with_overlay_options(command: F) -> F:
    """Add the overlay options to a typer command; it receives them as `overlay: OverlayArgs`
    (its own parameter of that name is replaced by the options)."""
    return _WithOverlay(command)  # type: ignore[return-value]


class _WithOverlay:
    """A command with the overlay options in place of its `overlay` parameter. Its signature
    (what typer reads) is made when first read, as typer builds the command, not when the
    command's module is imported: the annotations, and the models some options' help is read
    from, load only for a command that is built (`rootcause --help` builds none)."""

    def __init__(self, command: Callable[..., Any]) -> None:
        self.command = command
        for attr in ("__module__", "__name__", "__qualname__", "__doc__"):
            setattr(self, attr, getattr(command, attr))

    @functools.cached_property
    def __signature__(self) -> inspect.Signature:
        signature = inspect.signature(self.command, eval_str=True)
        kept = [p for p in signature.parameters.values() if p.name != "overlay"]
        return signature.replace(parameters=kept + list(overlay_options()))

    @property
    def __annotations__(self) -> dict[str, Any]:  # type: ignore[override]
        return {p.name: p.annotation for p in self.__signature__.parameters.values()}

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        values = {p.name: kwargs.pop(p.name, None) for p in overlay_options()}
        kwargs["overlay"] = overlay_args(values)
        return self.command(*args, **kwargs)


def lazy_module(name: str) -> ModuleType:
    """A stand-in for the module `name` that imports it (an ordinary import) when one of its
    attributes is first read. A command module names through it what only the building of
    its command reads (the brain options' models behind their flags' help), so importing the
    command module to list it under `rootcause --help` does not load them."""
    return _DeferredModule(name)


class _DeferredModule(ModuleType):
    """See `lazy_module`: every attribute is the imported module's."""

    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module(self.__name__), attr)


def overlay_args(values: dict[str, Any]) -> OverlayArgs:
    """The overlay options' values as one typed value (read by the store's overlay grammar);
    a bad value names its option. With none given, the grammar (and YAML) is not loaded."""
    file, forget = values.get("overlay"), bool(values.get("forget_overlay"))
    if all(v is None for k, v in values.items() if k not in ("overlay", "forget_overlay")):
        return OverlayArgs(file=file, forget=forget)
    from rootcause.store.overlay_text import overlay_from_options

    return OverlayArgs(file=file, overlay=overlay_from_options(values), forget=forget)
