"""One verifiers `Trace` as a sample record, shared by the prime-rl and vf-eval readers.

A verifiers episode (`verifiers/v1/episode.py`) has `id`, `env` (`id`, `name`), `task`
(`type`, `data`, `key`, `hash`), `group.id` (the consumer's rollout group, if any), `run`,
`ok`, `errors` and `traces`; a trace (`verifiers/v1/trace.py`) has `id`, `task`, `nodes`
(messages: system/user/tool ones given, assistant ones `sampled`), `rewards` (name ->
`{score, weight}`, or null when scoring did not run), `metrics` (unweighted), `info`, `ok`.

Mapping, one sample per trace: the given messages before the first sampled one -> prompt, the
sampled assistant messages -> completion (their `reasoning_content` -> reasoning), each named
reward's score -> a component, the weighted sum (verifiers' `Trace.reward`) -> reward_total,
`group.id` -> group_id, `env.name` (else `env.id`) -> env, the trace id -> sample_id, a
`persona` in the task data or the trace's `info` -> persona; `metrics`, the other scalar
`task.data` and `info` fields and `ok` go to `extras`; the trace fields not read (tools, calls,
timing, usage, ...) are named in a note. What cannot be read is counted in `TraceTally`
and said in a note: traces with no sampled message (left out), rewards whose score is not a
number (left out of the components), a null weight (read as verifiers' default 1), traces
that were not scored.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rootcause.store.importers import is_number, keep_extra

#: Where a persona is looked for, in order: the task's data, then the trace's `info`.
PERSONA_KEYS = ("persona",)
#: Trace fields the mapping reads.
READ_FIELDS = frozenset({"id", "task", "nodes", "rewards", "metrics", "info", "ok"})


@dataclass
class TraceTally:
    """What the trace mapping met that it could not read as is, for the notes."""

    traces: int = 0
    no_sampled: int = 0
    not_scored: int = 0
    not_objects: int = 0
    null_rewards: Counter[str] = field(default_factory=Counter)
    text_scores: Counter[str] = field(default_factory=Counter)
    null_weights: Counter[str] = field(default_factory=Counter)
    weights: dict[str, set[float]] = field(default_factory=dict)
    personas: int = 0
    unkept_task_fields: Counter[str] = field(default_factory=Counter)
    #: Trace fields this mapping does not read (tools, calls, timing, usage, ...), by name.
    unread_fields: Counter[str] = field(default_factory=Counter)

    def notes(self, shown: str) -> list[str]:
        """One note per kind of thing left out or read by a default, with its count."""
        notes = []
        if self.no_sampled:
            notes.append(
                f"{self.no_sampled} of {self.traces} traces in {shown} have no sampled "
                "(assistant) message: left out, there is no completion to read"
            )
        if self.not_objects:
            notes.append(f"{self.not_objects} traces in {shown} are not JSON objects: left out")
        if self.not_scored:
            notes.append(
                f"{self.not_scored} traces in {shown} have no rewards (scoring did not run): "
                "their reward_total is missing"
            )
        for name, count in sorted(self.null_rewards.items()):
            notes.append(f"reward {name!r} is null (not scored) on {count} traces in {shown}")
        for name, count in sorted(self.text_scores.items()):
            notes.append(
                f"reward {name!r} has a score that is not a number on {count} traces in "
                f"{shown}: left out of the components and of reward_total"
            )
        for name, count in sorted(self.null_weights.items()):
            notes.append(
                f"reward {name!r} has weight null on {count} traces in {shown}: read as 1 "
                "(verifiers' default weight)"
            )
        if self.personas:
            notes.append(
                f"persona from the task data's (or the trace info's) `persona` field: "
                f"{self.personas} of {self.traces} traces in {shown}"
            )
        if self.unkept_task_fields:
            fields = ", ".join(sorted(self.unkept_task_fields))
            notes.append(
                f"task data and info fields not kept (lists or objects, not scalars) in {shown}: "
                f"{fields}"
            )
        if self.unread_fields:
            names = ", ".join(sorted(self.unread_fields))
            notes.append(
                f"trace fields not read in {shown}: {names}; the prompt and completion are the "
                "`nodes` messages"
            )
        if self.weights:
            shown_w = ", ".join(
                f"{n} {'/'.join(f'{w:g}' for w in sorted(ws))}"
                for n, ws in sorted(self.weights.items())
            )
            notes.append(f"reward weights as logged with each trace: {shown_w}")
        return notes


def _text(content: Any) -> str:
    """A message's content as text: a string, or its text parts joined."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p.get("text", "") for p in content if isinstance(p, Mapping)]
        return "".join(str(p) for p in parts)
    return ""


def _rewards(
    rewards: Mapping[str, Any], tally: TraceTally
) -> tuple[dict[str, float], float | None]:
    """The components and the weighted total of one trace's named rewards."""
    components: dict[str, float] = {}
    total: float | None = None
    for name, reward in rewards.items():
        if reward is None:
            tally.null_rewards[str(name)] += 1
            continue
        score = reward.get("score") if isinstance(reward, Mapping) else reward
        if not is_number(score) or not isinstance(score, int | float):
            tally.text_scores[str(name)] += 1
            continue
        weight = reward.get("weight", 1.0) if isinstance(reward, Mapping) else 1.0
        if weight is None:
            tally.null_weights[str(name)] += 1
            weight = 1.0
        if not is_number(weight) or not isinstance(weight, int | float):
            tally.text_scores[str(name)] += 1
            continue
        tally.weights.setdefault(str(name), set()).add(float(weight))
        components[str(name)] = float(score)
        total = (total or 0.0) + float(score) * float(weight)
    return components, total


def _persona(data: Mapping[str, Any] | None, trace: Mapping[str, Any]) -> str | None:
    info = trace.get("info")
    nested = data.get("info") if isinstance(data, Mapping) else None
    for source in (data, info, nested):
        if isinstance(source, Mapping):
            for key in PERSONA_KEYS:
                if isinstance(source.get(key), str) and source[key]:
                    return str(source[key])
    return None


def trace_record(
    trace: Mapping[str, Any], episode: Mapping[str, Any], tally: TraceTally
) -> dict[str, Any] | None:
    """One trace of an episode as a sample record (see the module docstring), or None for a
    trace with no sampled message (counted in `tally`)."""
    tally.traces += 1
    nodes = [n for n in trace.get("nodes") or [] if isinstance(n, Mapping)]
    messages = [(n.get("message") or {}, bool(n.get("sampled"))) for n in nodes]
    first = next((i for i, (_, sampled) in enumerate(messages) if sampled), len(messages))
    sampled = [m for m, s in messages if s and isinstance(m, Mapping)]
    if not sampled:
        tally.no_sampled += 1
        return None
    prompt = "\n".join(
        _text(m.get("content")) for m, _ in messages[:first] if isinstance(m, Mapping)
    )
    record: dict[str, Any] = {
        "sample_id": trace.get("id"),
        "prompt": prompt or None,
        "completion": "\n".join(_text(m.get("content")) for m in sampled),
    }
    reasoning = [str(m["reasoning_content"]) for m in sampled if m.get("reasoning_content")]
    if reasoning:
        record["reasoning"] = "\n".join(reasoning)
    rewards = trace.get("rewards")
    if isinstance(rewards, Mapping) and rewards:
        components, record["reward_total"] = _rewards(rewards, tally)
        if components:
            record["rewards"] = components
    else:
        tally.not_scored += 1
        record["reward_total"] = None
    group = episode.get("group")
    if isinstance(group, Mapping) and group.get("id") is not None:
        record["group_id"] = str(group["id"])
    env = episode.get("env")
    if isinstance(env, Mapping) and (env.get("name") or env.get("id")):
        record["env"] = str(env.get("name") or env.get("id"))
    for name, value in (trace.get("metrics") or {}).items():
        keep_extra(record, f"metric.{name}", value)
    task = episode.get("task") or trace.get("task")
    data = task.get("data") if isinstance(task, Mapping) else None
    persona = _persona(data, trace)
    if persona is not None:
        record["persona"] = persona
        tally.personas += 1
    if isinstance(data, Mapping):
        for key, value in data.items():
            if key in PERSONA_KEYS:
                continue
            if value is None or isinstance(value, str | int | float | bool):
                keep_extra(record, f"task.{key}", value)
            else:
                tally.unkept_task_fields[str(key)] += 1
    info = trace.get("info")
    for key, value in info.items() if isinstance(info, Mapping) else ():
        if key in PERSONA_KEYS:
            continue
        if value is None or isinstance(value, str | int | float | bool):
            keep_extra(record, f"info.{key}", value)
        else:
            tally.unkept_task_fields[f"info.{key}"] += 1
    keep_extra(record, "ok", bool(trace.get("ok")))
    for key in trace:
        if key not in READ_FIELDS:
            tally.unread_fields[str(key)] += 1
    return record
