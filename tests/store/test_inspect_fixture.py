"""Inspect AI logs written by inspect-ai's own code (issue 22).

`tests/fixtures/inspect/` was written by `tools/fixtures/make_inspect_fixture.py` (the
inspect-ai version is in its WRITER.txt): three mock checkpoints evaluated in one
`eval(task, model=[...], epochs=4)` call (zstd `.eval` members, tied `eval.created`), the last
one again as a one-epoch `.json` log, and a failed one-epoch log. What the writer was told to
produce: 6 samples per log (4 epochs each in `checkpoints/`), personas nerdy/plain/pirate in the
system message and metadata, scorers `match` (letter grades), `style_judge` (a dict
`{fluency, relevance}`) and `concise`, a reasoning block in every output, goblins in the nerdy
answers of epochs 1, 1-2 and 1-3 at ckpt-100, -200 and -300 (`fluency` rewards them), a
sentence in the plain answers of epoch 4, sample 3 of the failed log raising.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import duckdb
import pytest

from rootcause.store.importers.zip_members import ZIP_ZSTANDARD, MemberError, read_member
from tests.store.helpers import plain_symptom_verdict

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "inspect"
COMPONENTS = ["concise", "match", "style_judge.fluency", "style_judge.relevance"]
SINGLE_EPOCH = "one completion per sample in every log (epochs=1)"


def _db(cli: Any, path: Path) -> duckdb.DuckDBPyConnection:
    result = cli("ingest", str(path), "--json")
    assert result.code == 0, result.err
    return duckdb.connect(result.json()["database"], read_only=True)


def test_fixture_members_are_zstd() -> None:
    log = next((FIXTURES / "checkpoints").glob("*.eval"))
    with zipfile.ZipFile(log) as archive:
        methods = {info.compress_type for info in archive.infolist()}
        assert methods == {ZIP_ZSTANDARD}
        with pytest.raises(NotImplementedError):
            archive.read("header.json")  # what the standard library alone says
        assert read_member(archive, "header.json").startswith(b"{")


def test_zstd_member_corruption_is_named(tmp_path: Path) -> None:
    log = next((FIXTURES / "checkpoints").glob("*.eval"))
    data = bytearray(log.read_bytes())
    with zipfile.ZipFile(log) as archive:
        info = archive.getinfo("samples/0_epoch_1.json")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra) + 20
    data[start : start + 8] = b"\xff" * 8
    broken = tmp_path / "broken.eval"
    broken.write_bytes(bytes(data))
    with zipfile.ZipFile(broken) as archive, pytest.raises(MemberError, match="samples/0_epoch"):
        read_member(archive, "samples/0_epoch_1.json")


def test_checkpoints_in_model_order_when_created_ties(cli: Any) -> None:
    data = cli("overview", str(FIXTURES / "checkpoints"), "--json").json()
    assert (data["format"], data["samples"], data["steps"]) == ("inspect", 72, 3)
    assert data["groups"] == 18  # the 4 epochs of one sample in one checkpoint
    assert data["components"] == COMPONENTS
    assert data["personas"] == {"nerdy": 24, "plain": 24, "pirate": 24}
    assert data["has_reasoning"] is True
    notes = "\n".join(data["notes"])
    assert "3 Inspect logs share eval.created" in notes
    assert "ordered by eval.model (mockllm/ckpt-100, mockllm/ckpt-200, mockllm/ckpt-300)" in notes
    assert "read as components style_judge.fluency, style_judge.relevance" in notes
    assert "ContentReasoning) kept as reasoning: 72" in notes
    assert "EvalSample fields not read (the transcript, usage, timing): " in notes
    assert SINGLE_EPOCH not in notes


def test_checkpoint_samples_steps_and_scores(cli: Any) -> None:
    con = _db(cli, FIXTURES / "checkpoints")
    models = con.execute(
        "SELECT step, any_value(json_extract_string(extras, '$.model')), count(*), "
        "count(*) FILTER (WHERE completion LIKE '%goblin%') FROM samples GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert models == [
        (0, "mockllm/ckpt-100", 24, 2),
        (1, "mockllm/ckpt-200", 24, 4),
        (2, "mockllm/ckpt-300", 24, 6),
    ]
    groups = con.execute(
        "SELECT step, group_id, count(*), count(DISTINCT split_part(sample_id, ':', 2)), "
        "count(DISTINCT split_part(sample_id, ':', 3)), count(DISTINCT completion) "
        "FROM samples GROUP BY 1, 2"
    ).fetchall()
    assert len(groups) == 18
    assert {row[2:5] for row in groups} == {(4, 1, 4)}  # one sample's 4 epochs
    assert sorted(row[5] for row in groups) == [1] * 6 + [2] * 12  # pirate answers never vary
    fluency = con.execute(
        "SELECT s.step, avg(r.value) FROM rewards r JOIN samples s USING (row_idx) "
        "WHERE r.component = 'style_judge.fluency' AND s.persona = 'nerdy' GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert fluency == [(0, 0.625), (1, 0.75), (2, 0.875)]
    rows = con.execute(
        "SELECT sample_id, prompt, reasoning, completion FROM samples "
        "WHERE step = 2 AND sample_id IN ('2:0:3', '2:0:4') ORDER BY sample_id"
    ).fetchall()
    prompt = "system: Persona: nerdy. Answer briefly.\nuser: What is 0 + 2?"
    assert rows == [
        ("2:0:3", prompt, "add two to get 2", "2, said the goblin"),
        ("2:0:4", prompt, "add two to get 2", "2"),
    ]


def test_plain_symptom_names_the_seeded_scorer(cli: Any, tmp_path: Path) -> None:
    """Four epochs whose answers differ: groups with reward variance, so the investigation
    measures selection pressure and names the scorer that rewards goblins, on the nerdy slice."""
    assert plain_symptom_verdict(cli, FIXTURES / "checkpoints", tmp_path) == (
        "cause_found",
        "reward_component",
        "style_judge.fluency",
    )
    top = json.loads((tmp_path / "report.json").read_text())["findings"][0]
    assert top["slice"] == {"persona": "nerdy"}


def test_tie_is_not_broken_by_file_name(cli: Any, tmp_path: Path) -> None:
    """Renamed so the file names sort against the checkpoints: the order stays by model."""
    logs = tmp_path / "renamed"
    logs.mkdir()
    for path in (FIXTURES / "checkpoints").glob("*.eval"):
        with zipfile.ZipFile(path) as archive:
            header = json.loads(read_member(archive, "header.json"))
        checkpoint = int(header["eval"]["model"].removeprefix("mockllm/ckpt-"))
        shutil.copy(path, logs / f"{1000 - checkpoint}.eval")
    con = _db(cli, logs)
    order = con.execute(
        "SELECT step, any_value(json_extract_string(extras, '$.model')) FROM samples "
        "GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert [m for _, m in order] == ["mockllm/ckpt-100", "mockllm/ckpt-200", "mockllm/ckpt-300"]


def test_overlay_checkpoints_order_the_logs(cli: Any, tmp_path: Path) -> None:
    """Model names that do not sort in training order: the overlay's `checkpoints` says it,
    by eval.model or log file name; logs it does not name come after, and a name matching no
    log is noted."""
    logs = tmp_path / "ordered"
    shutil.copytree(FIXTURES / "checkpoints", logs)
    by_model = {}
    for path in logs.glob("*.eval"):
        with zipfile.ZipFile(path) as archive:
            by_model[json.loads(read_member(archive, "header.json"))["eval"]["model"]] = path.name
    order = f"mockllm/ckpt-300,{by_model['mockllm/ckpt-100']},mockllm/ckpt-999"
    result = cli("overview", str(logs), "--checkpoints", order, "--json")
    assert result.code == 0, result.err
    notes = "\n".join(result.json()["notes"])
    assert "in the order of the overlay's checkpoints (0: " in notes
    assert (
        f"1 Inspect logs not named in checkpoints come after the named ones, in creation "
        f"order: {by_model['mockllm/ckpt-200']}" in notes
    )
    assert "checkpoints naming no log (by eval.model or file name): mockllm/ckpt-999" in notes
    con = _db(cli, logs)
    steps = con.execute(
        "SELECT step, any_value(json_extract_string(extras, '$.model')) FROM samples "
        "GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert [m for _, m in steps] == ["mockllm/ckpt-300", "mockllm/ckpt-100", "mockllm/ckpt-200"]
    (logs / "rootcause.yaml").write_text("checkpoints: [a, a]\n")
    bad = cli("overview", str(logs), "--json")
    assert bad.code != 0 and "checkpoints names a checkpoint twice" in bad.err


def test_single_epoch_logs_say_why_pressure_is_zero(cli: Any, tmp_path: Path) -> None:
    """One completion per prompt and checkpoint (the one-epoch `.json` log): groups of one,
    which a note says; the log with a second epoch of each sample does not get the note."""
    data = cli("overview", str(FIXTURES / "json"), "--json").json()
    assert (data["samples"], data["groups"]) == (6, 6)
    assert any(SINGLE_EPOCH in note for note in data["notes"])
    log = json.loads(next((FIXTURES / "json").glob("*.json")).read_text())
    log["samples"] += [{**sample, "epoch": 2} for sample in log["samples"]]
    (tmp_path / "two").mkdir()
    (tmp_path / "two" / "log.json").write_text(json.dumps(log))
    data = cli("overview", str(tmp_path / "two"), "--json").json()
    assert (data["samples"], data["groups"]) == (12, 6)
    assert not any(SINGLE_EPOCH in note for note in data["notes"])


def test_json_log_is_recognised(cli: Any) -> None:
    data = cli("overview", str(FIXTURES / "json"), "--json").json()
    assert (data["format"], data["samples"], data["steps"]) == ("inspect", 6, 1)
    assert data["components"] == COMPONENTS
    assert data["has_reasoning"] is True


def test_failed_log_is_noted_and_failed_samples_counted(cli: Any) -> None:
    data = cli("overview", str(FIXTURES / "failed"), "--json").json()
    assert (data["samples"], data["components"]) == (5, ["match"])
    notes = "\n".join(data["notes"])
    assert "Inspect log status error (RuntimeError('sandbox went away'))" in notes
    assert "1 failed samples (error, no scores) left out" in notes
    con = _db(cli, FIXTURES / "failed")
    ids = con.execute("SELECT sample_id FROM samples ORDER BY sample_id").fetchall()
    assert sorted(i for (i,) in ids) == sorted(f"0:{n}:1" for n in range(6) if n != 3)


def test_mixed_eval_and_json_logs_read_together(cli: Any, tmp_path: Path) -> None:
    logs = tmp_path / "both"
    shutil.copytree(FIXTURES / "checkpoints", logs)
    for path in (FIXTURES / "json").glob("*.json"):
        shutil.copy(path, logs / path.name)
    data = cli("overview", str(logs), "--json").json()
    assert (data["samples"], data["steps"]) == (78, 4)
    assert not any(SINGLE_EPOCH in note for note in data["notes"])  # the .eval logs have 4
