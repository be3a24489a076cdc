"""Inspect AI `.eval` logs: zip files with `header.json` and `samples/{id}_epoch_{epoch}.json`.

Inspect's eval recorder (inspect_ai/log/_recorders/eval.py) writes each finished sample as an
`EvalSample` (`id`, `epoch`, `input` (text or chat messages), `target`, `messages`, `output`
(`completion`, `choices`), `scores` (scorer name -> `Score`: `value`, `answer`,
`explanation`, `metadata`), `metadata`) and the log's header (`eval`: `task`, `model`,
`created`, ...) to `header.json` once the eval ends. A live or crashed eval has no header.

Mapping: one sample per `EvalSample`; `input` -> prompt (messages joined), `output.completion`
-> completion, `target` -> reference, each scorer's numeric value -> a component (Inspect's
letter grades as its `value_to_float` reads them: C 1, P 0.5, I and N 0; booleans 1/0), the
eval's task -> data_source, `{step}:{id}:{epoch}` -> sample_id. Runs of RL checkpoints are evaluated
one `.eval` file each: the files of a folder are the steps of one run in the order Inspect
created them (`eval.created`, else the file name), step 0 first; `--deployments` and the like
then speak of those steps. Sample `metadata` fields named like a label (persona, env,
data_source) fill it; other scalar ones go to `extras`.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rootcause.core.errors import RunFormatError
from rootcause.core.limits import TooLargeError, read_member
from rootcause.store.importers import is_number, keep_extra, shown_path
from rootcause.store.jsonl import parse_line
from rootcause.store.source import LoadContext, RunSource

SUFFIX = ".eval"
SAMPLES_DIR = "samples/"
HEADER = "header.json"
#: Inspect's letter grades (inspect_ai/scorer/_metric.py) as `value_to_float` reads them.
GRADES = {"C": 1.0, "P": 0.5, "I": 0.0, "N": 0.0}
#: Sample metadata keys that fill a label of the same name.
LABELS = ("persona", "env", "data_source")


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, Mapping))
    return ""


def _prompt(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        lines = [_text(m.get("content")) for m in value if isinstance(m, Mapping)]
        return "\n".join(lines)
    return None


def score_value(value: Any) -> float | None:
    """A scorer's value as a number, if it is one (see `GRADES`)."""
    if isinstance(value, bool):
        return float(value)
    if is_number(value):
        return float(value)
    if isinstance(value, str) and value in GRADES:
        return GRADES[value]
    return None


def sample_record(sample: Mapping[str, Any], task: str | None, step: int) -> dict[str, Any]:
    """One `EvalSample` as a sample record (see the module docstring)."""
    output = sample.get("output") or {}
    completion = output.get("completion") if isinstance(output, Mapping) else None
    if not completion and isinstance(output, Mapping):
        choices = output.get("choices") or []
        if choices and isinstance(choices[0], Mapping):
            completion = _text((choices[0].get("message") or {}).get("content"))
    target = sample.get("target")
    record: dict[str, Any] = {
        "step": step,
        "split": "eval",
        "sample_id": f"{step}:{sample.get('id')}:{sample.get('epoch', 1)}",
        "prompt": _prompt(sample.get("input")),
        "completion": completion or "",
        "reference": target if isinstance(target, str) else "\n".join(map(str, target or [])),
        "data_source": task,
    }
    rewards = {}
    for name, score in (sample.get("scores") or {}).items():
        value = score_value(score.get("value")) if isinstance(score, Mapping) else None
        if value is not None:
            rewards[name] = value
    if rewards:
        record["rewards"] = rewards
    for key, value in (sample.get("metadata") or {}).items():
        if key in LABELS and isinstance(value, str):
            record[key] = value
        elif value is None or isinstance(value, str | int | float | bool):
            keep_extra(record, key, value)
    return record


def _header(archive: zipfile.ZipFile, shown: str) -> Mapping[str, Any]:
    if HEADER not in archive.namelist():
        return {}
    doc = parse_line(read_member(archive, HEADER, f"{shown}!{HEADER}"))
    return doc if isinstance(doc, Mapping) else {}


def _eval_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path] if path.suffix == SUFFIX else []
    return sorted(p for p in path.iterdir() if p.is_file() and p.suffix == SUFFIX)


class InspectEvalReader:
    """Reads one Inspect `.eval` log, or a folder of them as the steps of one run."""

    name = "inspect"
    #: Inspect writes JSON with NaN for a scorer that returned NaN: read as no value.
    nan_means_missing = frozenset({"rewards"})
    appendable = False

    def detect(self, path: Path) -> bool:
        return bool(_eval_files(path))

    def describe(self, path: Path) -> RunSource:
        files = _eval_files(path)
        if not files:
            raise RunFormatError(f"no Inspect AI logs (*{SUFFIX})", path)
        root = path if path.is_dir() else path.parent
        run_id = path.name if path.is_dir() else path.stem
        return RunSource(format=self.name, root=root, run_id=run_id, files=files)

    def load(self, source: RunSource, ctx: LoadContext) -> None:
        opened = []
        for path in source.files:
            shown = shown_path(path, source.root)
            ctx.place = (shown, None)
            try:
                archive = zipfile.ZipFile(path)
                header = _header(archive, shown)
            except TooLargeError as exc:
                ctx.bad_file(shown, exc.detail)
                continue
            except (zipfile.BadZipFile, zlib.error, ValueError, OSError) as exc:
                ctx.bad_file(shown, f"not a readable Inspect log ({exc})")
                continue
            spec = header.get("eval")
            spec = spec if isinstance(spec, Mapping) else {}
            opened.append((str(spec.get("created") or ""), shown, archive, spec))
        opened.sort(key=lambda item: (item[0], item[1]))
        for step, (_, shown, archive, spec) in enumerate(opened):
            with archive:
                self._load_samples(ctx, archive, shown, spec.get("task"), step)
        if len(opened) > 1:
            order = ", ".join(f"{step}: {shown}" for step, (_, shown, _, _) in enumerate(opened))
            ctx.notes.append(f"Inspect logs as steps, in the order they were created ({order})")

    def _load_samples(
        self, ctx: LoadContext, archive: zipfile.ZipFile, shown: str, task: Any, step: int
    ) -> None:
        names = sorted(
            n for n in archive.namelist() if n.startswith(SAMPLES_DIR) and n.endswith(".json")
        )
        for number, name in enumerate(names, start=1):
            where = f"{shown}!{name}"
            ctx.place = (where, None)
            try:
                sample = parse_line(read_member(archive, name, where))
            except TooLargeError as exc:
                ctx.bad_line(where, 1, exc.detail)
                continue
            except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
                ctx.bad_line(where, 1, f"unreadable zip member ({exc})")
                continue
            except ValueError as exc:
                ctx.bad_line(where, 1, str(exc))
                continue
            if not isinstance(sample, Mapping):
                ctx.bad_line(where, 1, "expected a JSON object (an EvalSample)")
                continue
            record = sample_record(sample, None if task is None else str(task), step)
            ctx.add_record(record, shown, number)
