"""Whether the recorded evidence shows the symptom absent from the run: what the LLM brain's
`symptom_not_found` rests on, checked against the `detect` records tools produced, never
against the model's word.

The symptom counts as absent when both hold:

- the user's own input (the symptom, or the behaviour spec given with `--behavior`) was run
  through `detect`, and no such call found a detector with hits: from a symptom, `detect`
  proposes a detector only among candidates that carry the symptom's words or meaning, and
  says "not found" when none of them has hits or moved;
- the model cites at least one `detect` call that matched nothing and none that matched
  something (a detector with hits shows a behaviour present, whatever the model says of it).

The report's suggestions (the run's top emerging behaviours, each with its `--behavior` spec)
are taken from those same `detect` outputs.
"""

from __future__ import annotations

from rootcause.core.evidence import MAX_ARG_CHARS, Evidence, clip
from rootcause.core.report import Suggestion
from rootcause.core.untrusted import inline
from rootcause.investigate.llm.memo import LLMMemo
from rootcause.investigate.state import InvestigationSpec, InvestigationState


def user_input(spec: InvestigationSpec) -> tuple[str, str]:
    """The `detect` argument the user's own words go in, and its value."""
    return ("behavior", spec.behavior) if spec.behavior else ("symptom", spec.symptom)


def _same(asked: object, given: str) -> bool:
    """Whether an argument a record keeps is the user's text (records clip long strings)."""
    if not isinstance(asked, str):
        return False
    return (
        " ".join(asked.split()).casefold()
        == " ".join(clip(given, MAX_ARG_CHARS).split()).casefold()
    )


def hits_of(record: Evidence) -> int:
    hits = record.figures.get("hits")
    return hits if isinstance(hits, int) and not isinstance(hits, bool) else 0


def _found(record: Evidence) -> str:
    behavior = record.figures.get("behavior")
    spec = inline(behavior) if isinstance(behavior, str) else "a detector"
    return f"{record.id} found {spec} in {hits_of(record):,} samples"


def user_detects(state: InvestigationState) -> list[Evidence]:
    """The `detect` records run with the user's own symptom (or given behaviour spec)."""
    key, value = user_input(state.spec)
    return [
        e
        for e in state.evidence
        if e.tool == "detect"
        and (_same(e.args.get(key), value) or (key == "behavior" and e.figures.get(key) == value))
    ]


def cited_detects(state: InvestigationState, cited: list[str]) -> list[Evidence]:
    ids = {c.strip() for c in cited}
    return [e for e in state.evidence if e.id in ids and e.tool == "detect"]


def absence_problems(state: InvestigationState, cited: list[str]) -> list[str]:
    """What in the evidence contradicts, or fails to show, that the symptom is absent (empty
    when the evidence shows it)."""
    known = {e.id for e in state.evidence}
    ids = [c.strip() for c in cited if c.strip()]
    problems = []
    unknown = [i for i in ids if i not in known]
    if unknown:
        problems.append(f"{', '.join(unknown)}: no tool produced these evidence ids")
    detects = cited_detects(state, ids)
    present = [e for e in detects if hits_of(e) > 0]
    problems += [f"{_found(e)}: that behaviour is in the run" for e in present]
    if not any(hits_of(e) == 0 for e in detects):
        problems.append("no cited detect call matched nothing; cite the detect calls that did")
    key, _ = user_input(state.spec)
    own = user_detects(state)
    if not own:
        problems.append(
            f"the user's {key} was not run through detect; call detect with it as {key} first"
        )
    problems += [
        f"{_found(e)} from the user's {key}: the symptom is in the run"
        for e in own
        if hits_of(e) > 0 and e not in present
    ]
    return problems


def absence_evidence(state: InvestigationState, cited: list[str]) -> list[str]:
    """The ids the verdict rests on: the user's own detect calls, then the cited ones."""
    records = [*user_detects(state), *cited_detects(state, cited)]
    return list(dict.fromkeys(e.id for e in records))


def suggestions(state: InvestigationState, memo: LLMMemo, cited: list[str]) -> list[Suggestion]:
    """What the run does show, from the detect outputs the verdict rests on (first come first,
    no spec twice, as many as the longest list)."""
    lists = [
        memo.empty_detects[i].suggestions
        for i in absence_evidence(state, cited)
        if i in memo.empty_detects
    ]
    merged: dict[str, Suggestion] = {}
    for views in lists:
        for view in views:
            merged.setdefault(view.behavior, Suggestion.model_validate(view.model_dump()))
    return list(merged.values())[: max((len(v) for v in lists), default=0)]


def why_absent(state: InvestigationState, memo: LLMMemo, cited: list[str]) -> str:
    """What the detect calls found, in the tool's own words where it gave them."""
    for evidence_id in absence_evidence(state, cited):
        output = memo.empty_detects.get(evidence_id)
        if output is not None and output.proposal is not None:
            return inline(output.proposal.why)
    tried = [
        inline(str(e.figures.get("behavior") or e.args.get("behavior") or e.args.get("symptom")))
        for e in cited_detects(state, cited)
    ]
    return f"{', '.join(tried)} matched no sample" if tried else "nothing matched"
