"""prime-rl rollouts: `{output_dir}/rollouts/step_{N}/{train,eval}/{all,effective}/traces.jsonl`.

prime-rl's `FileMonitor.log_episodes` appends one line per verifiers `Episode`
(`episode.to_record()`: `model_dump(mode="json", exclude_none=True)`) to the step's file for
its kind (train, eval) and subset (`all` as each episode completes, `effective` the batch
trained on). An episode has `id`, `env` (`id`, `name`), `task` (`type`, `data`, `key`),
`group.id` (the rollout group), `run` (`work.step`), `ok`, `errors` and `traces`; a trace has
`id`, `agent` (`name`, `trainable`), `nodes` (messages: system/user/tool ones given, assistant
ones `sampled`), `rewards` (name -> {score, weight}, or null when scoring did not run),
`metrics` (unweighted), `info`, `ok`.

One sample per trace, mapped by `verifiers_traces.trace_record` (persona from the task data,
what cannot be read counted in notes); `kind` -> split (train, eval). Where a step has both
subsets, `all` is read (every sampled completion; `effective` repeats part of it). A compressed
`traces.jsonl.gz` is read too; a truncated one is skipped from the break on under
`--skip-bad-lines`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from rootcause.core.errors import RunFormatError
from rootcause.store.importers import shown_path
from rootcause.store.importers.verifiers_traces import TraceTally, trace_record
from rootcause.store.jsonl import UnreadableFileError, iter_json_lines, parse_line
from rootcause.store.records import RecordError
from rootcause.store.source import LoadContext, RunSource

TRACES = "traces.jsonl"
STEP_FOLDER = re.compile(r"^step_(\d+)$")
KINDS = ("train", "eval")
#: The subsets prime-rl writes, the preferred one first.
SUBSETS = ("all", "effective")


def _rollouts(path: Path) -> Path | None:
    """The `rollouts` folder of a prime-rl output dir (or the folder itself)."""
    for folder in (path / "rollouts", path):
        if folder.is_dir() and any(STEP_FOLDER.match(p.name) for p in folder.iterdir()):
            return folder
    return None


def _trace_files(rollouts: Path) -> Iterator[tuple[int, str, Path]]:
    """(step, kind, file) in step order: per step and kind, the preferred subset's file."""
    steps = sorted(
        (int(m.group(1)), d)
        for d in rollouts.iterdir()
        if d.is_dir() and (m := STEP_FOLDER.match(d.name))
    )
    for step, folder in steps:
        for kind in KINDS:
            for subset in SUBSETS:
                found = sorted(
                    p
                    for p in (folder / kind / subset).rglob(TRACES + "*")
                    if p.name in (TRACES, TRACES + ".gz")
                )
                if found:
                    yield from ((step, kind, f) for f in found)
                    break


class PrimeRlReader:
    """Reads a prime-rl output dir (or its `rollouts/` folder) of verifiers episodes."""

    #: The format name, set by its framework (`rootcause.store.builtin_frameworks`).
    name: str
    #: orjson writes no NaN (it writes null), so any NaN is not prime-rl's.
    nan_means_missing: frozenset[str] = frozenset()
    appendable = False

    def detect(self, path: Path) -> bool:
        rollouts = _rollouts(path) if path.is_dir() else None
        return rollouts is not None and next(_trace_files(rollouts), None) is not None

    def describe(self, path: Path) -> RunSource:
        rollouts = _rollouts(path) if path.is_dir() else None
        files = [f for *_, f in _trace_files(rollouts)] if rollouts else []
        if not files:
            raise RunFormatError(
                "not a prime-rl output: no rollouts/step_<N>/<kind>/<subset>/traces.jsonl", path
            )
        return RunSource(format=self.name, root=path, run_id=path.name, files=files)

    def load(self, source: RunSource, ctx: LoadContext) -> None:
        rollouts = _rollouts(source.root)
        assert rollouts is not None
        tally = TraceTally()
        subsets: set[str] = set()
        for step, kind, path in _trace_files(rollouts):
            shown = shown_path(path, source.root)
            subsets.add(path.relative_to(rollouts).parts[2])
            for line, episode in _episodes(ctx, path, shown):
                for trace in episode.get("traces") or []:
                    if not isinstance(trace, Mapping):
                        tally.not_objects += 1
                        continue
                    record = trace_record(trace, episode, tally)
                    if record is None:
                        continue
                    record["step"] = step
                    record["split"] = kind
                    ctx.add_record(record, shown, line)
        ctx.notes.append(
            f"prime-rl episodes from the {' and '.join(sorted(subsets))} subset; one sample per "
            "trace; reward_total is the weighted sum of the named rewards as logged"
        )
        ctx.notes.extend(tally.notes("the rollouts"))


def _episodes(ctx: LoadContext, path: Path, shown: str) -> Iterator[tuple[int, Mapping[str, Any]]]:
    ctx.place = (shown, None)
    lines = iter_json_lines(path, shown)
    while True:
        try:
            line, raw = next(lines)
        except StopIteration:
            return
        except UnreadableFileError as exc:  # a truncated .jsonl.gz: skipped from the break on
            ctx.bad_file(shown, exc.detail)
            return
        ctx.place = (shown, line)
        try:
            obj = parse_line(raw)
            if not isinstance(obj, Mapping):
                raise RecordError("expected a JSON object (a verifiers episode)")
        except ValueError as exc:
            ctx.bad_line(shown, line, str(exc))
            continue
        yield line, obj
