"""What a config change does, as one line a person aligning changes with a behaviour reads:
"weight of X 0.5 → 1.0", "X now sees reasoning", "source Y added".

Here (not in `history/`) because a framework plugin (`rootcause.store.framework`) says which
changes of its own config files are scoring changes, and the plugins sit below the history.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal, Protocol

#: Longest rendering of one value in a diff line.
MAX_VALUE_CHARS = 80

EffectKind = Literal[
    "component_added",
    "component_removed",
    "weight",
    "inputs",
    "applies_to",
    "kind",
    "params",
    "component_other",
    "source_added",
    "source_removed",
    "source_weight",
    "persona_weight",
    "other",
]
#: Effects that change what a reward component scores (its removal ends it, not changes it).
SCORING_EFFECTS: tuple[EffectKind, ...] = (
    "component_added",
    "weight",
    "inputs",
    "applies_to",
    "kind",
    "params",
    "component_other",
)
#: Effects that bring a data source in or change how much of it is sampled.
ARRIVAL_EFFECTS: tuple[EffectKind, ...] = ("source_added", "source_weight")


@dataclass(frozen=True)
class Effect:
    """One meaningful change: its kind, the component/source/file it is about, a line."""

    kind: EffectKind
    target: str
    detail: str
    file: str
    exposes_reasoning: bool = False

    def line(self) -> str:
        return f"{self.target}: {self.detail}"


class ConfigChange(Protocol):
    """One changed key of a structured config file (`rootcause.history.structural.KeyChange`)."""

    @property
    def path(self) -> tuple[str, ...]: ...

    def describe(self) -> str: ...


def fmt_value(value: Any, limit: int | None = MAX_VALUE_CHARS) -> str:
    """Compact one-line rendering of a config value, cut at `limit` characters (None: whole)."""
    if isinstance(value, str):
        text = value if value and " " not in value.strip() else json.dumps(value)
    else:
        text = json.dumps(value, default=str, ensure_ascii=False)
    text = " ".join(text.split())
    return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"
