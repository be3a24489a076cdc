"""The run's emerging behaviours as candidate detectors of a symptom (`proposal`): each
behaviour with the tier it carries the symptom at (by the symptom's words, by meaning, or not
at all), and the union of the behaviours close in meaning to it."""

from __future__ import annotations

from rootcause.behaviour.behavior import TextField, ngram_spec
from rootcause.behaviour.candidate import Candidate
from rootcause.behaviour.meaning import Meaning
from rootcause.behaviour.run_behaviours import RunBehaviour, term_ok
from rootcause.behaviour.symptom import SymptomReading
from rootcause.behaviour.word_candidates import stems_of


def behaviour_candidates(
    reading: SymptomReading,
    behaviours: list[RunBehaviour],
    meaning: Meaning,
    by_words: bool = True,
) -> list[Candidate]:
    """The behaviours as candidates. Only behaviours found in the words of the run
    (`by_words`) can carry the symptom by its words; one the semantic step found (a cluster,
    the nearest pieces) carries it by meaning or not at all, so the extra never widens a
    detector made of the user's words."""
    stems = reading.stems
    column = reading.field
    quoted = {w for q in reading.quotes for w in q.lower().split()}
    out: list[Candidate] = []
    for b in behaviours:
        spec, terms = b.spec, b.terms
        naming = [m for m in b.members if stems_of([m]) & stems and m not in terms]
        if naming and stems_of(terms) & stems:
            # Members that name the symptom's words join the terms of a behaviour whose terms
            # name it too (a tic's words co-occur, so they may have joined as members only).
            terms = [*terms, *naming[:4]]
            spec = ngram_spec(terms, column)
        # Only a behaviour whose own terms (seed and stand-ins) name the symptom carries it;
        # one that merely has the symptom's words beside it is the context they appear in.
        shared = len(stems_of(terms) & stems) if by_words else 0
        if shared:
            # Its other members are tried as stand-ins for the symptom's words; the precision
            # check keeps only those whose own hits fill the words' slots.
            terms = [*terms, *(m for m in b.members if m not in terms and term_ok(m))]
            spec = ngram_spec(terms, column)
        how = "rising" if b.direction == "up" else "falling"
        source = "cluster" if b.source == "cluster" else "emerging"
        tier, basis = 0, f"{how} in the run ({b.source}: {b.label})"
        if shared and quoted & set(" ".join(terms).split()):
            tier, basis = 3, f"quoted, with its neighbours in the run ({b.label})"
        elif shared:
            tier, basis = 2, f"the symptom's words with their neighbours in the run ({b.label})"
        elif meaning.carries(b.spec):
            tier, basis = 1, f"close in meaning to the symptom ({b.label})"
        out.append(
            Candidate(
                spec,
                source,
                basis,
                tier,
                shared,
                similarity=meaning.similarity.get(b.spec),
                meaning_z=meaning.z.get(b.spec),
                label=b.label,
                terms=list(terms),
            )
        )
    return out


#: A behaviour joins the union of those close in meaning when its similarity z is within this
#: of the closest one's.
UNION_MARGIN = 1.0


def meaning_union(
    behaviours: list[RunBehaviour], meaning: Meaning, column: TextField
) -> Candidate | None:
    """The union of the behaviours that carry the symptom's meaning, moving the same way as
    the closest one and about as close: variants of one behaviour (several phrasings of a
    register, say) that no single n-gram group covers."""
    close = [b for b in behaviours if meaning.carries(b.spec)]
    if len(close) < 2:
        return None
    best = max(close, key=lambda b: meaning.z[b.spec])
    top = meaning.z[best.spec]
    members = [
        b
        for b in close
        if b.direction == best.direction and meaning.z[b.spec] >= top - UNION_MARGIN
    ]
    if len(members) < 2:
        return None
    terms = list(dict.fromkeys(t for b in members for t in b.terms))
    labels = "; ".join(b.label for b in members)
    return Candidate(
        ngram_spec(terms, column),
        "emerging",
        f"the behaviours close in meaning to the symptom, together ({labels})",
        1,
        similarity=meaning.similarity[best.spec],
        meaning_z=top,
        label=", ".join(terms[:6]),
        terms=terms,
    )
