"""Every bad input gets one clear line naming what is wrong, exit 2, and no traceback."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from tests.conftest import write_jsonl


def _run(tmp_path: Path, lines: list[str] | bytes, manifest: str | None = None) -> Path:
    run = tmp_path / "run"
    (run / "samples").mkdir(parents=True)
    (run / "run.yaml").write_text(manifest or "format: rootcause-run/1\nrun_id: r\n")
    data = lines if isinstance(lines, bytes) else "".join(line + "\n" for line in lines).encode()
    (run / "samples" / "a.jsonl").write_bytes(data)
    return run


GOOD = json.dumps({"step": 0, "completion": "fine"})


def _assert_one_line_error(result, *needles: str) -> None:
    assert result.code == 2, (result.code, result.err)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert "Traceback" not in result.err
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_malformed_line_names_file_and_line(cli, tmp_path: Path) -> None:
    run = _run(tmp_path, [GOOD, '{"step": 1, "completion": '])
    _assert_one_line_error(cli("ingest", str(run)), "samples/a.jsonl:2:", "invalid JSON")


def test_debug_shows_traceback(tmp_path: Path) -> None:
    import subprocess
    import sys

    run = _run(tmp_path, [GOOD, "{nope"])
    args = [sys.executable, "-m", "rootcause", "--workspace", str(tmp_path / "ws"), "ingest"]
    plain = subprocess.run([*args, str(run)], capture_output=True, text=True)
    assert plain.returncode == 2 and "Traceback" not in plain.stderr
    debug = subprocess.run([*args, str(run), "--debug"], capture_output=True, text=True)
    assert debug.returncode != 0 and "Traceback" in debug.stderr
    assert "RunFormatError" in debug.stderr


def test_skip_bad_lines_reports_count_and_places(cli, tmp_path: Path) -> None:
    run = _run(tmp_path, [GOOD, "{bad", GOOD, '{"step": "x", "completion": "c"}', GOOD])
    result = cli("ingest", str(run), "--skip-bad-lines", "--json")
    assert result.code == 0, result.err
    assert result.json()["samples"] == 3
    assert result.json()["skipped_lines"] == 2
    assert "skipped 2 bad lines: samples/a.jsonl:2, samples/a.jsonl:4" in result.err


@pytest.mark.parametrize(
    ("row", "needles"),
    [
        ({"completion": "no step"}, ["samples/a.jsonl:1:", "missing required field 'step'"]),
        ({"step": 3}, ["samples/a.jsonl:1:", "missing required field 'completion'"]),
        ({"step": "3", "completion": "c"}, ["'step' must be an integer, got string"]),
        ({"step": -1, "completion": "c"}, ["'step' must be >= 0"]),
        ({"step": 1, "completion": 5}, ["'completion' must be a string, got integer"]),
        ({"step": 1, "completion": "c", "rewards": [1]}, ["'rewards' must be an object"]),
        (
            {"step": 1, "completion": "c", "rewards": {"rm": "hi"}},
            ["'rewards.rm' must be a number"],
        ),
        ({"step": 1, "completion": "c", "persona": 3}, ["'persona' must be a string"]),
        ({"step": 1, "completion": "c", "grader_inputs": {"rm": 1}}, ["'grader_inputs.rm'"]),
        ([1, 2], ["expected a JSON object, got array"]),
    ],
)
def test_missing_fields_and_wrong_types(
    cli, tmp_path: Path, row: object, needles: list[str]
) -> None:
    run = _run(tmp_path, [json.dumps(row)])
    _assert_one_line_error(cli("ingest", str(run)), *needles)


def test_non_utf8_bytes(cli, tmp_path: Path) -> None:
    run = _run(tmp_path, GOOD.encode() + b"\n" + b'{"step": 1, "completion": "caf\xe9"}\n')
    _assert_one_line_error(cli("ingest", str(run)), "samples/a.jsonl:2:", "not valid UTF-8")


def test_corrupt_gzip(cli, tmp_path: Path) -> None:
    run = _run(tmp_path, [GOOD])
    (run / "samples" / "b.jsonl.gz").write_bytes(gzip.compress(b"x" * 100)[:30])
    _assert_one_line_error(cli("ingest", str(run)), "samples/b.jsonl.gz")


def test_empty_samples_folder(cli, tmp_path: Path) -> None:
    run = _run(tmp_path, [GOOD])
    (run / "samples" / "a.jsonl").unlink()
    _assert_one_line_error(cli("ingest", str(run)), "samples", "no sample files")


def test_samples_that_are_all_blank(cli, tmp_path: Path) -> None:
    run = _run(tmp_path, ["", "  "])
    _assert_one_line_error(cli("ingest", str(run)), "has no samples")


def test_folder_that_is_not_a_run(cli, tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "cat.txt").write_text("meow")
    _assert_one_line_error(cli("overview", str(folder)), "photos", "not a run")


def test_missing_path(cli, tmp_path: Path) -> None:
    _assert_one_line_error(cli("overview", str(tmp_path / "nowhere")), "no such file")


def test_run_yaml_not_yaml(cli, tmp_path: Path) -> None:
    run = _run(tmp_path, [GOOD], manifest="format: rootcause-run/1\nrun_id: [unclosed\n")
    _assert_one_line_error(cli("ingest", str(run)), "run.yaml:", "not valid YAML")


@pytest.mark.parametrize(
    ("manifest", "needle"),
    [
        ("run_id: r\n", "'format' must be 'rootcause-run/1'"),
        ("format: rootcause-run/1\n", "field 'run_id'"),
        (
            "format: rootcause-run/1\nrun_id: r\ndeployments: [{step: x, commit: abcdef1}]\n",
            "field 'deployments.0.step'",
        ),
        ("- just\n- a list\n", "expected a YAML mapping"),
    ],
)
def test_run_yaml_with_bad_fields(cli, tmp_path: Path, manifest: str, needle: str) -> None:
    run = _run(tmp_path, [GOOD], manifest=manifest)
    _assert_one_line_error(cli("ingest", str(run)), "run.yaml", needle)


def test_config_repo_not_git(cli, tmp_path: Path) -> None:
    run = _run(tmp_path, [GOOD], manifest="format: rootcause-run/1\nrun_id: r\nconfig_repo: cfg\n")
    (run / "cfg").mkdir()
    (run / "cfg" / "reward.yaml").write_text("weight: 1\n")
    _assert_one_line_error(cli("ingest", str(run)), "config_repo", "is not a git repository")


def test_deployment_with_unknown_commit(cli, native_run: Path) -> None:
    manifest = (native_run / "run.yaml").read_text()
    (native_run / "run.yaml").write_text(
        manifest.replace("step: 2", "step: 3\n  commit: deadbee\n- step: 2", 1)
    )
    result = cli("ingest", str(native_run))
    _assert_one_line_error(result, "deployments[1].commit", "'deadbee' is not a commit")


def test_unknown_format(cli, native_run: Path) -> None:
    _assert_one_line_error(
        cli("ingest", str(native_run), "--format", "csv"), "unknown format 'csv'"
    )


def test_workspace_inside_the_run_is_refused(cli, native_run: Path) -> None:
    result = cli("ingest", str(native_run), workspace=native_run / ".rootcause")
    _assert_one_line_error(result, "lies inside", "--workspace")
    assert not (native_run / ".rootcause").exists()


def test_failed_ingest_leaves_nothing_trusted(cli, native_run: Path, tmp_path: Path) -> None:
    good = cli("ingest", str(native_run), "--json")
    assert good.code == 0
    database = Path(good.json()["database"])
    write_jsonl(native_run / "samples" / "c.jsonl", [{"step": 9, "completion": "ok"}, {"step": 9}])
    failed = cli("ingest", str(native_run))
    assert failed.code == 2 and "samples/c.jsonl:2:" in failed.err
    assert [p.name for p in database.parent.iterdir()] == ["run.duckdb"]
    # The old database does not match the changed inputs, so it is not reused.
    again = cli("ingest", str(native_run))
    assert again.code == 2


def test_parquet_with_wrong_step_type(cli, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    run = _run(tmp_path, [GOOD])
    (run / "samples" / "a.jsonl").unlink()
    table = pa.table({"step": ["1", "2"], "completion": ["a", "b"]})
    pq.write_table(table, run / "samples" / "p.parquet")
    _assert_one_line_error(
        cli("ingest", str(run)), "samples/p.parquet", "'step' must be an integer"
    )


def test_parquet_with_null_completion(cli, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    run = _run(tmp_path, [GOOD])
    (run / "samples" / "a.jsonl").unlink()
    pq.write_table(
        pa.table({"step": [1, 2], "completion": ["a", None]}), run / "samples" / "p.parquet"
    )
    _assert_one_line_error(cli("ingest", str(run)), "samples/p.parquet", "row 2")


def test_not_parquet(cli, tmp_path: Path) -> None:
    run = _run(tmp_path, [GOOD])
    (run / "samples" / "p.parquet").write_bytes(b"PAR1 not really")
    _assert_one_line_error(cli("ingest", str(run)), "samples/p.parquet", "not a readable Parquet")


def test_usage_errors_exit_2(cli, native_run: Path) -> None:
    unknown_option = cli("overview", str(native_run), "--bogus")
    assert unknown_option.code == 2 and "No such option: --bogus" in unknown_option.err
    unknown_command = cli("nosuchcmd")
    assert unknown_command.code == 2 and "No such command" in unknown_command.err
