"""Inspect AI logs: `.eval` zips (zstd members) and `.json` logs, one file per checkpoint.

Inspect's eval recorder (inspect_ai/log/_recorders/eval.py) writes a zip holding each finished
sample as `samples/{id}_epoch_{epoch}.json`, the eval's spec as `_journal/start.json` when it
starts, and the log header (`status`, `eval`: `task`, `model`, `created`, ...; `error` when
it failed) as `header.json` when it ends; every member is compressed with zstd (method 93, see
`zip_members`). The JSON recorder writes the same log as one JSON document with a `samples`
list. Samples map onto records as `inspect_samples` says.

Runs of RL checkpoints are evaluated one log each: the logs of a folder are the steps of one
run, step 0 first, in the order Inspect created them (`eval.created`). Logs of one
`eval(task, model=[...])` call share `eval.created` to the second: those are ordered by
`eval.model` (numbers in it compared as numbers, so `ckpt-100` before `ckpt-1000`), then the
file name, and a note says so. The overlay's `checkpoints` (the training order, by `eval.model`
or log file name) overrides that order: the logs it names come first in its order, the others
after them in creation order, and a note says which was which. A log whose status is not
`success` is read as far as it got, with a note; failed samples (an `error`, no scores) are
left out and counted.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path
from typing import Any

from rootcause.core.errors import RunFormatError
from rootcause.core.limits import TooLargeError, read_capped
from rootcause.store.importers import shown_path
from rootcause.store.importers.inspect_samples import SampleTally, failed, sample_record
from rootcause.store.importers.zip_members import MemberError, read_member
from rootcause.store.jsonl import parse_line
from rootcause.store.source import LoadContext, RunSource

SUFFIX = ".eval"
JSON_SUFFIX = ".json"
SAMPLES_DIR = "samples/"
HEADER = "header.json"
START = "_journal/start.json"
#: How the JSON recorder begins a log (`EvalLog` fields in order: version, status, eval).
_JSON_LOG_START = re.compile(rb'^\s*\{\s*"version"\s*:\s*\d+\s*,\s*"status"\s*:')
_DIGITS = re.compile(r"(\d+)")


def _is_json_log(path: Path) -> bool:
    try:
        with path.open("rb") as stream:
            return bool(_JSON_LOG_START.match(stream.read(256)))
    except OSError:
        return False


def log_files(path: Path) -> list[Path]:
    """The Inspect logs at `path`: the file itself, or a folder's `.eval` and `.json` logs."""
    candidates = [path] if path.is_file() else sorted(p for p in path.iterdir() if p.is_file())
    return [
        p for p in candidates if p.suffix == SUFFIX or (p.suffix == JSON_SUFFIX and _is_json_log(p))
    ]


@dataclass
class InspectLog:
    """One log opened: its header fields and where its samples are."""

    shown: str
    status: str
    spec: Mapping[str, Any]
    error: str | None
    archive: zipfile.ZipFile | None = None
    samples: list[Any] | None = None

    @property
    def created(self) -> str:
        return str(self.spec.get("created") or "")

    @property
    def model(self) -> str:
        return str(self.spec.get("model") or "")

    def order_key(self) -> tuple[Any, ...]:
        model = tuple(int(p) if p.isdigit() else p for p in _DIGITS.split(self.model))
        return (self.created, [(isinstance(p, str), p) for p in model], self.shown)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _error_message(doc: Mapping[str, Any]) -> str | None:
    error = doc.get("error")
    if not error:
        return None
    return str(_mapping(error).get("message") or error)


def open_log(path: Path, shown: str) -> InspectLog:
    """Read a log's header (an `.eval` zip stays open for its samples)."""
    if path.suffix == JSON_SUFFIX:
        doc = _mapping(parse_line(read_capped(path, "Inspect log")))
        samples = doc.get("samples")
        return InspectLog(
            shown,
            str(doc.get("status") or "unknown"),
            _mapping(doc.get("eval")),
            _error_message(doc),
            samples=samples if isinstance(samples, list) else [],
        )
    archive = zipfile.ZipFile(path)
    names = set(archive.namelist())
    if HEADER in names:
        doc = _mapping(parse_line(read_member(archive, HEADER, f"{shown}!{HEADER}")))
        status = str(doc.get("status") or "unknown")
    else:  # a live or crashed eval: the spec is in the journal's start record
        start = read_member(archive, START, f"{shown}!{START}") if START in names else b"{}"
        doc = _mapping(parse_line(start))
        status = "unfinished (no header.json)"
    return InspectLog(shown, status, _mapping(doc.get("eval")), _error_message(doc), archive)


def order_notes(logs: list[InspectLog]) -> list[str]:
    """Say how the logs became steps: their order, and how ties in `eval.created` broke."""
    if len(logs) < 2:
        return []
    notes = []
    for created, tied in groupby(logs, key=lambda log: log.created):
        tied_logs = list(tied)
        if len(tied_logs) > 1:
            models = ", ".join(log.model or "?" for log in tied_logs)
            same = len({log.model for log in tied_logs}) < len(tied_logs)
            notes.append(
                f"{len(tied_logs)} Inspect logs share eval.created {created or '(none)'}: "
                f"ordered by eval.model ({models})" + (", then file name" if same else "")
            )
    order = ", ".join(f"{step}: {log.shown} ({log.model or '?'})" for step, log in enumerate(logs))
    notes.append(f"Inspect logs as steps, in the order they were created ({order})")
    return notes


def _position(log: InspectLog, checkpoints: list[str]) -> int | None:
    """Where the overlay's checkpoints put `log`: by its eval.model, else its file name."""
    for name in (log.model, log.shown, Path(log.shown).name):
        if name and name in checkpoints:
            return checkpoints.index(name)
    return None


def order_logs(logs: list[InspectLog], checkpoints: list[str] | None) -> list[str]:
    """Sort `logs` into steps (in place) and say how: by creation time (ties by eval.model),
    or by the overlay's `checkpoints` where given."""
    logs.sort(key=InspectLog.order_key)
    if not checkpoints:
        return order_notes(logs)
    positions = {id(log): _position(log, checkpoints) for log in logs}
    logs.sort(key=lambda log: (positions[id(log)] is None, positions[id(log)] or 0))
    order = ", ".join(f"{step}: {log.shown} ({log.model or '?'})" for step, log in enumerate(logs))
    notes = [f"Inspect logs as steps in the order of the overlay's checkpoints ({order})"]
    unnamed = [log.shown for log in logs if positions[id(log)] is None]
    if unnamed:
        notes.append(
            f"{len(unnamed)} Inspect logs not named in checkpoints come after the named ones, "
            f"in creation order: {', '.join(unnamed)}"
        )
    matched = {p for p in positions.values() if p is not None}
    missing = [name for i, name in enumerate(checkpoints) if i not in matched]
    if missing:
        notes.append(
            f"checkpoints naming no log (by eval.model or file name): {', '.join(missing)}"
        )
    return notes


class InspectEvalReader:
    """Reads one Inspect log, or a folder of them as the steps of one run."""

    #: The format name, set by its framework (`rootcause.store.builtin_frameworks`).
    name: str
    #: Inspect writes JSON with NaN for a scorer that returned NaN: read as no value.
    nan_means_missing = frozenset({"rewards"})
    appendable = False

    def detect(self, path: Path) -> bool:
        return bool(log_files(path))

    def describe(self, path: Path) -> RunSource:
        files = log_files(path)
        if not files:
            raise RunFormatError(f"no Inspect AI logs (*{SUFFIX}, *{JSON_SUFFIX})", path)
        root = path if path.is_dir() else path.parent
        run_id = path.name if path.is_dir() else path.stem
        return RunSource(format=self.name, root=root, run_id=run_id, files=files)

    def load(self, source: RunSource, ctx: LoadContext) -> None:
        logs = []
        for path in source.files:
            shown = shown_path(path, source.root)
            ctx.place = (shown, None)
            try:
                logs.append(open_log(path, shown))
            except TooLargeError as exc:
                ctx.bad_file(shown, exc.detail)
            except (zipfile.BadZipFile, MemberError, ValueError, OSError) as exc:
                ctx.bad_file(shown, f"not a readable Inspect log ({exc})")
        order = order_logs(logs, ctx.overlay.checkpoints)
        tally = SampleTally()
        for step, log in enumerate(logs):
            if log.status != "success":
                why = f" ({log.error[:200]})" if log.error else ""
                ctx.notes.append(f"{log.shown}: Inspect log status {log.status}{why}")
            for number, where, sample in self._samples(ctx, log):
                message = failed(sample)
                if message is not None:
                    tally.failed[log.shown] += 1
                    tally.errors[message] += 1
                    continue
                ctx.place = (where, None)
                tally.epochs[(log.shown, str(sample.get("id")))] += 1
                ctx.add_record(sample_record(sample, log.spec, step, tally), log.shown, number)
        ctx.notes += order + tally.notes()

    def _samples(
        self, ctx: LoadContext, log: InspectLog
    ) -> Iterator[tuple[int, str, Mapping[str, Any]]]:
        """(number, place, sample) for each sample of `log`, bad ones reported."""
        if log.samples is not None:
            for number, sample in enumerate(log.samples, start=1):
                where = f"{log.shown}!samples[{number - 1}]"
                if isinstance(sample, Mapping):
                    yield number, where, sample
                else:
                    ctx.bad_line(log.shown, number, "expected a JSON object (an EvalSample)")
            return
        assert log.archive is not None
        with log.archive as archive:
            names = sorted(
                n for n in archive.namelist() if n.startswith(SAMPLES_DIR) and n.endswith(".json")
            )
            for number, name in enumerate(names, start=1):
                where = f"{log.shown}!{name}"
                ctx.place = (where, None)
                try:
                    sample = parse_line(read_member(archive, name, where))
                except TooLargeError as exc:
                    ctx.bad_line(where, 1, exc.detail)
                    continue
                except (MemberError, ValueError) as exc:
                    ctx.bad_line(where, 1, str(exc))
                    continue
                if not isinstance(sample, Mapping):
                    ctx.bad_line(where, 1, "expected a JSON object (an EvalSample)")
                    continue
                yield number, where, sample
