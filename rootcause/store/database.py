"""Build a run's DuckDB file next to its final place and swap it in only when complete.

Rows stream in: readers stage each chunk in small temporary tables, which are moved into the
final tables after every chunk (see `STAGING`), under a cap on DuckDB's memory that spills to
a folder beside the temporary database, so an ingest's memory does not grow with the run.
A half-finished ingest leaves at most a `*.tmp-<pid>` file (and its `.wal`, and DuckDB's
`.tmp` spill folder) that nothing reads, so later commands never trust a partial workspace;
the next ingest of the run removes those of processes that are gone (`remove_dead_leftovers`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import orjson

from rootcause.core.disk import (
    DiskFullError,
    is_disk_full,
    remove_dead_temps,
    remove_path,
    remove_unused_folder,
)
from rootcause.core.run import DeploymentInfo
from rootcause.store.derive import derive_samples
from rootcause.store.schema import OTHER_DDL, SAMPLES_DDL, SCHEMA_VERSION
from rootcause.store.sql import fetch_one, quiet, read_deployments

if TYPE_CHECKING:
    import pyarrow as pa

#: Readers write rows into small temporary tables (no write-ahead log, and a chunk that
#: fails is rolled back on its own). After each chunk a second connection, `writer`, moves
#: them into the final tables within one long transaction, in which DuckDB writes every
#: full row group straight into the database file (rows of `INGEST_ROW_GROUP_ROWS`);
#: `settle` commits it. A source that loads whole or not at all (a Parquet file) skips the
#: staging: its rows go straight into the final tables in that transaction (`final_tables`).
#: Each row is written to the file once; derived values (missing ids, groups, totals) are
#: filled in place by `finish` (`rootcause.store.derive`).
STAGING = "samples_staging"
REWARDS_STAGING = "rewards_staging"
INPUTS_STAGING = "grader_inputs_staging"
#: Rows per Arrow batch when staged rows are moved (streamed, never all at once; a batch of
#: 8,192 long samples is some 20 MB, and a few are in flight).
MOVE_BATCH_ROWS = 2_048
#: DuckDB's own memory during an ingest; past it, DuckDB spills to the run's `.tmp` folder
#: (removed with the temporary database), so an ingest's peak memory does not grow with
#: the run (issue 24). Blocks already written stay cached up to this cap, so at 128 MB
#: memory still grew by some 60 MB from a small run to one of 200,000 long samples. A source
#: whose layout needs more at once (DuckDB reads a Parquet column chunk whole) gets headroom
#: for that while it is read (`memory_headroom`): memory grows with a file's row groups, never
#: with the run.
INGEST_MEMORY_BYTES = 64_000_000
#: Rows per row group of the run database. DuckDB's default (122,880) holds some 300 MB of
#: long samples, which wait in memory (then the spill folder) until it fills and are written
#: again on commit; these fill every few chunks and go straight to the file (issue 24).
INGEST_ROW_GROUP_ROWS = 16_384
_BUILT = "run"  # the name the database being built is attached under

logger = logging.getLogger(__name__)


def _leftovers(tmp_path: Path) -> tuple[Path, Path, Path]:
    """The temporary database, its write-ahead log and DuckDB's spill folder for it."""
    return (
        tmp_path,
        tmp_path.with_name(tmp_path.name + ".wal"),
        tmp_path.with_name(tmp_path.name + ".tmp"),
    )


def remove_dead_leftovers(db_path: Path) -> list[Path]:
    """Delete `<db>.tmp-<pid>` files, their `.wal` files and DuckDB's `.tmp` spill folders
    whose process is gone (a killed ingest); those of live processes, including this one, are
    left alone. DuckDB's default spill folder `<db>.tmp/` goes too when no running process
    has a file open in it. Returns what went."""
    pattern = re.compile(re.escape(db_path.name) + r"\.tmp-(\d+)(?:\.wal|\.tmp)?$")
    removed = remove_dead_temps(db_path.parent, pattern)
    spill = db_path.with_name(db_path.name + ".tmp")  # DuckDB's default, of a query's spill
    if remove_unused_folder(spill):
        removed.append(spill)
    return removed


def new_builder(path: Path, append: bool, needed: Callable[[], int]) -> RunDatabaseBuilder:
    """A builder for `path`; a full disk while copying the stored database for an append is
    one line naming the folder (what was copied is removed). `needed` tells the space the
    run's database needs (called only then)."""
    try:
        return RunDatabaseBuilder(path, append=append)
    except Exception as exc:
        if not is_disk_full(exc):
            raise
        for leftover in _leftovers(path.with_name(f"{path.name}.tmp-{os.getpid()}")):
            remove_path(leftover)
        size = path.stat().st_size if append else needed()
        raise DiskFullError(path.parent, needed_bytes=size) from exc


def _attach(path: Path) -> duckdb.DuckDBPyConnection:
    """A connection whose current database is the file at `path`, attached with row groups
    of `INGEST_ROW_GROUP_ROWS` (a setting of the attachment, not of the file: readers open
    it as usual)."""
    con = quiet(duckdb.connect())
    try:
        con.execute(f"ATTACH ? AS {_BUILT} (ROW_GROUP_SIZE {INGEST_ROW_GROUP_ROWS})", [str(path)])
        con.execute(f"USE {_BUILT}")
    except BaseException:
        con.close()
        raise
    return con


#: (final table, its staging table).
_STAGED = (("samples", STAGING), ("rewards", REWARDS_STAGING), ("grader_inputs", INPUTS_STAGING))


@dataclass(frozen=True)
class LoadTarget:
    """Where a table loader writes rows: a connection and its samples, rewards and grader
    inputs tables (the staging ones, or the final ones within the writer's transaction)."""

    con: duckdb.DuckDBPyConnection
    samples: str
    rewards: str
    inputs: str
    #: Whether rows land in the final tables (nothing to move after).
    final: bool


def _sample_tables(final: bool) -> tuple[str, str, str]:
    """The samples, rewards and grader inputs tables: the final ones or their staging ones."""
    samples, rewards, inputs = (pair[0] if final else pair[1] for pair in _STAGED)
    return samples, rewards, inputs


def _staging_ddl() -> list[str]:
    """The temporary staging tables, shaped like the final ones."""
    samples = SAMPLES_DDL.format(name=STAGING)
    rewards, inputs = OTHER_DDL[0], OTHER_DDL[1]
    return [
        ddl.replace("CREATE TABLE", "CREATE TEMP TABLE")
        for ddl in (
            samples,
            rewards.replace("TABLE rewards", f"TABLE {REWARDS_STAGING}"),
            inputs.replace("TABLE grader_inputs", f"TABLE {INPUTS_STAGING}"),
        )
    ]


#: How the note that sums up the appends to a run begins (one such note is kept).
APPEND_SUMMARY = "appended "


class RunDatabaseBuilder:
    """Writes a run database at `path` through a temporary file."""

    def __init__(self, path: Path, append: bool = False):
        """A new database for `path`, or (`append`) a copy of the one there to add rows to;
        either way the file at `path` is replaced only by `finish`."""
        self.path = path
        self.tmp_path = path.with_name(f"{path.name}.tmp-{os.getpid()}")
        for leftover in _leftovers(self.tmp_path):
            remove_path(leftover)
        self.appending = append
        if append:
            shutil.copyfile(path, self.tmp_path)
        self.con = _attach(self.tmp_path)
        spill = _leftovers(self.tmp_path)[2]
        self._set_memory(INGEST_MEMORY_BYTES)
        self.con.execute("SET temp_directory = ?", [str(spill)])
        if append:
            self.rows = int(fetch_one(self.con, "SELECT count(*) FROM samples")[0])
            #: Rows already in `samples`; everything staged comes after them.
            self.first_new = self.rows
        else:
            for ddl in (SAMPLES_DDL.format(name="samples"), *OTHER_DDL):
                self.con.execute(ddl)
            self.rows = self.first_new = 0
        #: Rows up to here are in the final tables; those after it in the staging ones.
        self.moved = self.rows
        self._writer = self.con.cursor()
        self._writer.execute(f"USE {_BUILT}")
        self._writing = False
        for ddl in _staging_ddl():
            self.con.execute(ddl)

    def _set_memory(self, limit_bytes: int) -> None:
        self.con.execute(f"SET memory_limit = '{limit_bytes // 1000}KB'")

    @contextlib.contextmanager
    def memory_headroom(self, extra_bytes: int) -> Iterator[None]:
        """Raise DuckDB's memory cap by `extra_bytes` while the block runs (what a source's
        layout needs at once, e.g. a Parquet file's row groups), then put it back."""
        self._set_memory(INGEST_MEMORY_BYTES + extra_bytes)
        try:
            yield
        finally:
            self._set_memory(INGEST_MEMORY_BYTES)

    def append(self, samples: pa.Table, rewards: pa.Table, grader_inputs: pa.Table) -> None:
        """Append one batch of canonical rows (see `rootcause.store.schema`)."""
        con = self.con
        con.register("batch_samples", samples)
        con.register("batch_rewards", rewards)
        con.register("batch_inputs", grader_inputs)
        con.execute(f"INSERT INTO {STAGING} SELECT * FROM batch_samples")
        con.execute(f"INSERT INTO {REWARDS_STAGING} SELECT * FROM batch_rewards")
        con.execute(f"INSERT INTO {INPUTS_STAGING} SELECT * FROM batch_inputs")
        for name in ("batch_samples", "batch_rewards", "batch_inputs"):
            con.unregister(name)
        self.rows += samples.num_rows

    def staging(self) -> LoadTarget:
        """The staging tables, for rows that may yet be rolled back chunk by chunk."""
        return LoadTarget(self.con, *_sample_tables(final=False), final=False)

    def final_tables(self) -> LoadTarget:
        """The final tables within the writer's transaction, for a source loaded whole or not
        at all (a Parquet file): its rows are written once, with no move. What is staged is
        moved first, so rows stay in load order. Call outside a transaction of `con`'s."""
        self.move()
        self._begin_writing()
        return LoadTarget(self._writer, *_sample_tables(final=True), final=True)

    def add_loaded(self, target: LoadTarget, rows: int) -> None:
        """Account for `rows` a table loader wrote into `target` (none to move when final)."""
        self.rows += rows
        if target.final:
            self.moved = self.rows

    def _begin_writing(self) -> None:
        if not self._writing:
            self._writer.begin()
            self._writing = True

    def move(self) -> None:
        """Move the staged rows into the final tables, within the writer's transaction.
        Call outside a transaction of `con`'s."""
        if self.rows == self.moved:
            return
        self._begin_writing()
        for final, staged in _STAGED:
            batches = self.con.sql(f"SELECT * FROM {staged}").to_arrow_reader(MOVE_BATCH_ROWS)
            self._writer.register("moving", batches)
            self._writer.execute(f"INSERT INTO {final} SELECT * FROM moving")
            self._writer.unregister("moving")
            self.con.execute(f"DROP TABLE {staged}")  # a DELETE would keep the space
        for ddl in _staging_ddl():
            self.con.execute(ddl)
        self.moved = self.rows

    def settle(self) -> None:
        """Move what is staged and commit: the final tables then hold every row read."""
        self.move()
        if self._writing:
            self._writer.commit()
            self._writing = False

    def finish(
        self,
        run_id: str,
        deployments: list[DeploymentInfo],
        weights: dict[str, dict[str, float]],
        metrics: pa.Table | None,
        info: dict[str, Any],
    ) -> list[str]:
        """Derive missing ids and totals (`derive_samples`), write the side tables, swap the
        file in.

        `weights` maps a deployment commit to the component weights of its config. Returns the
        notes on what was derived, which are also stored in `run_info`.
        """
        self.settle()
        con = self.con
        notes = list(info.get("notes", []))
        if self.appending:
            return self._finish_append(run_id, deployments, weights, notes, info)
        for d in deployments:
            con.execute(
                "INSERT INTO deployments VALUES (?, ?, ?, ?, ?)",
                [d.step, d.commit, d.message, d.author, d.committed_at],
            )
        for commit, components in weights.items():
            for component, weight in components.items():
                con.execute(
                    "INSERT INTO config_weights VALUES (?, ?, ?)", [commit, component, weight]
                )
        if metrics is not None and metrics.num_rows:
            con.register("batch_metrics", metrics)
            con.execute("INSERT INTO metrics SELECT step, name, value FROM batch_metrics")
            con.unregister("batch_metrics")
        notes += derive_samples(con, run_id, self.first_new, self.rows, deployments, weights)
        info = {**info, "notes": notes, "schema_version": SCHEMA_VERSION, "samples": self.rows}
        for key, value in info.items():
            con.execute("INSERT INTO run_info VALUES (?, ?)", [key, orjson.dumps(value).decode()])
        con.execute(f"CHECKPOINT {_BUILT}")
        self._writer.close()
        con.close()
        os.replace(self.tmp_path, self.path)
        return notes

    def _finish_append(
        self,
        run_id: str,
        deployments: list[DeploymentInfo],
        weights: dict[str, dict[str, float]],
        notes: list[str],
        info: dict[str, Any],
    ) -> list[str]:
        """Derive the staged rows with the stored weights, update `run_info`, swap in.

        The stored notes stay (they describe the rules the run is read by); the earlier
        append's summary gives way to this one's, and new notes are added once."""
        con = self.con
        stored = {str(k): orjson.loads(v) for k, v in con.execute(
            "SELECT key, value FROM run_info").fetchall()}  # fmt: skip
        added = self.rows - self.first_new
        derive_samples(con, run_id, self.first_new, self.rows, deployments, weights)
        kept = [n for n in stored.get("notes", []) if not n.startswith(APPEND_SUMMARY)]
        notes = list(dict.fromkeys([*kept, *notes]))
        info = {**info, "notes": notes}
        info["skipped_lines"] = [*stored.get("skipped_lines", []), *info.get("skipped_lines", [])]
        for key, value in info.items():
            con.execute(
                "INSERT OR REPLACE INTO run_info VALUES (?, ?)", [key, orjson.dumps(value).decode()]
            )
        con.execute(f"CHECKPOINT {_BUILT}")
        self._writer.close()
        con.close()
        os.replace(self.tmp_path, self.path)
        logger.info("appended %d samples to %s", added, self.path)
        return notes

    def stored_deployments(self) -> list[DeploymentInfo]:
        """The deployments of the database being appended to."""
        return read_deployments(self.con)

    def stored_weights(self) -> dict[str, dict[str, float]]:
        """The weights per deployed commit of the database being appended to."""
        weights: dict[str, dict[str, float]] = {}
        rows = self.con.execute("SELECT commit, component, weight FROM config_weights").fetchall()
        for commit, component, weight in rows:
            weights.setdefault(str(commit), {})[str(component)] = float(weight)
        return weights

    def abort(self) -> None:
        """Close and delete the temporary file; the previous database (if any) stays."""
        with contextlib.suppress(Exception):
            self._writer.close()
        with contextlib.suppress(Exception):
            self.con.close()
        for leftover in _leftovers(self.tmp_path):
            remove_path(leftover)
