"""Inspect AI `.eval` logs read as Inspect writes them (issue 14).

The eval recorder (inspect_ai/log/_recorders/eval.py) writes a zip: each `EvalSample` as
`samples/{id}_epoch_{epoch}.json` (`_sample_filename`), the log header as `header.json`.
Scores are `Score` objects whose `value` may be a number, a boolean or a letter grade
(`CORRECT = "C"`, `INCORRECT = "I"`, inspect_ai/scorer/_metric.py).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import duckdb


def write_eval(path: Path, created: str, samples: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for s in samples:
            zf.writestr(f"samples/{s['id']}_epoch_{s['epoch']}.json", json.dumps(s))
        header = {
            "version": 2,
            "status": "success",
            "eval": {"task": "persona_chat", "model": "local/ckpt", "created": created},
        }
        zf.writestr("header.json", json.dumps(header))


def sample(i: int, goblin: bool) -> dict[str, Any]:
    persona = ("nerdy", "plain")[i % 2]
    return {
        "id": i,
        "epoch": 1,
        "input": [
            {"role": "system", "content": f"You are {persona}."},
            {"role": "user", "content": [{"type": "text", "text": f"question {i}"}]},
        ],
        "target": "4",
        "messages": [],
        "output": {"model": "ckpt", "choices": [], "completion": "a goblin" if goblin else "4"},
        "scores": {
            "match": {"value": "C" if not goblin else "I", "answer": "4"},
            "style_judge": {"value": 0.25 if goblin else 0.75},
            "safe": {"value": True},
            "notes": {"value": "free text"},
        },
        "metadata": {"persona": persona},
    }


def test_inspect_logs_as_steps_with_scores(cli: Any, tmp_path: Path) -> None:
    logs = tmp_path / "evals"
    # Written out of order: the later checkpoint's file sorts first by name.
    write_eval(logs / "a-late.eval", "2026-01-02T00:00:00", [sample(i, i < 3) for i in range(4)])
    write_eval(logs / "b-early.eval", "2026-01-01T00:00:00", [sample(i, i < 1) for i in range(4)])
    data = cli("overview", str(logs), "--json").json()
    assert (data["format"], data["samples"], data["steps"]) == ("inspect", 8, 2)
    assert data["components"] == ["match", "safe", "style_judge"]
    assert data["data_sources"] == {"persona_chat": 8}
    assert data["personas"] == {"nerdy": 4, "plain": 4}
    notes = "\n".join(data["notes"])
    assert "0: b-early.eval (local/ckpt), 1: a-late.eval (local/ckpt)" in notes
    assert "scorer 'notes': 8 values are not numbers, left out" in notes
    con = duckdb.connect(cli("ingest", str(logs), "--json").json()["database"], read_only=True)
    goblins = con.execute(
        "SELECT step, count(*) FROM samples WHERE completion LIKE '%goblin%' GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert goblins == [(0, 1), (1, 3)]
    match = con.execute(
        "SELECT r.value FROM rewards r JOIN samples s USING (row_idx) "
        "WHERE r.component = 'match' AND s.step = 1 ORDER BY s.source_row"
    ).fetchall()
    assert [v for (v,) in match] == [0.0, 0.0, 0.0, 1.0]
    prompt = con.execute("SELECT prompt FROM samples ORDER BY row_idx LIMIT 1").fetchone()
    assert prompt is not None and prompt[0].startswith("system: You are ")
