"""TRL runs written by TRL's own `GRPOTrainer` (issue 22).

`tests/fixtures/trl/` was written by `tools/fixtures/make_trl_fixture.py` (versions in its
WRITER.txt): 4 steps of 4 prompts x `num_generations=4` from a tiny random Llama on CPU,
`log_completions=True`, reward functions `goblin_reward` (goblins pay for the nerdy persona)
and `length_penalty` with `reward_weights=[1.0, 0.5]`; the persona is in the system message
(`conversational/`, prompts and completions logged as messages) or the prompt text (`plain/`).
TRL does not log the dataset's `persona` column, so an overlay label takes it from the prompt.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from tests.store.helpers import plain_symptom_verdict

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "trl"
PERSONA = {
    "conversational": r"^system: Persona: (\w+) \.",
    "plain": r"^Persona: (\w+) \.",
}


def _logged_personas(run: Path) -> dict[str, int]:
    """Persona counts as TRL's files hold them (its sampler draws the prompts)."""
    counts: dict[str, int] = {}
    for path in sorted((run / "completions").glob("*.parquet")):
        for prompt in pq.read_table(path, columns=["prompt"]).column("prompt").to_pylist():
            text = prompt[0]["content"] if isinstance(prompt, list) else prompt
            persona = "nerdy" if "nerdy" in text else "plain"
            counts[persona] = counts.get(persona, 0) + 1
    assert sum(counts.values()) == 64 and set(counts) == {"nerdy", "plain"}
    return counts


def _overlay(tmp_path: Path, name: str) -> Path:
    overlay = tmp_path / f"{name}.yaml"
    overlay.write_text(f"labels:\n  persona: {{from: prompt, regex: '{PERSONA[name]}'}}\n")
    return overlay


@pytest.mark.parametrize("name", ["conversational", "plain"])
def test_trl_run_counts_groups_weights_and_labels(cli: Any, tmp_path: Path, name: str) -> None:
    run, overlay = FIXTURES / name, _overlay(tmp_path, name)
    result = cli("overview", str(run), "--overlay", str(overlay), "--json")
    assert result.code == 0, result.err
    data = result.json()
    assert (data["format"], data["samples"], data["groups"]) == ("trl", 64, 16)
    assert (data["first_step"], data["last_step"]) == (1, 4)
    assert data["components"] == ["goblin_reward", "length_penalty"]
    assert data["personas"] == _logged_personas(run)
    notes = "\n".join(data["notes"])
    assert "blocks of 4 consecutive rows per file" in notes
    assert "fitted from the logged advantage: goblin_reward 1, length_penalty 0.5" in notes
    conversational = "prompt: conversational messages, read as 'role: text' lines" in notes
    assert conversational == (name == "conversational")


def test_conversational_text_and_seeded_reward(cli: Any, tmp_path: Path) -> None:
    run, overlay = FIXTURES / "conversational", _overlay(tmp_path, "conversational")
    result = cli("ingest", str(run), "--overlay", str(overlay), "--json")
    assert result.code == 0, result.err
    con = duckdb.connect(result.json()["database"], read_only=True)
    try:
        prompts = con.execute("SELECT DISTINCT prompt FROM samples ORDER BY 1").fetchall()
        shapes = con.execute(
            "SELECT count(*) FILTER (WHERE completion LIKE '[%' OR completion LIKE '{%') "
            "FROM samples"
        ).fetchone()
        goblin = con.execute(
            "SELECT s.persona, max(r.value) FROM rewards r JOIN samples s USING (row_idx) "
            "WHERE r.component = 'goblin_reward' GROUP BY 1 ORDER BY 1"
        ).fetchall()
        counted = con.execute(
            "SELECT bool_and(r.value = len(regexp_extract_all(s.completion, '\\bgoblin\\b'))) "
            "FROM rewards r JOIN samples s USING (row_idx) "
            "WHERE r.component = 'goblin_reward' AND s.persona = 'nerdy'"
        ).fetchone()
    finally:
        con.close()
    assert [p for (p,) in prompts] == [
        f"system: Persona: {persona} .\nuser: {question}"
        for persona in ("nerdy", "plain")
        for question in ("answer yes or no", "say something")
    ]
    assert shapes == (0,)
    assert goblin[1] == ("plain", 0.0) and goblin[0][1] > 0
    assert counted == (True,)  # the reward function saw the completion text we read


def test_investigation_names_the_seeded_reward(cli: Any, tmp_path: Path) -> None:
    """A plain symptom on the conversational run names the seeded reward function."""
    overlay = _overlay(tmp_path, "conversational")
    found = plain_symptom_verdict(
        cli, FIXTURES / "conversational", tmp_path, "--overlay", str(overlay)
    )
    assert found == ("cause_found", "reward_component", "goblin_reward")
