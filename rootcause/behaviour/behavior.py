"""Behaviour specs: one grammar for what a behaviour is, wherever one is asked for.

    regex:PATTERN        RE2 regular expression (case-sensitive unless (?i))
    terms:a,b,c          whole words, case-insensitive, inflected both ways (goblins finds goblin)
    semantic:TEXT        embedding similarity to TEXT, threshold calibrated on the run
    judge:QUESTION       a yes/no question the configured LLM answers per sample (sampled)
    words:>N | words:<N  word count above / below N

Any of them may end in `@completion` (default), `@reasoning`, `@prompt` or `@reference` to say
which text is matched.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel

from rootcause.core.errors import BadInputError

BehaviorKind = Literal["regex", "terms", "semantic", "words", "judge"]
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


_VOWELS = frozenset("aeiou")
_SIBILANT_ENDS = ("s", "x", "z", "ch", "sh")


def _base_forms(word: str) -> set[str]:
    """The base forms `word` may be an inflection of (goblins -> goblin, faking -> fake,
    ponies -> pony, stopped -> stop), or the word itself when it looks like a base. Guesses
    that are not words do no harm: they only add strings that rarely occur."""
    if not word.isalpha() or len(word) < 4:
        return {word}
    bases: set[str] = set()
    if word.endswith("ies"):
        bases.add(word[:-3] + "y")
    elif word.endswith("es") and word[:-2].endswith(_SIBILANT_ENDS):
        bases.add(word[:-2])
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        bases.add(word[:-1])
    for suffix in ("ing", "ed"):
        stem = word[: -len(suffix)]
        if not word.endswith(suffix) or len(stem) < 3 or not _VOWELS & set(stem):
            continue
        if suffix == "ed" and stem.endswith("i"):
            bases.add(stem[:-1] + "y")
            continue
        bases.add(stem)
        doubled = stem[-1] == stem[-2] and stem[-1] not in _VOWELS
        if doubled and stem[-1] not in "slfz":
            bases.add(stem[:-1])  # stopped -> stop
        elif not doubled and stem[-1] not in _VOWELS:
            bases.add(stem + "e")  # faking -> fake
    return bases or {word}


def _forms(base: str) -> set[str]:
    """Plural / third person, past and -ing forms of a base word."""
    if base.endswith("y") and len(base) > 2 and base[-2] not in _VOWELS:
        return {base, base[:-1] + "ies", base[:-1] + "ied", base + "ing"}
    plural = base + ("es" if base.endswith(_SIBILANT_ENDS) else "s")
    if base.endswith("e"):
        return {base, plural, base + "d", base[:-1] + "ing"}
    return {base, plural, base + "ed", base + "ing"}


def word_forms(term: str) -> list[str]:
    """Every form `terms:` matches for `term`, inflected both ways on its last word: goblins
    matches goblin and goblins, faking matches fakes and faked. Lowercase, longest first."""
    words = term.lower().split()
    if not words:
        return []
    head, last = words[:-1], words[-1]
    lasts = {form for base in _base_forms(last) for form in _forms(base)} | {last}
    return sorted({" ".join([*head, w]) for w in lasts}, key=lambda f: (-len(f), f))


def inflection_core(term: str) -> str:
    """What every form `terms_regex` matches for `term` contains (ponies -> pon, goblins ->
    goblin): a literal a fast pre-filter can look for."""
    forms = word_forms(term)
    core = forms[0] if forms else term.lower()
    for form in forms[1:]:
        while not form.startswith(core):
            core = core[:-1]
    core = core or term.lower()
    return max(core.split(), key=len) if core.split() else core


def _alternative(form: str) -> str:
    return r"\s+".join(re.escape(part) for part in form.split())


def terms_regex(terms: list[str]) -> str:
    """Whole-word, case-insensitive alternation of every form of every term (plurals and verb
    endings both ways), with possessive endings."""
    forms = sorted({f for t in terms for f in word_forms(t)}, key=lambda f: (-len(f), f))
    return rf"(?i)\b(?:{'|'.join(_alternative(f) for f in forms)})(?:'s)?\b"


def phrase_pattern(phrase: str, gap: str = r"\s+", numbers: bool = False) -> str:
    """A regex for `phrase` as written, case aside: `gap` between its words, word boundaries
    only where it starts or ends with a word character (so `####` or `Great question!` can
    match), and with `numbers` any number where it has one ("All 5 tests passed")."""
    parts = []
    for word in phrase.split():
        escaped = re.escape(word)
        parts.append(re.sub(r"\d+", r"\\d+", escaped) if numbers else escaped)
    body = gap.join(parts)
    start = r"\b" if re.match(r"\w", phrase.strip()) else ""
    end = r"\b" if re.search(r"\w$", phrase.strip()) else ""
    return f"{start}{body}{end}"


def with_field(body: str, field: TextField) -> str:
    """`body` with the text-field suffix, omitted for the default field."""
    return body if field == "completion" else f"{body}@{field}"


def ngram_spec(grams: list[str], field: TextField = "completion") -> str:
    """A spec matching any of `grams` (token n-grams as `tokenize` makes them): `terms:` when
    every gram is one plain word, else a regex allowing any punctuation between words, where
    a number in a phrase matches any number ("#### 56" is the behaviour "#### N")."""
    grams = list(dict.fromkeys(g for g in grams if g.strip()))
    if all(re.fullmatch(r"[a-z0-9']+", g) for g in grams):
        return with_field(f"terms:{','.join(grams)}", field)
    alternatives = []
    for gram in grams:
        if re.fullmatch(r"[a-z0-9']+", gram):
            alternatives.append(_alternative_group(word_forms(gram)))
        else:
            alternatives.append(phrase_pattern(gram, gap=r"\W+", numbers=True))
    alternatives = list(dict.fromkeys(alternatives))
    return with_field(f"regex:(?i)(?:{'|'.join(alternatives)})", field)


def _alternative_group(forms: list[str]) -> str:
    return rf"\b(?:{'|'.join(_alternative(f) for f in forms)})\b"


def parse_behavior(spec: str) -> Behavior:
    """Parse a behaviour spec; InvalidBehaviorError names what is wrong."""
    text = spec.strip()
    kind, sep, body = text.partition(":")
    if not sep or kind not in ("regex", "terms", "semantic", "words", "judge"):
        raise InvalidBehaviorError(
            f"behaviour {spec!r}: expected regex:PATTERN, terms:a,b, semantic:TEXT, "
            "judge:QUESTION or words:>N "
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
