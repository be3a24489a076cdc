"""`rootcause lab`: list the bug catalogue, write a run with a seeded bug, re-run it with a fix."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from rootcause.cli.app import app
from rootcause.cli.common import stderr_console, stdout_console

if TYPE_CHECKING:
    from rootcause.lab.api import RunResult

Tick = Callable[[int, int], None]

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


def _run_with_progress(label: str, fn: Callable[[Tick], RunResult]) -> RunResult:
    """Run `fn(tick)` under a transient progress bar on stderr."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    bar = Progress(
        label,
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=stderr_console(),
        transient=True,
    )
    with bar:
        task = bar.add_task(label, total=None)

        def tick(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        result = fn(tick)
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
) -> None:
    """Simulate an RL run with a seeded bug; write the run and, apart from it, its answer key."""
    from rootcause.lab.api import new_run

    result = _run_with_progress(
        f"lab {bug}",
        lambda tick: new_run(
            bug,
            seed,
            out_dir,
            answer_key,
            steps,
            groups,
            group_size,
            samples_format,
            tick,
            plant_injections=plant_injections,
        ),
    )
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
) -> None:
    """Re-simulate a lab run with a config patch, to check that a fix removes the behaviour."""
    from rootcause.lab.api import rerun as do_rerun

    result = _run_with_progress("lab rerun", lambda tick: do_rerun(answer_key, fix, out_dir, tick))
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
