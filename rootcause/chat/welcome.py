"""The first screen of a new session: the run in a few lines and its top emerging behaviours
as numbered suggestions, each with the `/investigate` command that starts it.

    lines = run_lines(overview)
    for n, s in enumerate(suggest(engine), 1): print(n, s.line, s.command)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rootcause.core.untrusted import inline, label, labels

if TYPE_CHECKING:
    from rootcause.chat.engine import ChatEngine
    from rootcause.core.run import RunOverview

#: Suggestions offered at most (keys 1 to N start them).
MAX_SUGGESTIONS = 5
#: A behaviour spec longer than this is named by its words.
#: Words a suggestion names at most.
MAX_WORDS = 3
#: Names listed in a line before "and N more".
LISTED = 6


@dataclass(frozen=True)
class Suggestion:
    """A behaviour that rose (or fell) in the run, and the investigation that would explain it."""

    behavior: str
    #: The words it stands for (its terms, or the n-grams of a regex).
    words: list[str]
    direction: str
    rate_early: float
    rate_late: float
    symptom: str

    @property
    def line(self) -> str:
        verb = "rose" if self.direction == "up" else "fell"
        # Its words, never a regex: the line is read at a glance; the command says the spec.
        name = inline(", ".join(self.words), 60)
        return f"{name} {verb} {self.rate_early:.1%} -> {self.rate_late:.1%}"

    @property
    def command(self) -> str:
        return f"/investigate {self.symptom}"


def _listed(names: list[str]) -> str:
    shown = labels(names[:LISTED])
    return shown + (f" and {len(names) - LISTED} more" if len(names) > LISTED else "")


def run_lines(overview: RunOverview) -> list[str]:
    """The run in a few lines: samples, steps, components, personas, config commits."""
    personas = list(overview.personas)
    lines = [
        f"Run {label(overview.run_id)}: {overview.samples:,} samples over {overview.steps} steps.",
        f"Reward components ({len(overview.components)}): {_listed(list(overview.components))}.",
    ]
    if personas:
        lines.append(f"Personas ({len(personas)}): {_listed(personas)}.")
    if overview.deployments:
        first, last = overview.deployments[0].step, overview.deployments[-1].step
        lines.append(
            f"Config commits deployed: {len(overview.deployments)} (steps {first} to {last})."
        )
    return lines


def _words(behavior: str, candidate_label: str) -> list[str]:
    """The words a behaviour stands for: a term list's terms, else its label's first n-grams."""
    kind, _, body = behavior.partition(":")
    if kind == "terms":
        found = [w for w in body.split("@")[0].split(",") if w]
    else:
        found = [w.strip() for w in candidate_label.split(",") if w.strip()]
    return found[:MAX_WORDS] or [behavior]


def _symptom(words: list[str], direction: str) -> str:
    """A symptom in plain words (quoted words keep their meaning when it is read)."""
    more = "more and more" if direction == "up" else "less and less"
    quoted = " and ".join(f"'{w}'" for w in words)
    return f"Completions mention {quoted} {more}."


def suggest(engine: ChatEngine) -> list[Suggestion]:
    """The run's top emerging behaviours in the completions, measured (seconds on a large
    run: call it off the UI thread). Read without recording evidence."""
    from rootcause.behaviour.proposal import run_suggestions
    from rootcause.store.run_store import RunStore
    from rootcause.tools.context import ToolContext

    with (
        RunStore(engine.ingested.db_path) as store,
        ToolContext(store, engine.chat.folder / "peek", make_plots=False) as ctx,
    ):
        found = run_suggestions(ctx, "completion")
    suggestions = []
    for c in found[:MAX_SUGGESTIONS]:
        words = _words(c.spec, c.label)
        suggestions.append(
            Suggestion(
                behavior=c.spec,
                words=words,
                direction=c.direction,
                rate_early=0.0 if math.isnan(c.early) else c.early,
                rate_late=0.0 if math.isnan(c.late) else c.late,
                symptom=_symptom(words, c.direction),
            )
        )
    return suggestions
