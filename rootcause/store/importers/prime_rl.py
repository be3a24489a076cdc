"""prime-rl rollouts: `{output_dir}/rollouts/step_{N}/{train,eval}/{all,effective}/traces.jsonl`.

prime-rl's `FileMonitor.log_episodes` appends one line per verifiers `Episode`
(`episode.to_record()`: `model_dump(mode="json", exclude_none=True)`) to the step's file for
its kind (train, eval) and subset (`all` as each episode completes, `effective` the batch
trained on). An episode has `id`, `env` (`id`, `name`), `task` (`type`, `data`, `key`),
`group.id` (the rollout group), `run` (`work.step`), `ok`, `errors` and `traces`; a trace has
`id`, `agent` (`name`, `trainable`), `nodes` (messages: system/user/tool ones given, assistant
ones `sampled`), `rewards` (name -> {score, weight}, or null when scoring did not run),
`metrics` (unweighted), `info`, `ok`.

Mapping, one sample per trace: the given messages before the first sampled one -> prompt, the
sampled assistant messages -> completion (their `reasoning_content` -> reasoning), each named
reward's score -> a component, the weighted sum (verifiers' `Trace.reward`) -> reward_total,
`group.id` -> group_id, `env.name` (else `env.id`) -> env, `kind` -> split (train, eval), the
trace id -> sample_id; `metrics`, scalar `task.data` fields and `ok` go to `extras`. Where a
step has both subsets, `all` is read (every sampled completion; `effective` repeats part of it).
A compressed `traces.jsonl.gz` is read too; a truncated one is skipped from the break on under
`--skip-bad-lines`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from rootcause.core.errors import RunFormatError
from rootcause.store.importers import is_number, keep_extra, shown_path
from rootcause.store.jsonl import UnreadableFileError, iter_json_lines, parse_line
from rootcause.store.records import RecordError
from rootcause.store.source import LoadContext, RunSource

TRACES = "traces.jsonl"
STEP_FOLDER = re.compile(r"^step_(\d+)$")
KINDS = ("train", "eval")
#: The subsets prime-rl writes, the preferred one first.
SUBSETS = ("all", "effective")


def _text(content: Any) -> str:
    """A message's content as text: a string, or its text parts joined."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p.get("text", "") for p in content if isinstance(p, Mapping)]
        return "".join(str(p) for p in parts)
    return ""


def trace_record(trace: Mapping[str, Any], episode: Mapping[str, Any], kind: str) -> dict[str, Any]:
    """One trace of an episode as a sample record (see the module docstring)."""
    nodes = [n for n in trace.get("nodes") or [] if isinstance(n, Mapping)]
    messages = [(n.get("message") or {}, bool(n.get("sampled"))) for n in nodes]
    first = next((i for i, (_, sampled) in enumerate(messages) if sampled), len(messages))
    prompt = "\n".join(_text(m.get("content")) for m, _ in messages[:first])
    sampled = [m for m, s in messages if s]
    record: dict[str, Any] = {
        "split": kind,
        "sample_id": trace.get("id"),
        "prompt": prompt or None,
        "completion": "\n".join(_text(m.get("content")) for m in sampled),
    }
    reasoning = [str(m["reasoning_content"]) for m in sampled if m.get("reasoning_content")]
    if reasoning:
        record["reasoning"] = "\n".join(reasoning)
    rewards, total = {}, None
    for name, reward in (trace.get("rewards") or {}).items():
        if not isinstance(reward, Mapping) or not is_number(reward.get("score")):
            continue
        rewards[name] = float(reward["score"])
        total = (total or 0.0) + float(reward["score"]) * float(reward.get("weight", 1.0))
    if rewards:
        record["rewards"] = rewards
    record["reward_total"] = total
    group = episode.get("group")
    if isinstance(group, Mapping) and group.get("id") is not None:
        record["group_id"] = str(group["id"])
    env = episode.get("env")
    if isinstance(env, Mapping) and (env.get("name") or env.get("id")):
        record["env"] = str(env.get("name") or env.get("id"))
    for name, value in (trace.get("metrics") or {}).items():
        keep_extra(record, f"metric.{name}", value)
    task = episode.get("task")
    data = task.get("data") if isinstance(task, Mapping) else None
    if isinstance(data, Mapping):
        for key, value in data.items():
            if value is None or isinstance(value, str | int | float | bool):
                keep_extra(record, f"task.{key}", value)
    keep_extra(record, "ok", bool(trace.get("ok")))
    return record


def _weights(trace: Mapping[str, Any]) -> dict[str, float]:
    return {
        str(name): float(r.get("weight", 1.0))
        for name, r in (trace.get("rewards") or {}).items()
        if isinstance(r, Mapping)
    }


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

    name = "prime-rl"
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
        weights: dict[str, set[float]] = {}
        subsets: set[str] = set()
        for step, kind, path in _trace_files(rollouts):
            shown = shown_path(path, source.root)
            subsets.add(path.relative_to(rollouts).parts[2])
            for line, episode in _episodes(ctx, path, shown):
                for trace in episode.get("traces") or []:
                    if not isinstance(trace, Mapping):
                        continue
                    for name, weight in _weights(trace).items():
                        weights.setdefault(name, set()).add(weight)
                    record = trace_record(trace, episode, kind)
                    record["step"] = step
                    ctx.add_record(record, shown, line)
        ctx.notes.append(
            f"prime-rl episodes from the {' and '.join(sorted(subsets))} subset; one sample per "
            "trace; reward_total is the weighted sum of the named rewards as logged"
        )
        if weights:
            shown_w = ", ".join(
                f"{n} {'/'.join(f'{w:g}' for w in sorted(ws))}" for n, ws in sorted(weights.items())
            )
            ctx.notes.append(f"reward weights as logged with each trace: {shown_w}")


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
