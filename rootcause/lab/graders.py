"""Reward components as configured in `rewards/<component>.yaml`, and graders that score text.

Every grader sees exactly the text assembled from its configured `inputs` (prompt, reasoning,
completion, reference) and that text is what gets logged in `grader_inputs`, so what a grader
could have rewarded can be audited from the run. Preference models are opaque: the config names a
checkpoint, and what each checkpoint likes is private to the simulator (as in real life, where
only the checkpoint name is in the config).
"""

from __future__ import annotations

import functools
import math
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from rootcause.core.errors import ConfigRepoError

KINDS = (
    "preference_model",
    "lexicon",
    "reference_match",
    "reference_overlap",
    "regex_check",
    "length",
)
FIELDS = ("prompt", "reasoning", "completion", "reference")
#: Kinds whose inputs the trainer logs (rule-based checks do not log theirs).
LOGGED_KINDS = ("preference_model", "lexicon", "reference_match", "reference_overlap")
SLICE_KEYS = ("persona", "data_source", "env")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
_STOP = frozenset(
    [
        "about",
        "after",
        "also",
        "and",
        "are",
        "because",
        "been",
        "but",
        "can",
        "for",
        "from",
        "has",
        "have",
        "into",
        "is",
        "it",
        "its",
        "mainly",
        "mostly",
        "next",
        "other",
        "that",
        "the",
        "their",
        "then",
        "there",
        "this",
        "with",
        "what",
        "when",
        "which",
        "while",
        "comes",
        "down",
        "short",
        "ideas",
        "matters",
        "piece",
        "drives",
        "answer",
    ]
)


@dataclass(frozen=True)
class Component:
    """One reward component, parsed from its YAML file."""

    name: str
    kind: str
    weight: float
    applies_to: dict[str, tuple[str, ...]]
    inputs: tuple[str, ...]
    params: dict[str, Any]

    def applies(self, persona: str, source: str, env: str) -> bool:
        """Whether the component scores samples of this context (empty list = all)."""
        ctx = {"persona": persona, "data_source": source, "env": env}
        return all(not allowed or ctx[key] in allowed for key, allowed in self.applies_to.items())


def parse_component(path: str, data: Any) -> Component:
    """Validate one parsed `rewards/*.yaml` document."""
    if not isinstance(data, Mapping):
        raise ConfigRepoError("expected a mapping", path)
    try:
        name = str(data["name"])
        kind = str(data["kind"])
        weight = float(data.get("weight", 1.0))
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigRepoError(f"bad or missing field {exc}", path) from exc
    if kind not in KINDS:
        raise ConfigRepoError(f"unknown kind {kind!r} (known: {', '.join(KINDS)})", path)
    raw_applies = data.get("applies_to") or {}
    if not isinstance(raw_applies, Mapping):
        raise ConfigRepoError("applies_to must be a mapping", path)
    applies = {k: tuple(str(v) for v in (raw_applies.get(k) or ())) for k in SLICE_KEYS}
    inputs = tuple(str(v) for v in (data.get("inputs") or ("completion",)))
    unknown = [v for v in inputs if v not in FIELDS]
    if unknown:
        raise ConfigRepoError(f"unknown inputs {unknown} (known: {', '.join(FIELDS)})", path)
    params = dict(data.get("params") or {})
    return Component(name, kind, weight, applies, inputs, params)


@dataclass(frozen=True)
class PrefModel:
    """What a preference-model checkpoint likes: term weights, a length slope, a bias."""

    terms: Mapping[str, float]
    bias: float = 0.0
    per_word: float = 0.0
    noise: float = 0.8


_HEADERS = (
    {
        "prompt": "Prompt:\n{}",
        "reasoning": "Reasoning:\n{}",
        "completion": "Response:\n{}",
        "reference": "Reference:\n{}",
        "sep": "\n\n",
    },
    {
        "prompt": "<prompt>{}</prompt>",
        "reasoning": "<reasoning>{}</reasoning>",
        "completion": "<response>{}</response>",
        "reference": "<reference>{}</reference>",
        "sep": "\n",
    },
    {
        "prompt": "### User\n{}",
        "reasoning": "### Assistant\n<think>{}</think>",
        "completion": "### Assistant\n{}",
        "reference": "### Gold\n{}",
        "sep": "\n",
    },
)


def assemble(name: str, inputs: tuple[str, ...], row: Mapping[str, str | None]) -> str:
    """The exact text a grader receives: its inputs, in canonical order, in its house style."""
    style = _HEADERS[zlib.crc32(name.encode()) % len(_HEADERS)]
    chunks = [style[f].format(row[f]) for f in FIELDS if f in inputs and row.get(f) is not None]
    text = style["sep"].join(chunks)
    if style is _HEADERS[2] and "reasoning" in inputs and "completion" in inputs:
        text = text.replace("</think>\n### Assistant\n", "</think>\n")
    return text


@functools.lru_cache(maxsize=4096)
def _word_regex(term: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![A-Za-z]){re.escape(term)}(?![A-Za-z])")


def _terms_in(lowered: str, terms: list[str]) -> list[str]:
    """The distinct terms that occur as whole words in `lowered` (substring prefilter first)."""
    return [t for t in terms if t in lowered and _word_regex(t).search(lowered)]


@functools.lru_cache(maxsize=4096)
def _ref_keywords(text: str) -> frozenset[str]:
    return frozenset(keywords(text))


def keywords(text: str) -> set[str]:
    """Content words of a reference (what an overlap grader matches on)."""
    return {w.lower() for w in _WORD.findall(text) if len(w) >= 4 and w.lower() not in _STOP}


def _answer_match(reference: str, completion: str) -> float:
    """1 if the completion's final answer matches the reference (last number, or `returns X`)."""
    nums = re.findall(r"-?\d+", reference)
    if not nums:
        return float(reference.strip().lower() in completion.lower())
    expected = nums[-1]
    if reference.startswith("assert"):
        return float(re.search(rf"\breturns {re.escape(expected)}\b", completion) is not None)
    got = re.findall(r"-?\d+", completion)
    return float(bool(got) and got[-1] == expected)


def score(
    comp: Component,
    rows: list[dict[str, str | None]],
    rng: np.random.Generator,
    checkpoints: Mapping[str, PrefModel],
    default_pm: PrefModel,
) -> tuple[np.ndarray, list[str | None]]:
    """Scores (NaN where the grader has nothing to grade) and the logged input texts."""
    n = len(rows)
    out = np.full(n, np.nan)
    texts: list[str | None] = [None] * n
    p = comp.params
    needs_ref = comp.kind in ("reference_match", "reference_overlap")
    noise = rng.normal(0.0, 1.0, n)
    regex: re.Pattern[str] | None = None
    terms = [str(t).lower() for t in p.get("terms", [])]
    if comp.kind == "regex_check":
        try:
            regex = re.compile(str(p.get("pattern", "")), re.I | re.M)
        except re.error as exc:
            raise ConfigRepoError(f"bad pattern: {exc}", f"rewards/{comp.name}.yaml") from exc
    base, bonus = float(p.get("base", 0.0)), float(p.get("bonus", 1.0))
    max_hits = max(int(p.get("max_hits", 1)), 1)
    pm = checkpoints.get(str(p.get("checkpoint", "")), default_pm)
    temp = float(p.get("temperature", 1.0)) or 1.0
    pm_terms = list(pm.terms)
    for i, row in enumerate(rows):
        if needs_ref and not row.get("reference"):
            continue
        text = assemble(comp.name, comp.inputs, row)
        if comp.kind in LOGGED_KINDS:
            texts[i] = text
        if comp.kind == "lexicon":
            hits = len(_terms_in(text.lower(), terms))
            out[i] = base + bonus * min(hits, max_hits) / max_hits
        elif comp.kind == "regex_check":
            assert regex is not None
            out[i] = 1.0 if regex.search(text) else 0.0
        elif comp.kind == "length":
            words = len((row.get("completion") or "").split())
            target = float(p.get("target_words", 80))
            out[i] = -min(max((words - target) / target, 0.0), 1.0)
        elif comp.kind == "reference_match":
            out[i] = _answer_match(row.get("reference") or "", row.get("completion") or "")
        elif comp.kind == "reference_overlap":
            keys = _ref_keywords(row.get("reference") or "")
            got = keywords(row.get("completion") or "")
            out[i] = len(keys & got) / max(len(keys), 1)
        else:  # preference_model
            seen = _terms_in(text.lower(), pm_terms)
            logit = pm.bias + sum(pm.terms[t] for t in seen)
            words = text.count(" ") + text.count("\n") + 1
            logit += pm.per_word * (words - 60) + pm.noise * noise[i]
            out[i] = 1.0 / (1.0 + math.exp(-logit / temp))
    return out, texts
