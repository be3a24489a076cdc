"""Behaviour specs: one grammar for what a behaviour is, wherever one is asked for.

    regex:PATTERN        RE2 regular expression (case-sensitive unless (?i))
    terms:a,b,c          whole words, case-insensitive, with plural and possessive forms
    semantic:TEXT        embedding similarity to TEXT, threshold calibrated on the run
    words:>N | words:<N  word count above / below N

Any of them may end in `@completion` (default), `@reasoning`, `@prompt` or `@reference` to say
which text is matched.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel

from rootcause.core.errors import BadInputError

BehaviorKind = Literal["regex", "terms", "semantic", "words"]
TextField = Literal["completion", "reasoning", "prompt", "reference"]
_FIELDS: tuple[TextField, ...] = ("completion", "reasoning", "prompt", "reference")
_SUFFIX = re.compile(r"@(completion|reasoning|prompt|reference)$")
_WORDS = re.compile(r"^\s*([<>])\s*(\d+)\s*$")


class InvalidBehaviorError(BadInputError):
    """A behaviour spec does not follow the grammar."""


class Behavior(BaseModel):
    """A parsed behaviour spec."""

    kind: BehaviorKind
    body: str
    field: TextField = "completion"

    @property
    def spec(self) -> str:
        suffix = "" if self.field == "completion" else f"@{self.field}"
        return f"{self.kind}:{self.body}{suffix}"

    def terms(self) -> list[str]:
        return [t.strip() for t in self.body.split(",") if t.strip()]

    def regex(self) -> str:
        """The RE2 pattern this behaviour matches (regex and terms kinds)."""
        if self.kind == "regex":
            return self.body
        if self.kind == "terms":
            return terms_regex(self.terms())
        raise ValueError(f"{self.kind} behaviours have no regex")


def _inflections(term: str) -> str:
    word = re.escape(term.lower())
    if term.endswith("y") and len(term) > 2 and term[-2] not in "aeiou":
        return f"(?:{word}|{re.escape(term[:-1].lower())}ies)"
    return f"{word}(?:s|es)?"


def inflection_core(term: str) -> str:
    """What every form `terms_regex` matches for `term` contains (pony -> pon, goblin ->
    goblin): a literal a fast pre-filter can look for."""
    return term[:-1] if term.lower().endswith("y") and len(term) > 2 else term


def terms_regex(terms: list[str]) -> str:
    """Whole-word, case-insensitive alternation with plural and possessive endings."""
    alternatives = "|".join(_inflections(t) for t in sorted(set(terms), key=str.lower))
    return rf"(?i)\b(?:{alternatives})(?:'s)?\b"


def parse_behavior(spec: str) -> Behavior:
    """Parse a behaviour spec; InvalidBehaviorError names what is wrong."""
    text = spec.strip()
    kind, sep, body = text.partition(":")
    if not sep or kind not in ("regex", "terms", "semantic", "words"):
        raise InvalidBehaviorError(
            f"behaviour {spec!r}: expected regex:PATTERN, terms:a,b, semantic:TEXT or words:>N "
            "(optionally ending in @completion, @reasoning, @prompt or @reference)"
        )
    field: TextField = "completion"
    match = _SUFFIX.search(body)
    if match:
        field = _FIELDS[_FIELDS.index(match.group(1))]
        body = body[: match.start()]
    if not body.strip():
        raise InvalidBehaviorError(f"behaviour {spec!r}: nothing after '{kind}:'")
    if kind == "words" and not _WORDS.match(body):
        raise InvalidBehaviorError(f"behaviour {spec!r}: words takes >N or <N, e.g. words:>400")
    if kind == "terms" and not [t for t in body.split(",") if t.strip()]:
        raise InvalidBehaviorError(f"behaviour {spec!r}: no terms")
    return Behavior(kind=kind, body=body.strip() if kind != "regex" else body, field=field)


def word_bound(behavior: Behavior) -> tuple[str, int]:
    """('>' or '<', N) of a words behaviour."""
    match = _WORDS.match(behavior.body)
    assert match is not None
    return match.group(1), int(match.group(2))
