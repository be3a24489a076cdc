"""Benign config commits that land near the onset (and elsewhere), as in any busy run.

Each distractor is a real change the simulator honours: a temperature tweak, a format weight
bump (which really does make the format marker rise around the onset: an innocent component
correlated with the symptom), a new style grader, trainer bookkeeping, mixture and persona
rebalancing, a preference-model checkpoint bump that changes nothing it likes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rootcause.lab.render import FLAIR_TERMS

if TYPE_CHECKING:
    from rootcause.lab.plan import ConfigBuilder, Scenario

Edit = Callable[[], str]


def distractor_edits(
    b: ConfigBuilder, s: Scenario, spare_source: str | None, ck_num: int, yymm: int
) -> list[Edit]:
    """Benign edits in random order; the first one is the correlated innocent one if possible."""
    names, c, rng = s.names, s.names.components, b.rng
    rewards = b.rewards

    def pm_temperature() -> str:
        params = rewards[c["pref"]]["params"]
        params["temperature"] = round(float(params["temperature"]) - 0.1, 2)
        return f"tune {c['pref']} temperature"

    def format_bump() -> str:
        rewards[c["format"]]["weight"] = 0.25
        return f"raise {c['format']} weight slightly"

    def new_style() -> str:
        free = [p for p in names.personas[:-1] if names.style_component(p) not in rewards]
        if not free:
            return trainer_tokens()
        p = free[0]
        rewards[names.style_component(p)] = {
            "name": names.style_component(p),
            "kind": "lexicon",
            "weight": 0.3,
            "applies_to": {"persona": [p], "data_source": [], "env": []},
            "inputs": ["completion"],
            "params": {"terms": list(FLAIR_TERMS[1:]), "base": 0.0, "bonus": 1.0, "max_hits": 2},
            "description": f"reward the {p} voice",
        }
        return f"add {p} style grader"

    def trainer_tokens() -> str:
        b.trainer["max_new_tokens"] = int(b.trainer["max_new_tokens"]) + 512
        return f"raise max_new_tokens to {b.trainer['max_new_tokens']}"

    def trainer_eval() -> str:
        b.trainer["eval_every"] = int(b.trainer["eval_every"]) + 5
        return f"eval every {b.trainer['eval_every']} steps"

    def kl_tweak() -> str:
        b.trainer["kl_coef"] = round(float(b.trainer["kl_coef"]) * 0.75, 4)
        return f"lower kl_coef to {b.trainer['kl_coef']}"

    def rebalance() -> str:
        srcs: dict[str, Any] = b.mixture["sources"]
        keys = sorted(srcs)[:2]
        moved = round(min(0.03, float(srcs[keys[1]]["weight"]) / 3), 3)
        srcs[keys[0]]["weight"] = round(float(srcs[keys[0]]["weight"]) + moved, 3)
        srcs[keys[1]]["weight"] = round(float(srcs[keys[1]]["weight"]) - moved, 3)
        return f"rebalance {keys[0]} / {keys[1]}"

    def persona_traffic() -> str:
        mix: dict[str, float] = b.mixture["personas"]
        a, z = names.personas[0], names.personas[1]
        moved = round(min(0.04, mix[a] / 4), 3)
        mix[a], mix[z] = round(mix[a] - moved, 3), round(mix[z] + moved, 3)
        return "adjust persona traffic"

    def length_target() -> str:
        params = rewards[c["length"]]["params"]
        params["target_words"] = int(params["target_words"]) + 10
        return f"relax {c['length']} target to {params['target_words']} words"

    def pm_bump() -> str:
        params = rewards[c["pref"]]["params"]
        current = s.checkpoints.get(params["checkpoint"], s.default_pm)
        new = f"{params['checkpoint']}-r{int(rng.integers(2, 9))}"
        s.checkpoints[new] = current  # a retrain that likes the same things
        params["checkpoint"] = new
        return f"bump {c['pref']} to {new}"

    def safety_bump() -> str:
        params = rewards[c["safety"]]["params"]
        new = f"guard-{int(rng.integers(40, 90))}"
        s.checkpoints[new] = s.checkpoints[params["checkpoint"]]
        params["checkpoint"] = new
        return f"bump {c['safety']} to {new}"

    def add_spare() -> str:
        if spare_source is None or spare_source in b.mixture["sources"]:
            return kl_tweak()
        src = next(x for x in names.sources if x.name == spare_source)
        b.mixture["sources"][src.name] = {"weight": 0.08, "env": src.env}
        return f"add {src.name} to the prompt mix"

    def describe() -> str:
        name = c["refsim"]
        rewards[name]["description"] = "content-word overlap with the reference (F1-style)"
        return f"document {name}"

    first = [format_bump] if rng.random() < 0.8 else []
    rest: list[Edit] = [
        pm_temperature,
        new_style,
        trainer_tokens,
        trainer_eval,
        kl_tweak,
        rebalance,
        persona_traffic,
        length_target,
        pm_bump,
        safety_bump,
        add_spare,
        describe,
    ]
    order = rng.permutation(len(rest))
    n = int(rng.integers(5, 8))
    return first + [rest[int(i)] for i in order[:n]]
