"""A tiny matcher for the detector hints the lab writes in answer keys.

Grammar: `terms:a,b,c` (whole words, case-insensitive, with simple plural/inflection endings),
`regex:PATTERN`, `words:>N` (more than N words), each optionally followed by `@reasoning` (or
`@completion`, the default). The lab uses it for rerun summaries and its tests; investigators use
their own detectors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rootcause.core.errors import BadInputError

_FIELDS = ("completion", "reasoning", "prompt")


@dataclass(frozen=True)
class Hint:
    """A parsed detector hint."""

    kind: str
    spec: str
    field: str

    def matcher(self) -> re.Pattern[str] | int:
        """A compiled regex, or the word threshold for `words:>N`."""
        if self.kind == "words":
            return int(self.spec.lstrip(">").strip())
        if self.kind == "terms":
            terms = [t.strip() for t in self.spec.split(",") if t.strip()]
            alts = "|".join(re.escape(t).replace(r"\ ", r"[\s-]+") for t in terms)
            return re.compile(rf"\b({alts})(s|es|ed|ing|ish)?\b", re.I)
        return re.compile(self.spec)

    def match_all(self, texts: list[str]) -> list[bool]:
        """Whether each text shows the behaviour."""
        m = self.matcher()
        if isinstance(m, int):
            return [len(t.split()) > m for t in texts]
        return [m.search(t) is not None for t in texts]


def parse_hint(text: str) -> Hint:
    """Parse `kind:spec[@field]`."""
    kind, sep, rest = text.partition(":")
    if not sep or kind not in ("terms", "regex", "words"):
        raise BadInputError(f"bad detector hint {text!r} (expected terms:/regex:/words:)")
    spec, field = rest, "completion"
    head, at, tail = rest.rpartition("@")
    if at and tail in _FIELDS:
        spec, field = head, tail
    return Hint(kind, spec, field)
