"""Shared pieces of the config history tools: opening a run's history and typed views of
commits, deployments and their effects."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pydantic import BaseModel

from rootcause.core.config_effects import ARRIVAL_EFFECTS, SCORING_EFFECTS
from rootcause.core.errors import BadInputError
from rootcause.core.evidence import Subject, SubjectKind
from rootcause.core.untrusted import inline, label
from rootcause.history import CommitDiff, ConfigHistory, Effect, effects, open_history
from rootcause.tools.context import ToolContext


class NoConfigRepoError(BadInputError):
    """The run has no config repository, so there is no history to diff."""


class EffectView(BaseModel):
    """One meaningful config change (`kind`: weight, inputs, component_added, source_added, ...)
    about `target` (a reward component, data source, persona or file)."""

    kind: str
    target: str
    detail: str
    file: str
    exposes_reasoning: bool = False

    def line(self) -> str:
        """One line for a rendering; target and detail come from the config repo (quoted or
        made visible)."""
        flag = " [grader now sees reasoning]" if self.exposes_reasoning else ""
        return f"{label(self.target)}: {inline(self.detail)}{flag}"


#: The candidate kind an effect is about, by the effect's kind (a file or other change is about
#: the commit alone).
_EFFECT_SUBJECTS: dict[str, SubjectKind] = {
    **dict.fromkeys((*SCORING_EFFECTS, "component_removed"), "reward_component"),
    **dict.fromkeys((*ARRIVAL_EFFECTS, "source_removed"), "data_source"),
    "persona_weight": "persona",
}


def change_subjects(commit: str, effects_of: list[EffectView]) -> list[Subject]:
    """What a record of a config change is about: the commit, and each component, source or
    persona its effects touch. None of them points a way: a diff says what changed, not how
    the behaviour moved (that is `event_alignment`'s)."""
    about = [Subject(kind="config_change", name=commit, figures=f"{len(effects_of)} effect(s)")]
    for e in effects_of:
        kind = _EFFECT_SUBJECTS.get(e.kind)
        if kind is not None:
            figures = f"{e.kind} in {commit[:10]}: {e.detail}"
            about.append(Subject(kind=kind, name=e.target, figures=figures))
    return about


def effect_views(diff: CommitDiff | None) -> list[EffectView]:
    if diff is None:
        return []
    return [EffectView(**_effect_fields(e)) for e in effects(diff)]


def _effect_fields(e: Effect) -> dict[str, object]:
    return {
        "kind": e.kind,
        "target": e.target,
        "detail": e.detail,
        "file": e.file,
        "exposes_reasoning": e.exposes_reasoning,
    }


def steps_text(steps: list[int]) -> str:
    """`live at step 8` / `live at steps 8, 30` / `never deployed`."""
    if not steps:
        return "never deployed"
    word = "step" if len(steps) == 1 else "steps"
    return f"live at {word} {', '.join(str(s) for s in steps)}"


@contextmanager
def history_of(ctx: ToolContext) -> Iterator[ConfigHistory]:
    """The run's config history; NoConfigRepoError (exit 2) when the run has none."""
    with open_history(ctx.store) as history:
        if history is None:
            raise NoConfigRepoError("the run has no config repository (run.yaml config_repo)")
        yield history


def known_names(ctx: ToolContext) -> tuple[list[str], list[str]]:
    """(reward components, data sources) named in the run's samples."""
    components = ctx.store.components()
    rows = ctx.con.execute(
        "SELECT DISTINCT data_source FROM samples WHERE data_source IS NOT NULL ORDER BY 1"
    ).fetchall()
    return components, [str(r[0]) for r in rows]
