"""verl rollout dumps: `{rollout_data_dir}/{step}.jsonl` (README, "Foreign logs").

`RayPPOTrainer._dump_generations` writes one JSON object per line with `input` (decoded
prompt), `output` (decoded response), `gts` (the ground truth), `score` (the sequence's summed
token-level score) and `step`, plus every key of the reward function's `reward_extra_info`
with one value per sample. Validation dumps (`validation_data_dir`) have the same layout.

Mapping: input -> prompt, output -> completion, gts -> reference (JSON text when it is not a
string), score -> reward_total. Each numeric `reward_extra_info` value becomes a reward
component named by its key, except `reward`, verl's copy of the total in validation dumps, and
a key equal to `score` in every sample (a dict-returning `compute_score` puts its `score`, and
often an `acc` equal to it, among the extra info): such copies are reported and left out.
True/false values are flags (`overlong`, `acc`) and text values predictions (`pred`): kept in
`extras`, named in a note. Keys named like a label (`data_source`, `split`, `persona`, `env`,
`sample_id`, `group_id`) fill that label and `uid` (verl's prompt-group id) fills `group_id`;
verl itself dumps no `uid`, so its groups are (step, prompt), as a note says. NaN in a
`reward_extra_info` value is read as missing and counted in a note.

Train and validation dumps (`trainer.rollout_data_dir`, `trainer.validation_data_dir`) are two
folders; given the folder that holds both, each is read as a split of one run (a folder whose
name mentions "val" is the validation split, any other the train split).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any

import orjson

from rootcause.core.errors import RunFormatError
from rootcause.store.importers import (
    is_number,
    keep_extra,
    load_json_lines,
    numbered_files,
    shown_path,
)
from rootcause.store.records import RecordError, non_finite_name
from rootcause.store.source import LoadContext, RunSource

FILE_PATTERN = re.compile(r"^(\d+)\.jsonl(?:\.gz)?$")

_TEXT = {"input": "prompt", "output": "completion"}
_LABELS = frozenset(("split", "data_source", "persona", "env", "sample_id", "group_id"))
#: Numeric keys that are not reward components: the step, and verl's copy of the total.
_NOT_COMPONENTS = frozenset(("step", "reward"))


def _check_text(key: str, value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise RecordError(f"field '{key}' must be a string, got {type(value).__name__}")


def _finite(key: str, value: float) -> float:
    """A JSON number (or boolean) as a finite float, or a `RecordError` naming verl's key."""
    try:
        number = float(value)
    except OverflowError:
        raise RecordError(f"field '{key}' is out of range, got {value}") from None
    if not math.isfinite(number):
        raise RecordError(f"field '{key}' must be a finite number, got {non_finite_name(number)}")
    return number


def verl_record(
    obj: Mapping[str, Any],
    file_step: int,
    split: str | None = None,
    not_components: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One dumped line as a sample record (see the module docstring for the mapping).
    `not_components` collects the keys kept as extras because they are flags or text."""
    record: dict[str, Any] = {"step": obj.get("step", file_step)}
    if split is not None and "split" not in obj:
        record["split"] = split
    seen = not_components if not_components is not None else {}
    for key, field in _TEXT.items():
        record[field] = _check_text(key, obj.get(key))
    if record["completion"] is None:
        raise RecordError("missing required field 'output'")
    score = obj.get("score")
    if score is not None and not is_number(score):
        raise RecordError(f"field 'score' must be a number, got {type(score).__name__}")
    record["reward_total"] = score if score is None else _finite("score", score)
    gts = obj.get("gts")
    record["reference"] = gts if gts is None or isinstance(gts, str) else orjson.dumps(gts).decode()
    rewards: dict[str, float] = {}
    for key, value in obj.items():
        if key in _TEXT or key in ("step", "score", "gts"):
            continue
        if key in _LABELS and isinstance(value, str | int) and not isinstance(value, bool):
            record[key] = value
        elif key == "uid" and isinstance(value, str) and "group_id" not in obj:
            record["group_id"] = value
        elif key not in _NOT_COMPONENTS and is_number(value) and not isinstance(value, bool):
            # NaN: the reward function's extra value for this sample was not computed
            # (`nan_means_missing`); infinity stays a fault.
            nan = isinstance(value, float) and math.isnan(value)
            rewards[key] = value if nan else _finite(key, value)
        else:
            if isinstance(value, bool):
                seen.setdefault(key, "true/false flag")
            elif isinstance(value, str):
                seen.setdefault(key, "text")
            keep_extra(record, key, value)
    if rewards:
        record["rewards"] = rewards
    return record


def _dump_folders(path: Path) -> list[Path]:
    """The folders of `<step>.jsonl` dumps at `path`: itself, else its subfolders."""
    if not path.is_dir():
        return []
    if any(FILE_PATTERN.match(p.name) for p in path.iterdir()):
        return [path]
    return sorted(
        d
        for d in path.iterdir()
        if d.is_dir() and any(FILE_PATTERN.match(p.name) for p in d.iterdir())
    )


def _split_of(folder: Path) -> str:
    return "validation" if "val" in folder.name.lower() else "train"


class VerlReader:
    """Reads a verl `rollout_data_dir` (or `validation_data_dir`) of `<step>.jsonl` files, or
    the folder holding both, as splits of one run."""

    #: The format name, set by its framework (`rootcause.store.builtin_frameworks`).
    name: str
    #: `_dump_generations` writes every `reward_extra_info` key for every sample; a reward
    #: function that could not compute one for a sample (an `acc` of a parse failure) puts
    #: NaN there: read as missing and counted. A NaN `score` is a failed computation, refused.
    nan_means_missing: frozenset[str] = frozenset({"rewards"})
    appendable = False

    def detect(self, path: Path) -> bool:
        return bool(_dump_folders(path))

    def describe(self, path: Path) -> RunSource:
        folders = _dump_folders(path)
        files = [f for d in folders for f in numbered_files(d.iterdir(), FILE_PATTERN)]
        if not files:
            raise RunFormatError("not a verl rollout dump: no <step>.jsonl files", path)
        splits = {} if folders == [path] else {d.name: _split_of(d) for d in folders}
        return RunSource(
            format=self.name, root=path, run_id=path.name, files=files, facts={"splits": splits}
        )

    def load(self, source: RunSource, ctx: LoadContext) -> None:
        splits: dict[str, str] = source.facts.get("splits") or {}
        not_components: dict[str, str] = {}
        for path in source.files:
            match = FILE_PATTERN.match(path.name)
            assert match is not None
            to_record = partial(
                verl_record,
                file_step=int(match.group(1)),
                split=splits.get(path.parent.name),
                not_components=not_components,
            )
            load_json_lines(ctx, path, shown_path(path, source.root), to_record)
        ctx.settle()
        if splits:
            ctx.notes.append(
                "verl dumps read as splits of one run: "
                + ", ".join(f"{name}/ as split {split}" for name, split in splits.items())
            )
        if not_components:
            shown = ", ".join(f"{k} ({why})" for k, why in sorted(not_components.items()))
            ctx.notes.append(
                f"reward_extra_info keys kept as extras, not reward components: {shown}"
            )
        ctx.notes += _drop_score_copies(ctx)
        ctx.notes += _group_note(ctx)


def _group_note(ctx: LoadContext) -> list[str]:
    """Say where groups come from when no sample has a group id (verl dumps no `uid`)."""
    row = ctx.builder.con.execute(
        "SELECT count(*) FILTER (WHERE group_id IS NOT NULL) FROM samples"
    ).fetchone()
    if row is not None and int(row[0]) > 0:
        return []
    return [
        "groups are (step, prompt): verl's _dump_generations writes no uid, so two groups "
        "of one prompt in a step are read as one"
    ]


def _drop_score_copies(ctx: LoadContext) -> list[str]:
    """Leave out components equal to the logged score in every sample that has both."""
    con = ctx.builder.con
    rows = con.execute(
        "SELECT r.component FROM rewards r JOIN samples s USING (row_idx) "
        "WHERE s.reward_total IS NOT NULL GROUP BY 1 "
        "HAVING bool_and(abs(r.value - s.reward_total) <= 1e-9)"
    ).fetchall()
    copies = [str(r[0]) for r in rows]
    if not copies:
        return []
    con.execute("DELETE FROM rewards WHERE component IN (SELECT unnest(?::VARCHAR[]))", [copies])
    return [
        f"{name} equals score in every sample: a copy of the score (a dict-returning "
        "compute_score), not a component; left out"
        for name in copies
    ]
