"""A small native run whose config history exposes the reasoning to a grader at step 8.

Config commits (deployed at the steps in DEPLOY_STEPS; the last commit is never deployed):
  0 initial rewards and mixture      helpfulness_rm (prompt, completion), nerdy_style 0.5
  1 raise nerdy style weight         nerdy_style weight 0.5 → 1.0
  2 let style judge see reasoning    nerdy_style inputs + reasoning
  3 add forum data                   data/mixture.yaml + web_forum, README line edit
  4 try bigger helpfulness weight    helpfulness_rm weight 1.0 → 2.0 (never deployed)

Samples: 20 steps x 4 groups x 4; from step 8 on nerdy_style's logged input contains the
reasoning and its score grows with reasoning length; the completion ("goblin") rate jumps at
step 10. Every reasoning ends by restating the completion, which helpfulness_rm also sees: a
leak detector must not count that as the reasoning leaking.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import git
import numpy as np
import yaml

from tests.conftest import write_jsonl

DEPLOY_STEPS = (0, 4, 8, 12)
LEAK_STEP = 8
ONSET_STEP = 10
STEPS, GROUPS, SIZE = 20, 4, 4
WORDS = [
    "prime",
    "factor",
    "topology",
    "lemma",
    "matrix",
    "vector",
    "proof",
    "bound",
    "series",
    "limit",
    "integral",
    "graph",
    "kernel",
    "orbit",
    "field",
    "ring",
    "module",
    "tensor",
    "norm",
    "basis",
    "rank",
    "trace",
    "spectrum",
    "sheaf",
]


def _write(path: Path, doc: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(doc if isinstance(doc, str) else yaml.safe_dump(doc, sort_keys=False))


def make_history_repo(path: Path) -> list[str]:
    """The five commits above; returns their shas, oldest first."""
    repo = git.Repo.init(path)
    with repo.config_writer() as cw:
        cw.set_value("user", "name", "Ada")
        cw.set_value("user", "email", "ada@example.com")
    helpful = {"name": "helpfulness_rm", "kind": "rm", "weight": 1.0,
               "inputs": ["prompt", "completion"]}  # fmt: skip
    nerdy = {"name": "nerdy_style", "kind": "judge", "weight": 0.5, "inputs": ["completion"],
             "applies_to": {"persona": ["nerdy"]}, "params": {"rubric": "nerdy"}}  # fmt: skip
    mixture = {"sources": {"math_v2": {"weight": 0.6}, "chat_mix": {"weight": 0.4}},
               "personas": {"nerdy": 0.5, "plain": 0.5}}  # fmt: skip
    readme = "Reward configs.\nOwner: ada\n"
    plan: list[tuple[str, dict[str, Any]]] = [
        ("initial rewards and mixture", {}),
        ("raise nerdy style weight", {"nerdy": {"weight": 1.0}}),
        ("let style judge see reasoning", {"nerdy": {"inputs": ["completion", "reasoning"]}}),
        ("add forum data", {"source": ("web_forum", 0.2), "readme": "Owner: bob\n"}),
        ("try bigger helpfulness weight", {"helpful": {"weight": 2.0}}),
    ]
    shas = []
    for i, (message, change) in enumerate(plan):
        helpful.update(change.get("helpful", {}))
        nerdy.update(change.get("nerdy", {}))
        if "source" in change:
            name, weight = change["source"]
            mixture["sources"][name] = {"weight": weight}
        if "readme" in change:
            readme = "Reward configs.\n" + change["readme"]
        _write(path / "rewards" / "helpfulness_rm.yaml", helpful)
        _write(path / "rewards" / "nerdy_style.yaml", nerdy)
        _write(path / "data" / "mixture.yaml", mixture)
        _write(path / "README.md", readme)
        repo.index.add(["rewards", "data", "README.md"])
        date = f"2024-05-0{i + 1}T12:00:00"
        shas.append(repo.index.commit(message, author_date=date, commit_date=date).hexsha)
    repo.close()
    return shas


def _sample(rng: np.random.Generator, step: int, g: int, i: int) -> dict[str, Any]:
    nerdy = g % 2 == 0
    goblin = rng.random() < (0.7 if step >= ONSET_STEP else 0.05)
    completion = (
        "the goblin says the answer is forty two today" if goblin
        else "the final answer is forty two my friend"
    )  # fmt: skip
    n_words = int(rng.integers(12, 40))
    thoughts = " ".join(rng.choice(WORDS, size=n_words))
    reasoning = f"Step {step}, sample {g}-{i}: {thoughts}. So: {completion}"
    prompt = f"What is six times seven, question {g}?"
    rewards = {"helpfulness_rm": float(rng.normal(0.5, 0.1))}
    inputs = {"helpfulness_rm": f"Prompt: {prompt}\nResponse: {completion}"}
    if nerdy:
        leaked = step >= LEAK_STEP
        score = 0.3 + 0.3 * goblin + (0.02 * n_words if leaked else 0.0)
        rewards["nerdy_style"] = float(score + rng.normal(0, 0.05))
        inputs["nerdy_style"] = (
            f"Judge the style.\nReasoning: «{reasoning}»\nAnswer: {completion}" if leaked
            else f"Judge the style.\nAnswer: {completion}"
        )  # fmt: skip
    return {
        "step": step,
        "sample_id": f"s-{step}-{g}-{i}",
        "group_id": f"g-{step}-{g}",
        "data_source": "math_v2" if g < 2 else "chat_mix",
        "persona": "nerdy" if nerdy else "plain",
        "prompt": prompt,
        "reasoning": reasoning,
        "completion": completion,
        "rewards": rewards,
        "grader_inputs": inputs,
    }


def make_exposure_run(root: Path) -> tuple[Path, list[str]]:
    """Write the run under `root/run`; returns the run folder and the config commit shas."""
    run = root / "run"
    run.mkdir(parents=True)
    shas = make_history_repo(run / "configs")
    manifest = {
        "format": "rootcause-run/1",
        "run_id": "exposure",
        "config_repo": "configs",
        "deployments": [{"step": s, "commit": shas[i]} for i, s in enumerate(DEPLOY_STEPS)],
    }
    _write(run / "run.yaml", manifest)
    rng = np.random.default_rng(7)
    rows = [
        _sample(rng, step, g, i)
        for step in range(STEPS)
        for g in range(GROUPS)
        for i in range(SIZE)
    ]
    write_jsonl(run / "samples" / "a.jsonl", rows)
    return run, shas
