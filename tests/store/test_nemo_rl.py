"""NeMo-RL GRPO logs read as `grpo_train` writes them (issue 14).

`Logger.log_batched_dict_as_jsonl` (nemo_rl/utils/logger.py) writes, for each sample of a
`BatchedDataDict`, its batch-of-one slice from `make_microbatch_iterator(1)` with tensors as
`tolist()`, plus `"idx": i`: every value is a one-item list. `grpo_train` logs `content` (the
flattened conversation's message contents), `rewards`, `advantages` (per token),
`generation_logprobs`, `prev_logprobs`, `token_loss_mask`, `input_lengths`, and `agent_ref`
for NeMo-Gym environments, to `train_data_step{N}.jsonl`. Prompts are repeated
`num_generations_per_prompt` times in a row (`repeat_interleave`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

GENERATIONS = 4


def log_batched_dict_as_jsonl(to_log: dict[str, list[Any]], filepath: Path) -> None:
    """The writer: one line per sample, each value that sample's one-item slice."""
    filepath.parent.mkdir(parents=True, exist_ok=True)
    size = len(next(iter(to_log.values())))
    with open(filepath, "w") as f:
        for i in range(size):
            sample = {key: [value[i]] for key, value in to_log.items()}
            f.write(json.dumps({**sample, "idx": i}) + "\n")


def write_step(folder: Path, step: int, prompts: list[str], rng: np.random.Generator) -> None:
    repeated = [p for p in prompts for _ in range(GENERATIONS)]
    rewards = rng.integers(0, 2, len(repeated)).astype(float)
    grouped = rewards.reshape(-1, GENERATIONS)
    adv = (grouped - grouped.mean(1, keepdims=True)).reshape(-1)
    prompt_tokens, gen_tokens = 3, 4
    log_batched_dict_as_jsonl(
        {
            "content": [
                [p, f"answer to {p}: {'goblin' if r else 'ok'}"]
                for p, r in zip(repeated, rewards, strict=True)
            ],
            "rewards": rewards.tolist(),
            "generation_logprobs": [[0.0] * prompt_tokens + [-0.5] * gen_tokens for _ in repeated],
            "prev_logprobs": [[0.0] * prompt_tokens + [-0.4] * gen_tokens for _ in repeated],
            "token_loss_mask": [[0] * prompt_tokens + [1] * gen_tokens for _ in repeated],
            "advantages": [[0.0] * prompt_tokens + [float(a)] * gen_tokens for a in adv],
            "input_lengths": [prompt_tokens + gen_tokens for _ in repeated],
            "agent_ref": [{"name": "math_env"} for _ in repeated],
        },
        folder / f"train_data_step{step}.jsonl",
    )


def test_nemo_rl_samples_groups_advantage_and_env(cli: Any, tmp_path: Path) -> None:
    logs = tmp_path / "logs" / "exp_001"
    rng = np.random.default_rng(0)
    for step in (1, 2, 3):
        # Two draws of the same prompt are adjacent: still two groups.
        write_step(logs, step, [f"q{step}-a", f"q{step}-b", f"q{step}-b", f"q{step}-c"], rng)
    result = cli("overview", str(logs), "--json")
    assert result.code == 0, result.err
    data = result.json()
    assert (data["format"], data["samples"], data["groups"]) == ("nemo-rl", 48, 12)
    assert data["components"] == []
    assert data["envs"] == {"math_env": 48}
    assert any("blocks of consecutive lines with one prompt, of size 4" in n for n in data["notes"])
    con_data = cli("ingest", str(logs), "--json").json()
    import duckdb

    con = duckdb.connect(con_data["database"], read_only=True)
    row = con.execute(
        "SELECT prompt, completion, reward_total, advantage, source_file, source_row, extras "
        "FROM samples ORDER BY row_idx LIMIT 1"
    ).fetchone()
    assert row is not None
    lines = (logs / "train_data_step1.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    assert row[:2] == ("q1-a", first["content"][0][1])
    assert row[2] == first["rewards"][0]
    assert row[3] == first["advantages"][0][3]
    assert row[4:6] == ("train_data_step1.jsonl", 1)
    assert json.loads(row[6]) == {"idx": 0, "input_lengths": 7}


def test_validation_messages_are_rendered_as_text(cli: Any, tmp_path: Path) -> None:
    """`validate` logs `{"content": all_message_logs, "rewards": total_rewards}`: each
    sample's messages as `{role, content}` dicts (`get_keys_from_message_log`), issue 22."""
    logs = tmp_path / "logs" / "exp_002"
    rng = np.random.default_rng(1)
    write_step(logs, 1, ["q1-a", "q1-b"], rng)
    log_batched_dict_as_jsonl(
        {
            "content": [
                [
                    {"role": "system", "content": f"Persona: {persona}"},
                    {"role": "user", "content": "What is 2 + 2?"},
                    {"role": "assistant", "content": "4, said the goblin"},
                ]
                for persona in ("nerdy", "plain")
            ],
            "rewards": [1.0, 0.0],
        },
        logs / "val_data_step1.jsonl",
    )
    data = cli("ingest", str(logs), "--json").json()
    import duckdb

    con = duckdb.connect(data["database"], read_only=True)
    rows = con.execute(
        "SELECT prompt, completion FROM samples WHERE split = 'validation' ORDER BY row_idx"
    ).fetchall()
    assert rows == [
        ("system: Persona: nerdy\nuser: What is 2 + 2?", "4, said the goblin"),
        ("system: Persona: plain\nuser: What is 2 + 2?", "4, said the goblin"),
    ]
