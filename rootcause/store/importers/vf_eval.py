"""verifiers `vf-eval` output: a run folder holding `traces.jsonl` and its resolved config.

`vf-eval` (verifiers 0.4, `verifiers/v1/cli/eval/runner.py`) writes, under
`{output_dir}/{run.dir}/`, the resolved `EvalConfig` as `configs/resolved/eval.json` (newer
verifiers: `configs/eval.json`), then appends one `Episode` per line to `traces.jsonl` as
rollouts complete (`type_adapter(Episode).dump_json(episode, exclude_none=True)`), in
completion order. prime-rl's `scripts/export_sft.py` reads the same folder, taking each line
as one bare `Trace`: both shapes are read (a line with `traces` is an episode).

An eval has no training steps: every sample is step 0, split `eval`. vf-eval assigns no
`group`; the `num_rollouts` rollouts of one task (`-r`, the trainer's group size) are a
group, keyed by the task's `key` (else `hash`, else `idx`); a group whose size differs from
`num_rollouts` is counted in a note. The model evaluated and the env are said in a note.
Each trace is mapped by `verifiers_traces.trace_record`.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from rootcause.core.errors import RunFormatError
from rootcause.store.importers import shown_path
from rootcause.store.importers.verifiers_traces import TraceTally, trace_record
from rootcause.store.jsonl import iter_json_lines, parse_line
from rootcause.store.source import LoadContext, RunSource

TRACES = "traces.jsonl"
#: Where vf-eval keeps the resolved config, the current layout first.
CONFIG_FILES = ("configs/resolved/eval.json", "configs/eval.json")


def config_path(path: Path) -> Path | None:
    """The resolved eval config of a vf-eval run folder, if any."""
    for name in CONFIG_FILES:
        candidate = path / name
        if candidate.is_file():
            return candidate
    return None


def _config(path: Path, ctx: LoadContext, shown: str) -> Mapping[str, Any]:
    """The resolved EvalConfig as JSON; an unreadable one is said in a note and read as {}."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        ctx.notes.append(f"{shown} could not be read ({exc}): group size and model not known")
        return {}
    return data if isinstance(data, Mapping) else {}


def _group_key(episode: Mapping[str, Any]) -> str | None:
    task = episode.get("task")
    if not isinstance(task, Mapping):
        return None
    data = task.get("data")
    idx = data.get("idx") if isinstance(data, Mapping) else None
    for value in (task.get("key"), task.get("hash"), idx):
        if value is not None:
            return str(value)
    return None


class VfEvalReader:
    """Reads the run folder `vf-eval` writes (`traces.jsonl` beside `configs/`)."""

    #: The format name, set by its framework (`rootcause.store.builtin_frameworks`).
    name: str
    #: verifiers writes JSON through pydantic, which writes no NaN: any NaN is not its own.
    nan_means_missing: frozenset[str] = frozenset()
    appendable = False

    def detect(self, path: Path) -> bool:
        return path.is_dir() and (path / TRACES).is_file() and config_path(path) is not None

    def describe(self, path: Path) -> RunSource:
        if not self.detect(path):
            raise RunFormatError(
                f"not a vf-eval run folder: no {TRACES} beside {CONFIG_FILES[0]}", path
            )
        return RunSource(format=self.name, root=path, run_id=path.name, files=[path / TRACES])

    def load(self, source: RunSource, ctx: LoadContext) -> None:
        cfg_path = config_path(source.root)
        assert cfg_path is not None
        config = _config(cfg_path, ctx, shown_path(cfg_path, source.root))
        path = source.root / TRACES
        shown = shown_path(path, source.root)
        tally = TraceTally()
        sizes: Counter[str] = Counter()
        ungrouped = 0
        for line, episode, trace in _traces(ctx, path, shown, tally):
            record = trace_record(trace, episode, tally)
            if record is None:
                continue
            key = record.get("group_id") or _group_key(episode)
            if key is None:
                ungrouped += 1
            else:
                record["group_id"] = key
                sizes[key] += 1
            record["step"] = 0
            record["split"] = "eval"
            ctx.add_record(record, shown, line)
        ctx.notes.extend(_notes(config, sizes, ungrouped))
        ctx.notes.extend(tally.notes(shown))


def _notes(config: Mapping[str, Any], sizes: Counter[str], ungrouped: int) -> list[str]:
    env = config.get("env")
    taskset = env.get("taskset") if isinstance(env, Mapping) else None
    env_id = taskset.get("id") if isinstance(taskset, Mapping) else None
    notes = [
        f"vf-eval of model {config.get('model', '(not in the config)')!r} on "
        f"{env_id or '(env not in the config)'}: one checkpoint, every sample is step 0, "
        "split eval; one sample per trace"
    ]
    rollouts = config.get("num_rollouts")
    notes.append(
        f"groups: the rollouts of each task (task key), num_rollouts={rollouts} in the config"
        if rollouts is not None
        else "groups: the rollouts of each task (task key); num_rollouts is not in the config"
    )
    if isinstance(rollouts, int):
        off = sum(1 for size in sizes.values() if size != rollouts)
        if off:
            notes.append(
                f"{off} of {len(sizes)} tasks have a number of rollouts other than "
                f"num_rollouts={rollouts} (failed or resumed rollouts)"
            )
    if ungrouped:
        notes.append(f"{ungrouped} traces name no task key: grouped by (step, prompt)")
    return notes


def _traces(
    ctx: LoadContext, path: Path, shown: str, tally: TraceTally
) -> Iterator[tuple[int, Mapping[str, Any], Mapping[str, Any]]]:
    """(line, episode, trace) for every trace: an episode line's traces, or a bare trace line
    (its own task standing in for the episode's)."""
    ctx.place = (shown, None)
    for line, raw in iter_json_lines(path, shown):
        ctx.place = (shown, line)
        try:
            obj = parse_line(raw)
        except ValueError as exc:
            ctx.bad_line(shown, line, str(exc))
            continue
        if not isinstance(obj, Mapping):
            ctx.bad_line(shown, line, "expected a JSON object (a verifiers episode or trace)")
            continue
        if "traces" not in obj:
            yield line, obj, obj
            continue
        for trace in obj.get("traces") or []:
            if isinstance(trace, Mapping):
                yield line, obj, trace
            else:
                tally.not_objects += 1
