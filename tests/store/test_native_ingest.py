"""Native runs: ingest, overview, reuse, derived fields."""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb

from tests.conftest import make_config_repo, sample_rows, write_jsonl


def test_overview_json_contract(cli, native_run: Path) -> None:
    result = cli("overview", str(native_run), "--json")
    assert result.code == 0, result.err
    data = result.json()
    assert data["run_id"] == "nerdy-v3"
    assert data["samples"] == 24
    assert (data["first_step"], data["last_step"]) == (0, 3)
    assert data["personas"] == {"nerdy": 12, "plain": 12}
    assert data["data_sources"] == {"chat_mix": 12, "math_v2": 12}
    assert data["envs"] == {"chat": 24}
    assert data["components"] == ["helpfulness_rm", "nerdy_style"]
    assert [d["step"] for d in data["deployments"]] == [0, 2]
    assert data["deployments"][0]["message"] == "add helpfulness rm"
    assert len(data["deployments"][0]["commit"]) == 40
    assert data["deployments"][1]["message"] == "tune nerdy style weight"
    assert data["metrics"] == ["kl"]


def test_overview_text(cli, native_run: Path) -> None:
    result = cli("overview", str(native_run))
    assert result.code == 0, result.err
    assert "nerdy-v3" in result.out
    assert "tune nerdy style weight" in result.out
    assert "helpfulness_rm" in result.out


def test_lineage_and_extras_are_kept(cli, native_run: Path, tmp_path: Path) -> None:
    result = cli("ingest", str(native_run), "--json")
    db = result.json()["database"]
    con = duckdb.connect(db, read_only=True)
    rows = con.execute(
        "SELECT source_file, source_row, extras, meta FROM samples ORDER BY row_idx"
    ).fetchall()
    assert rows[0][:2] == ("samples/a.jsonl", 1)
    assert rows[12][:2] == ("samples/b.jsonl.gz", 1)
    assert json.loads(rows[0][2]) == {"custom_key": {"kept": True}}
    assert json.loads(rows[0][3]) == {"temperature": 1.0}
    inputs = con.execute("SELECT count(*) FROM grader_inputs").fetchone()
    assert inputs == (24,)


def test_reuse_when_unchanged_and_reingest_when_changed(cli, native_run: Path) -> None:
    first = cli("ingest", str(native_run), "--json").json()
    assert first["reused"] is False
    second = cli("ingest", str(native_run), "--json").json()
    assert second["reused"] is True
    path = native_run / "samples" / "a.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    write_jsonl(path, rows[:6])
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    third = cli("ingest", str(native_run), "--json").json()
    assert third["reused"] is False
    assert third["samples"] == 18


def test_run_folder_and_config_repo_untouched(cli, native_run: Path) -> None:
    def snapshot() -> dict[str, tuple[int, int]]:
        return {
            str(p): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(native_run.rglob("*"))
            if p.is_file()
        }

    before = snapshot()
    assert cli("overview", str(native_run), "--json").code == 0
    assert snapshot() == before


def test_missing_optional_fields_are_derived(cli, tmp_path: Path) -> None:
    run = tmp_path / "bare"
    shas = make_config_repo(run / "configs")
    (run / "run.yaml").write_text(
        "format: rootcause-run/1\nrun_id: bare\ndeployments:\n"
        f"  - {{step: 0, commit: {shas[0]}}}\n  - {{step: 2, commit: {shas[1]}}}\n"
    )
    rows = [
        {
            "step": r["step"],
            "prompt": r["prompt"],
            "completion": r["completion"],
            "rewards": r["rewards"],
        }
        for r in sample_rows()
    ]
    write_jsonl(run / "samples" / "x.jsonl", rows)
    result = cli("ingest", str(run), "--json")
    assert result.code == 0, result.err
    notes = " ".join(result.json()["notes"])
    assert "group_id missing in 24 samples" in notes
    assert "sample_id missing" in notes
    assert "weighted sum" in notes
    con = duckdb.connect(result.json()["database"], read_only=True)
    groups = con.execute("SELECT count(DISTINCT group_id) FROM samples").fetchone()
    assert groups == (8,)  # 4 steps x 2 prompts
    # Step 3 is under the second commit, where nerdy_style weighs 0.5.
    total = con.execute(
        "SELECT reward_total FROM samples WHERE step = 3 ORDER BY row_idx LIMIT 1"
    ).fetchone()
    assert total is not None and abs(total[0] - (0.5 + 0.5 * 0.9)) < 1e-9
    ids = con.execute("SELECT count(DISTINCT sample_id) FROM samples").fetchone()
    assert ids == (24,)


def test_parquet_samples(cli, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    run = tmp_path / "pq"
    (run / "samples").mkdir(parents=True)
    (run / "run.yaml").write_text("format: rootcause-run/1\nrun_id: pq\n")
    rows = sample_rows()
    for r in rows:
        r.pop("custom_key")
    pq.write_table(pa.Table.from_pylist(rows), run / "samples" / "part-0.parquet")
    result = cli("overview", str(run), "--json")
    assert result.code == 0, result.err
    data = result.json()
    assert data["samples"] == 24
    assert data["components"] == ["helpfulness_rm", "nerdy_style"]
    assert data["graders_with_inputs"] == ["helpfulness_rm"]


def test_chunked_jsonl_mixes_fast_and_exact_paths(cli, tmp_path: Path, monkeypatch) -> None:
    """Clean chunks take the Arrow path, dirty ones the line reader; rows stay dense."""
    import rootcause.store.jsonl as jsonl
    from rootcause.store.tables import TableLoader

    monkeypatch.setattr(jsonl, "CHUNK_BYTES", 600)
    outcomes: list[bool] = []
    fast = TableLoader.load_json_chunk

    def counting(self: TableLoader, *args: object) -> bool:
        outcomes.append(fast(self, *args))  # type: ignore[arg-type]
        return outcomes[-1]

    monkeypatch.setattr(TableLoader, "load_json_chunk", counting)
    run = tmp_path / "chunked"
    (run / "samples").mkdir(parents=True)
    (run / "run.yaml").write_text("format: rootcause-run/1\nrun_id: chunked\n")
    lines = [json.dumps(r) for r in sample_rows(steps=6)]
    lines.insert(20, "")  # a blank line: that chunk must use exact line numbers
    lines.insert(30, "{broken")
    (run / "samples" / "a.jsonl").write_text("\n".join(lines) + "\n")
    result = cli("ingest", str(run), "--skip-bad-lines", "--json")
    assert result.code == 0, result.err
    assert result.json()["samples"] == 36
    assert "samples/a.jsonl:31" in result.err
    con = duckdb.connect(result.json()["database"], read_only=True)
    rows = con.execute(
        "SELECT row_idx, source_row, sample_id FROM samples ORDER BY row_idx"
    ).fetchall()
    assert [r[0] for r in rows] == list(range(36))
    expected_lines = [i + 1 for i, line in enumerate(lines) if line and line != "{broken"]
    assert [r[1] for r in rows] == expected_lines
    ids = [json.loads(lines[n - 1])["sample_id"] for n in expected_lines]
    assert [r[2] for r in rows] == ids
    rewards = con.execute("SELECT count(*), count(DISTINCT row_idx) FROM rewards").fetchone()
    assert rewards == (72, 36)
    assert True in outcomes and False in outcomes


def test_config_weights_of_each_deployed_commit(cli, native_run: Path) -> None:
    database = cli("ingest", str(native_run), "--json").json()["database"]
    con = duckdb.connect(database, read_only=True)
    rows = con.execute(
        "SELECT d.step, w.component, w.weight FROM deployments d JOIN config_weights w "
        "USING (commit) ORDER BY 1, 2"
    ).fetchall()
    assert rows == [
        (0, "helpfulness_rm", 1.0),
        (0, "nerdy_style", 1.0),
        (2, "helpfulness_rm", 1.0),
        (2, "nerdy_style", 0.5),
    ]
