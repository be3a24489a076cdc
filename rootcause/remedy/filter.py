"""A filtered copy of a run's samples without a behaviour's hits, for reuse as SFT data.

The detector is the one every tool uses (`behaviour.behavior` + `behaviour.matching`), evaluated on
every sample of the ingested run. The copy is written from the run's database (never from or
into the run folder) as Parquet or JSON Lines, with a manifest that says what was removed where:
counts kept and removed per persona, data source, env and step window, and the detector.
Both files are written through temporary files in the output folder and renamed into place, so
a reader never sees half a file.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, get_args

import numpy as np
import pyarrow as pa
from pydantic import BaseModel, Field

from rootcause.analysis.bins import make_step_bins
from rootcause.behaviour.behavior import parse_behavior
from rootcause.behaviour.frame import RunFrame, run_frame
from rootcause.behaviour.matching import BoolArray, behavior_hits
from rootcause.core.disk import written_via_temp
from rootcause.core.errors import BadInputError, RootcauseError
from rootcause.core.run import SampleField
from rootcause.store.ingest import IngestResult, ingest_run
from rootcause.store.run_store import RunStore
from rootcause.store.workspace import Workspace, guard_output
from rootcause.tools.context import ToolContext

logger = logging.getLogger(__name__)

FILTER_FORMAT: Literal["rootcause-filter/1"] = "rootcause-filter/1"
OutputFormat = Literal["parquet", "jsonl"]
MANIFEST = "manifest.json"
#: Step windows the manifest counts over.
WINDOWS = 10
#: Columns of the copy: the native sample format (README, "The native run format") without
#: what graders saw.
COLUMNS: tuple[str, ...] = (
    *(field for field in get_args(SampleField) if field != "grader_inputs"),
    "extras",
)
SELECTED = ", ".join("r.rewards" if c == "rewards" else f"s.{c}" for c in COLUMNS)
SLICE_KEYS = ("persona", "data_source", "env", "split")


class FilterRequest(BaseModel):
    """What to filter: a run, the behaviour to drop, where to write, and optional slices."""

    run: Path
    behavior: str
    out: Path
    format: OutputFormat = "parquet"
    #: Keep only samples of these slices (field -> value), e.g. {"persona": "nerdy"}.
    slices: dict[str, str] = Field(default_factory=dict)
    run_format: str = "auto"


class LevelCounts(BaseModel):
    level: str
    kept: int
    removed: int


class WindowCounts(BaseModel):
    step_min: int
    step_max: int
    kept: int
    removed: int


class FilterManifest(BaseModel):
    """What a filtered copy holds and what it left out (`manifest.json`)."""

    format: Literal["rootcause-filter/1"] = FILTER_FORMAT
    run: str
    run_id: str
    created: str
    detector: str
    detector_kind: str
    detector_field: str
    slices: dict[str, str]
    samples_in_scope: int
    kept: int
    removed: int
    output: str
    output_format: OutputFormat
    columns: list[str]
    by_persona: list[LevelCounts]
    by_data_source: list[LevelCounts]
    by_env: list[LevelCounts]
    by_window: list[WindowCounts]


class FilterResult(BaseModel):
    manifest: FilterManifest
    data_path: Path
    manifest_path: Path

    def summary(self) -> str:
        m = self.manifest
        return (
            f"kept {m.kept:,} of {m.samples_in_scope:,} samples, removed {m.removed:,} that show "
            f"{m.detector}; wrote {self.data_path} and {self.manifest_path}"
        )


def protected_folders(ingest: IngestResult) -> list[Path | None]:
    """The folders rootcause only reads for this run: the run folder and its config repo."""
    return [ingest.source.root, ingest.source.config_repo]


def filter_samples(workspace: Workspace, request: FilterRequest) -> FilterResult:
    """Write the run's samples without the behaviour's hits into `request.out` (see module)."""
    behavior = parse_behavior(request.behavior)
    if behavior.kind == "semantic":
        raise BadInputError(
            f"--behavior {request.behavior}: a semantic detector scores a sample of the run, not "
            "every sample; filter with a regex, terms or words detector"
        )
    ingest = ingest_run(request.run, workspace, fmt=request.run_format)
    out = guard_output(request.out, protected_folders(ingest), "--out")
    with RunStore(ingest.db_path) as store:
        ctx = ToolContext(store, ingest.db_path.parent / "tool-calls", make_plots=False)
        frame = run_frame(ctx)
        scope = _scope(frame, request.slices)
        hits = behavior_hits(ctx, behavior) & scope
        keep = scope & ~hits
        _ensure_folder(out, request.format)
        data_path = out / f"samples.{request.format}"
        _copy_rows(store, np.flatnonzero(keep), data_path, request.format)
        manifest = FilterManifest(
            run=str(ingest.source.root),
            run_id=ingest.source.run_id,
            created=datetime.now(UTC).isoformat(timespec="seconds"),
            detector=behavior.spec,
            detector_kind=behavior.kind,
            detector_field=behavior.field,
            slices=dict(request.slices),
            samples_in_scope=int(scope.sum()),
            kept=int(keep.sum()),
            removed=int(hits.sum()),
            output=data_path.name,
            output_format=request.format,
            columns=list(COLUMNS),
            by_persona=_levels(frame, "persona", keep, hits),
            by_data_source=_levels(frame, "data_source", keep, hits),
            by_env=_levels(frame, "env", keep, hits),
            by_window=_windows(frame, scope, keep, hits),
        )
    manifest_path = out / MANIFEST
    _write_text(manifest_path, manifest.model_dump_json(indent=2) + "\n")
    return FilterResult(manifest=manifest, data_path=data_path, manifest_path=manifest_path)


def _scope(frame: RunFrame, slices: dict[str, str]) -> BoolArray:
    scope = np.ones(frame.n, dtype=bool)
    for field, level in slices.items():
        if field not in SLICE_KEYS:
            raise BadInputError(f"--slice {field}={level}: slice by one of {', '.join(SLICE_KEYS)}")
        scope &= frame.level_mask(field, level)
    return scope


def _levels(frame: RunFrame, field: str, keep: BoolArray, hits: BoolArray) -> list[LevelCounts]:
    labels = frame.slice(field)
    counted = keep | hits
    out = []
    for code, name in enumerate(labels.names):
        rows = labels.codes == code
        if (rows & counted).any():
            out.append(
                LevelCounts(
                    level=name, kept=int((rows & keep).sum()), removed=int((rows & hits).sum())
                )
            )
    missing = labels.codes < 0
    if (missing & counted).any():
        out.append(
            LevelCounts(
                level="<missing>",
                kept=int((missing & keep).sum()),
                removed=int((missing & hits).sum()),
            )
        )
    return out


def _windows(
    frame: RunFrame, scope: BoolArray, keep: BoolArray, hits: BoolArray
) -> list[WindowCounts]:
    if not scope.any():
        return []
    bins = make_step_bins(frame.step[scope], n_bins=WINDOWS)
    kept, removed = keep[scope], hits[scope]
    out = []
    for j, start in enumerate(bins.starts):
        inside = bins.index == j
        if inside.any():
            out.append(
                WindowCounts(
                    step_min=int(start),
                    step_max=int(bins.edges[j + 1]) - 1,
                    kept=int(kept[inside].sum()),
                    removed=int(removed[inside].sum()),
                )
            )
    return out


#: What a filter writes into its folder; a folder holding only these is an earlier filter's.
_OWN_FILES = frozenset({MANIFEST, "samples.parquet", "samples.jsonl"})


def _ensure_folder(out: Path, fmt: OutputFormat) -> None:
    """A new or empty folder, or an earlier filter's (its files are replaced, and the data
    file of the other format removed, so the manifest describes all that is there); a folder
    holding anything else is refused rather than mixed with."""
    if out.exists() and not out.is_dir():
        raise BadInputError(f"--out {out}: exists and is not a folder")
    if out.is_dir():
        names = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
        if names and (MANIFEST not in names or not set(names) <= _OWN_FILES):
            shown = ", ".join(names[:3]) + (" ..." if len(names) > 3 else "")
            raise BadInputError(
                f"--out {out}: not empty (holds {shown}) and not an earlier filter's folder; "
                "give a new or empty folder"
            )
        for name in set(names) - {MANIFEST, f"samples.{fmt}"}:
            (out / name).unlink()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadInputError(f"--out {out}: cannot create it: {exc.strerror or exc}") from None


def _copy_rows(store: RunStore, rows: Iterable[int], path: Path, fmt: OutputFormat) -> None:
    """Copy the samples at `rows` (row_idx) to `path` through a temporary file."""
    keep = pa.table({"row_idx": pa.array(np.fromiter(rows, dtype=np.int64))})
    options = "FORMAT parquet" if fmt == "parquet" else "FORMAT json"
    con = store.con.cursor()
    try:
        con.register("kept_rows", keep)
        with written_via_temp(path) as tmp:
            con.execute(
                f"COPY (SELECT {SELECTED} FROM samples s JOIN kept_rows k USING (row_idx) "
                "LEFT JOIN (SELECT row_idx, json_group_object(component, value) AS rewards "
                "FROM rewards GROUP BY row_idx) r USING (row_idx) ORDER BY s.row_idx) "
                f"TO '{_sql_path(tmp)}' ({options})"
            )
    except Exception as exc:
        raise RootcauseError(f"cannot write {path}: {exc}") from exc
    finally:
        con.close()


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def _write_text(path: Path, text: str) -> None:
    try:
        with written_via_temp(path) as tmp:
            tmp.write_text(text)
    except OSError as exc:
        raise RootcauseError(f"cannot write {path}: {exc.strerror or exc}") from exc
