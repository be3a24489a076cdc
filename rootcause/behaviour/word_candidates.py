"""The candidates made of the symptom's own words: its quotes as written, a length change it
names, its content words (alone, and in groups that occur together), and the moving n-grams
that share their stems. `proposal` measures and ranks them with the run's behaviours."""

from __future__ import annotations

import re

from rootcause.analysis.ngrams import stem, tokenize
from rootcause.behaviour.behavior import TextField, ngram_spec, phrase_pattern, with_field
from rootcause.behaviour.candidate import Candidate, association_groups
from rootcause.behaviour.context import RunContext
from rootcause.behaviour.matching import announce_bits, keep_union_bits
from rootcause.behaviour.run_behaviours import moving_ngrams, step_quartiles
from rootcause.behaviour.symptom import SymptomReading

#: Content words tried alone and together.
MAX_WORDS = 6


def stems_of(terms: list[str]) -> set[str]:
    return {stem(w) for t in terms for w in t.split() if len(w) > 2}


def word_candidates(reading: SymptomReading, ctx: RunContext) -> list[Candidate]:
    column = reading.field
    out: list[Candidate] = []
    if reading.length is not None:
        out.append(Candidate(_length_spec(ctx, reading), "length", "length named", 3, 1))
    quotes = [_quote_candidate(q, column) for q in reading.quotes]
    if len(quotes) > 1:
        pattern = "|".join(phrase_pattern(q, numbers=True) for q in reading.quotes)
        together = with_field(f"regex:(?i)(?:{pattern})", column)
        if all(_PLAIN_WORD.fullmatch(q) for q in reading.quotes):
            together = ngram_spec([q.lower() for q in reading.quotes], column)
        covered = sum(q.coverage for q in quotes)
        out.append(
            Candidate(
                together,
                "quote",
                "the quotes together",
                3,
                covered,
                terms=[_quote_term(q) for q in reading.quotes],
            )
        )
    out += quotes
    words = reading.content[:MAX_WORDS]
    out += [
        Candidate(ngram_spec([w], column), "words", f"the word {w!r}", 2, 1, terms=[w])
        for w in words
    ]
    announce_bits(ctx, [c.spec for c in out])  # scanned with the moving n-grams' bits
    return out + _moving_with_words(ctx, reading)


def _moving_with_words(ctx: RunContext, reading: SymptomReading) -> list[Candidate]:
    """The moving n-grams that share the most of the symptom's stems, one candidate per group
    of them that occurs together (n-grams of different behaviours stay apart)."""
    column = reading.field
    stems = reading.stems
    moving = [g for pairs in moving_ngrams(ctx, column).values() for g, _ in pairs]
    coverage = {g: len(stems_of([g]) & stems) for g in moving}
    best = max(coverage.values(), default=0)
    if not best:
        return []
    seeds = [g for g in moving if coverage[g] == best][:4]
    out = []
    seed_specs = [ngram_spec([g], column) for g in seeds]
    for group in association_groups(ctx, seed_specs):
        grams = [seeds[i] for i in group]
        basis = f"moving n-grams with the symptom's words: {', '.join(grams)}"
        covered = len(stems_of(grams) & stems)
        spec = ngram_spec(grams, column)
        keep_union_bits(ctx, spec, [seed_specs[i] for i in group])
        out.append(Candidate(spec, "words", basis, 2, covered, terms=grams))
    return out


#: A quote that is one plain word is matched as a `terms:` word (with its inflections).
_PLAIN_WORD = re.compile(r"[A-Za-z][A-Za-z']*")


def _quote_candidate(quote: str, column: TextField) -> Candidate:
    body = with_field(f"regex:(?i){phrase_pattern(quote, numbers=True)}", column)
    if _PLAIN_WORD.fullmatch(quote):
        body = ngram_spec([quote.lower()], column)
    coverage = max(len(stems_of(tokenize(quote))), 1)
    return Candidate(body, "quote", f"quoted: {quote}", 3, coverage, terms=[_quote_term(quote)])


def _quote_term(quote: str) -> str:
    """A quote as the token n-gram it is in the run's tokenised texts."""
    return " ".join(tokenize(quote, symbols=True)) or quote.lower()


def words_together(
    ctx: RunContext, reading: SymptomReading, measured: list[Candidate], min_hits: int
) -> list[Candidate]:
    """The symptom's content words that have hits in the run and occur together more often
    than chance, each such group as one detector (a word that catches another behaviour, such
    as a "Summary:" marker beside "passing test summary", stays out of the others' group)."""
    column = reading.field
    single = {c.spec: c for c in measured if c.source == "words"}
    words = [
        w
        for w in reading.content[:MAX_WORDS]
        if single.get(ngram_spec([w], column), Candidate("", "", "", 0)).hits >= min_hits
    ]
    if len(words) < 2:
        return []
    groups = association_groups(ctx, [ngram_spec([w], column) for w in words])
    return [
        Candidate(
            ngram_spec([words[i] for i in group], column),
            "words",
            "the symptom's content words that occur together in the run",
            2,
            len(group),
            terms=[words[i] for i in group],
        )
        for group in groups
        if len(group) >= 2
    ]


def _length_spec(ctx: RunContext, reading: SymptomReading) -> str:
    column = reading.field
    low, _ = step_quartiles(ctx)
    row = ctx.con.execute(
        f"SELECT quantile_cont(len(regexp_extract_all(coalesce({column}, ''), '\\S+')), "
        "[0.5, 0.9]) FROM samples WHERE step <= ?",
        [low],
    ).fetchall()[0][0]
    median, p90 = (round(v) for v in row)
    if reading.length == "longer":
        return with_field(f"words:>{p90}", column)
    return with_field(f"words:<{max(median // 2, 1)}", column)
