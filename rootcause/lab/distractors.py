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


class _Distractors:
    """The benign edits one scenario's config history can take, each a method that applies
    itself to the builder's configs and returns its commit message."""

    def __init__(self, b: ConfigBuilder, s: Scenario, spare_source: str | None) -> None:
        self.b, self.s, self.spare_source = b, s, spare_source
        self.names, self.c, self.rewards = s.names, s.names.components, b.rewards

    def pm_temperature(self) -> str:
        params = self.rewards[self.c["pref"]]["params"]
        params["temperature"] = round(float(params["temperature"]) - 0.1, 2)
        return f"tune {self.c['pref']} temperature"

    def format_bump(self) -> str:
        self.rewards[self.c["format"]]["weight"] = 0.25
        return f"raise {self.c['format']} weight slightly"

    def new_style(self) -> str:
        names = self.names
        free = [p for p in names.personas[:-1] if names.style_component(p) not in self.rewards]
        if not free:
            return self.trainer_tokens()
        p = free[0]
        self.rewards[names.style_component(p)] = {
            "name": names.style_component(p),
            "kind": "lexicon",
            "weight": 0.3,
            "applies_to": {"persona": [p], "data_source": [], "env": []},
            "inputs": ["completion"],
            "params": {"terms": list(FLAIR_TERMS[1:]), "base": 0.0, "bonus": 1.0, "max_hits": 2},
            "description": f"reward the {p} voice",
        }
        return f"add {p} style grader"

    def trainer_tokens(self) -> str:
        trainer = self.b.trainer
        trainer["max_new_tokens"] = int(trainer["max_new_tokens"]) + 512
        return f"raise max_new_tokens to {trainer['max_new_tokens']}"

    def trainer_eval(self) -> str:
        trainer = self.b.trainer
        trainer["eval_every"] = int(trainer["eval_every"]) + 5
        return f"eval every {trainer['eval_every']} steps"

    def kl_tweak(self) -> str:
        trainer = self.b.trainer
        trainer["kl_coef"] = round(float(trainer["kl_coef"]) * 0.75, 4)
        return f"lower kl_coef to {trainer['kl_coef']}"

    def rebalance(self) -> str:
        srcs: dict[str, Any] = self.b.mixture["sources"]
        keys = sorted(srcs)[:2]
        moved = round(min(0.03, float(srcs[keys[1]]["weight"]) / 3), 3)
        srcs[keys[0]]["weight"] = round(float(srcs[keys[0]]["weight"]) + moved, 3)
        srcs[keys[1]]["weight"] = round(float(srcs[keys[1]]["weight"]) - moved, 3)
        return f"rebalance {keys[0]} / {keys[1]}"

    def persona_traffic(self) -> str:
        mix: dict[str, float] = self.b.mixture["personas"]
        a, z = self.names.personas[0], self.names.personas[1]
        moved = round(min(0.04, mix[a] / 4), 3)
        mix[a], mix[z] = round(mix[a] - moved, 3), round(mix[z] + moved, 3)
        return "adjust persona traffic"

    def length_target(self) -> str:
        params = self.rewards[self.c["length"]]["params"]
        params["target_words"] = int(params["target_words"]) + 10
        return f"relax {self.c['length']} target to {params['target_words']} words"

    def pm_bump(self) -> str:
        params = self.rewards[self.c["pref"]]["params"]
        current = self.s.checkpoints.get(params["checkpoint"], self.s.default_pm)
        new = f"{params['checkpoint']}-r{int(self.b.rng.integers(2, 9))}"
        self.s.checkpoints[new] = current  # a retrain that likes the same things
        params["checkpoint"] = new
        return f"bump {self.c['pref']} to {new}"

    def safety_bump(self) -> str:
        params = self.rewards[self.c["safety"]]["params"]
        new = f"guard-{int(self.b.rng.integers(40, 90))}"
        self.s.checkpoints[new] = self.s.checkpoints[params["checkpoint"]]
        params["checkpoint"] = new
        return f"bump {self.c['safety']} to {new}"

    def add_spare(self) -> str:
        spare, sources = self.spare_source, self.b.mixture["sources"]
        if spare is None or spare in sources:
            return self.kl_tweak()
        src = next(x for x in self.names.sources if x.name == spare)
        sources[src.name] = {"weight": 0.08, "env": src.env}
        return f"add {src.name} to the prompt mix"

    def describe(self) -> str:
        name = self.c["refsim"]
        self.rewards[name]["description"] = "content-word overlap with the reference (F1-style)"
        return f"document {name}"


def distractor_edits(
    b: ConfigBuilder, s: Scenario, spare_source: str | None, ck_num: int, yymm: int
) -> list[Edit]:
    """Benign edits in random order; the first one is the correlated innocent one if possible."""
    edits, rng = _Distractors(b, s, spare_source), b.rng
    first = [edits.format_bump] if rng.random() < 0.8 else []
    rest: list[Edit] = [
        edits.pm_temperature,
        edits.new_style,
        edits.trainer_tokens,
        edits.trainer_eval,
        edits.kl_tweak,
        edits.rebalance,
        edits.persona_traffic,
        edits.length_target,
        edits.pm_bump,
        edits.safety_bump,
        edits.add_spare,
        edits.describe,
    ]
    order = rng.permutation(len(rest))
    n = int(rng.integers(5, 8))
    return first + [rest[int(i)] for i in order[:n]]
