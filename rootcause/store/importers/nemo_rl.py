"""NeMo-RL GRPO logs: `{log_dir}/train_data_step{N}.jsonl` and `val_data_step{N}.jsonl`.

`grpo_train` logs each step's batch with `Logger.log_batched_dict_as_jsonl`, which writes one
line per sample from `make_microbatch_iterator(1)`: every value is that sample's slice, a list
of one item (`{"content": [[user, assistant]], "rewards": [0.5], "advantages": [[0, 0, 0.7,
...]], ...}`), plus `"idx": i`. The keys: `content` (the message contents of the flattened
conversation), `rewards` (the environment's total reward; `filtered_rewards` too under dynamic
sampling), `advantages`, `generation_logprobs`, `prev_logprobs`, `token_loss_mask`,
`token_ids` (per token), `input_lengths`, `sample_loss_mask`, and `agent_ref` for NeMo-Gym
environments.

Mapping: the last message -> completion, the ones before it (joined by newlines) -> prompt;
validation logs hold `{role, content}` message dicts instead of their contents, rendered as
`role: text` lines (the completion: the last message's text);
`rewards` -> reward_total (NeMo-RL logs no components), the advantage of the first trained token
(`token_loss_mask` 1) -> advantage, `agent_ref.name` -> env; per-token arrays are not kept,
other keys go to `extras`. Validation files are the `validation` split. Each prompt's
`num_generations_per_prompt` samples are consecutive lines (`repeat_interleave`): a group is a
block of them, its size the most common run length of one prompt (or the overlay's
`group_size`). Compressed `.jsonl.gz` logs are read too; a truncated one is skipped from the
break on under `--skip-bad-lines`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rootcause.core.errors import RunFormatError
from rootcause.store.importers import is_number, keep_extra, numbered_files, shown_path
from rootcause.store.importers.messages import content_text, is_message, render_messages
from rootcause.store.jsonl import UnreadableFileError, iter_json_lines, parse_line
from rootcause.store.records import RecordError
from rootcause.store.source import LoadContext, RunSource

FILE_PATTERN = re.compile(r"^(?:train|val)_data_step(\d+)\.jsonl(?:\.gz)?$")
#: Per-token arrays: too large to keep, and meaningless without the tokenizer.
PER_TOKEN = frozenset(
    ("generation_logprobs", "prev_logprobs", "token_loss_mask", "token_ids", "advantages")
)


def _one(value: Any) -> Any:
    """A value of a batch-of-one slice: the single item of a one-item list."""
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def _first_trained(advantages: Any, mask: Any) -> float | None:
    """A sample's advantage: its value at the first token the loss trains on."""
    values = _one(advantages)
    if is_number(values):
        return float(values)
    if not isinstance(values, list) or not values:
        return None
    marks = _one(mask) if mask is not None else None
    if isinstance(marks, list) and len(marks) == len(values):
        trained = [v for v, m in zip(values, marks, strict=True) if m]
        return float(trained[0]) if trained and is_number(trained[0]) else None
    return float(values[-1]) if is_number(values[-1]) else None


def nemo_record(obj: Mapping[str, Any], step: int, split: str) -> dict[str, Any]:
    """One logged line as a sample record (see the module docstring)."""
    content = _one(obj.get("content"))
    if isinstance(content, str):
        content = [content]
    if not isinstance(content, list) or not content:
        raise RecordError("missing required field 'content' (the conversation's messages)")
    record: dict[str, Any] = {"step": step, "split": split}
    if any(is_message(c) for c in content):
        # Validation logs keep the messages themselves ({role, content}).
        last = content[-1]
        record["completion"] = content_text(last["content"]) if is_message(last) else str(last)
        record["prompt"] = render_messages(content[:-1]) or None
    else:
        texts = [str(c) for c in content]
        record["completion"] = texts[-1]
        record["prompt"] = "\n".join(texts[:-1]) or None
    total = _one(obj.get("rewards"))
    if total is not None and not is_number(total):
        raise RecordError(f"field 'rewards' must be a number, got {type(total).__name__}")
    record["reward_total"] = total
    record["advantage"] = _first_trained(obj.get("advantages"), obj.get("token_loss_mask"))
    agent = _one(obj.get("agent_ref"))
    if isinstance(agent, Mapping) and isinstance(agent.get("name"), str):
        record["env"] = agent["name"]
    for key, value in obj.items():
        if key not in PER_TOKEN and key not in ("content", "rewards", "agent_ref"):
            keep_extra(record, key, _one(value))
    return record


def group_blocks(prompts: list[str | None], given: int | None) -> tuple[list[int], int | None]:
    """A block number per line: runs of one prompt cut into blocks of the group size (the
    given one, else the most common run length); None as size when no run repeats."""
    runs: list[int] = []
    for i, prompt in enumerate(prompts):
        if i and prompt == prompts[i - 1]:
            runs[-1] += 1
        else:
            runs.append(1)
    size = given or (Counter(runs).most_common(1)[0][0] if runs else None)
    if size is None or size < 2:
        return list(range(len(prompts))), None
    blocks, number = [], 0
    for run in runs:
        for k in range(run):
            blocks.append(number + k // size)
        number += (run + size - 1) // size
    return blocks, size


class NemoRlReader:
    """Reads a NeMo-RL log folder of `train_data_step{N}.jsonl` (and `val_data_step{N}`)."""

    #: The format name, set by its framework (`rootcause.store.builtin_frameworks`).
    name: str
    #: `json.dumps` of tensors' `tolist()`: NaN only from a failed computation.
    nan_means_missing: frozenset[str] = frozenset()
    appendable = False

    def detect(self, path: Path) -> bool:
        return path.is_dir() and any(FILE_PATTERN.match(p.name) for p in path.iterdir())

    def describe(self, path: Path) -> RunSource:
        files = numbered_files(path.iterdir(), FILE_PATTERN) if path.is_dir() else []
        if not files:
            raise RunFormatError("not a NeMo-RL log folder: no train_data_step<N>.jsonl", path)
        return RunSource(format=self.name, root=path, run_id=path.name, files=files)

    def load(self, source: RunSource, ctx: LoadContext) -> None:
        sizes: Counter[int] = Counter()
        for path in source.files:
            match = FILE_PATTERN.match(path.name)
            assert match is not None
            split = "validation" if path.name.startswith("val_") else "train"
            size = _load_file(ctx, path, shown_path(path, source.root), int(match.group(1)), split)
            if size is not None:
                sizes[size] += 1
        ctx.notes.append(
            "NeMo-RL logs the total reward only (no components); per-token arrays "
            f"({', '.join(sorted(PER_TOKEN - {'advantages'}))}) are not kept; the advantage is "
            "that of the first trained token"
        )
        if sizes:
            shown = ", ".join(f"{s} ({n} files)" for s, n in sorted(sizes.items()))
            ctx.notes.append(
                f"groups: blocks of consecutive lines with one prompt, of size {shown}"
            )


def _load_file(ctx: LoadContext, path: Path, shown: str, step: int, split: str) -> int | None:
    """Read one file, group its lines, add its records; the group size found, if any."""
    ctx.place = (shown, None)
    records: list[tuple[dict[str, Any], int]] = []
    try:
        for line, raw in iter_json_lines(path, shown):
            ctx.place = (shown, line)
            try:
                obj = parse_line(raw)
                if not isinstance(obj, Mapping):
                    raise RecordError("expected a JSON object")
                records.append((nemo_record(obj, step, split), line))
            except (ValueError, RecordError) as exc:
                ctx.bad_line(shown, line, str(exc))
    except UnreadableFileError as exc:  # a truncated .jsonl.gz: skipped from the break on
        ctx.bad_file(shown, exc.detail)
    blocks, size = group_blocks([r["prompt"] for r, _ in records], ctx.overlay.group_size)
    for (record, line), block in zip(records, blocks, strict=True):
        if size is not None:
            record["group_id"] = f"{shown}#{block}"
        ctx.add_record(record, shown, line)
    return size
