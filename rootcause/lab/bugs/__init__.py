"""Seeded bugs, one registered mechanism per module (`@seeded_bug`): what the bug changes in
the config history (one commit among benign ones), the simulator knobs it turns, the causes
the answer key states, and the symptom and detector hint a user would bring.

A bug module gets a `BugSetup`: the run's names and config builder after the baseline, the
onset step, and the edits every bug composes (a persona's style reward, a new data source,
a changed key). The catalogue (`lab/catalogue.py`), `rootcause lab list`, the eval suites'
`bug: all` and the tests read this registry. A new bug is one new module here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rootcause.core.discovery import import_submodules
from rootcause.lab.graders import PrefModel
from rootcause.lab.names import Names, Source
from rootcause.lab.plan import ConfigBuilder, Edit, Scenario, add_component, style_spec
from rootcause.lab.render import FLAIR_TERMS

#: A cause as the builder collects it: (kind, id, edit handle or None, slice).
PendingCause = tuple[str, str, int | None, dict[str, str] | None]


@dataclass
class BugSetup:
    """What a bug's `seed` function works with (see the module doc); it appends its causes
    to `causes` and sets the scenario's knobs, hint and symptom on `scenario`."""

    builder: ConfigBuilder
    scenario: Scenario
    rng: np.random.Generator
    onset: int
    #: A second step after the onset (for a second cause).
    second: int
    quirk_persona: str
    spare_chat: Source
    spare_story: Source
    base_terms: dict[str, float]
    checkpoint_number: int
    checkpoint_yymm: int
    causes: list[PendingCause] = field(default_factory=list)
    #: The spare chat source is taken by the bug (the distractors must not add it).
    spare_used: bool = False

    @property
    def names(self) -> Names:
        return self.scenario.names

    @property
    def components(self) -> dict[str, str]:
        return self.scenario.names.components

    @property
    def envs(self) -> dict[str, str]:
        return self.scenario.names.envs

    def at(self, step: int, edit: Edit) -> int:
        return self.builder.at(step, edit)

    def cause(
        self, kind: str, ident: str, edit: Edit | None, step: int, where: dict[str, str] | None
    ) -> None:
        """A cause of the answer key, with the edit that brings it in at `step`."""
        self.causes.append((kind, ident, None if edit is None else self.at(step, edit), where))

    def persona_quirk(self) -> str:
        """The quirk persona's style reward gains the tic words (added if it had none)."""
        b, persona = self.builder, self.quirk_persona
        w0, w1 = self.names.tic_words[0], self.names.tic_words[1]
        name = self.names.style_component(persona)
        if name in b.rewards:
            b.rewards[name]["params"]["terms"] += [w0, w1]
            b.rewards[name]["weight"] = 1.2
            return f"expand {persona} lexicon with playful vocabulary"
        add_component(b, name, style_spec(persona, [*FLAIR_TERMS[:2], w0, w1], 1.5))
        return f"add {persona} style grader"

    def add_source(self, name: str, env_name: str) -> Edit:
        def edit() -> str:
            self.builder.mixture["sources"][name] = {"weight": 0.22, "env": env_name}
            return f"add {name} to the prompt mix"

        return edit

    @staticmethod
    def set_path(obj: dict[str, Any], key: str, value: Any, message: str) -> Edit:
        def edit() -> str:
            obj[key] = value
            return message

        return edit

    def new_checkpoint(self, terms: dict[str, float]) -> str:
        """A newer preference-model checkpoint liking `terms` on top of the baseline's."""
        name = f"pm-v{self.checkpoint_number + 1}-{self.checkpoint_yymm + 1}"
        self.scenario.checkpoints[name] = PrefModel({**self.base_terms, **terms}, 0.2)
        return name


@dataclass(frozen=True)
class BugSpec:
    """One seeded bug: its stable id, its position (`index`, which seeds the bug's random
    streams, so it never changes), a one-line summary, the kind of cause the key states, and
    the mechanism. `hack_predates`: the run starts with the code-env hack already learnt (the
    tests grader is gameable from the start, and no reasoning monitor is drawn)."""

    id: str
    index: int
    summary: str
    cause_kind: str
    seed: Callable[[BugSetup], None]
    hack_predates: bool = False


BUGS: dict[str, BugSpec] = {}


def seeded_bug(
    id: str, index: int, summary: str, cause_kind: str, hack_predates: bool = False
) -> Callable[[Callable[[BugSetup], None]], Callable[[BugSetup], None]]:
    """Register the decorated function as the mechanism of bug `id`."""

    def register(seed: Callable[[BugSetup], None]) -> Callable[[BugSetup], None]:
        if id in BUGS or any(b.index == index for b in BUGS.values()):
            raise ValueError(f"seeded bug {id!r} (index {index}) is registered twice")
        BUGS[id] = BugSpec(id, index, summary, cause_kind, seed, hack_predates)
        return seed

    return register


def load_bugs() -> dict[str, BugSpec]:
    """Every bug module of this package imported (registering itself); by index."""
    import_submodules(__name__, __path__)
    return dict(sorted(BUGS.items(), key=lambda item: item[1].index))
