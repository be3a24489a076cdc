"""What the words of a symptom say, before looking at the run.

A symptom names which text to look at ("the reasoning ..."), may say that something fell
("has stopped", "no longer", "fewer"), may quote examples, and has content words. Only a small
set of unambiguous decrease phrases say *down*; every other direction comes from the data (a
reply that keeps "dropping X into its answers" has X going up). Quoted text is kept as written
and matched as written. Content words are the symptom's words minus function words, words that
describe answers or change rather than a behaviour, and the names of the run's slices
(personas, sources, envs), which say where, not what.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from dataclasses import field as default
from typing import Literal

from rootcause.analysis.ngrams import stem, tokenize
from rootcause.behaviour.behavior import TextField

Direction = Literal["up", "down"]

_QUOTES = (
    re.compile(r'"([^"\n]{1,160})"'),
    re.compile(r"“([^”\n]{1,160})”"),
    re.compile(r"‘([^’\n]{1,160})’(?!\w)"),
    re.compile(r"`([^`\n]{1,160})`"),
    re.compile(r"(?:^|(?<=[\s(\[:;,]))'([^\n]{1,160}?)'(?=[\s.,;:!?)\]]|$)"),
)
_DOWN = re.compile(
    r"\b(stop(?:ped|ping|s)?|no longer|not any ?more|no more|less|fewer|rarely|seldom|"
    r"hardly ever|disappear(?:ed|ing|s)?|vanish(?:ed|es|ing)?|decreas(?:ed|es|ing)|"
    r"declin(?:ed|es|ing))\b",
    re.I,
)
_NEGATED = re.compile(r"(?:n't|\bnot|\bnever|\bcannot)\s+(?:\w+\s+)?$", re.I)
_NOT_DOWN = re.compile(r"\bmore or less\b|\bno less\b", re.I)
_REASONING = re.compile(
    r"\b(reasoning|chain[- ]of[- ]thought|cot|thinking|thoughts?|scratch ?pad)\b", re.I
)
_PROMPT = re.compile(r"\b(prompts?|questions asked|inputs?)\b", re.I)
_ANSWER = re.compile(r"\b(answer|completion|response|repl(?:y|ies))", re.I)
_LONGER = re.compile(
    r"\b(longer|lengthier|verbose|verbosity|wordier|wordy|padded|rambl\w*|long[- ]winded)\b", re.I
)
_SHORTER = re.compile(r"\b(shorter|terse|curt|briefer|truncated)\b", re.I)

#: Words that describe outputs, change, time or the run rather than a behaviour.
GENERIC = frozenset(
    """
    a about above after again against all also always am an and any are as at be because
    been before being below between both but by can could did do does doing down during each
    end ends ending few for from further had has have having he her here hers him his how i
    if in into is it its itself just like me more most much my no nor not now of off often
    on once only or other our out over own same she should so some such than that the their
    them then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours answer answers
    answered answering completion completions response responses reply replies replying
    output outputs model models policy sample samples text texts message messages thing
    things word words phrase phrases mention mentions mentioned mentioning say says said
    saying talk talks talking use uses used using include includes including keep keeps kept
    keeping increasingly increasing increase increased growing grow grows grew rising rise
    rises rose frequently frequent often lately recently again still anymore longer shorter
    stopped stop stops reasoning chain thought thoughts cot thinking way ways lot lots many
    every become became becoming becomes got getting gets gotten open opens opening start
    starts started starting begin begins began right wrong example examples something
    someone kind sort persona personas task tasks prompt prompts source sources env envs
    environment environments step steps training trained train run runs checkpoint assistant
    user users bot chatbot llm while since later earlier time times day days week weeks
    seem seems seemed look looks looked feel feels felt sound sounds sounded turn turns
    turned turning less fewer rarely seldom anything everything nothing lately nowadays
    """.split()
)


@dataclass
class SymptomReading:
    """What the words of a symptom say: the text field, a stated fall (None: the data decides),
    quoted phrases as written, content words, and a length change if one is named."""

    text: str
    field: TextField
    direction: Direction | None
    quotes: list[str]
    content: list[str]
    length: Literal["longer", "shorter"] | None = None
    context: list[str] = default(default_factory=list)

    @property
    def stems(self) -> set[str]:
        """Stems of the content words and of the quoted words."""
        quoted = [w for q in self.quotes for w in tokenize(q) if w not in GENERIC]
        return {stem(w) for w in [*self.content, *quoted] if len(w) > 2}

    def focus(self) -> str:
        """The quotes and the words that are not generic (slice names included), the
        symptom's core for embedding."""
        return " ".join([*self.quotes, *self.content, *self.context])


def _quotes(text: str) -> tuple[list[str], str]:
    """Quoted phrases (as written, outer whitespace and a final comma or full stop trimmed)
    and the text with them removed."""
    found: list[str] = []
    rest = text
    for pattern in _QUOTES:
        for match in pattern.finditer(rest):
            phrase = " ".join(match.group(1).split()).rstrip(",.;:").strip()
            if phrase and any(ch.isalnum() or not ch.isspace() for ch in phrase):
                found.append(phrase)
        rest = pattern.sub(" ", rest)
    return list(dict.fromkeys(found)), rest


def _says_down(text: str) -> bool:
    """An unambiguous decrease phrase that is not negated ("won't stop" is a rise)."""
    cleaned = _NOT_DOWN.sub(" ", text)
    return any(not _NEGATED.search(cleaned[: m.start()]) for m in _DOWN.finditer(cleaned))


def _plain(word: str) -> str:
    """A token without a possessive ending; other contractions ("won't") become empty."""
    if word.endswith("'s"):
        return word[:-2]
    return "" if "'" in word else word


def read_symptom(text: str, slice_names: Collection[str] = ()) -> SymptomReading:
    """Read a symptom; `slice_names` (the run's personas, sources, envs) are kept out of the
    content words."""
    quotes, unquoted = _quotes(text)
    field: TextField = "completion"
    if _REASONING.search(text):
        field = "reasoning"
    elif _PROMPT.search(text) and not _ANSWER.search(text):
        field = "prompt"
    length: Literal["longer", "shorter"] | None = None
    if _LONGER.search(unquoted):
        length = "longer"
    elif _SHORTER.search(unquoted):
        length = "shorter"
    direction: Direction | None = "down" if _says_down(unquoted) else None
    names = {n.lower() for n in slice_names}
    name_words = {w for n in names for w in tokenize(n)}
    words = list(dict.fromkeys(_plain(w) for w in tokenize(unquoted)))
    content = [w for w in words if w not in GENERIC and len(w) > 2 and w not in name_words]
    context = [w for w in words if w in name_words]
    return SymptomReading(text, field, direction, quotes, content, length, context)
