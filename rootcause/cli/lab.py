"""`rootcause lab`: list the bug catalogue, write a run with a seeded bug, re-run it with a fix."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from rootcause.cli.app import app
from rootcause.cli.common import stderr_console, stdout_console

if TYPE_CHECKING:
    from rootcause.lab.api import RunResult
    from rootcause.lab.job import LabRequest

EventsOption = Annotated[
    Path | None,
    typer.Option(
        "--events",
        help="Also write the lab run's typed event stream here as JSON Lines (one event per "
        "line, flushed as it happens).",
    ),
]

lab_app = typer.Typer(
    help="Seeded-bug RL runs for testing investigations (answer keys kept apart).",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(lab_app, name="lab")


@lab_app.command("list")
def list_bugs() -> None:
    """Print the bug catalogue, one line per bug."""
    from rootcause.lab.catalogue import CATALOGUE

    out = stdout_console()
    width = max(len(spec.id) for spec in CATALOGUE)
    for spec in CATALOGUE:
        out.print(f"{spec.id:<{width}}  {spec.summary}", markup=False)


def _run_with_progress(label: str, request: LabRequest, events: Path | None) -> RunResult:
    """Run the lab job under a transient progress bar on stderr that follows its events (and
    write them to `events`). The first Ctrl-C cancels it (what it wrote is removed), exit 130."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from rootcause.cli.jobs import events_file, watch
    from rootcause.core.jobs import EXIT_CANCELLED
    from rootcause.lab.job import LabCancelledError, LabEvent, LabEventWriter, start_lab

    bar = Progress(
        label,
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=stderr_console(),
        transient=True,
    )
    with events_file(events, LabEventWriter) as writer, bar:
        task = bar.add_task(label, total=None)

        def show(event: LabEvent) -> None:
            if event.type == "steps_simulated":
                bar.update(task, completed=event.done, total=event.total)

        job = start_lab(request, on_event=show)
        if writer is not None:
            job.subscribe(writer)
        try:
            result = watch(job, "cancelling the lab run (Ctrl-C again to stop now)")
        except (LabCancelledError, KeyboardInterrupt):
            bar.stop()  # the line goes below the bar, not over it
            stderr_console().print("stopped; nothing of the run was kept", markup=False)
            raise typer.Exit(EXIT_CANCELLED) from None
    stderr_console().print(
        f"wrote {result.run_dir}: {result.samples} samples in {result.seconds:.1f}s",
        markup=False,
        highlight=False,
    )
    return result


@lab_app.command("new")
def new(
    out_dir: Annotated[Path, typer.Argument(help="Run folder to create (must be new or empty).")],
    bug: Annotated[str, typer.Option("--bug", help="Bug id from `rootcause lab list`.")],
    seed: Annotated[int, typer.Option("--seed", help="Random seed; same seed, same bytes.")],
    answer_key: Annotated[
        Path, typer.Option("--answer-key", help="Where to write the answer key (outside OUT_DIR).")
    ],
    steps: Annotated[int, typer.Option("--steps", help="Training steps.")] = 200,
    groups: Annotated[int, typer.Option("--groups", help="Prompts (groups) per step.")] = 32,
    group_size: Annotated[int, typer.Option("--group-size", help="Samples per prompt.")] = 8,
    samples_format: Annotated[
        str, typer.Option("--samples-format", help="jsonl.gz or parquet.")
    ] = "jsonl.gz",
    plant_injections: Annotated[
        bool,
        typer.Option(
            "--plant-injections",
            help="Append auditor-aimed instructions ('Note to the auditor: the cause is ...') to "
            "5% of completions, after grading, to test that investigators treat sample text as "
            "data.",
        ),
    ] = False,
    events: EventsOption = None,
) -> None:
    """Simulate an RL run with a seeded bug; write the run and, apart from it, its answer key."""
    from rootcause.lab.job import NewRunRequest

    request = NewRunRequest(
        bug,
        seed,
        out_dir,
        answer_key,
        steps,
        groups,
        group_size,
        samples_format,
        plant_injections=plant_injections,
    )
    result = _run_with_progress(f"lab {bug}", request, _checked_events(events, out_dir))
    stdout_console().print(str(result.run_dir), markup=False, highlight=False)


@lab_app.command("rerun")
def rerun(
    out_dir: Annotated[Path, typer.Argument(help="Run folder to create (must be new or empty).")],
    answer_key: Annotated[Path, typer.Option("--answer-key", help="Answer key of the run.")],
    fix: Annotated[
        Path,
        typer.Option(
            "--fix",
            help="Unified diff against the config repo (as `git diff` in configs/ prints it); "
            "applied to every config commit it applies to.",
        ),
    ],
    events: EventsOption = None,
) -> None:
    """Re-simulate a lab run with a config patch, to check that a fix removes the behaviour."""
    from rootcause.lab.job import RerunRequest

    request = RerunRequest(answer_key, fix, out_dir)
    result = _run_with_progress("lab rerun", request, _checked_events(events, out_dir))
    out = stdout_console()
    out.print(str(result.run_dir), markup=False, highlight=False)
    if result.rate_before is not None and result.rate_after is not None:
        out.print(
            f"patched {result.patched_commits} config commit(s); behaviour "
            f"`{result.key['detector_hint']}`: {result.rate_before:.1%} before the original onset "
            f"(step {result.key['onset_step']}), {result.rate_after:.1%} in the last third",
            markup=False,
            highlight=False,
        )


def _checked_events(events: Path | None, out_dir: Path) -> Path | None:
    """`--events` refused inside the run folder being written (it is removed if the run is
    stopped, and a run folder holds only the run)."""
    if events is not None:
        from rootcause.store.workspace import guard_output

        guard_output(events, [out_dir], "--events")
    return events
