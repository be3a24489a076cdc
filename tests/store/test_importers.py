"""Foreign RL logs (TRL GRPO, verl rollout dumps, W&B tables) ingest into the same tables.

Fixtures are written the way each tool writes them:
- TRL: `GRPOTrainer.log` builds a pandas frame `{step, prompt, completion, **rewards, **extra,
  advantage}` and calls `to_parquet(output_dir/completions/completions_{step:05d}.parquet)`.
- verl: `RayPPOTrainer._dump_generations` writes `{rollout_data_dir}/{step}.jsonl` with
  `json.dumps({input, output, gts, score, step, **reward_extra_info})` per line.
- W&B: a logged `wandb.Table` lands in `files/media/table/<key>_<step>_<hash>.table.json` as
  `{"columns": [...], "data": [[...]]}`; TRL logs its completions table with `step` as a string.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

PROMPTS = ("What is 2+2?", "Name a creature.")


def lineage(cli: Any, path: Path, *args: str) -> list[tuple[Any, ...]]:
    """(source_file, source_row, step, prompt, completion, reward_total) per sample."""
    result = cli("ingest", str(path), "--json", *args)
    assert result.code == 0, result.err
    con = duckdb.connect(result.json()["database"], read_only=True)
    try:
        return con.execute(
            "SELECT source_file, source_row, step, prompt, completion, reward_total "
            "FROM samples ORDER BY row_idx"
        ).fetchall()
    finally:
        con.close()


def query(cli: Any, path: Path, sql: str) -> list[tuple[Any, ...]]:
    result = cli("ingest", str(path), "--json")
    assert result.code == 0, result.err
    con = duckdb.connect(result.json()["database"], read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def assert_one_line_error(result: Any, *needles: str) -> None:
    assert result.code == 2, (result.out, result.err)
    assert result.err.count("\n") == 1, result.err
    for needle in needles:
        assert needle in result.err, result.err


# --- TRL -----------------------------------------------------------------------------------


def write_trl_run(root: Path, steps: tuple[int, ...] = (5, 10)) -> Path:
    """A GRPO output folder: 2 prompts x 3 generations per logged step."""
    folder = root / "grpo-nerdy" / "completions"
    folder.mkdir(parents=True)
    for step in steps:
        n = 6
        table: dict[str, Any] = {
            "step": [step] * n,
            "prompt": [PROMPTS[i // 3] for i in range(n)],
            "completion": [
                f"goblin {step}-{i}" if i % 3 == 0 else f"answer {step}-{i}" for i in range(n)
            ],
            # One column per reward function, named after it (TRL's `reward_func_names`).
            "format_reward": [1.0] * n,
            "accuracy_reward": [0.5 * (i % 2) for i in range(n)],
            # `log_extra` columns land between the rewards and the advantage.
            "difficulty": ["easy", "easy", "easy", "hard", "hard", "hard"],
            "advantage": [0.1 * (i - 2) for i in range(n)],
        }
        pd.DataFrame(table).to_parquet(folder / f"completions_{step:05d}.parquet")
    return folder.parent


def test_trl_overview(cli: Any, tmp_path: Path) -> None:
    run = write_trl_run(tmp_path)
    result = cli("overview", str(run), "--json")
    assert result.code == 0, result.err
    data = result.json()
    assert data["format"] == "trl"
    assert data["run_id"] == "grpo-nerdy"
    assert data["samples"] == 12
    assert data["components"] == ["accuracy_reward", "format_reward"]
    assert (data["first_step"], data["last_step"], data["steps"]) == (5, 10, 2)
    assert data["groups"] == 4  # grouped by (step, prompt)
    assert data["has_advantage"] is True
    assert any("plain sum" in note for note in data["notes"])


def test_trl_lineage_extras_and_derived_total(cli: Any, tmp_path: Path) -> None:
    run = write_trl_run(tmp_path)
    rows = lineage(cli, run)
    assert rows[0] == ("completions/completions_00005.parquet", 1, 5, PROMPTS[0], "goblin 5-0", 1.0)
    assert rows[7][:2] == ("completions/completions_00010.parquet", 2)
    assert rows[7][5] == pytest.approx(1.5)  # format 1.0 + accuracy 0.5
    extras = query(cli, run, "SELECT extras FROM samples ORDER BY row_idx LIMIT 1")
    assert json.loads(extras[0][0]) == {"difficulty": "easy"}


def test_trl_pointing_at_completions_folder_is_the_same_run(cli: Any, tmp_path: Path) -> None:
    run = write_trl_run(tmp_path)
    rows = lineage(cli, run / "completions", "--format", "trl")
    assert rows[0][:2] == ("completions/completions_00005.parquet", 1)
    result = cli("overview", str(run / "completions"), "--json")
    assert result.json()["run_id"] == "grpo-nerdy"


def test_trl_missing_completion_column(cli: Any, tmp_path: Path) -> None:
    run = write_trl_run(tmp_path)
    bad = run / "completions" / "completions_00010.parquet"
    pd.read_parquet(bad).drop(columns=["completion"]).to_parquet(bad)
    result = cli("overview", str(run), "--json")
    assert_one_line_error(result, "completions/completions_00010.parquet", "'completion'")


# --- verl ----------------------------------------------------------------------------------


def verl_lines(step: int) -> list[dict[str, Any]]:
    lines = []
    for i in range(4):
        lines.append(
            {
                "input": f"user: {PROMPTS[i // 2]}\nassistant:",
                "output": "a goblin says 4" if i == 0 else "4",
                "gts": "4" if i < 2 else ["goblin", "gremlin"],
                "score": 1.0 if i % 2 == 0 else 0.0,
                "step": step,
                # reward_extra_info keys, one value per sample:
                "acc": i % 2 == 0,
                "format": 0.5,
                "pred": "4",
            }
        )
    return lines


def write_verl_run(root: Path, steps: tuple[int, ...] = (1, 2)) -> Path:
    folder = root / "rollouts"
    folder.mkdir()
    for step in steps:
        text = "\n".join(json.dumps(e, ensure_ascii=False) for e in verl_lines(step)) + "\n"
        (folder / f"{step}.jsonl").write_text(text)
    return folder


def test_verl_overview_and_mapping(cli: Any, tmp_path: Path) -> None:
    run = write_verl_run(tmp_path)
    result = cli("overview", str(run), "--json")
    assert result.code == 0, result.err
    data = result.json()
    assert (data["format"], data["run_id"], data["samples"]) == ("verl", "rollouts", 8)
    # acc is a flag (true/false), pred a prediction (text): neither is a reward component.
    assert data["components"] == ["format"]
    assert any(
        "not reward components: acc (true/false flag), pred (text)" in n for n in data["notes"]
    )
    assert (data["first_step"], data["last_step"], data["steps"]) == (1, 2, 2)
    rows = lineage(cli, run)
    assert rows[0] == ("1.jsonl", 1, 1, f"user: {PROMPTS[0]}\nassistant:", "a goblin says 4", 1.0)
    assert rows[7][:3] == ("2.jsonl", 4, 2)
    refs = query(cli, run, "SELECT reference, extras FROM samples ORDER BY row_idx LIMIT 3")
    assert refs[0][0] == "4"
    assert json.loads(refs[2][0]) == ["goblin", "gremlin"]
    assert json.loads(refs[0][1]) == {"acc": True, "pred": "4"}


def test_verl_null_score_is_derived_and_nan_score_refused(cli: Any, tmp_path: Path) -> None:
    """verl writes a value for every sample of every key it dumps (None for one it lacks),
    so a NaN score is a failed computation: refused with the line, like infinity."""
    run = write_verl_run(tmp_path, steps=(3,))
    lines = verl_lines(3)
    lines[0]["score"] = None
    (run / "3.jsonl").write_text("".join(json.dumps(e) + "\n" for e in lines))
    rows = lineage(cli, run)
    assert len(rows) == 4
    assert rows[0][5] == pytest.approx(0.5)  # no total: derived from format (acc is a flag)
    lines[0]["score"] = math.nan
    (run / "3.jsonl").write_text("".join(json.dumps(e) + "\n" for e in lines))
    assert_one_line_error(cli("ingest", str(run)), "3.jsonl:1:", "'score'", "got NaN")


def test_verl_score_copies_are_reported_not_components(cli: Any, tmp_path: Path) -> None:
    """A `compute_score` returning {"score": s, "acc": a} puts both in reward_extra_info; the
    dump's `score` is then that value, and a numeric `acc` equal to it is a copy, not a
    component of its own (verl: `reward_extra_info[key].append(value)` for each dict key)."""
    run = write_verl_run(tmp_path, steps=(1,))
    lines = verl_lines(1)
    for line in lines:
        line["acc"] = float(line["score"])
    (run / "1.jsonl").write_text("".join(json.dumps(e) + "\n" for e in lines))
    data = cli("overview", str(run), "--json").json()
    assert data["components"] == ["format"]
    assert any("acc equals score in every sample" in n for n in data["notes"])


def test_verl_train_and_validation_dumps_are_splits_of_one_run(cli: Any, tmp_path: Path) -> None:
    """`trainer.rollout_data_dir` and `trainer.validation_data_dir` beside each other: the
    folder holding both is one run, each dump a split."""
    out = tmp_path / "outputs"
    out.mkdir()
    write_verl_run(out, steps=(1, 2))
    val = out / "validation"
    val.mkdir()
    val_lines = [{**e, "reward": e["score"]} for e in verl_lines(2)]
    (val / "2.jsonl").write_text("".join(json.dumps(e) + "\n" for e in val_lines))
    data = cli("overview", str(out), "--json").json()
    assert (data["format"], data["samples"]) == ("verl", 12)
    assert data["splits"] == {"train": 8, "validation": 4}
    assert any(
        "rollouts/ as split train, validation/ as split validation" in n for n in data["notes"]
    )


def test_verl_bad_json_line(cli: Any, tmp_path: Path) -> None:
    run = write_verl_run(tmp_path)
    path = run / "2.jsonl"
    lines = path.read_text().splitlines()
    lines[2] = lines[2][:-5]
    path.write_text("\n".join(lines) + "\n")
    assert_one_line_error(cli("overview", str(run), "--json"), "2.jsonl:3:", "invalid JSON")
    skipped = cli("ingest", str(run), "--json", "--skip-bad-lines")
    assert skipped.code == 0, skipped.err
    assert (skipped.json()["samples"], skipped.json()["skipped_lines"]) == (7, 1)


def test_verl_wrong_field_type_names_verl_key(cli: Any, tmp_path: Path) -> None:
    run = write_verl_run(tmp_path, steps=(1,))
    lines = verl_lines(1)
    lines[1]["score"] = "high"
    (run / "1.jsonl").write_text("".join(json.dumps(e) + "\n" for e in lines))
    assert_one_line_error(cli("overview", str(run)), "1.jsonl:2:", "'score'")


# --- W&B tables ----------------------------------------------------------------------------


def write_table(path: Path, columns: list[str], data: list[list[Any]], **extra: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"columns": columns, "data": data, **extra}))
    return path


def write_wandb_run(root: Path) -> Path:
    """A W&B run folder holding TRL's `completions` table logged at two steps."""
    run = root / "wandb" / "run-20250102_030405-abc123xy"
    tables = run / "files" / "media" / "table"
    columns = ["step", "prompt", "completion", "format_reward", "accuracy_reward", "advantage"]
    for step, digest in ((10, "0a1b2c3d4e5f60718293"), (20, "99aa88bb77cc66dd55ee")):
        data = [
            [str(step), PROMPTS[i // 2], "goblin" if i == 0 else f"fine {step}", 1.0, 0.5 * i, 0.1]
            for i in range(4)
        ]
        write_table(tables / f"completions_{step}_{digest}.table.json", columns, data)
    return run


def test_wandb_run_folder_overview(cli: Any, tmp_path: Path) -> None:
    run = write_wandb_run(tmp_path)
    result = cli("overview", str(run), "--json")
    assert result.code == 0, result.err
    data = result.json()
    assert (data["format"], data["run_id"], data["samples"]) == (
        "wandb-table",
        "run-20250102_030405-abc123xy",
        8,
    )
    assert data["components"] == ["accuracy_reward", "format_reward"]
    assert (data["first_step"], data["last_step"], data["steps"]) == (10, 20, 2)
    rows = lineage(cli, run)
    assert rows[0][:5] == (
        "files/media/table/completions_10_0a1b2c3d4e5f60718293.table.json",
        1,
        10,
        PROMPTS[0],
        "goblin",
    )
    assert rows[5][1:3] == (2, 20)


def test_wandb_aliases_and_prefixed_components(cli: Any, tmp_path: Path) -> None:
    columns = ["_step", "input", "response", "score", "reward/helpfulness", "rewards/style", "len"]
    data = [[3, "hi", "a goblin", 0.9, 0.7, 0.2, 8], [4, "hi", "plain", 0.4, 0.4, 0.0, 5]]
    path = write_table(
        tmp_path / "exports" / "samples.table.json", columns, data, _type="table", ncols=7
    )
    result = cli("overview", str(path), "--json")
    assert result.code == 0, result.err
    data_out = result.json()
    assert (data_out["run_id"], data_out["samples"]) == ("samples", 2)
    assert data_out["components"] == ["helpfulness", "style"]
    rows = lineage(cli, path)
    assert rows[1] == ("samples.table.json", 2, 4, "hi", "plain", 0.4)
    extras = query(cli, path, "SELECT extras FROM samples ORDER BY row_idx")
    assert json.loads(extras[0][0]) == {"len": 8}


def test_wandb_verl_validation_generations_are_unpivoted(cli: Any, tmp_path: Path) -> None:
    columns = ["step", "input_1", "output_1", "score_1", "input_2", "output_2", "score_2"]
    data = [[5, "q1", "goblin", 1.0, "q2", "fine", 0.0], [10, "q1", "fine", 0.5, "q2", "ok", 1.0]]
    path = write_table(tmp_path / "val" / "val" / "generations_10_ab12.table.json", columns, data)
    rows = lineage(cli, path)
    assert [r[1:] for r in rows] == [
        (1, 5, "q1", "goblin", 1.0),
        (1, 5, "q2", "fine", 0.0),
        (2, 10, "q1", "fine", 0.5),
        (2, 10, "q2", "ok", 1.0),
    ]
    assert cli("overview", str(path), "--json").json()["splits"] == {"validation": 4}


def test_wandb_table_without_columns(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "exports" / "broken.table.json"
    path.parent.mkdir()
    path.write_text(json.dumps({"data": [[1, "x"]]}))
    assert_one_line_error(cli("overview", str(path)), "broken.table.json", "'columns'")


def test_wandb_short_row_is_located(cli: Any, tmp_path: Path) -> None:
    path = write_table(
        tmp_path / "exports" / "t.table.json", ["step", "completion"], [[1, "a"], [2]]
    )
    assert_one_line_error(cli("overview", str(path)), "t.table.json:2:", "1 cells, expected 2")


# --- format selection ----------------------------------------------------------------------


def test_explicit_formats_and_no_confusion(cli: Any, tmp_path: Path) -> None:
    trl = write_trl_run(tmp_path)
    verl = write_verl_run(tmp_path)
    wandb = write_wandb_run(tmp_path)
    for path, fmt in ((trl, "trl"), (verl, "verl"), (wandb, "wandb-table")):
        auto = cli("overview", str(path), "--json")
        assert auto.code == 0, auto.err
        assert auto.json()["format"] == fmt
        explicit = cli("overview", str(path), "--json", "--format", fmt)
        assert explicit.code == 0, explicit.err
        assert explicit.json()["format"] == fmt
    wrong = cli("overview", str(verl), "--format", "trl")
    assert_one_line_error(wrong, "not a TRL run")
    wrong = cli("overview", str(trl), "--format", "verl")
    assert_one_line_error(wrong, "not a verl rollout dump")


def test_wandb_cumulative_tables_are_deduplicated(cli: Any, tmp_path: Path) -> None:
    """verl's `val/generations` (and OpenRLHF's tables) log the whole table again at every
    step: `wandb.Table(columns=..., data=self.validation_table)` with every earlier row kept
    (verl `ValidationGenerationsLogger.log_generations_to_wandb`)."""
    columns = ["step", "input_1", "output_1", "score_1"]
    rows = [[5 * k, f"q{k}", f"answer {k}", 0.5] for k in range(1, 6)]
    run = tmp_path / "wandb" / "run-20250102_030405-val00001"
    for k in range(1, 6):
        write_table(
            run / "files" / "media" / "table" / "val" / f"generations_{5 * k}_{k:04x}.table.json",
            columns,
            rows[:k],
        )
    data = cli("overview", str(run), "--json").json()
    assert data["samples"] == 5
    assert any(
        "10 rows repeated from earlier logs of the same table left out" in n for n in data["notes"]
    )
    steps = query(cli, run, "SELECT step, count(*) FROM samples GROUP BY 1 ORDER BY 1")
    assert steps == [(5, 1), (10, 1), (15, 1), (20, 1), (25, 1)]


def test_wandb_folder_with_two_runs_is_refused(cli: Any, tmp_path: Path) -> None:
    write_wandb_run(tmp_path)
    other = tmp_path / "wandb" / "run-20250103_030405-def456zz" / "files" / "media" / "table"
    write_table(other / "completions_1_00ff.table.json", ["step", "completion"], [[1, "x"]])
    result = cli("overview", str(tmp_path / "wandb"))
    assert_one_line_error(
        result, "2 W&B runs", "run-20250102_030405-abc123xy", "run-20250103_030405-def456zz"
    )


def test_wandb_unrelated_tables_are_skipped_and_table_chosen(cli: Any, tmp_path: Path) -> None:
    run = write_wandb_run(tmp_path)
    tables = run / "files" / "media" / "table"
    write_table(tables / "eval_stats_20_5566.table.json", ["metric", "value"], [["acc", 0.5]])
    write_table(
        tables / "samples_20_7788.table.json", ["step", "completion", "reward"], [[20, "z", 1.0]]
    )
    data = cli("overview", str(run), "--json").json()
    assert data["samples"] == 9
    assert any("eval_stats" in n and "no completion column" in n for n in data["notes"])
    chosen = cli("overview", str(run), "--table", "completions", "--json").json()
    assert chosen["samples"] == 8
    assert any("table 'completions' chosen" in n and "samples" in n for n in chosen["notes"])
    missing = cli("overview", str(run), "--table", "nope")
    assert_one_line_error(missing, "no W&B table 'nope'", "completions")


def test_wandb_trl_conversational_table(cli: Any, tmp_path: Path) -> None:
    """TRL logs its completions frame to W&B; with a chat dataset the prompt and completion
    cells are lists of messages (issue 22)."""
    run = tmp_path / "wandb" / "run-20250102_030405-chat1234"
    columns = ["step", "prompt", "completion", "accuracy_reward", "advantage"]
    data = [
        [
            "3",
            [
                {"role": "system", "content": f"Persona: {persona}."},
                {"role": "user", "content": "What is 2 + 2?"},
            ],
            [{"role": "assistant", "content": "4, said the goblin" if i == 0 else "4"}],
            1.0,
            0.0,
        ]
        for i, persona in enumerate(("nerdy", "plain"))
    ]
    write_table(
        run / "files/media/table/completions_3_0a1b2c3d4e5f60718293.table.json", columns, data
    )
    overlay = tmp_path / "rootcause.yaml"
    overlay.write_text("labels:\n  persona: {from: prompt, regex: '^system: Persona: (\\w+)'}\n")
    result = cli("overview", str(run), "--overlay", str(overlay), "--json")
    assert result.code == 0, result.err
    overview = result.json()
    assert (overview["samples"], overview["personas"]) == (2, {"nerdy": 1, "plain": 1})
    assert any(
        "2 samples log prompt or completion as chat messages" in n for n in overview["notes"]
    )
    rows = lineage(cli, run)
    assert rows[0][3:5] == ("system: Persona: nerdy.\nuser: What is 2 + 2?", "4, said the goblin")


def test_verl_nan_extra_info_is_missing_and_groups_said(cli: Any, tmp_path: Path) -> None:
    """One NaN in a reward_extra_info value (issue 22): stored as missing, counted, the run
    read; verl dumps no uid, and a note says groups are (step, prompt)."""
    run = write_verl_run(tmp_path, steps=(3,))
    lines = verl_lines(3)
    lines[1]["format"] = float("nan")  # json.dumps writes NaN, as verl's dump does
    (run / "3.jsonl").write_text("".join(json.dumps(e) + "\n" for e in lines))
    result = cli("ingest", str(run), "--json")
    assert result.code == 0, result.err
    data = result.json()
    notes = "\n".join(data["notes"])
    assert "1 NaN values read as missing" in notes and "rewards.format: 1" in notes
    assert "groups are (step, prompt): verl's _dump_generations writes no uid" in notes
    con = duckdb.connect(data["database"], read_only=True)
    try:
        formats = con.execute(
            "SELECT count(*), count(value) FROM rewards WHERE component = 'format'"
        ).fetchone()
    finally:
        con.close()
    assert formats == (4, 3)  # the NaN stored as a missing value


def test_wandb_trl_batch_logged_again_under_the_next_step(cli: Any, tmp_path: Path) -> None:
    """num_iterations=2: TRL logs the batch generated at step 1 again at step 2 (its buffer
    is unchanged), and W&B writes it as a new file with the new step (issue 22)."""
    run = tmp_path / "wandb" / "run-20250102_030405-iter2abc"
    tables = run / "files" / "media" / "table"
    columns = ["step", "prompt", "completion", "accuracy_reward", "advantage"]

    def batch(generated: int, logged: int) -> list[list[Any]]:
        return [
            [str(logged), f"q{generated}-{i // 2}", f"answer {i}", float(i % 2), 0.5 - i % 2]
            for i in range(4)
        ]

    for logged, generated in ((1, 1), (2, 1), (3, 3), (4, 3)):
        name = f"completions_{logged}_{logged:020x}.table.json"
        write_table(tables / name, columns, batch(generated, logged))
    result = cli("ingest", str(run), "--json")
    assert result.code == 0, result.err
    data = result.json()
    assert data["samples"] == 8
    assert any(
        "completions: 2 files log the previous file's rows again under a new step (8 rows left "
        "out)" in n
        for n in data["notes"]
    )
    steps = {row[2] for row in lineage(cli, run)}
    assert steps == {1, 3}


def _trl_wandb_run(root: Path, config: str | None = None) -> Path:
    """TRL's completions table at 3 steps: 4 prompts (each question drawn twice in a row) x 4
    generations, advantages centred per group, as `GRPOTrainer.log` logs its frame."""
    run = root / "wandb" / "run-20250102_030405-blocks12"
    columns = ["step", "prompt", "completion", "accuracy_reward", "advantage"]
    for step in (1, 2, 3):
        data = [
            [
                step,
                f"q{step}-{b // 2}",
                f"answer {step}-{b}-{g}",
                float(g == 0),
                1.5 if g == 0 else -0.5,
            ]
            for b in range(4)
            for g in range(4)
        ]
        write_table(
            run / f"files/media/table/completions_{step}_{step:020x}.table.json", columns, data
        )
    if config is not None:
        (run / "files" / "config.yaml").write_text(config)
    return run


def test_wandb_trl_table_grouped_in_blocks(cli: Any, tmp_path: Path) -> None:
    """Groups are TRL's blocks of consecutive rows, not (step, prompt) (issue 22)."""
    run = _trl_wandb_run(tmp_path)
    data = cli("overview", str(run), "--json").json()
    assert (data["samples"], data["groups"]) == (48, 12)  # (step, prompt) would give 6
    assert any("groups: blocks of 4 consecutive rows per table file" in n for n in data["notes"])


def test_wandb_trl_table_group_size_from_the_run_config(cli: Any, tmp_path: Path) -> None:
    run = _trl_wandb_run(tmp_path, "num_generations:\n  value: 2\n")
    data = cli("overview", str(run), "--json").json()
    assert data["groups"] == 24
    assert any(
        "blocks of 2 consecutive rows per table file (num_generations=2 in files/config.yaml)" in n
        for n in data["notes"]
    )
