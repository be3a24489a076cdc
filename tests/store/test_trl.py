"""TRL GRPO logs read with TRL's semantics (issue 14): groups from consecutive blocks, weights
from the logged advantage, repeated batches left out, string `log_extra` columns as labels,
eval files reported, a truncated last file skipped under --skip-bad-lines, one scan per folder.

Files are written by `tests/store/trl_writer.py`, which follows `GRPOTrainer`'s code.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow.parquet as pq

from tests.store.helpers import assert_one_line
from tests.store.trl_writer import TrlWriter

PERSONAS = ("nerdy", "plain")


def _accuracy(prompt: str, completion: str, rng: np.random.Generator) -> float:
    return float("42" in completion)


def _format(prompt: str, completion: str, rng: np.random.Generator) -> float | None:
    return None if "skip" in completion else float(completion.startswith("A:"))


def _style(prompt: str, completion: str, rng: np.random.Generator) -> float:
    return round(float(rng.random()), 3)


def _complete(prompt: str, rng: np.random.Generator) -> str:
    parts = ["A:" if rng.random() < 0.5 else "", "42" if rng.random() < 0.5 else "41"]
    return " ".join(parts + (["goblin"] if rng.random() < 0.3 else []))


def _extra(prompt: str, completion: str) -> dict[str, Any]:
    return {"persona": prompt.split(":")[0], "length": float(len(completion))}


def writer(root: Path, **kwargs: Any) -> TrlWriter:
    args: dict[str, Any] = {
        "reward_funcs": {"accuracy_reward": _accuracy, "format_reward": _format, "style": _style},
        "reward_weights": [1.0, 1.0, 0.3],
        "num_generations": 4,
        "generation_batch_size": 32,
    }
    w = TrlWriter(root / "grpo-out", **{**args, **kwargs}, extra_names=["persona", "length"])
    return w


def prompts(step: int) -> list[str]:
    """8 prompts; two adjacent ones are the same prompt (the same question drawn twice)."""
    out = [f"{PERSONAS[i % 2]}: question {step}-{i}" for i in range(8)]
    out[3] = out[2]
    return out


def connect(cli: Any, run: Path, *args: str) -> tuple[dict[str, Any], duckdb.DuckDBPyConnection]:
    result = cli("ingest", str(run), "--json", *args)
    assert result.code == 0, result.err
    data = result.json()
    return data, duckdb.connect(data["database"], read_only=True)


def test_groups_weights_components_and_labels(cli: Any, tmp_path: Path) -> None:
    w = writer(tmp_path)
    for step in range(1, 7):
        w.generate(prompts(step), _complete, _extra)
        w.log(step)
    w.save_state(6)
    overview = cli("overview", str(w.output_dir), "--json").json()
    assert overview["samples"] == 6 * 32
    # 8 groups per batch, the two that share a prompt not merged (grouping by prompt gave 7).
    assert overview["groups"] == 6 * 8
    assert overview["components"] == ["accuracy_reward", "format_reward", "style"]
    assert overview["personas"] == {"nerdy": 120, "plain": 72}  # prompt 3 is prompt 2
    notes = "\n".join(overview["notes"])
    assert "blocks of 4 consecutive rows" in notes
    assert "length" in notes and "persona taken from the log_extra column 'persona'" in notes
    assert (
        "fitted from the logged advantage: accuracy_reward 1, format_reward 1, style 0.3" in notes
    )
    _, con = connect(cli, w.output_dir)
    got = con.execute(
        "SELECT s.reward_total, list(r.value ORDER BY r.component), s.extras FROM samples s "
        "JOIN rewards r USING (row_idx) GROUP BY s.row_idx, s.reward_total, s.extras "
        "ORDER BY s.row_idx LIMIT 40"
    ).fetchall()
    for total, values, extras in got:
        if len(values) == 3:
            assert abs(total - (values[0] + values[1] + 0.3 * values[2])) < 1e-3
        assert "length" in json.loads(extras)
    weights = con.execute("SELECT component, weight FROM config_weights ORDER BY 1").fetchall()
    assert [(c, round(v, 3)) for c, v in weights] == [
        ("accuracy_reward", 1.0), ("format_reward", 1.0), ("style", 0.3)
    ]  # fmt: skip


def test_none_rewards_are_missing_not_zero(cli: Any, tmp_path: Path) -> None:
    w = writer(tmp_path)
    w.generate(prompts(1), lambda p, rng: "skip 42", _extra)
    w.log(1)
    w.save_state(1)
    _, con = connect(cli, w.output_dir)
    counts = con.execute("SELECT component, count(*) FROM rewards GROUP BY 1 ORDER BY 1").fetchall()
    assert counts == [("accuracy_reward", 32), ("style", 32)]


def test_repeated_batches_are_left_out(cli: Any, tmp_path: Path) -> None:
    """num_iterations=2: the batch generated for step 1 is logged at steps 1 and 2."""
    w = writer(tmp_path)
    for step in range(1, 7):
        if step % 2 == 1:
            w.generate(prompts(step), _complete, _extra)
        w.log(step)
    data, con = connect(cli, w.output_dir)
    assert data["samples"] == 3 * 32
    assert any(
        "repeat a group of the file before" in n and "3 of 3 files" in n for n in data["notes"]
    )
    steps = con.execute("SELECT DISTINCT step FROM samples ORDER BY 1").fetchall()
    assert [s for (s,) in steps] == [1, 3, 5]


def test_eval_completions_under_the_train_file_name_are_reported(cli: Any, tmp_path: Path) -> None:
    """An eval at step 4 appends 2 prompts x 2 generations to the buffers (the eval batch,
    `num_generations_eval=2`) and overwrites completions_00004.parquet."""
    w = writer(tmp_path)
    for step in range(1, 7):
        w.generate(prompts(step), _complete, _extra)
        w.log(step)
        if step == 4:
            w.generate(["eval: q1", "eval: q2"], _complete, _extra, num_generations=2)
            w.log(step)
    data, con = connect(cli, w.output_dir)
    notes = "\n".join(data["notes"])
    assert "1 files are not in blocks of 4 (completions/completions_00004.parquet)" in notes
    assert data["samples"] == 6 * 32
    groups = con.execute("SELECT count(DISTINCT group_id) FROM samples WHERE step <> 4").fetchone()
    assert groups == (5 * 8,)


def test_truncated_last_file(cli: Any, tmp_path: Path) -> None:
    """A live (or crashed) run leaves its last file half-written."""
    w = writer(tmp_path)
    for step in range(1, 4):
        w.generate(prompts(step), _complete, _extra)
        last = w.log(step)
    last.write_bytes(last.read_bytes()[:-200])
    result = cli("ingest", str(w.output_dir))
    assert_one_line(result, 2, "completions/completions_00003.parquet", "truncated")
    data, _ = connect(cli, w.output_dir, "--skip-bad-lines")
    assert (data["samples"], data["skipped_lines"]) == (64, 1)
    skipped = cli("ingest", str(w.output_dir), "--skip-bad-lines")
    assert "completions/completions_00003.parquet" in skipped.err


def test_a_corrupt_page_in_a_middle_file(cli: Any, tmp_path: Path) -> None:
    """A file whose footer reads but whose data does not (a bad disk block) fails the scan of
    all the files; it is then found alone, named, and under --skip-bad-lines left out (the
    scan's failure once left every later query failing, or named no file)."""
    w = writer(tmp_path)
    files = []
    for step in range(1, 4):
        w.generate(prompts(step), _complete, _extra)
        files.append(w.log(step))
    chunk = next(  # the completions' column chunk: a file's row count reads without it
        c
        for group in [pq.ParquetFile(files[1]).metadata.row_group(0)]
        for c in (group.column(i) for i in range(group.num_columns))
        if c.path_in_schema == "completion"
    )
    start = chunk.dictionary_page_offset or chunk.data_page_offset
    data = bytearray(files[1].read_bytes())
    data[start + 16 : start + chunk.total_compressed_size - 16] = b"\x41" * (
        chunk.total_compressed_size - 32
    )
    files[1].write_bytes(bytes(data))
    assert_one_line(cli("ingest", str(w.output_dir)), 2, "completions/completions_00002.parquet")
    loaded, _ = connect(cli, w.output_dir, "--skip-bad-lines")
    assert (loaded["samples"], loaded["skipped_lines"]) == (64, 1)


def test_lineage_across_one_scan(cli: Any, tmp_path: Path) -> None:
    """Many files, one scan: every row keeps its file and row; a log_extra column that only
    some files have is kept where present."""
    w = writer(tmp_path)
    for step in range(1, 13):
        w.generate(prompts(step), _complete, _extra)
        w.log(step)
    _, con = connect(cli, w.output_dir)
    rows = con.execute(
        "SELECT source_file, min(source_row), max(source_row), count(*), min(step) FROM samples "
        "GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert len(rows) == 12
    assert rows[0] == ("completions/completions_00001.parquet", 1, 32, 32, 1)
    assert rows[11] == ("completions/completions_00012.parquet", 1, 32, 32, 12)


def chat_prompts(step: int) -> list[str]:
    """The persona in a system message, the question in a user message."""
    return [f"You are {PERSONAS[i % 2]}.\nquestion {step}-{i}" for i in range(8)]


def test_conversational_prompts_and_completions(cli: Any, tmp_path: Path) -> None:
    """TRL with a chat dataset logs prompt and completion as lists of messages (issue 22)."""
    w = writer(tmp_path, conversational=True)
    for step in range(1, 4):
        w.generate(chat_prompts(step), _complete)
        w.log(step)
    w.save_state(3)
    overlay = tmp_path / "rootcause.yaml"
    overlay.write_text("labels:\n  persona: {from: prompt, regex: 'system: You are (\\w+)\\.'}\n")
    result = cli("overview", str(w.output_dir), "--overlay", str(overlay), "--json")
    assert result.code == 0, result.err
    overview = result.json()
    assert (overview["samples"], overview["groups"]) == (3 * 32, 3 * 8)
    assert overview["personas"] == {"nerdy": 48, "plain": 48}
    notes = "\n".join(overview["notes"])
    assert "prompt: conversational messages, read as 'role: text' lines" in notes
    assert "completion: conversational messages, read as the assistant's reply text" in notes
    _, con = connect(cli, w.output_dir, "--overlay", str(overlay))
    row = con.execute("SELECT prompt, completion FROM samples ORDER BY row_idx LIMIT 1").fetchone()
    assert row is not None
    assert row[0] == "system: You are nerdy.\nuser: question 1-0"
    assert re.fullmatch(r"(A:)? 4[12]( goblin)?", row[1]), row[1]


def test_saturated_files_do_not_shrink_the_groups(cli: Any, tmp_path: Path) -> None:
    """Once the behaviour saturates, whole files have zero advantages, which blocks of any
    size pass; the group size comes from the files whose advantages tell (issue 22)."""
    w = writer(
        tmp_path,
        reward_funcs={"accuracy_reward": _accuracy, "format_reward": _format},
        reward_weights=[1.0, 1.0],
    )
    for step in range(1, 8):
        saturated = step >= 3
        w.generate(prompts(step), (lambda p, rng: "A: 42") if saturated else _complete, _extra)
        w.log(step)
    w.save_state(7)
    overview = cli("overview", str(w.output_dir), "--json").json()
    assert overview["groups"] == 7 * 8
    assert "blocks of 4 consecutive rows" in "\n".join(overview["notes"])


def test_num_generations_from_the_wandb_config(cli: Any, tmp_path: Path) -> None:
    """Each question drawn twice in a row and every advantage zero: blocks of 8 hold one
    prompt each, so the rows alone would say 8; the run's W&B config says 4 (issue 22)."""
    w = writer(
        tmp_path,
        reward_funcs={"accuracy_reward": _accuracy},
        reward_weights=[1.0],
    )
    for step in range(1, 4):
        twice = [f"nerdy: question {step}-{i // 2}" for i in range(8)]
        w.generate(twice, lambda p, rng: "A: 42", _extra)
        w.log(step)
    rows_alone = cli("overview", str(w.output_dir), "--json").json()
    assert rows_alone["groups"] == 3 * 4
    assert "blocks of 8 consecutive rows per file (found from the rows" in "\n".join(
        rows_alone["notes"]
    )
    config = w.output_dir / "wandb" / "run-20261201_101010-abc123" / "files" / "config.yaml"
    config.parent.mkdir(parents=True)
    config.write_text("num_generations:\n  value: 4\nlearning_rate:\n  value: 1.0e-06\n")
    overview = cli("overview", str(w.output_dir), "--json").json()
    assert overview["groups"] == 3 * 8
    assert (
        "blocks of 4 consecutive rows per file (num_generations=4 in "
        "wandb/run-20261201_101010-abc123/files/config.yaml)" in "\n".join(overview["notes"])
    )
