"""The SQL sandbox holds its time limit and builds no value over its cap (issue 24, item 4)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import duckdb
import pytest

from rootcause.tools.sandbox import SqlError, SqlSandbox


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SqlSandbox]:
    path = tmp_path_factory.mktemp("sql") / "run.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE samples AS SELECT range AS step FROM range(3)")
    con.close()
    box = SqlSandbox(path, max_value_chars=1000)
    yield box
    box.close()


@pytest.mark.parametrize(
    "query",
    [
        "SELECT sum(length(repeat('x', 1000000000))) FROM range(4)",
        "SELECT repeat('x', 2000000000)",
        "SELECT lpad('a', (step + 1) * 2000000000, 'b') FROM samples",  # a count from a column
        "SELECT 'ab'.rpad(5000, 'c')",
        "SELECT system.main.repeat('x', 5)",  # the checking macro cannot be passed by
        "SELECT printf('%2000000000d', 1)",
        "SELECT range(10000000000)",
        # Doubling with ||: each step is under the cap until one is not.
        "WITH RECURSIVE t(s, i) AS (SELECT repeat('x', 1000), 0 UNION ALL "
        "SELECT s || s, i + 1 FROM t WHERE i < 40) SELECT max(length(s)) FROM t",
        "SELECT length(x || x) FROM (SELECT y || y AS x FROM (SELECT repeat('ab', 500) AS y))",
        "SELECT system.main.concat(repeat('x', 900), repeat('y', 900))",
        "SELECT length(string_agg(repeat('x', 900), '')) FROM samples",
        # An aggregate used as a window builds its value too.
        "SELECT length(string_agg(repeat('x', 900), '') OVER ()) FROM samples",
        "SELECT length(listagg(repeat('x', 900), '') OVER (ORDER BY step)) FROM samples",
    ],
)
def test_a_value_over_the_cap_is_refused_before_it_is_built(
    sandbox: SqlSandbox, query: str
) -> None:
    started = time.monotonic()
    with pytest.raises(SqlError) as info:
        sandbox.query(query, max_rows=5, timeout_s=30)
    # Refused, not interrupted: building the value would take seconds and gigabytes.
    assert "time limit" not in str(info.value) and "\n" not in str(info.value)
    assert time.monotonic() - started < 5


def test_values_under_the_cap_and_streamed_ranges_still_run(sandbox: SqlSandbox) -> None:
    query = "SELECT repeat('ab', 3), lpad('a', 3, 'b'), count(*) FROM range(2000000)"
    assert sandbox.query(query, max_rows=5, timeout_s=30).rows == [["ababab", "bba", 2000000]]


def test_the_time_limit_interrupts_a_long_query(sandbox: SqlSandbox) -> None:
    with pytest.raises(SqlError, match=r"stopped after 0\.2 s \(time limit\)"):
        sandbox.query("SELECT count(*) FROM range(1000000000000)", max_rows=5, timeout_s=0.2)
    assert sandbox.query("SELECT 1", max_rows=5, timeout_s=5).rows == [[1]]


def test_concatenations_under_the_cap_run_and_keep_their_column_names(
    sandbox: SqlSandbox,
) -> None:
    result = sandbox.query(
        "SELECT 'a' || step, concat('b', step) AS c, string_agg(step::VARCHAR, ',') AS all_steps, "
        "[1] || [2] AS pair FROM samples GROUP BY step ORDER BY step",
        max_rows=5,
        timeout_s=30,
    )
    assert result.columns == ["('a' || step)", "c", "all_steps", "pair"]
    assert result.rows[0] == ["a0", "b0", "0", "[1, 2]"]


def test_a_window_aggregate_under_the_cap_runs_and_keeps_its_column_name(
    sandbox: SqlSandbox,
) -> None:
    query = "SELECT string_agg(step::VARCHAR, ',') OVER (ORDER BY step), step FROM samples"
    result = sandbox.query(query, max_rows=5, timeout_s=30)
    assert result.columns == ["string_agg(step::VARCHAR, ',') OVER (ORDER BY step)", "step"]
    assert [row[0] for row in result.rows] == ["0", "0,1", "0,1,2"]
