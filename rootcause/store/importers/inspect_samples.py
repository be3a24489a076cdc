"""One Inspect AI `EvalSample` as a sample record, and the tally of what it left out.

`EvalSample` (inspect_ai/log/_log.py): `id`, `epoch`, `input` (text or chat messages),
`target`, `output` (`completion`: the reply's text; `choices[0].message.content`: its parts,
`ContentReasoning` among them), `scores` (scorer name -> `Score` whose `value` is a number, a
boolean, a letter grade, a string, a list or a dict), `metadata`, and `error` when the sample
failed (then it has no output and no scores).

Mapping: `input` -> prompt (messages as `role: text` lines), the reply's text -> completion,
its reasoning blocks -> reasoning, `target` -> reference, each numeric score -> a component
(letter grades as Inspect's `value_to_float` reads them: C 1, P 0.5, I and N 0; booleans 1/0;
a dict value's numeric keys -> components `scorer.key`), the eval's task -> data_source, its
model -> extras `model`, `{step}:{id}:{epoch}` -> sample_id. Sample `metadata` fields named like
a label fill it; other scalar ones go to extras. What is left out is counted in `SampleTally`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rootcause.store.importers import is_number, keep_extra
from rootcause.store.importers.messages import content_text, render_messages, reply

#: Inspect's letter grades (inspect_ai/scorer/_metric.py) as `value_to_float` reads them.
GRADES = {"C": 1.0, "P": 0.5, "I": 0.0, "N": 0.0}
#: The `EvalSample` fields the mapping reads (the others are counted in a note).
READ_FIELDS = frozenset(
    ("id", "epoch", "input", "target", "output", "scores", "metadata", "error", "uuid")
)
#: Sample metadata keys that fill a label of the same name.
LABELS = ("persona", "env", "data_source")


@dataclass
class SampleTally:
    """What the samples of one run left out or spread, for the notes (counts by name)."""

    #: Score values that are not numbers (free text, lists), by scorer (or `scorer.key`).
    unscored: Counter[str] = field(default_factory=Counter)
    #: Components made from the keys of dict-valued scores, by scorer.
    expanded: dict[str, set[str]] = field(default_factory=dict)
    #: Failed samples (an `error`, no scores) left out, by file, and their error messages.
    failed: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    #: Samples whose reasoning was kept, and metadata fields left out (not scalar), by key.
    reasoning: int = 0
    metadata_left: Counter[str] = field(default_factory=Counter)
    #: `EvalSample` fields this mapping does not read (the transcript, usage, timing), by name.
    fields_left: Counter[str] = field(default_factory=Counter)
    #: Samples whose output has more than one choice (only the first is the completion).
    more_choices: int = 0
    #: Samples read per (log, sample id): its epochs, the completions drawn for one prompt.
    epochs: Counter[tuple[str, str]] = field(default_factory=Counter)

    def notes(self) -> list[str]:
        notes = []
        for scorer, keys in sorted(self.expanded.items()):
            names = ", ".join(f"{scorer}.{k}" for k in sorted(keys))
            notes.append(f"scorer {scorer!r} logs a dict of scores: read as components {names}")
        for scorer, count in sorted(self.unscored.items()):
            notes.append(f"scorer {scorer!r}: {count:,} values are not numbers, left out")
        for file, count in sorted(self.failed.items()):
            notes.append(f"{file}: {count:,} failed samples (error, no scores) left out")
        for message, count in self.errors.most_common(3):
            notes.append(f"sample error ({count:,}x): {message[:200]}")
        if self.reasoning:
            notes.append(
                f"reasoning blocks (ContentReasoning) kept as reasoning: {self.reasoning:,}"
            )
        for key, count in sorted(self.metadata_left.items()):
            notes.append(f"sample metadata {key!r} is not a single value: left out ({count:,})")
        if self.more_choices:
            notes.append(
                f"{self.more_choices:,} samples have several output choices: the first is read"
            )
        if self.fields_left:
            names = ", ".join(sorted(self.fields_left))
            notes.append(
                f"EvalSample fields not read (the transcript, usage, timing): {names}; the "
                "prompt is `input` and the completion the first choice of `output`"
            )
        if self.epochs and max(self.epochs.values()) == 1:
            notes.append(
                "one completion per sample in every log (epochs=1): unless samples share a "
                "prompt, each group (step, prompt) holds one completion, none is selected over "
                "another and selection pressure is 0; evaluate with epochs > 1 (and sampling) "
                "to measure it"
            )
        return notes


def score_value(value: Any) -> float | None:
    """A scorer's value as a number, if it is one (see `GRADES`)."""
    if isinstance(value, bool):
        return float(value)
    if is_number(value):
        return float(value)
    if isinstance(value, str) and value in GRADES:
        return GRADES[value]
    return None


def _rewards(scores: Any, tally: SampleTally) -> dict[str, float]:
    rewards: dict[str, float] = {}
    for name, score in (scores or {}).items() if isinstance(scores, Mapping) else ():
        value = score.get("value") if isinstance(score, Mapping) else None
        if isinstance(value, Mapping):
            for key, part in value.items():
                number = score_value(part)
                if number is None:
                    tally.unscored[f"{name}.{key}"] += 1
                else:
                    rewards[f"{name}.{key}"] = number
                    tally.expanded.setdefault(name, set()).add(str(key))
            continue
        number = score_value(value)
        if number is None:
            tally.unscored[name] += 1
        else:
            rewards[name] = number
    return rewards


def failed(sample: Mapping[str, Any]) -> str | None:
    """The error message of a sample that failed and has no scores, else None."""
    error = sample.get("error")
    if not error or sample.get("scores"):
        return None
    message = error.get("message") if isinstance(error, Mapping) else error
    return str(message)


def sample_record(
    sample: Mapping[str, Any], spec: Mapping[str, Any], step: int, tally: SampleTally
) -> dict[str, Any]:
    """One `EvalSample` as a sample record (see the module docstring)."""
    output = sample.get("output")
    output = output if isinstance(output, Mapping) else {}
    choices = output.get("choices")
    choices = choices if isinstance(choices, list) else []
    first = choices[0].get("message") if choices and isinstance(choices[0], Mapping) else None
    answer = reply(first) if isinstance(first, Mapping) else None
    tally.more_choices += len(choices) > 1
    completion = output.get("completion") or (answer.text if answer else "")
    source = sample.get("input")
    target = sample.get("target")
    record: dict[str, Any] = {
        "step": step,
        "split": "eval",
        "sample_id": f"{step}:{sample.get('id')}:{sample.get('epoch', 1)}",
        "prompt": render_messages(source) if isinstance(source, list) else content_text(source),
        "completion": completion,
        "reference": target if isinstance(target, str) else "\n".join(map(str, target or [])),
        "data_source": None if spec.get("task") is None else str(spec["task"]),
    }
    if answer is not None and answer.reasoning is not None:
        record["reasoning"] = answer.reasoning
        tally.reasoning += 1
    for key in sample.keys() - READ_FIELDS:
        if sample[key] not in (None, [], {}):
            tally.fields_left[str(key)] += 1
    rewards = _rewards(sample.get("scores"), tally)
    if rewards:
        record["rewards"] = rewards
    if spec.get("model") is not None:
        record["model"] = str(spec["model"])
    for key, value in (sample.get("metadata") or {}).items():
        if key in LABELS and isinstance(value, str):
            record[key] = value
        elif value is None or isinstance(value, str | int | float | bool):
            keep_extra(record, key, value)
        else:
            tally.metadata_left[key] += 1
    return record
