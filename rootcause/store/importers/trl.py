"""TRL GRPO completion logs: `completions/completions_{step:05d}.parquet` (README, "Foreign logs").

`GRPOTrainer.log` (trl/trainer/grpo_trainer.py, with `log_completions=True`) writes, at every
logging step, a pandas frame `{step, prompt, completion, **rewards, **extra, advantage}` of its
`_logs` buffers: deques as long as one generation batch, so each file holds the last batch
generated before that step (`rewards`: one column per reward function, NaN where it returned
None; `extra`: the `log_extra` columns reward functions added; `advantage`: as trained on).
What the files do not say, and how it is read here (each decision is a note):

- Groups: each prompt's `num_generations` completions are consecutive rows, so groups are
  blocks of G rows per file: G is the overlay's `group_size`, else `num_generations` where the
  run logged it (W&B's `config.yaml` under the output folder; `trainer_state.json` does not
  hold it), else found from the rows (see `rootcause.store.blocks`).
- Conversational runs log prompt and completion as lists of messages: rendered as text
  (`trl_messages`).
- Repeats: the buffer is written again at each logging step until the next generation
  (`num_iterations > 1`, logging more often than generating): blocks equal to one of the
  previous file are left out.
- Eval: TRL writes eval completions under the train file's name; such a file's rows fall out
  of the block pattern, are grouped by prompt, and the files are named in a note.
- Components: the reward functions are the `rewards/<name>/mean` metrics of
  `trainer_state.json` when the output folder has one; without it every numeric column is one
  (numeric `log_extra` columns included: the weight fit flags them). String columns named like
  a label (persona, data_source or dataset, env, split) fill it; others stay in extras.
- Weights and total: TRL trains on the weighted sum (`reward_weights`) and logs no total; the
  weights come from the config repo or overlay, else are fitted from the logged advantage
  (`rootcause.store.weights`).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import orjson

from rootcause.core.errors import RunFormatError
from rootcause.store.blocks import block_hashes, detect_blocks, repeated_blocks
from rootcause.store.importers import numbered_files, shown_path
from rootcause.store.importers.run_config import configured_generations
from rootcause.store.importers.trl_messages import render_message_columns
from rootcause.store.overlay import RunOverlay
from rootcause.store.parquet_scan import StepFile, positioned, scan_parquet
from rootcause.store.source import LoadContext, RunSource
from rootcause.store.table_mapping import TableMapping
from rootcause.store.table_sql import TEXT_TYPES, is_number_type, quote
from rootcause.store.tables import TableLoader

logger = logging.getLogger(__name__)

COMPLETIONS_DIR = "completions"
FILE_PATTERN = re.compile(r"^completions_(\d+)\.parquet$")
STATE_FILE = "trainer_state.json"
_REWARD_METRIC = re.compile(r"^(?:eval_)?rewards/(.+)/mean$")
#: Columns with a canonical meaning.
_FIELDS = {"step": "step", "prompt": "prompt", "completion": "completion", "advantage": "advantage"}
#: String columns that fill a label, by the label's names for them.
LABEL_COLUMNS = {
    "persona": ("persona", "personality"),
    "data_source": ("data_source", "dataset", "source"),
    "env": ("env", "environment"),
    "split": ("split",),
}
#: An in-memory database beside the run's, attached to the ingest's connection (shared by the
#: writer's, unlike temp tables): the files are scanned and grouped there, outside the writer's
#: transaction (a file that fails to scan must not abort it), and loaded from there into the
#: final tables by the writer.
SCRATCH = "rc_scratch"
RAW, GROUPED, GROUPED_FILES = f"{SCRATCH}.trl_raw", f"{SCRATCH}.trl_grouped", f"{SCRATCH}.trl_files"
ROWS, GROUP = "trl_rows", "_rc_group"


def _locate(path: Path) -> tuple[Path, Path] | None:
    """(run root, completions folder) for a TRL output folder or its `completions/` folder."""
    if not path.is_dir():
        return None
    sub = path / COMPLETIONS_DIR
    if sub.is_dir() and any(FILE_PATTERN.match(p.name) for p in sub.iterdir()):
        return path, sub
    if any(FILE_PATTERN.match(p.name) for p in path.iterdir()):
        # Pointed at `completions/` itself: the run is the trainer's output folder above it.
        return (path.parent if path.name == COMPLETIONS_DIR else path), path
    return None


def _state_file(root: Path) -> Path | None:
    """The newest `trainer_state.json`: the output folder's, else the latest checkpoint's."""
    if (root / STATE_FILE).is_file():
        return root / STATE_FILE
    found = [
        (int(m.group(1)), p / STATE_FILE)
        for p in root.glob("checkpoint-*")
        if (m := re.match(r"checkpoint-(\d+)$", p.name)) and (p / STATE_FILE).is_file()
    ]
    return max(found)[1] if found else None


def reward_names(state: Path | None) -> list[str] | None:
    """Reward function names from the `rewards/<name>/mean` metrics TRL logs each step."""
    if state is None:
        return None
    try:
        doc = orjson.loads(state.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    history = doc.get("log_history") if isinstance(doc, dict) else None
    names: dict[str, None] = {}
    for entry in history if isinstance(history, list) else []:
        for key in entry if isinstance(entry, dict) else ():
            match = _REWARD_METRIC.match(str(key))
            if match:
                names[match.group(1)] = None
    return list(names) or None


def trl_mapping(
    columns: dict[str, str],
    rewards: list[str] | None,
    notes: list[str],
    overlay: RunOverlay | None = None,
) -> TableMapping:
    """Map the scanned columns: fixed ones by name, reward functions, label columns (except
    labels and columns the overlay's labels take care of)."""
    numeric = [c for c, t in columns.items() if c not in _FIELDS and is_number_type(t)]
    if rewards is not None:
        components = [c for c in numeric if c in rewards]
        others = [c for c in numeric if c not in rewards]
        notes.append(f"reward functions named in {STATE_FILE}: {', '.join(rewards)}")
        if others:
            notes.append(
                f"numeric columns that are not reward functions (log_extra values), kept as "
                f"extras: {', '.join(others)}"
            )
    else:
        components = numeric
        if numeric:
            notes.append(
                f"no {STATE_FILE} beside the completions: every numeric column is read as a "
                f"reward function ({', '.join(numeric)}); leave a log_extra number out with "
                "the overlay's components.exclude"
            )
    fields = dict(_FIELDS)
    texts = [c for c, t in columns.items() if c not in _FIELDS and t.startswith(TEXT_TYPES)]
    rules = (overlay.labels if overlay else None) or {}
    taken = {r.column for r in rules.values() if r.source == "column"}
    for label, names in LABEL_COLUMNS.items():
        if label in rules:
            continue
        column = next((n for n in names if n in texts and n not in taken), None)
        if column is not None:
            fields[label] = column
            notes.append(f"{label} taken from the log_extra column {column!r}")
    rest = [c for c in texts if c not in fields.values() and c != GROUP]
    if rest:
        notes.append(
            f"text columns kept as extras: {', '.join(rest)} (the overlay's labels can take "
            "one as persona, data_source, env or split)"
        )
    if GROUP in columns:
        fields["group_id"] = GROUP
    return TableMapping(fields=fields, reward_columns={c: c for c in components})


class TrlReader:
    """Reads a TRL GRPO output folder (or its `completions/` folder)."""

    #: The format name, set by its framework (`rootcause.store.builtin_frameworks`).
    name: str
    #: A reward function returns None for samples it does not score, which TRL logs as NaN;
    #: the advantage is computed by TRL itself, so NaN there is a fault.
    nan_means_missing = frozenset({"rewards"})
    appendable = True

    def detect(self, path: Path) -> bool:
        return _locate(path) is not None

    def describe(self, path: Path) -> RunSource:
        located = _locate(path)
        if located is None:
            raise RunFormatError(
                "not a TRL run: no completions/completions_<step>.parquet files", path
            )
        root, folder = located
        files = numbered_files(folder.iterdir(), FILE_PATTERN)
        return RunSource(
            format=self.name,
            root=root,
            run_id=root.name,
            files=files,
            facts={
                "reward_functions": reward_names(_state_file(root)),
                "num_generations": configured_generations(root),
            },
        )

    def load(self, source: RunSource, ctx: LoadContext) -> None:
        ctx.flush()
        prior = ctx.prior_state or {}
        offset = int(prior.get("files", 0))
        folder = shown_path(source.files[0].parent, source.root) + "/"
        step_files = [
            StepFile(p, shown_path(p, source.root), offset + i) for i, p in enumerate(source.files)
        ]
        ctx.state["files"] = offset + len(step_files)
        con = ctx.builder.con
        con.execute(f"ATTACH IF NOT EXISTS ':memory:' AS {SCRATCH}")
        if not scan_parquet(ctx, step_files, RAW, folder, con):
            return
        ctx.notes += render_message_columns(con, RAW)
        columns = _columns(con, RAW)
        _group_view(con, None, [])  # no groups, unless blocks are found
        if "prompt" in columns and columns["prompt"].startswith(TEXT_TYPES):
            ctx.notes += group_blocks(ctx, con, columns, source.facts.get("num_generations"))
        names = source.facts.get("reward_functions")
        mapping = trl_mapping(_columns(con, GROUPED), names, ctx.notes, ctx.overlay)
        # The step files load whole or stop the ingest: their rows go straight into the final
        # tables (written once), in the writer's transaction, begun after the scan.
        loader = TableLoader(ctx)
        loader.write_final_tables()
        positioned(loader.con, GROUPED, ROWS)
        rows = loader.load_relation(ROWS, folder, mapping)
        loader.con.execute(f"DROP VIEW {ROWS}")
        con.execute(f"DROP VIEW {GROUPED}")
        con.execute(f"DROP TABLE {RAW}")
        con.execute(f"DROP TABLE {GROUPED_FILES}")
        logger.debug("loaded %d rows from %d files", rows, len(step_files))
        ctx.loaded(rows)


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> dict[str, str]:
    rows = con.execute(f"DESCRIBE {relation}").fetchall()
    internal = {"_file", "_row", "_index", "_order"}
    return {str(n): str(t) for n, t, *_ in rows if n not in internal}


def group_blocks(
    ctx: LoadContext,
    con: duckdb.DuckDBPyConnection,
    columns: dict[str, str],
    configured: list[Any] | None = None,
) -> list[str]:
    """Give the scanned rows group ids from consecutive blocks and leave repeated blocks out;
    returns the notes that say so. The block size is the overlay's `group_size`, else the
    `configured` (num_generations, file) the run logged, else found from the rows. `con`
    holds the scanned rows."""
    has_advantage = "advantage" in columns and is_number_type(columns["advantage"])
    adv_sql = "CAST(advantage AS DOUBLE)" if has_advantage else "NULL::DOUBLE"
    data = con.execute(
        f"SELECT _index, hash(prompt) AS p, {adv_sql} AS a FROM {RAW} ORDER BY _order"
    ).fetchnumpy()
    files = np.asarray(data["_index"], dtype=np.int64)
    prompts = np.asarray(data["p"], dtype=np.uint64).view(np.int64)
    adv: np.ndarray = np.ma.filled(np.ma.asarray(data["a"], dtype=float), np.nan)
    advantages = adv if has_advantage and np.isfinite(adv).all() else None
    prior = ctx.prior_state or {}
    logged = int(configured[0]) if configured and ctx.overlay.group_size is None else None
    given = ctx.overlay.group_size or prior.get("group_size") or logged
    grouping = detect_blocks(files, prompts, advantages, given)
    if ctx.overlay.group_size is None and prior.get("group_size") is not None:
        grouping.method = "stored"
    elif logged is not None and configured:
        grouping.method = f"num_generations={logged} in {configured[1]}"
    if grouping.size is None:
        return ["no blocks of rows with one prompt each: grouped by (step, prompt)"]
    size = grouping.size
    ctx.state["group_size"] = size
    _group_view(con, size, sorted(grouping.regular))
    notes: list[str] = []
    if grouping.method != "stored":  # an append: the full ingest's note says how
        how = {
            "given": "the overlay's group_size",
            "advantage": "found from the rows: each block holds one prompt and its advantages "
            "sum to 0",
            "prompt": "found from the rows: each block holds one prompt (the advantages do not "
            "tell)",
        }.get(grouping.method, grouping.method)
        notes.append(f"groups: blocks of {size} consecutive rows per file ({how})")
    if grouping.irregular:
        shown = _file_names(con, grouping.irregular[:3])
        more = f" and {len(grouping.irregular) - 3} more" if len(grouping.irregular) > 3 else ""
        notes.append(
            f"{len(grouping.irregular)} files are not in blocks of {size} ({shown}{more}): TRL "
            "writes eval completions under the train file's name; their rows are grouped by "
            "(step, prompt)"
        )
    notes += _drop_repeats(ctx, con, columns, size)
    return notes


def _group_view(con: duckdb.DuckDBPyConnection, size: int | None, regular: list[int]) -> None:
    """`GROUPED`: the scanned rows with a group id, blocks of `size` consecutive rows of each
    file in `regular` (the files in such blocks; none: no group). A view, not a new column of
    `RAW`: an UPDATE of every row held them all in memory and failed at a million samples."""
    con.execute(
        f"CREATE OR REPLACE TABLE {GROUPED_FILES} AS SELECT unnest(?::BIGINT[]) AS _index",
        [regular],
    )
    con.execute(
        f"CREATE OR REPLACE VIEW {GROUPED} AS SELECT *, CASE WHEN _index IN "
        f"(SELECT _index FROM {GROUPED_FILES}) THEN {_group_of(size or 1)} END AS {GROUP} "
        f"FROM {RAW}"
    )


def _group_of(size: int) -> str:
    """SQL of a row's group: its file and its block of `size` rows there."""
    return f"_file || '#' || ((_row - 1) // {int(size)})"


def _file_names(con: duckdb.DuckDBPyConnection, indexes: list[int]) -> str:
    rows = con.execute(
        "SELECT _file FROM scan_files WHERE _index IN (SELECT unnest(?::BIGINT[])) ORDER BY _index",
        [indexes],
    ).fetchall()
    return ", ".join(str(r[0]) for r in rows)


def _drop_repeats(
    ctx: LoadContext, con: duckdb.DuckDBPyConnection, columns: dict[str, str], size: int
) -> list[str]:
    """Leave out blocks equal to a block of the previous file (a batch written again)."""
    content = ", ".join(quote(c) for c in columns if c not in ("step", GROUP))
    data = con.execute(  # a block is (file, block number): no group strings to sort
        f"SELECT _index, (_row - 1) // {int(size)} AS b, hash({content}) AS h FROM {RAW} "
        f"WHERE _index IN (SELECT _index FROM {GROUPED_FILES}) ORDER BY _order"
    ).fetchnumpy()
    if len(data["b"]) == 0:
        ctx.state["last_blocks"] = None
        return []
    hashes = block_hashes(np.asarray(data["h"], dtype=np.uint64), size)
    block_files = np.asarray(data["_index"], dtype=np.int64)[::size]
    prior = ctx.prior_state or {}
    previous = None
    if prior.get("last_blocks") is not None:
        previous = {int(prior["last_file"]): {int(h, 16) for h in prior["last_blocks"]}}
    repeated = repeated_blocks(block_files, hashes, previous)
    last = int(block_files.max())
    ctx.state["last_file"] = last
    ctx.state["last_blocks"] = [f"{int(h):x}" for h in hashes[block_files == last]]
    if not repeated.any():
        return []
    dropped = int(repeated.sum())
    con.execute(
        "CREATE OR REPLACE TEMP TABLE trl_repeats AS SELECT unnest(?::BIGINT[]) AS _index, "
        "unnest(?::BIGINT[]) AS b",
        [block_files[repeated].tolist(), np.asarray(data["b"])[::size][repeated].tolist()],
    )
    con.execute(
        f"DELETE FROM {RAW} AS r USING trl_repeats d WHERE r._index = d._index "
        f"AND (r._row - 1) // {int(size)} = d.b"
    )
    con.execute("DROP TABLE trl_repeats")
    files = {int(f) for f in block_files[repeated]}
    whole = sum(1 for f in files if repeated[block_files == f].all())
    return [
        f"{dropped:,} groups ({dropped * size:,} rows) repeat a group of the file before "
        f"them and were left out ({whole} of {len(files)} files repeat it whole): TRL writes its "
        "last generation batch at every logging step until it generates again"
    ]
