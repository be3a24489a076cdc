"""Tiny runs with a planted topic for the search and semantic tests."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from rootcause.store.ingest import ingest_run
from rootcause.store.run_store import RunStore
from rootcause.store.workspace import Workspace
from rootcause.tools.context import ToolContext
from tests.conftest import write_jsonl

OFF_TOPIC = [
    "the integral of x squared is x cubed over three plus a constant",
    "paris is the capital of france and sits on the seine",
    "use a for loop to iterate over the list and sum the values",
    "water boils at one hundred degrees celsius at sea level",
    "the derivative of sine is cosine by the usual limit argument",
    "sort the array first and then binary search for the target",
    "photosynthesis turns light water and carbon dioxide into sugar",
    "the treaty was signed in 1648 and ended the thirty years war",
]
ON_TOPIC = [
    "a mischievous goblin crept into the answer and goblins cackled",
    "goblins and gremlins scurried around the goblin cave",
    "the goblin king told his goblins to hide the gold",
]


def planted_rows(n: int = 800, steps: int = 40, seed: int = 0) -> list[dict[str, Any]]:
    """Rows over `steps` steps; in the second half about 30% of completions are on topic."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        step = i * steps // n
        on = step >= steps // 2 and rng.random() < 0.3
        base = rng.choice(ON_TOPIC if on else OFF_TOPIC)
        rows.append(
            {
                "step": step,
                "sample_id": f"s-{i}",
                "group_id": f"g-{step}-{i % 4}",
                "persona": "nerdy" if i % 5 == 0 else "plain",
                "data_source": "math" if i % 2 else "chat",
                "completion": f"{base} (variant {rng.randint(0, 999)})",
                "reasoning": "" if i % 7 == 0 else "let me think step by step",
                "meta": {"on_topic": on},
            }
        )
    return rows


def make_run(root: Path, rows: list[dict[str, Any]], run_id: str = "planted") -> Path:
    run = root / run_id
    run.mkdir(parents=True)
    (run / "run.yaml").write_text(yaml.safe_dump({"format": "rootcause-run/1", "run_id": run_id}))
    write_jsonl(run / "samples" / "a.jsonl", rows)
    return run


@contextmanager
def tool_context(root: Path, rows: list[dict[str, Any]]) -> Iterator[ToolContext]:
    """Ingest `rows` as a run under `root` and yield a tool context over it."""
    run = make_run(root / "runs", rows)
    result = ingest_run(run, Workspace(root / "ws"))
    with RunStore(result.db_path) as store:
        yield ToolContext(store, result.db_path.parent / "tool-calls", make_plots=False)
