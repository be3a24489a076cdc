"""prime-rl rollouts read as prime-rl and verifiers write them (issue 14).

`FileMonitor.log_episodes` (prime_rl/monitors/file.py) appends
`orjson.dumps(episode.to_record(), default=str, option=OPT_APPEND_NEWLINE | OPT_SERIALIZE_NUMPY)`
to `rollouts/step_{step}/{kind}/{subset}/traces.jsonl`; `Episode.to_record`
(verifiers/v1/episode.py) is `model_dump(mode="json", exclude_none=True)` without raw tensor
fields. A trace's `rewards` map names to `{score, weight}` (or null when scoring did not run).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import orjson


def episode(
    step: int, group: str, persona: str, text: str, reasoning: str | None
) -> dict[str, Any]:
    assistant: dict[str, Any] = {"role": "assistant", "content": text}
    if reasoning is not None:
        assistant["reasoning_content"] = reasoning
    return {
        "id": f"ep-{step}-{group}-{text[:3]}",
        "env": {"id": "agentic-judge+gsm8k", "name": "gsm8k"},
        "task": {"type": "Task", "data": {"question": "2+2?", "persona": persona}, "key": group},
        "group": {"id": group},
        "run": {"type": "train", "id": "run1", "work": {"type": "train", "step": step}},
        "ok": True,
        "errors": [],
        "traces": [
            {
                "version": 1,
                "id": f"tr-{step}-{group}-{text}",
                "verifiers": {"version": "1.0.0"},
                "task": {"type": "Task", "data": {"question": "2+2?"}},
                "agent": {"config": {}, "name": "solver", "trainable": True},
                "tools": [],
                "nodes": [
                    {"message": {"role": "system", "content": f"You are {persona}."},
                     "sampled": False, "timestamp": 1.0, "token_ids": [1], "mask": [False]},
                    {"parent": 0,
                     "message": {"role": "user", "content": [{"type": "text", "text": "2+2?"}]},
                     "sampled": False, "timestamp": 1.0, "token_ids": [2], "mask": [False]},
                    {"parent": 1, "message": assistant, "sampled": True, "timestamp": 2.0,
                     "token_ids": [3, 4], "mask": [True, True]},
                ],
                "calls": [],
                "request_rewrites": [],
                "response_rewrites": [],
                "rewards": {
                    "correct": {"score": float("4" in text), "weight": 1.0},
                    "style": {"score": 0.5, "weight": 0.3},
                    "judge": None,
                },
                "metrics": {"num_turns": 1.0},
                "info": {},
                "extra_usage": [],
                "is_completed": True,
                "ok": True,
                "errors": [],
                "timing": {"start": 0.0},
            }
        ],
    }  # fmt: skip


def write_run(root: Path) -> Path:
    out = root / "outputs"
    for step in (0, 1):
        for kind, subset in (("train", "all"), ("train", "effective"), ("eval", "all")):
            path = out / "rollouts" / f"step_{step}" / kind / subset / "traces.jsonl"
            path.parent.mkdir(parents=True, exist_ok=True)
            episodes = [
                episode(step, f"{kind}-g{step}{g}", persona, text, "think" if g else None)
                for g, persona in enumerate(("nerdy", "plain"))
                for text in ("4 goblins", "5")
            ]
            if subset == "effective":
                episodes = episodes[:2]
            with open(path, "ab") as f:
                for e in episodes:
                    f.write(orjson.dumps(e, default=str, option=orjson.OPT_APPEND_NEWLINE))
    return out


def test_prime_rl_episodes_as_samples(cli: Any, tmp_path: Path) -> None:
    run = write_run(tmp_path)
    data = cli("overview", str(run), "--json").json()
    assert (data["format"], data["samples"], data["groups"]) == ("prime-rl", 16, 8)
    assert data["splits"] == {"eval": 8, "train": 8}
    assert data["components"] == ["correct", "style"]
    assert data["envs"] == {"gsm8k": 16}
    assert any("correct 1, style 0.3" in n for n in data["notes"])
    con = duckdb.connect(cli("ingest", str(run), "--json").json()["database"], read_only=True)
    row = con.execute(
        "SELECT prompt, completion, reasoning, reward_total, source_file, extras FROM samples "
        "WHERE completion = '4 goblins' AND step = 0 AND split = 'train' ORDER BY row_idx LIMIT 1"
    ).fetchone()
    assert row is not None
    assert row[:4] == ("You are nerdy.\n2+2?", "4 goblins", None, 1.0 + 0.3 * 0.5)
    assert row[4] == "rollouts/step_0/train/all/traces.jsonl"
    assert "task.persona" not in json.loads(row[5])
    assert data["personas"] == {"nerdy": 8, "plain": 8}
    assert any("reward 'judge' is null (not scored) on 16 traces" in n for n in data["notes"])
