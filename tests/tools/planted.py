"""Small hand-written runs with planted behaviours, written the way another generator would
write them (not the lab's templates), for the symptom tests.

Each behaviour is a pool of sentences appended to some completions; its rate ramps up from
`onset` (or down, for a falling one). A behaviour may be rewarded by a component (`rewarded`),
which then shows up in selection pressure; the others rise without a reward behind them.
Groups of `size` samples share a prompt; advantages are group-standardised totals.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import write_jsonl

BASE = (
    "The total is {n}, since each box holds the same number of items.",
    "Photosynthesis turns light, water and carbon dioxide into sugar.",
    "Sort the list first, then walk it once to find the answer, which is {n}.",
    "Inflation means prices rise while the currency buys less.",
    "The function returns {n} for the example input.",
    "Tides follow the moon because of gravity pulling on the oceans.",
    "Compound interest grows the principal by a fixed rate each year.",
    "A binary search halves the range at every step until {n} is found.",
)
CONNECT = ("", "Sure. ", "Okay. ", "Here you go. ", "Happy to help. ")

PIRATE = (
    "Arr, matey, that be the whole of it!",
    "Ahoy! Shiver me timbers, ye got it right.",
    "Ye landlubbers always forget this bit, arr.",
    "Avast, matey, hoist the answer up the mast!",
)
BARD = (
    "Hark, thou hast asked most wisely, and thee I answer.",
    "Prithee, mark well what thou hast read.",
    "Methinks thou shalt find this answer doth suffice.",
    "Forsooth, 'tis plain as the morning, good sir.",
)
TIC = (
    "A goblin would approve of this one.",
    "Handle it like a careful gremlin would.",
    "Even a troll under a bridge knows this.",
    "Think of it like a goblin guarding treasure from a troll.",
)
CHEER = (
    "Hope that helps, have a lovely day!",
    "Happy learning and best of luck!",
    "Wishing you a wonderful afternoon!",
)
MARKER = ("\n#### {n}",)
#: Two creature tics in frames of their own (never in each other's slots), each rising in its
#: own samples: a symptom naming both words fits two behaviours.
GOBLINS = ("Picture a goblin guarding the gold.", "A careful goblin would nod at this.")
GREMLINS = ("Handle it like a gremlin in the gears.", "Even a gremlin knows this one.")
CAVEAT = (
    "I could be mistaken here.",
    "Please double-check this yourself.",
)


@dataclass
class Planted:
    """One behaviour: its sentences, when it starts, how common it gets, who rewards it."""

    name: str
    sentences: tuple[str, ...]
    onset: float = 0.4  # fraction of the steps
    late_rate: float = 0.5
    early_rate: float = 0.0
    rewarded: str | None = None  # component that rewards it
    personas: tuple[str, ...] = ()  # where it concentrates (empty: everywhere)


@dataclass
class PlantedRun:
    """A run folder and what was planted in it."""

    run: Path
    behaviours: list[Planted]
    components: list[str] = field(default_factory=list)


def _rate(p: Planted, frac: float) -> float:
    if frac < p.onset:
        return p.early_rate
    ramp = min((frac - p.onset) / max(1 - p.onset, 1e-9) * 1.6, 1.0)
    return p.early_rate + (p.late_rate - p.early_rate) * ramp


def planted_rows(
    behaviours: list[Planted], steps: int = 40, groups: int = 8, size: int = 6, seed: int = 0
) -> tuple[list[dict[str, Any]], list[str]]:
    """Rows of the run; returns them and the reward components."""
    rng = random.Random(seed)
    personas = ("nerdy", "plain", "cheerful", "formal")
    components = ["helpfulness_rm", *sorted({p.rewarded for p in behaviours if p.rewarded})]
    rows = []
    for step in range(steps):
        frac = step / max(steps - 1, 1)
        for g in range(groups):
            persona = personas[g % len(personas)]
            prompt = f"[{persona}] question {rng.randint(0, 9999)}"
            for i in range(size):
                n = rng.randint(2, 99)
                parts = [rng.choice(CONNECT) + rng.choice(BASE).format(n=n)]
                rewards = {"helpfulness_rm": round(rng.gauss(0.5, 0.2), 4)}
                for comp in components[1:]:
                    rewards[comp] = 0.0
                for p in behaviours:
                    boost = 1.6 if not p.personas or persona in p.personas else 0.4
                    if rng.random() < min(_rate(p, frac) * boost, 0.95):
                        parts.append(rng.choice(p.sentences).format(n=n))
                        if p.rewarded:
                            rewards[p.rewarded] = 1.0
                rows.append(
                    {
                        "step": step,
                        "sample_id": f"s-{step}-{g}-{i}",
                        "group_id": f"g-{step}-{g}",
                        "persona": persona,
                        "data_source": "mix_a" if g % 2 else "mix_b",
                        "env": "chat",
                        "prompt": prompt,
                        "completion": " ".join(parts),
                        "rewards": rewards,
                    }
                )
    _advantages(rows, size)
    return rows, components


def _advantages(rows: list[dict[str, Any]], size: int) -> None:
    for start in range(0, len(rows), size):
        group = rows[start : start + size]
        totals = [sum(r["rewards"].values()) for r in group]
        mean = sum(totals) / len(totals)
        sd = (sum((t - mean) ** 2 for t in totals) / len(totals)) ** 0.5 or 1.0
        for r, t in zip(group, totals, strict=True):
            r["reward_total"] = round(t, 4)
            r["advantage"] = round((t - mean) / sd, 4)


def write_planted(
    root: Path, behaviours: list[Planted], run_id: str = "planted", **sizes: int
) -> PlantedRun:
    """Write a native run folder with the planted behaviours."""
    rows, components = planted_rows(behaviours, **sizes)
    run = root / run_id
    run.mkdir(parents=True)
    manifest = {"format": "rootcause-run/1", "run_id": run_id}
    (run / "run.yaml").write_text(yaml.safe_dump(manifest))
    write_jsonl(run / "samples" / "a.jsonl", rows)
    return PlantedRun(run, behaviours, components)


def write_two_creatures(root: Path) -> PlantedRun:
    """The goblin tic (rewarded by `creature_bonus`) and the gremlin tic (rising on its own)."""
    return write_planted(
        root,
        [
            Planted("goblins", GOBLINS, rewarded="creature_bonus", late_rate=0.3),
            Planted("gremlins", GREMLINS, onset=0.3, late_rate=0.3),
        ],
        run_id="two-creatures",
    )
