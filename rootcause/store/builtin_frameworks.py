"""The frameworks rootcause reads out of the box, in detection order: the native manifest
first, then the foreign layouts from the most specific (TRL's `completions/` folder) to the
broadest (any `*.table.json`). Each row of the README's importer table is written here."""

from __future__ import annotations

from rootcause.store.framework import Framework, FrameworkOption
from rootcause.store.framework_config import TrlConfig, VerlConfig

#: The native `rootcause-run/1` format: always tried first, and not a foreign log.
NATIVE = "native"
_IMPORTERS = "rootcause.store.importers"
_GROUP_SIZE = FrameworkOption("group_size", "samples per group, as consecutive rows of a file")

BUILTIN: tuple[Framework, ...] = (
    Framework(
        name=NATIVE,
        title="rootcause-run/1",
        reader_spec="rootcause.store.native:NativeReader",
        reads="`run.yaml` and `samples/*.jsonl|.jsonl.gz|.parquet`",
    ),
    Framework(
        name="trl",
        title="TRL GRPO",
        reader_spec=f"{_IMPORTERS}.trl:TrlReader",
        reads="completions Parquet, plain or conversational; reward names from "
        "`trainer_state.json`; `num_generations` from W&B `config.yaml`",
        leaves_out="repeated batches; message fields other than role/content; non-assistant "
        "messages of a completion",
        fixtures="TRL 1.16.0's own `GRPOTrainer` on CPU, tiny Llama built in code, plain and "
        "conversational (`tools/fixtures/make_trl_fixture.py` -> `tests/fixtures/trl/`); edge "
        "cases by `tests/store/trl_writer.py`",
        config=TrlConfig(),
        options=(_GROUP_SIZE,),
    ),
    Framework(
        name="verl",
        title="verl",
        reader_spec=f"{_IMPORTERS}.verl:VerlReader",
        reads="`{step}.jsonl` rollout and validation dumps",
        leaves_out="score copies among the extras (flags and text extras kept in `extras`)",
        fixtures="the `_dump_generations` layout written in the tests",
        config=VerlConfig(),
    ),
    Framework(
        name="nemo-rl",
        title="NeMo-RL",
        reader_spec=f"{_IMPORTERS}.nemo_rl:NemoRlReader",
        reads="`train_data_step{N}.jsonl`, `val_data_step{N}.jsonl`",
        leaves_out="per-token arrays",
        fixtures="`tests/store/test_nemo_rl.py` (`log_batched_dict_as_jsonl` copied)",
        options=(_GROUP_SIZE,),
    ),
    Framework(
        name="prime-rl",
        title="prime-rl / verifiers",
        reader_spec=f"{_IMPORTERS}.prime_rl:PrimeRlReader",
        reads="`rollouts/step_N/.../traces.jsonl`",
        leaves_out="the `effective` subset where `all` exists; traces with no sampled message; "
        "null or non-numeric rewards; non-scalar task data",
        fixtures="`tests/store/test_prime_rl.py` (record layout copied)",
    ),
    Framework(
        name="vf-eval",
        title="verifiers vf-eval",
        reader_spec=f"{_IMPORTERS}.vf_eval:VfEvalReader",
        reads="`traces.jsonl` + `configs/resolved/eval.json` (episodes or bare traces)",
        leaves_out="traces with no sampled message; null or non-numeric rewards; non-scalar "
        "task data; tools, calls, timing",
        fixtures="verifiers 0.4.0's own `vf-eval` against a local stub chat server "
        "(`tools/fixtures/make_vf_eval_fixture.py` -> `tests/fixtures/vf_eval/`)",
    ),
    Framework(
        name="inspect",
        title="Inspect AI",
        reader_spec=f"{_IMPORTERS}.inspect_eval:InspectEvalReader",
        reads="`.eval` (zstd) and `.json` logs",
        leaves_out="non-numeric score values; failed samples; non-scalar metadata; the "
        "transcript and usage fields; output choices after the first",
        options=(
            FrameworkOption(
                "checkpoints", "the logs' training order, by eval.model or log file name"
            ),
        ),
        fixtures="inspect-ai 0.3.285 itself with `mockllm` "
        "(`tools/fixtures/make_inspect_fixture.py` -> `tests/fixtures/inspect/`)",
    ),
    Framework(
        name="wandb-table",
        title="W&B tables",
        reader_spec=f"{_IMPORTERS}.wandb:WandbTableReader",
        reads="`*.table.json` (a run folder or one file), plain or conversational; "
        "`num_generations` from the run's `files/config.yaml`",
        leaves_out="rows logged again (the same step and cells, or the previous file's rows "
        "under a new or the same step); tables without a completion column",
        fixtures="wandb 0.31.0 offline through TRL 1.16.0's `GRPOTrainer` "
        "(`report_to=wandb`, `num_iterations=2`), plain and conversational "
        "(`tools/fixtures/make_wandb_fixture.py` -> `tests/fixtures/wandb/`); verl's and "
        "OpenRLHF's layouts written in the tests",
        options=(_GROUP_SIZE, FrameworkOption("table", "the table key to read")),
        secondary=True,
    ),
)
