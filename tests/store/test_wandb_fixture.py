"""W&B tables written by wandb's own code through TRL's `GRPOTrainer` (issue 22).

`tests/fixtures/wandb/` was written by `tools/fixtures/make_wandb_fixture.py` (versions in its
WRITER.txt): wandb offline, `report_to="wandb"`, `log_completions=True`, 6 steps of 4 prompts x
`num_generations=4` with `num_iterations=2`, reward functions `goblin_reward` (goblins pay for
the nerdy persona) and `length_penalty` with `reward_weights=[1.0, 0.5]`; the persona is in the
system message (`conversational/`, prompts and completions logged as messages) or the prompt
text (`plain/`). TRL generates at steps 1, 3 and 5, logs each batch again at the next step, and
logs the last one once more when training ends: 7 table files of 16 rows, 3 batches.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import duckdb
import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "wandb"
PERSONA = {
    "conversational": r"^system: Persona: (\w+) \.",
    "plain": r"^Persona: (\w+) \.",
}
#: The W&B steps of the files that first log each generation batch (TRL steps 1, 3, 5).
FIRST_LOGS = (9, 24, 39)


def _run(name: str) -> Path:
    (run,) = (FIXTURES / name).glob("offline-run-*")
    return run


def _tables(run: Path) -> dict[int, dict[str, Any]]:
    """The tables wandb wrote, by the W&B step in their file name."""
    return {
        int(path.name.split("_")[1]): json.loads(path.read_text())
        for path in (run / "files" / "media" / "table").glob("completions_*.table.json")
    }


def _logged_personas(run: Path) -> dict[str, int]:
    """Persona counts over the generated batches as wandb holds them (TRL's sampler draws)."""
    counts: dict[str, int] = {}
    for wandb_step in FIRST_LOGS:
        for row in _tables(run)[wandb_step]["data"]:
            prompt = row[1]
            text = prompt[0]["content"] if isinstance(prompt, list) else prompt
            persona = "nerdy" if "nerdy" in text else "plain"
            counts[persona] = counts.get(persona, 0) + 1
    assert sum(counts.values()) == 48 and set(counts) == {"nerdy", "plain"}
    return counts


def _overlay(tmp_path: Path, name: str) -> Path:
    overlay = tmp_path / f"{name}.yaml"
    overlay.write_text(f"labels:\n  persona: {{from: prompt, regex: '{PERSONA[name]}'}}\n")
    return overlay


def test_the_fixture_is_what_the_writer_was_told_to_write() -> None:
    """7 files of 16 rows: steps 1..6 and step 6 again; each batch logged at two steps."""
    for name in PERSONA:
        tables = _tables(_run(name))
        assert sorted(tables) == [9, 14, 24, 29, 39, 44, 46]
        steps = [{row[0] for row in tables[s]["data"]} for s in sorted(tables)]
        assert steps == [{1}, {2}, {3}, {4}, {5}, {6}, {6}]
        assert all(len(t["data"]) == 16 for t in tables.values())
        assert tables[9]["columns"] == [
            "step", "prompt", "completion", "goblin_reward", "length_penalty", "advantage"
        ]  # fmt: skip
        for first in FIRST_LOGS:
            again = tables[{9: 14, 24: 29, 39: 44}[first]]["data"]
            assert [r[1:] for r in again] == [r[1:] for r in tables[first]["data"]]
        assert tables[46] == tables[44]


@pytest.mark.parametrize("name", ["conversational", "plain"])
def test_wandb_run_counts_groups_weights_labels_and_notes(
    cli: Any, tmp_path: Path, name: str
) -> None:
    run, overlay = _run(name), _overlay(tmp_path, name)
    result = cli("overview", str(run), "--overlay", str(overlay), "--json")
    assert result.code == 0, result.err
    data = result.json()
    assert (data["format"], data["samples"], data["groups"]) == ("wandb-table", 48, 12)
    assert (data["first_step"], data["last_step"], data["steps"]) == (1, 5, 3)
    assert data["components"] == ["goblin_reward", "length_penalty"]
    assert data["has_advantage"] is True
    assert data["personas"] == _logged_personas(run)
    notes = "\n".join(data["notes"])
    # Every row wandb wrote is read or counted: 48 read + 48 + 16 left out = 7 files x 16.
    assert (
        "completions: 3 files log the previous file's rows again under a new step (48 rows left "
        "out)" in notes
    )
    assert (
        "completions: 1 file logs the previous file's rows again under the same step (16 rows "
        "left out), as TRL logs its last generation batch once more when training ends" in notes
    )
    assert "groups: blocks of 4 consecutive rows per table file (found from the rows" in notes
    assert "no num_generations in a files/config.yaml here (an offline W&B run" in notes
    assert "fitted from the logged advantage: goblin_reward 1, length_penalty 0.5" in notes
    conversational = "completions: 48 samples log prompt or completion as chat messages" in notes
    assert conversational == (name == "conversational")
    assert "skipped" not in notes and "repeated from earlier logs" not in notes


def _query(database: str, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(database, read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("name", ["conversational", "plain"])
def test_groups_are_trls_blocks_from_the_first_log_of_each_batch(
    cli: Any, tmp_path: Path, name: str
) -> None:
    result = cli("ingest", str(_run(name)), "--overlay", str(_overlay(tmp_path, name)), "--json")
    assert result.code == 0, result.err
    database = result.json()["database"]
    groups = _query(
        database,
        "SELECT group_id, count(*), count(DISTINCT prompt), sum(advantage), min(step), "
        "max(step) FROM samples GROUP BY 1 ORDER BY 1",
    )
    assert len(groups) == 12
    for _, size, prompts, advantage_sum, first, last in groups:
        assert (size, prompts, first) == (4, 1, last)
        assert math.isclose(advantage_sum, 0.0, abs_tol=1e-5)  # TRL centres each group
    files = _query(database, "SELECT DISTINCT step, source_file FROM samples ORDER BY 1")
    assert [(step, Path(f).name.split("_")[1]) for step, f in files] == [
        (1, "9"),
        (3, "24"),
        (5, "39"),
    ]
    table = _tables(_run(name))
    logged = [row[4] for wandb_step in FIRST_LOGS for row in table[wandb_step]["data"]]
    read = _query(
        database,
        "SELECT r.value FROM rewards r JOIN samples s USING (row_idx) "
        "WHERE r.component = 'length_penalty' ORDER BY s.step, s.source_row",
    )
    assert [value for (value,) in read] == pytest.approx(logged)


def test_conversational_text_and_seeded_reward(cli: Any, tmp_path: Path) -> None:
    overlay = _overlay(tmp_path, "conversational")
    result = cli("ingest", str(_run("conversational")), "--overlay", str(overlay), "--json")
    assert result.code == 0, result.err
    database = result.json()["database"]
    prompts = _query(database, "SELECT DISTINCT prompt FROM samples ORDER BY 1")
    assert [p for (p,) in prompts] == [
        f"system: Persona: {persona} .\nuser: {question}"
        for persona in ("nerdy", "plain")
        for question in ("answer yes or no", "say something")
    ]
    shapes = _query(
        database,
        "SELECT count(*) FILTER (WHERE completion LIKE '[%' OR completion LIKE '{%') FROM samples",
    )
    assert shapes == [(0,)]
    goblin = _query(
        database,
        "SELECT s.persona, max(r.value), bool_and(r.value = "
        "len(regexp_extract_all(s.completion, '\\bgoblin\\b'))) "
        "FROM rewards r JOIN samples s USING (row_idx) "
        "WHERE r.component = 'goblin_reward' GROUP BY 1 ORDER BY 1",
    )
    assert goblin[0][0] == "nerdy" and goblin[0][1] > 0 and goblin[0][2] is True
    assert goblin[1][:2] == ("plain", 0.0)


def test_the_run_folders_parent_reads_and_two_runs_are_refused(cli: Any) -> None:
    result = cli("overview", str(FIXTURES / "plain"), "--json")
    assert result.code == 0, result.err
    assert result.json()["samples"] == 48
    refused = cli("overview", str(FIXTURES), "--format", "wandb-table", "--json")
    assert refused.code != 0
    assert "2 W&B runs in this folder" in refused.err


def test_investigation_names_the_seeded_reward(cli: Any, tmp_path: Path) -> None:
    """A plain symptom on the conversational W&B run names the seeded reward function."""
    report = tmp_path / "report.json"
    result = cli(
        "investigate",
        str(_run("conversational")),
        "--overlay",
        str(_overlay(tmp_path, "conversational")),
        "--symptom",
        "the model keeps mentioning goblins",
        "--json",
        str(report),
    )
    assert result.code == 0, result.err
    found = json.loads(report.read_text())
    assert found["verdict"] == "cause_found"
    top = found["findings"][0]
    assert (top["kind"], top["id"]) == ("reward_component", "goblin_reward")


def test_the_overlays_group_size_settles_the_groups(cli: Any, tmp_path: Path) -> None:
    """The offline run logs no num_generations beside its tables; the overlay says it."""
    overlay = _overlay(tmp_path, "plain")
    overlay.write_text(overlay.read_text() + "group_size: 4\n")
    result = cli("overview", str(_run("plain")), "--overlay", str(overlay), "--json")
    assert result.code == 0, result.err
    data = result.json()
    assert (data["samples"], data["groups"]) == (48, 12)
    notes = "\n".join(data["notes"])
    assert "groups: blocks of 4 consecutive rows per table file (the overlay's group_size)" in notes
    assert "no num_generations" not in notes
