"""Careless paths: outputs aimed into the run, runs inside the workspace, options that must
stick, and leftovers of killed ingests. Every refusal is one line, exit 2, run untouched."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import make_config_repo, sample_rows, write_jsonl
from tests.store.helpers import assert_one_line, tree_digest

SYMPTOM = "the model keeps mentioning goblins"


def _investigations(workspace: Path) -> list[Path]:
    folder = workspace / "investigations"
    return [p for p in folder.iterdir() if p.is_dir()] if folder.is_dir() else []


# --- outputs never land in the run or its config repo ------------------------------------


def test_markdown_onto_the_run_manifest_is_refused(
    cli: Any, native_run: Path, tmp_path: Path
) -> None:
    before = tree_digest(native_run)
    result = cli(
        "investigate",
        str(native_run),
        "--symptom",
        SYMPTOM,
        "--markdown",
        str(native_run / "run.yaml"),
    )
    assert_one_line(result, 2, "--markdown", "run.yaml", "only reads")
    assert tree_digest(native_run) == before
    assert _investigations(tmp_path / "ws") == []  # refused before the investigation ran


def test_json_into_an_outside_config_repo_is_refused(cli: Any, tmp_path: Path) -> None:
    repo = tmp_path / "configs-elsewhere"
    shas = make_config_repo(repo)
    run = tmp_path / "run"
    manifest = {
        "format": "rootcause-run/1",
        "run_id": "r",
        "config_repo": str(repo),
        "deployments": [{"step": 0, "commit": shas[0]}],
    }
    (run / "samples").mkdir(parents=True)
    (run / "run.yaml").write_text(yaml.safe_dump(manifest))
    write_jsonl(run / "samples" / "a.jsonl", sample_rows())
    before = tree_digest(repo), tree_digest(run)
    result = cli(
        "investigate",
        str(run),
        "--symptom",
        SYMPTOM,
        "--json",
        str(repo / "rewards" / "report.json"),
    )
    assert_one_line(result, 2, "--json", "configs-elsewhere", "only reads")
    assert (tree_digest(repo), tree_digest(run)) == before


def test_eval_outputs_inside_the_eval_cache_are_refused(cli: Any, tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    suite = Path(__file__).parents[1] / "evaluation" / "tiny.yaml"
    for option in ("--out", "--json", "--markdown"):
        target = workspace / "eval-cache" / "abc" / "run" / "out"
        result = cli("eval", "--suite", str(suite), option, str(target))
        assert_one_line(result, 2, option, "eval-cache", "only reads")
    assert not (workspace / "eval-cache").exists()


def test_run_folders_inside_the_workspace_are_refused(cli: Any, native_run: Path) -> None:
    workspace = native_run.parent / "ws"
    for area in ("runs", "investigations"):
        inside = workspace / area
        shutil.copytree(native_run, inside)
        before = tree_digest(inside)
        result = cli("ingest", str(inside), workspace=workspace)
        assert_one_line(result, 2, "lies inside the workspace", "--workspace")
        assert tree_digest(inside) == before
        assert not list(inside.rglob("*.duckdb*"))
        shutil.rmtree(inside)


# --- options that change what is read stick to the run ---------------------------------


def _run_with_bad_line(tmp_path: Path) -> Path:
    run = tmp_path / "run"
    (run / "samples").mkdir(parents=True)
    (run / "run.yaml").write_text("format: rootcause-run/1\nrun_id: sticky\n")
    lines = [json.dumps(r) for r in sample_rows()]
    lines.insert(3, '{"step": 1, "completion": ')
    (run / "samples" / "a.jsonl").write_text("".join(line + "\n" for line in lines))
    return run


def test_skip_bad_lines_sticks_for_overview_and_tool(cli: Any, tmp_path: Path) -> None:
    run = _run_with_bad_line(tmp_path)
    before = tree_digest(run)
    assert_one_line(cli("overview", str(run)), 2, "samples/a.jsonl:4:")
    assert cli("ingest", str(run), "--skip-bad-lines").code == 0
    overview = cli("overview", str(run), "--json")
    assert overview.code == 0, overview.err
    assert overview.json()["samples"] == 24
    assert "skipped 1 bad lines: samples/a.jsonl:4" in overview.err
    tool = cli("tool", "prevalence", str(run), "--behavior", "terms:goblin", "--no-plot")
    assert tool.code == 0, tool.err
    assert_one_line(cli("ingest", str(run), "--no-skip-bad-lines"), 2, "samples/a.jsonl:4:")
    assert tree_digest(run) == before


def test_investigate_takes_and_keeps_skip_bad_lines(cli: Any, tmp_path: Path) -> None:
    run = _run_with_bad_line(tmp_path)
    first = cli("investigate", str(run), "--symptom", SYMPTOM, "--skip-bad-lines")
    assert first.code == 0, first.err
    again = cli("investigate", str(run), "--symptom", SYMPTOM)
    assert again.code == 0, again.err
    assert len(_investigations(tmp_path / "ws")) == 2


def test_library_ingest_reuses_the_stored_options(tmp_path: Path) -> None:
    """The eval prepares and investigates runs through `ingest_run` with no options."""
    from rootcause.store.ingest import IngestOptions, ingest_run
    from rootcause.store.workspace import Workspace

    run = _run_with_bad_line(tmp_path)
    workspace = Workspace(tmp_path / "ws")
    first = ingest_run(run, workspace, options=IngestOptions(skip_bad_lines=True))
    again = ingest_run(run, workspace)
    assert (first.reused, again.reused) == (False, True)
    assert again.options.skip_bad_lines is True and len(again.skipped) == 1


# --- leftovers of killed ingests, links out of the run ------------------------------------


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_next_ingest_removes_temp_files_of_dead_ingests(cli: Any, native_run: Path) -> None:
    database = Path(cli("ingest", str(native_run), "--json").json()["database"])
    dead, live = _dead_pid(), os.getppid()
    leftovers = [
        database.with_name(f"run.duckdb.tmp-{dead}"),
        database.with_name(f"run.duckdb.tmp-{dead}.wal"),
        database.with_name(f"run.duckdb.tmp-{dead + 100000}.wal"),  # a .wal alone
    ]
    in_use = database.with_name(f"run.duckdb.tmp-{live}")
    for path in [*leftovers, in_use]:
        path.write_bytes(b"\0" * 64)
    again = cli("ingest", str(native_run), "--json")
    assert again.code == 0, again.err
    assert not any(p.exists() for p in leftovers)
    assert in_use.exists()  # its process is alive: maybe an ingest still running


def test_sample_file_linked_from_outside_is_read_with_a_note(cli: Any, tmp_path: Path) -> None:
    run = _run_with_bad_line(tmp_path)
    (run / "samples" / "a.jsonl").unlink()
    outside = write_jsonl(tmp_path / "elsewhere" / "shared.jsonl", sample_rows())
    (run / "samples" / "b.jsonl").symlink_to(outside)
    before = tree_digest(run)
    result = cli("ingest", str(run), "--json")
    assert result.code == 0, result.err
    assert result.json()["samples"] == 24
    note = next(n for n in result.json()["notes"] if "symlink" in n)
    assert "samples/b.jsonl" in note and str(outside) in note and "outside the run" in note
    overview = cli("overview", str(run))
    assert "samples/b.jsonl" in overview.out and "outside the run" in overview.out
    assert tree_digest(run) == before
