"""The SQL sandbox: any number of calls per process, one statement per call, no way out to
files, extensions or looser limits, and results bounded however large a query's answer is."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from rootcause.core.errors import BadInputError
from rootcause.tools.context import EvidenceLog, ToolContext
from rootcause.tools.registry import call_tool
from rootcause.tools.sandbox import SqlError, SqlSandbox
from tests.tools.hostile import hostile_context


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ToolContext]:
    with hostile_context(tmp_path_factory.mktemp("sandbox")) as context:
        yield context


def test_sql_runs_any_number_of_times_in_one_context(ctx: ToolContext) -> None:
    counts = [call_tool(ctx, "sql", {"query": "SELECT count(*) AS n FROM samples"}) for _ in "abc"]
    assert [r.output.rows for r in counts] == [[[24]]] * 3
    # The run's own read-only connection still works beside the sandbox.
    assert ctx.con.execute("SELECT count(*) FROM samples").fetchall() == [(24,)]


def test_sql_runs_again_after_a_context_is_closed(tmp_path: Path) -> None:
    for _ in range(2):
        with hostile_context(tmp_path) as context:
            result = call_tool(context, "sql", {"query": "SELECT 1 AS one"})
            assert result.output.rows == [[1]]


ESCAPES = [
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_parquet('/tmp/x.parquet')",
    "SELECT * FROM read_text('/etc/passwd')",
    "SELECT * FROM glob('/etc/*')",
    "COPY samples TO '/tmp/leak.csv'",
    "EXPORT DATABASE '/tmp/leak'",
    "ATTACH '/tmp/other.duckdb' AS other",
    "ATTACH ':memory:' AS scratch",
    "DETACH run",
    "USE memory",
    "INSTALL httpfs",
    "LOAD httpfs",
    "SET enable_external_access = true",
    "SET memory_limit = '100GB'",
    "RESET memory_limit",
    "SET threads = 64",
    "PRAGMA memory_limit = '100GB'",
    "CALL pragma_version()",
    "SELECT 1; SELECT 2",
    "SELECT 1; DETACH run",
    "DELETE FROM samples",
    "INSERT INTO samples (step) VALUES (1)",
    "CREATE TABLE t AS SELECT 1",
    "CREATE TEMP TABLE t AS SELECT 1",
    "CREATE VIEW v AS SELECT 1",
    "CREATE MACRO m() AS 1",
    "BEGIN TRANSACTION",
    "CHECKPOINT",
    "EXPLAIN SELECT 1",
    "SELECT * FROM query('DETACH run')",
    "",
    "-- only a comment",
]


@pytest.mark.parametrize("query", ESCAPES)
def test_sandbox_refuses_every_escape(ctx: ToolContext, query: str) -> None:
    with pytest.raises(SqlError) as info:
        call_tool(ctx, "sql", {"query": query})
    message = str(info.value)
    assert message.startswith("tool sql: SQL error") and "\n" not in message
    # Nothing changed: the run is still there and the limits are as set.
    check = call_tool(
        ctx,
        "sql",
        {
            "query": "SELECT count(*), current_setting('memory_limit'), "
            "current_setting('enable_external_access') FROM samples"
        },
    )
    (row,) = check.output.rows
    assert row[0] == 24 and row[2] is False
    assert row[1] == _fresh_memory_limit(ctx)


def _fresh_memory_limit(ctx: ToolContext) -> str:
    sandbox = SqlSandbox(ctx.db_path)
    try:
        result = sandbox.query("SELECT current_setting('memory_limit')", max_rows=1, timeout_s=5)
    finally:
        sandbox.close()
    value = result.rows[0][0]
    assert isinstance(value, str) and value.endswith("iB")
    return value


def test_one_statement_with_a_trailing_semicolon_or_comment_runs(ctx: ToolContext) -> None:
    for query in ("SELECT 7 AS n;", "SELECT 7 AS n -- seven", "  SELECT 7 AS n ;  "):
        assert call_tool(ctx, "sql", {"query": query}).output.rows == [[7]]


def test_query_order_and_row_cap_are_kept(ctx: ToolContext) -> None:
    result = call_tool(
        ctx,
        "sql",
        {"query": "SELECT step, sample_id FROM samples ORDER BY step DESC, 2", "max_rows": 5},
    )
    out = result.output
    assert [r[0] for r in out.rows] == [3] * 5 and out.truncated
    assert [r[1] for r in out.rows] == sorted(r[1] for r in out.rows)
    assert "more rows exist" in result.text.splitlines()[1]


def test_a_huge_cell_is_cut_in_the_database_and_stays_a_small_record(
    tmp_path: Path, ctx: ToolContext
) -> None:
    log = EvidenceLog(tmp_path / "evidence.jsonl")
    big = ToolContext(ctx.store, tmp_path / "work", log, make_plots=False)
    with big:
        result = call_tool(big, "sql", {"query": "SELECT repeat('y', 100000) AS y, 2 AS two"})
        out = result.output
        assert len(out.rows[0][0]) <= 2000 and out.rows[0][1] == 2
        assert [(c.row, c.column, c.length) for c in out.cut_cells] == [(0, 0, 100_000)]
        assert "+99,800 chars cut" in result.text and len(result.text) < 7000
        after = call_tool(big, "sql", {"query": "SELECT 1 AS one"})
        assert after.output.rows == [[1]]
    size = (tmp_path / "evidence.jsonl").stat().st_size
    assert size < 4000, size
    record = json.loads((tmp_path / "evidence.jsonl").read_text().splitlines()[0])
    assert record["figures"]["y"] == "y" * 200 + "… [+99,800 chars cut]"


def test_many_wide_rows_are_bounded(ctx: ToolContext) -> None:
    columns = ", ".join(f"repeat('z', 5000) AS c{i}" for i in range(80))
    result = call_tool(
        ctx, "sql", {"query": f"SELECT {columns} FROM range(1000)", "max_rows": 1000}
    )
    out = result.output
    assert len(out.columns) == 50 and out.hidden_columns == 30
    fetched = sum(len(v) for row in out.rows for v in row)
    assert fetched <= 1_100_000 and out.truncated
    assert len(result.text) < 7000


def test_a_huge_query_text_is_refused_as_bad_input(ctx: ToolContext) -> None:
    with pytest.raises(BadInputError, match="query"):
        call_tool(ctx, "sql", {"query": "SELECT 1 " + " " * 30000})


def test_memory_hungry_query_is_stopped_by_the_memory_limit(
    ctx: ToolContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    # Each value is under the value cap (a doubling with || is refused by the cap instead);
    # holding them all to count the distinct ones needs gigabytes.
    hungry = (
        "SELECT count(DISTINCT s) FROM (SELECT repeat('y', 90000) || range AS s FROM range(200000))"
    )
    with pytest.raises(SqlError) as info:
        call_tool(ctx, "sql", {"query": hungry})
    message = str(info.value)
    assert "memory limit" in message and "\n" not in message
    assert not list(tmp_path.iterdir())  # nothing spilled to the working directory
    assert call_tool(ctx, "sql", {"query": "SELECT 1 AS one"}).output.rows == [[1]]


def test_time_limit_stops_a_query_and_the_sandbox_goes_on(ctx: ToolContext) -> None:
    slow = "SELECT count(*) FROM range(100000000000) a WHERE hash(a.range) = 0"
    with pytest.raises(SqlError, match="time limit"):
        call_tool(ctx, "sql", {"query": slow, "timeout_s": 0.2})
    assert call_tool(ctx, "sql", {"query": "SELECT 2 AS two"}).output.rows == [[2]]


def test_sql_error_details_are_quoted_data(ctx: ToolContext) -> None:
    with pytest.raises(SqlError) as info:
        call_tool(ctx, "sql", {"query": "SELECT CAST(completion AS INTEGER) FROM samples"})
    message = str(info.value)
    assert "\n" not in message and "\x1b" not in message and "⟦" in message
