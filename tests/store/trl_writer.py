"""Write TRL GRPO completion files the way `GRPOTrainer` writes them (trl/trainer/grpo_trainer.py).

`_generate_and_score_completions` repeats each prompt `num_generations` times in a row, scores
every completion with each reward function (None -> NaN), sums them with `reward_weights`
(`nansum`), and computes the advantage per group: `(reward - nanmean_g) / (nanstd_g + 1e-4)`
with `scale_rewards="group"` (unbiased std, float32), 0 for a completion no function scored.
`log` writes the `_logs` deques (`maxlen=generation_batch_size`) as a pandas frame
`{step, prompt, completion, **rewards, **extra, advantage}` to
`completions/completions_{global_step:05d}.parquet`; the deques are never cleared, so a logging
step without a new generation writes the same batch again.

With a conversational dataset (`conversational=True` here) the trainer keeps each prompt as its
messages and decodes each completion as `[{"role": "assistant", "content": text}]`
(`_generate_and_score_completions`); `log` writes both through `strip_images_from_messages`,
which leaves text messages as they are, so the Parquet columns are lists of message structs.
A prompt here is `"<system>\n<user>"`, logged as a system and a user message.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd

RewardFn = Callable[[str, str, np.random.Generator], float | None]


@dataclass
class TrlWriter:
    """A stand-in for the trainer's logging: generate batches, log them to files."""

    output_dir: Path
    reward_funcs: dict[str, RewardFn]
    reward_weights: list[float]
    num_generations: int
    generation_batch_size: int
    seed: int = 0
    logs: dict[str, deque[Any]] = field(init=False)
    extra_names: list[str] = field(default_factory=list)
    conversational: bool = False

    def __post_init__(self) -> None:
        (self.output_dir / "completions").mkdir(parents=True, exist_ok=True)
        self.rng = np.random.default_rng(self.seed)
        size = self.generation_batch_size
        names = ["prompt", "completion", "advantage", *self.reward_funcs, *self.extra_names]
        self.logs = {name: deque(maxlen=size) for name in names}

    def generate(
        self,
        prompts: list[str],
        complete: Callable[[str, np.random.Generator], str],
        extra: Callable[[str, str], dict[str, Any]] | None = None,
        num_generations: int | None = None,
    ) -> None:
        """One generation batch: each prompt repeated num_generations times, in a row."""
        g = num_generations or self.num_generations
        rows = [p for p in prompts for _ in range(g)]
        completions = [complete(p, self.rng) for p in rows]
        per_func = np.array(
            [
                [
                    np.nan if (v := fn(p, c, self.rng)) is None else v
                    for fn in self.reward_funcs.values()
                ]
                for p, c in zip(rows, completions, strict=True)
            ],
            dtype=np.float32,
        )
        weights = np.array(self.reward_weights, dtype=np.float32)
        unscorable = np.isnan(per_func).all(axis=1)
        total = np.nansum(per_func * weights, axis=1)
        total[unscorable] = np.nan
        grouped = total.reshape(-1, g)
        mean = np.nanmean(grouped, axis=1).repeat(g)
        count = (~np.isnan(grouped)).sum(axis=1)
        var = np.nanvar(grouped, axis=1) * count / np.maximum(count - 1, 1)
        std = np.sqrt(var).repeat(g)
        advantages = np.nan_to_num((total - mean) / (std + np.float32(1e-4)), nan=0.0)
        self.logs["prompt"].extend(rows)
        self.logs["completion"].extend(completions)
        self.logs["advantage"].extend(advantages.astype(np.float32).tolist())
        for i, name in enumerate(self.reward_funcs):
            self.logs[name].extend(per_func[:, i].tolist())
        for name in self.extra_names:
            self.logs[name].extend(
                (extra(p, c) if extra else {}).get(name)
                for p, c in zip(rows, completions, strict=True)
            )

    def log(self, global_step: int) -> Path:
        """`GRPOTrainer.log`: the buffers as they are, to this step's file."""
        n = len(self.logs["prompt"])
        prompts: list[Any] = list(self.logs["prompt"])
        completions: list[Any] = list(self.logs["completion"])
        if self.conversational:
            prompts = [_messages(p) for p in prompts]
            completions = [[{"role": "assistant", "content": c}] for c in completions]
        table: dict[str, Any] = {
            "step": [global_step] * n,
            "prompt": prompts,
            "completion": completions,
            **{name: list(self.logs[name]) for name in self.reward_funcs},
            **{name: list(self.logs[name]) for name in self.extra_names},
            "advantage": list(self.logs["advantage"]),
        }
        path = self.output_dir / "completions" / f"completions_{global_step:05d}.parquet"
        pd.DataFrame(table).to_parquet(path)
        return path

    def save_state(self, global_step: int) -> Path:
        """`trainer_state.json` of a checkpoint: the logged metrics, reward means included."""
        folder = self.output_dir / f"checkpoint-{global_step}"
        folder.mkdir(exist_ok=True)
        history = [
            {"step": s, "loss": 0.1, **{f"rewards/{n}/mean": 0.5 for n in self.reward_funcs}}
            for s in range(1, global_step + 1)
        ]
        path = folder / "trainer_state.json"
        path.write_bytes(orjson.dumps({"global_step": global_step, "log_history": history}))
        return path


def _messages(prompt: str) -> list[dict[str, str]]:
    system, _, user = prompt.partition("\n")
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]
