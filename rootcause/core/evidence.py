"""Evidence: the record a tool call leaves, so every number in a report can cite its source.

A record is kept small whatever a tool returned (a query can return a 400 MB cell): figures,
their names, the summary and the arguments are capped here, each cut said in the value, so an
evidence log, a report and a checkpoint stay a few KB per call.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

Figure = float | int | str | bool | None
#: What a record's figures can be about: the candidate causes of a run.
SubjectKind = Literal["reward_component", "data_source", "persona", "env", "config_change"]
#: Which way a record's figures move the behaviour's rate for a subject: `up` (more of it),
#: `down` (less of it), `neither` (measured, but not clear of zero, or no direction at all).
Points = Literal["up", "down", "neither"]

#: Longest string figure, figure name, summary and string argument kept.
MAX_FIGURE_CHARS = 200
MAX_FIGURE_NAME_CHARS = 160
MAX_SUMMARY_CHARS = 300
MAX_ARG_CHARS = 1000
#: Most figures kept, and most items of a list argument.
MAX_FIGURES = 100
#: Most subjects a record keeps (the ones that point a way first).
MAX_SUBJECTS = 100
MAX_ARG_ITEMS = 50
#: Name of the figure that counts the figures cut.
FIGURES_CUT = "(figures cut)"


_CUT_SAID = re.compile(r"… \[\+[\d,]+ chars cut\]")


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, with the cut said; a text already cut so is kept, and
    so is one whose cut would be no longer than its note (it would save nothing)."""
    note = f"… [+{len(text) - limit:,} chars cut]"
    if len(text) <= limit + len(note) or _CUT_SAID.fullmatch(text, limit):
        return text
    return f"{text[:limit]}{note}"


def _clip_arg(value: Any, depth: int = 0) -> Any:
    if isinstance(value, str):
        return clip(value, MAX_ARG_CHARS)
    if depth > 3:
        return clip(repr(value), MAX_ARG_CHARS)
    if isinstance(value, list):
        kept = [_clip_arg(v, depth + 1) for v in value[:MAX_ARG_ITEMS]]
        if len(value) > MAX_ARG_ITEMS:
            kept.append(f"… [+{len(value) - MAX_ARG_ITEMS:,} items cut]")
        return kept
    if isinstance(value, dict):
        items = list(value.items())[:MAX_ARG_ITEMS]
        return {clip(str(k), MAX_ARG_CHARS): _clip_arg(v, depth + 1) for k, v in items}
    return value


def clip_args(args: dict[str, Any]) -> dict[str, Any]:
    """Tool arguments with long strings and lists cut, each cut said (as a record keeps them)."""
    clipped: dict[str, Any] = _clip_arg(args)
    return clipped


class Subject(BaseModel):
    """One candidate a record's figures measure, and which way they point for it; the name
    as `rootcause.core.untrusted.label` shows it (a run's label that is not a plain
    identifier is quoted and escaped)."""

    kind: SubjectKind
    name: str
    points: Points = "neither"
    #: The figures, in words, that say which way (e.g. "pressure 0.012 [0.008, 0.016]").
    figures: str = ""

    @field_validator("name", "figures")
    @classmethod
    def _small(cls, text: str) -> str:
        return clip(text, MAX_FIGURE_CHARS)

    def text(self) -> str:
        return f"{self.kind} {self.name}"


class Evidence(BaseModel):
    """One tool call: what was asked, the key figures it produced, and where its plot is;
    which behaviour the figures measure (`behavior`, None when they measure none) and which
    candidates they are about (`about`), so a finding can be grounded only by evidence about
    its own candidate that points the behaviour's way."""

    id: str
    tool: str
    args: dict[str, Any]
    figures: dict[str, Figure] = Field(default_factory=dict)
    summary: str = ""
    plot: str | None = None
    behavior: str | None = None
    about: list[Subject] = Field(default_factory=list)

    @field_validator("about")
    @classmethod
    def _few_subjects(cls, about: list[Subject]) -> list[Subject]:
        pointing = sorted(about, key=lambda s: s.points == "neither")
        return pointing[:MAX_SUBJECTS]

    def subjects(self, kind: str, name: str) -> list[Subject]:
        """The subjects of this record that are candidate (`kind`, `name`)."""
        return [s for s in self.about if s.kind == kind and s.name == name]

    @field_validator("args")
    @classmethod
    def _small_args(cls, args: dict[str, Any]) -> dict[str, Any]:
        return clip_args(args)

    @field_validator("figures")
    @classmethod
    def _small_figures(cls, figures: dict[str, Figure]) -> dict[str, Figure]:
        cut_before = figures.get(FIGURES_CUT)
        items = [(k, v) for k, v in figures.items() if k != FIGURES_CUT]
        dropped = max(len(items) - MAX_FIGURES, 0)
        dropped += cut_before if isinstance(cut_before, int) else 0
        kept: dict[str, Figure] = {
            clip(name, MAX_FIGURE_NAME_CHARS): clip(value, MAX_FIGURE_CHARS)
            if isinstance(value, str)
            else value
            for name, value in items[:MAX_FIGURES]
        }
        if dropped:
            kept[FIGURES_CUT] = dropped
        return kept

    @field_validator("summary")
    @classmethod
    def _small_summary(cls, summary: str) -> str:
        return clip(summary, MAX_SUMMARY_CHARS)
