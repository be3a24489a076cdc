"""The run folder verifiers' `vf-eval` writes (issue 22, item 6).

`tests/fixtures/vf_eval/run/` was written by `tools/fixtures/make_vf_eval_fixture.py` with
verifiers' own `vf-eval` (the version is in WRITER.txt) against a local stub chat server. What
the writer was told to produce: `-n 18 -r 4` (18 tasks, four rollouts each, 72 episodes of one
trace), personas nerdy/plain/pirate (task i has persona i % 3) in the system prompt and in the
task data, rewards `correct` (weight 1) and `style` (weight 0.5: 1 for a creature word, else
0.2), a metric `words`; the nerdy answers say "said the goblin" on three rollouts of four.
The edited copies below stand for what a hand-made or damaged file holds.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import duckdb

from tests.store.helpers import plain_symptom_verdict

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "vf_eval" / "run"


def _db(cli: Any, path: Path) -> tuple[dict[str, Any], duckdb.DuckDBPyConnection]:
    result = cli("ingest", str(path), "--json")
    assert result.code == 0, result.err
    overview = cli("overview", str(path), "--json").json()
    return overview, duckdb.connect(result.json()["database"], read_only=True)


def test_vf_eval_folder_as_written(cli: Any) -> None:
    data, con = _db(cli, FIXTURE)
    assert (data["format"], data["samples"], data["groups"]) == ("vf-eval", 72, 18)
    assert (data["first_step"], data["last_step"], data["splits"]) == (0, 0, {"eval": 72})
    assert data["personas"] == {"nerdy": 24, "plain": 24, "pirate": 24}
    assert data["components"] == ["correct", "style"]
    assert data["envs"] == {"goblin-chat": 72}
    notes = "\n".join(data["notes"])
    assert "model 'stub/goblin-7b' on goblin-chat" in notes
    assert "num_rollouts=4 in the config" in notes
    assert "correct 1, style 0.5" in notes
    assert "task data and info fields not kept" in notes and "network_allow" in notes
    assert "trace fields not read in traces.jsonl: agent, calls," in notes
    assert "persona from the task data's (or the trace info's) `persona` field: 72 of 72" in notes
    sizes = con.execute("SELECT count(*) FROM samples GROUP BY group_id").fetchall()
    assert sorted(n for (n,) in sizes) == [4] * 18
    goblins = con.execute(
        "SELECT persona, count(*) FROM samples WHERE completion LIKE '%goblin%' GROUP BY 1"
    ).fetchall()
    assert goblins == [("nerdy", 18)]
    row = con.execute(
        "SELECT prompt, completion, reward_total, extras FROM samples "
        "WHERE completion = '2, said the goblin' LIMIT 1"
    ).fetchone()
    assert row is not None
    assert row[:3] == ("Persona: nerdy. Answer briefly.\nWhat is 0 + 2?", "2, said the goblin", 1.5)
    extras = json.loads(row[3])
    assert (extras["metric.words"], extras["task.answer"], extras["ok"]) == (4.0, "2", True)
    styles = con.execute(
        "SELECT persona, round(avg(value), 6) FROM rewards JOIN samples USING (row_idx) "
        "WHERE component = 'style' GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert styles == [("nerdy", 0.8), ("pirate", 0.2), ("plain", 0.2)]


def _edited(tmp_path: Path, edit: Any) -> Path:
    """A copy of the fixture with every episode passed through `edit` (None drops it)."""
    run = tmp_path / "run"
    shutil.copytree(FIXTURE, run)
    lines = (run / "traces.jsonl").read_text().splitlines()
    kept = [e for e in (edit(i, json.loads(line)) for i, line in enumerate(lines)) if e]
    (run / "traces.jsonl").write_text("".join(json.dumps(e) + "\n" for e in kept))
    return run


def test_unreadable_parts_counted_in_notes(cli: Any, tmp_path: Path) -> None:
    def edit(i: int, episode: dict[str, Any]) -> dict[str, Any]:
        trace = episode["traces"][0]
        if i == 0:
            trace["rewards"]["style"]["score"] = "high"
        if i == 1:
            trace["rewards"]["style"]["weight"] = None
        if i == 2:
            trace["nodes"] = []
        if i == 3:
            del trace["rewards"]
        return episode

    data, con = _db(cli, _edited(tmp_path, edit))
    assert data["samples"] == 71
    notes = "\n".join(data["notes"])
    assert "1 of 72 traces in traces.jsonl have no sampled (assistant) message: left out" in notes
    assert "reward 'style' has a score that is not a number on 1 traces" in notes
    assert "reward 'style' has weight null on 1 traces in traces.jsonl: read as 1" in notes
    assert "1 traces in traces.jsonl have no rewards (scoring did not run)" in notes
    assert "1 of 18 tasks have a number of rollouts other than num_rollouts=4" in notes
    (missing,) = con.execute("SELECT count(*) FROM samples WHERE reward_total IS NULL").fetchone()
    assert missing == 1


def test_bare_trace_lines_and_older_config_layout(cli: Any, tmp_path: Path) -> None:
    """prime-rl's export_sft.py reads one Trace per line; older verifiers kept the resolved
    config at configs/eval.json."""
    run = _edited(tmp_path, lambda _i, episode: episode["traces"][0])
    (run / "configs" / "resolved" / "eval.json").rename(run / "configs" / "eval.json")
    (run / "configs" / "resolved").rmdir()
    data, _ = _db(cli, run)
    assert (data["format"], data["samples"], data["groups"]) == ("vf-eval", 72, 18)
    assert data["personas"] == {"nerdy": 24, "plain": 24, "pirate": 24}


def test_traces_without_config_are_not_a_vf_eval_run(cli: Any, tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(FIXTURE / "traces.jsonl", run / "traces.jsonl")
    result = cli("overview", str(run), "--json")
    assert result.code != 0
    assert "not a run" in result.err


def test_investigation_names_the_seeded_reward(cli: Any, tmp_path: Path) -> None:
    """One checkpoint, but four rollouts per task: the seeded `style` reward is what selects
    the goblins within the nerdy tasks' groups."""
    found = plain_symptom_verdict(cli, FIXTURE, tmp_path)
    assert found == ("cause_found", "reward_component", "style")
