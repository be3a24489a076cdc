"""`rootcause eval`: run a brain over a suite of lab scenarios and score it against the keys."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from rootcause.cli.app import app
from rootcause.cli.common import WorkspaceOption, stderr_console, stdout_console, workspace_dir
from rootcause.core.errors import BadInputError

if TYPE_CHECKING:
    from rootcause.evaluation.results import EvalResult


def _tools(spec: str | None) -> tuple[str, ...]:
    if not spec:
        return ()
    from rootcause.tools.registry import load_all

    names = tuple(dict.fromkeys(t.strip() for t in spec.split(",") if t.strip()))
    known = load_all()
    unknown = [n for n in names if n not in known]
    if unknown:
        raise BadInputError(
            f"--disable-tools: unknown tool {unknown[0]!r}; known: {', '.join(sorted(known))}"
        )
    return names


def _options(model: str | None, base_url: str | None, pairs: list[str]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise BadInputError(f"--brain-option {pair!r}: expected NAME=VALUE")
        options[name.strip()] = value
    if model is not None:
        options["model"] = model
    if base_url is not None:
        options["base_url"] = base_url
    return options


def _run(
    suite_path: Path,
    workspace: Path,
    out_dir: Path | None,
    brain: str,
    options: dict[str, Any],
    repeats: int,
    disabled: tuple[str, ...],
    workers: int,
) -> EvalResult:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from rootcause.evaluation.results import (
        EvalSpec,
        build_result,
        check_out_dir,
        machine,
        public_options,
        write_results,
    )
    from rootcause.evaluation.runner import EvalConfig, run_eval
    from rootcause.evaluation.suite import load_suite

    if workers < 1:
        raise BadInputError(f"--workers must be at least 1 (got {workers})")
    suite = load_suite(suite_path)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    folder = out_dir or workspace / "evals" / f"{suite.name}-{brain}-{stamp}"
    check_out_dir(folder)
    config = EvalConfig(brain, options, repeats, disabled, workers)
    err = stderr_console()
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    t0 = time.perf_counter()
    with Progress(
        TextColumn("[bold]{task.description:12s}[/bold]"),
        BarColumn(bar_width=None),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[label]}"),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bar:
        tasks: dict[str, Any] = {}

        def tick(stage: str, done: int, total: int, label: str) -> None:
            if stage not in tasks:
                name = "lab runs" if stage == "prepare" else "investigate"
                tasks[stage] = bar.add_task(name, total=total, label="")
            bar.update(tasks[stage], completed=done, total=total, label=label)

        trials = run_eval(suite, workspace, config, tick)
    spec = EvalSpec(
        suite=suite.name,
        suite_files=suite.files,
        scenarios=suite.scenarios,
        brain=brain,
        brain_options=public_options(options),
        repeats=repeats,
        disabled_tools=list(disabled),
        workers=workers,
        started=started,
        wall_s=round(time.perf_counter() - t0, 1),
        machine=machine(),
    )
    result = build_result(spec, trials)
    write_results(folder, result)
    err.print(f"results: {folder}", markup=False, highlight=False)
    return result


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
    model: Annotated[str | None, typer.Option("--model", help="Model (llm brain).")] = None,
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="OpenAI-compatible server (llm brain).")
    ] = None,
    brain_option: Annotated[
        list[str] | None,
        typer.Option("--brain-option", help="NAME=VALUE passed to the brain; repeatable."),
    ] = None,
    repeats: Annotated[int, typer.Option("--repeats", help="Investigations per scenario.")] = 1,
    disable_tools: Annotated[
        str | None,
        typer.Option("--disable-tools", help="Comma-separated tools the brain may not call."),
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
    rescore: Annotated[
        Path | None,
        typer.Option("--rescore", help="Re-score an earlier eval's folder instead of running."),
    ] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Investigate every scenario of a suite, score each report against its answer key, and
    print the per-bug table (progress on stderr)."""
    from rootcause.evaluation.results import load_results, write_results
    from rootcause.store.workspace import Workspace, guard_output

    # The eval cache holds the run folders investigated: outputs stay out of it.
    cache = Workspace.resolve(workspace_dir(workspace)).eval_cache_dir
    for option, path in (("--out", out), ("--json", json_path), ("--markdown", markdown_path)):
        if path is not None and str(path) != "-":
            guard_output(path, [cache], option)
    if rescore is not None:
        if suite is not None:
            raise BadInputError("eval: give --suite PATH or --rescore DIR, not both")
        result = load_results(rescore)
        write_results(out or rescore, result)
    elif suite is None:
        raise BadInputError("eval: give --suite PATH (or --rescore DIR)")
    else:
        root = Workspace.resolve(workspace_dir(workspace)).root
        options = _options(model, base_url, brain_option or [])
        disabled = _tools(disable_tools)
        result = _run(suite, root, out, brain, options, repeats, disabled, workers)
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
