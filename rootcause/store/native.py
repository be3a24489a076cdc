"""The native run format `rootcause-run/1` (README, "The native run format")."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args

import yaml
from pydantic import ValidationError

from rootcause.core.errors import RunFormatError
from rootcause.core.limits import check_regular, read_capped
from rootcause.core.run import RUN_FORMAT, RunManifest, SampleField
from rootcause.store.jsonl import (
    UnreadableFileError,
    iter_json_lines,
    iter_line_chunks,
    parse_line,
    split_lines,
)
from rootcause.store.schema import MAX_STEP
from rootcause.store.source import LoadContext, RunSource
from rootcause.store.table_mapping import TableMapping

if TYPE_CHECKING:  # pyarrow and the loaders: to read rows, not to describe a run
    import pyarrow as pa

MANIFEST = "run.yaml"
SAMPLE_SUFFIXES = (".jsonl", ".jsonl.gz", ".parquet")

#: Native Parquet samples use the canonical names for their columns.
NATIVE_MAPPING = TableMapping(
    fields={
        name: name
        for name in get_args(SampleField)
        if name not in ("rewards", "grader_inputs", "meta")
    },
    rewards="rewards",
    grader_inputs="grader_inputs",
    meta="meta",
)


def _validation_message(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "(top level)"
    return f"field '{where}': {err['msg']}"


def read_manifest(run_dir: Path) -> RunManifest:
    """Parse and validate `run.yaml`; errors name the file and the field."""
    path = run_dir / MANIFEST
    try:
        doc: Any = yaml.safe_load(read_capped(path, "manifest").decode("utf-8"))
    except UnicodeDecodeError:
        raise RunFormatError("not valid UTF-8", path) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or "could not parse"
        raise RunFormatError(f"not valid YAML: {problem}", path, line) from None
    if not isinstance(doc, dict):
        raise RunFormatError("expected a YAML mapping with at least 'format' and 'run_id'", path)
    if doc.get("format") != RUN_FORMAT:
        raise RunFormatError(
            f"field 'format' must be '{RUN_FORMAT}', got {doc.get('format')!r}", path
        )
    try:
        manifest = RunManifest.model_validate(doc)
    except ValidationError as exc:
        raise RunFormatError(_validation_message(exc), path) from None
    for i, deployment in enumerate(manifest.deployments):
        if deployment.step > MAX_STEP:
            raise RunFormatError(
                f"field 'deployments.{i}.step' is out of range (at most 2**63-1)", path
            )
    return manifest


def sample_files(run_dir: Path) -> list[Path]:
    folder = run_dir / "samples"
    if not folder.is_dir():
        raise RunFormatError("no samples/ folder", run_dir)
    named = sorted(p for p in folder.rglob("*") if p.name.endswith(SAMPLE_SUFFIXES))
    for path in named:  # a FIFO would block the ingest for ever, /dev/zero never ends
        if path.exists() and not path.is_dir() and not path.is_file():
            check_regular(path, "sample file")
    files = [p for p in named if p.is_file()]
    if not files:
        raise RunFormatError("no sample files (*.jsonl, *.jsonl.gz, *.parquet)", folder)
    return files


class NativeReader:
    """Reads a folder with `run.yaml`, `samples/`, optional `metrics.jsonl` and `configs/`."""

    #: The format name, set by its framework (`rootcause.store.builtin_frameworks`).
    name: str
    #: JSON has no NaN and the format says numbers; an exporter writes null for no value.
    nan_means_missing: frozenset[str] = frozenset()
    appendable = True

    def detect(self, path: Path) -> bool:
        return path.is_dir() and (path / MANIFEST).is_file()

    def describe(self, path: Path) -> RunSource:
        manifest = read_manifest(path)
        files = [path / MANIFEST, *sample_files(path)]
        metrics = path / "metrics.jsonl"
        if metrics.is_file():
            files.append(metrics)
        config_repo: Path | None = None
        if manifest.config_repo:
            config_repo = Path(manifest.config_repo)
            if not config_repo.is_absolute():
                config_repo = path / config_repo
        elif (path / "configs" / ".git").exists():
            config_repo = path / "configs"
        return RunSource(
            format=self.name,
            root=path,
            run_id=manifest.run_id,
            title=manifest.title,
            files=files,
            config_repo=config_repo,
            deployments=manifest.deployments,
            metrics_file=metrics if metrics.is_file() else None,
        )

    def load(self, source: RunSource, ctx: LoadContext) -> None:
        """Load the sample files in order: consecutive Parquet files together (read as one
        relation where their columns agree), JSON lines chunk by chunk; then the metrics."""
        from rootcause.store.parquet_batch import load_parquet_files

        parquet: list[tuple[Path, str]] = []  # consecutive Parquet files not loaded yet
        for path in source.files:
            shown = str(path.relative_to(source.root))
            if path == source.metrics_file or path == source.root / MANIFEST:
                continue
            if path.suffix == ".parquet":
                parquet.append((path, shown))
                continue
            load_parquet_files(ctx, parquet, NATIVE_MAPPING)
            parquet = []
            load_json_lines(path, shown, ctx, NATIVE_MAPPING)
        load_parquet_files(ctx, parquet, NATIVE_MAPPING)
        ctx.flush()
        if source.metrics_file is not None:
            ctx.metrics = read_metrics(source.metrics_file, source.root, ctx)


def load_json_lines(
    path: Path,
    shown: str,
    ctx: LoadContext,
    mapping: TableMapping,
    to_record: Callable[[Any], Any] | None = None,
) -> None:
    """Load a JSON-lines file chunk by chunk: Arrow's parser where the chunk is clean,
    the validating line-by-line reader (exact errors, `--skip-bad-lines`) where it is not.

    `mapping` describes the Arrow columns for the fast path; `to_record` turns one parsed
    line into a native sample record for the line-by-line path (identity by default).
    """
    try:
        _load_chunks(path, shown, ctx, mapping, to_record)
    except UnreadableFileError as exc:  # a truncated .jsonl.gz: skipped from the break on
        ctx.bad_file(shown, exc.detail)


def _load_chunks(
    path: Path,
    shown: str,
    ctx: LoadContext,
    mapping: TableMapping,
    to_record: Callable[[Any], Any] | None,
) -> None:
    from rootcause.store.tables import TableLoader

    loader = TableLoader(ctx)
    ctx.place = (shown, None)
    for first_line, chunk in iter_line_chunks(path, shown):
        ctx.flush()
        before = ctx.builder.rows
        if loader.load_json_chunk(chunk, first_line, shown, mapping):
            ctx.loaded(ctx.builder.rows - before)
        else:
            _load_lines(chunk, first_line, shown, ctx, to_record)
        # The chunk goes before the next is read, and its rows move on before then too:
        # one chunk's bytes and staged rows in memory at a time.
        del chunk
        ctx.flush()


def _load_lines(
    chunk: bytes,
    first_line: int,
    shown: str,
    ctx: LoadContext,
    to_record: Callable[[Any], Any] | None,
) -> None:
    """The validating line-by-line reader over one chunk (exact errors, skipped lines)."""
    for line, raw in split_lines(first_line, chunk):
        try:
            record = parse_line(raw)
        except ValueError as exc:
            ctx.bad_line(shown, line, str(exc))
            continue
        ctx.add_record(record if to_record is None else to_record(record), shown, line)


def read_metrics(path: Path, root: Path, ctx: LoadContext) -> pa.Table:
    """`metrics.jsonl`: one `{"step": int, "name": str, "value": float}` per line."""
    import pyarrow as pa

    from rootcause.store.records import non_finite_name

    shown = str(path.relative_to(root))
    ctx.place = (shown, None)
    steps: list[int] = []
    names: list[str] = []
    values: list[float | None] = []
    for line, raw in iter_json_lines(path, shown):
        ctx.place = (shown, line)
        try:
            obj = parse_line(raw)
            if not isinstance(obj, dict):
                raise ValueError("expected a JSON object")
            step, name, value = obj.get("step"), obj.get("name"), obj.get("value")
            if type(step) is not int or not 0 <= step <= MAX_STEP:
                raise ValueError("field 'step' must be a non-negative integer below 2**63")
            if not isinstance(name, str):
                raise ValueError("field 'name' must be a string")
            if value is not None and type(value) not in (int, float):
                raise ValueError("field 'value' must be a number")
            if value is not None and not math.isfinite(value):
                got = non_finite_name(value)
                raise ValueError(f"field 'value' must be a finite number, got {got}")
        except (ValueError, OverflowError) as exc:
            ctx.bad_line(shown, line, str(exc))
            continue
        steps.append(step)
        names.append(name)
        values.append(None if value is None else float(value))
    return pa.table(
        {
            "step": pa.array(steps, pa.int64()),
            "name": names,
            "value": pa.array(values, pa.float64()),
        }
    )
