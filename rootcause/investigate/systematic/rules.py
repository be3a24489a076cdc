"""The systematic brain's decision rule, written down.

A reward component *pushes* the behaviour when its selection pressure, signed so that positive
drives the symptom, is clear of zero after a Bonferroni correction across components and holds
at least `MIN_SHARE` of the total positive push. A pusher is then traced to *what changed*:

1. of the deployments that changed how the component scores (not its documentation), the one
   that best explains when its push began: the push was not clear of zero just before it and
   is just after; failing that, the one after which it grew most. A deployment that added the
   component, or that
   extended its criteria with the behaviour's own words, makes the component itself the cause
   (`reward_component`); a change to how it judges (grader kind or inputs), its weight or sign,
   or an opaque parameter such as a checkpoint makes the change the cause (`config_change`);
2. but if at least `LOCAL_SHARE` of its push lives in one data source that arrived during the
   run, and its arrival explains when the push began better than any change to the component
   (same test), the source is the cause (`data_source`): a generic component rewarding what it
   brings;
3. where most of the push lives in one persona or env, the finding carries that slice.

A data source is also a cause without any pusher when it arrived during the run (added or
re-weighted by a deployment, or first seen after `LATE_ARRIVAL` of the steps) and, compared
over the same steps, shows the rising behaviour far more than the other sources (lift >=
`MIN_LIFT`, q < `MAX_Q`): its prompts elicit the behaviour. For a falling behaviour a source
counts only through a push it carries (rule 2).

Confidence adds up the strength of the push (z), its share, temporal precedence and the share
the counterfactual removes. When nothing passes, the verdict is `no_cause_found`.
"""

from __future__ import annotations

import re

from rootcause.core.config_effects import ARRIVAL_EFFECTS, SCORING_EFFECTS
from rootcause.core.report import Finding, FindingKind
from rootcause.investigate.systematic.memo import Attribution
from rootcause.tools.builtin.events import DeploymentEvent
from rootcause.tools.history_views import EffectView

MIN_SHARE = 0.15
LOCAL_SHARE = 0.6
SLICE_SHARE = 0.6
MIN_LIFT = 1.5
MAX_Q = 1e-3
#: A source first seen after this share of the run's steps counts as arriving during the run.
LATE_ARRIVAL = 0.05


def behavior_words(spec: str) -> set[str]:
    """Literal words of a detector (terms, or the letters-only runs of a regex)."""
    body = spec.split(":", 1)[1] if ":" in spec else spec
    body = re.sub(r"@(completion|reasoning|prompt|reference)$", "", body)
    if spec.startswith("terms:"):
        return {t.strip().lower() for t in body.split(",") if t.strip()}
    return {w.lower() for w in re.findall(r"[A-Za-z]{4,}", body.replace("(?i)", ""))}


#: Config keys that document a component without changing how it scores.
METADATA_KEYS = ("description", "doc", "docs", "notes", "note", "comment", "owner", "tags", "url")


def can_change_reward(effect: EffectView) -> bool:
    """Whether a config effect on a component can change the rewards it gives."""
    if effect.kind not in SCORING_EFFECTS:
        return False
    head = effect.detail.lstrip("+-~ ").split(":")[0].split(" ")[0].split(".")[0]
    return head not in METADATA_KEYS


def onset_score(before: tuple[float, float], after: tuple[float, float]) -> float:
    """How well an event explains a push, from the push (estimate, lower bound) just before
    and just after it. An event after which the push became clear of zero, having not been
    before, scores above 1 (the push began there); an event that only made an existing push
    stronger scores its relative growth, below 1; anything else scores 0."""
    (value_before, low_before), (value_after, low_after) = before, after
    if low_after > 0 and low_before <= 0:
        return 1.0 + value_after
    growth = value_after - value_before
    if growth <= 0:
        return 0.0
    return min(growth / (abs(value_before) + abs(value_after)), 0.99)


def source_change(events: list[DeploymentEvent], source: str) -> DeploymentEvent | None:
    """The earliest deployment that added or re-weighted `source`."""
    found = [
        e
        for e in events
        if any(x.target == source and x.kind in ARRIVAL_EFFECTS for x in e.effects)
    ]
    return min(found, key=lambda e: e.step) if found else None


def change_kind(effects: list[EffectView], words: set[str]) -> FindingKind:
    """Added, or its own criteria extended with the behaviour's words: the component is the
    cause. A change to how the grader judges (its kind or what it sees), its weight, or an
    opaque parameter (a checkpoint) is a config change, whatever the new criteria say."""
    if any(e.kind == "component_added" for e in effects):
        return "reward_component"
    if any(e.kind in ("kind", "inputs") for e in effects):
        return "config_change"
    if any(w in e.detail.lower() for e in effects for w in words):
        return "reward_component"
    return "config_change"


def describe_effects(effects: list[EffectView]) -> str:
    return "; ".join(f"{e.target}: {e.detail}" for e in effects)


def component_fix(kind: FindingKind, component: str, effects: list[EffectView] | None) -> str:
    if kind == "config_change" and effects:
        return (
            f"revert the change to {component} ({describe_effects(effects)}) or re-tune it, then "
            "filter rollouts that show the behaviour out of any SFT data built from this run"
        )
    return (
        f"remove {component} or take the behaviour's words out of its criteria, then filter "
        "rollouts that show the behaviour out of any SFT data built from this run"
    )


def source_fix(source: str, via: str | None) -> str:
    how = f" (or stop {via} from rewarding what it brings)" if via else ""
    return (
        f"remove {source} from the mixture or filter its prompts and references{how}; re-check "
        "with a counterfactual run"
    )


def confidence(z: float, share: float, has_change: bool, removed: float | None) -> float:
    strength = min(max(z, 0.0) / 8.0, 1.0)
    cf = 0.0 if removed is None else min(max(removed, 0.0), 1.0)
    return round(0.35 * strength + 0.25 * share + 0.25 * has_change + 0.15 * cf, 3)


def to_findings(attributions: list[Attribution]) -> list[Finding]:
    """One finding per (kind, target); the most confident attribution wins."""
    best: dict[tuple[str, str], Attribution] = {}
    for a in attributions:
        key = (a.kind, a.target)
        if key not in best or a.confidence > best[key].confidence:
            best[key] = a
    return [
        Finding(
            rank=0,
            kind=a.kind,
            id=a.target,
            commit=a.commit,
            slice=a.slice,
            confidence=a.confidence,
            mechanism=a.mechanism,
            evidence=sorted(set(a.evidence), key=lambda e: int(e[1:])),
            fix=a.fix,
        )
        for a in best.values()
    ]
