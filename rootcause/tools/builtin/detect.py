"""`detect`: preview a behaviour detector before building on it."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pyarrow as pa
from pydantic import BaseModel, Field

from rootcause.analysis.ngrams import stem
from rootcause.behaviour.behavior import Behavior, word_bound
from rootcause.behaviour.frame import run_frame
from rootcause.behaviour.matching import behavior_frame, behavior_hits, resolve
from rootcause.behaviour.proposal import Candidate, propose_detector, run_suggestions
from rootcause.behaviour.proposal_views import (
    ProposalView,
    SuggestionView,
    proposal_view,
    suggestion_views,
)
from rootcause.core.errors import BadInputError
from rootcause.core.evidence import Figure
from rootcause.core.untrusted import fenced, inline, label, quote
from rootcause.tools.base import ToolInput, ToolOutput, tool
from rootcause.tools.context import ToolContext

#: Longest example text fetched (cut in the database; the full length is kept).
MAX_EXAMPLE_CHARS = 2000


class DetectInput(ToolInput):
    behavior: str | None = Field(
        None, description="Behaviour spec, e.g. terms:goblin,gremlin or regex:..."
    )
    symptom: str | None = Field(
        None, description="Or: the symptom in plain words; a detector is proposed from it."
    )
    examples: int = Field(3, ge=0, le=10, description="Hits and near misses to show.")


class Example(BaseModel):
    sample_id: str
    step: int
    persona: str | None
    text: str = Field(description=f"The text, cut to {MAX_EXAMPLE_CHARS:,} chars.")
    chars: int | None = Field(None, description="The text's full length.")

    def quoted(self) -> str:
        return quote(self.text, self.sample_id, total=self.chars)


class DetectOutput(ToolOutput):
    behavior: str | None = Field(description="The detector; null when the symptom is not found.")
    field: str
    samples: int
    hits: int
    rate: float
    rate_first_tenth: float
    rate_last_tenth: float
    by_persona: dict[str, float]
    hit_examples: list[Example]
    near_misses: list[Example]
    near_miss_rule: str
    proposal: ProposalView | None = None
    sampled: str | None = Field(None, description="How a judge: detector was evaluated.")
    suggestions: list[SuggestionView] = Field(
        default_factory=list,
        description="The run's top emerging behaviours, when the detector matched nothing.",
    )

    def render(self) -> str:
        lines = [] if self.proposal is None else _proposal_lines(self.proposal)
        if self.behavior is None:
            return "\n".join(lines + _suggestion_lines(self.suggestions))
        lines += [
            f"detector {inline(self.behavior)} on {self.field}: {self.hits:,} of "
            f"{self.samples:,} samples "
            f"({self.rate:.2%}); first tenth of steps {self.rate_first_tenth:.2%}, last tenth "
            f"{self.rate_last_tenth:.2%}",
        ]
        if self.by_persona:
            shown = ", ".join(f"{label(k)} {v:.2%}" for k, v in self.by_persona.items())
            lines.append(f"rate by persona: {shown}")
        lines.append("hits:")
        lines += [f"  step {e.step}: {e.quoted()}" for e in self.hit_examples]
        lines.append(f"near misses ({inline(self.near_miss_rule)}):")
        lines += [f"  step {e.step}: {e.quoted()}" for e in self.near_misses]
        if not self.near_misses:
            lines.append("  (none found)")
        if self.sampled:
            lines.append(f"evaluated on a sample: {inline(self.sampled)}")
        if self.hits == 0:
            lines += _suggestion_lines(self.suggestions)
        return "\n".join(lines)

    def figures(self) -> dict[str, Figure]:
        return {
            "behavior": self.behavior,
            "direction": None if self.proposal is None else self.proposal.direction,
            "found": None if self.proposal is None else self.proposal.found,
            "hits": self.hits,
            "samples": self.samples,
            "rate": self.rate,
            "rate_first_tenth": self.rate_first_tenth,
            "rate_last_tenth": self.rate_last_tenth,
        }


#: Candidates shown in the text rendering (all are in the JSON).
SHOWN_CANDIDATES = 14


def _proposal_lines(proposal: ProposalView) -> list[str]:
    said = f"; quoted: {', '.join(fenced(q) for q in proposal.quoted)}" if proposal.quoted else ""
    lines = [
        f"symptom read as: {proposal.field}; direction {proposal.direction} (from the "
        f"{proposal.direction_from}){said}",
        inline(proposal.semantic),
        ("detector: " if proposal.found else "symptom not found: ") + inline(proposal.why),
        *(inline(line) for line in (proposal.check.lines if proposal.check else [])),
        *_reading_lines(proposal),
        "candidates measured (first vs last quarter of samples; * carries the symptom):",
    ]
    shown = sorted(proposal.candidates, key=lambda c: (c.verdict != "chosen", not c.carries))
    for c in shown[:SHOWN_CANDIDATES]:
        sim = "" if c.similarity is None else f", similarity {c.similarity:.2f}"
        lines.append(
            f"  {'*' if c.carries else ' '} {inline(c.behavior)}: {c.hits:,} hits, "
            f"{c.rate_early:.2%} -> {c.rate_late:.2%} (z={c.z:.1f}{sim}; {inline(c.basis)}) "
            f"- {inline(c.verdict)}"
        )
    if len(shown) > SHOWN_CANDIDATES:
        lines.append(f"  ({len(shown) - SHOWN_CANDIDATES} more in the JSON output)")
    return lines


def _reading_lines(proposal: ProposalView) -> list[str]:
    if not proposal.readings:
        return []
    lines = ["other readings that carry the symptom about as well (pass one as --behavior):"]
    lines += [
        f"  {inline(r.behavior)}: {r.hits:,} hits, {r.rate_early:.2%} -> {r.rate_late:.2%}, "
        f"overlap {r.overlap:.0%} with the detector ({inline(r.basis)}); e.g. "
        f"{quote(r.example, r.sample_id)}"
        for r in proposal.readings
    ]
    return lines


def _suggestion_lines(suggestions: list[SuggestionView]) -> list[str]:
    if not suggestions:
        return ["the run shows no emerging behaviour to suggest"]
    lines = ["what the run does show (pass one as --behavior):"]
    lines += [
        f"  {inline(s.behavior)}: {s.direction} {s.rate_early:.2%} -> {s.rate_late:.2%} "
        f"(z={s.z:.1f}; {label(s.label)})"
        for s in suggestions
    ]
    return lines


def _propose(ctx: ToolContext, symptom: str) -> tuple[str | None, ProposalView, list[Candidate]]:
    found = propose_detector(ctx, symptom)
    chosen = found.chosen
    return (chosen.spec if chosen else None), proposal_view(found), found.suggestions


def _near_miss_sql(behavior: Behavior) -> tuple[str, list[Any], str] | None:
    """A looser version of the detector, to show what it narrowly leaves out."""
    column = f"coalesce({behavior.field}, '')"
    if behavior.kind == "terms":
        stems = [re.escape(stem(t.lower())) for t in behavior.terms()]
        return (
            f"regexp_matches({column}, ?)",
            [f"(?i)(?:{'|'.join(stems)})"],
            "share a term's stem but are not whole-word matches",
        )
    if behavior.kind == "regex" and behavior.body.startswith("(?i)"):
        # Its looser version is itself: no text to scan for what it leaves out.
        return "false", [], "none possible: this detector already ignores case"
    if behavior.kind == "regex":
        return (
            f"regexp_matches({column}, ?)",
            [f"(?i){behavior.body}"],
            "match only when case is ignored",
        )
    if behavior.kind == "words":
        op, bound = word_bound(behavior)
        low, high = (int(bound * 0.85), bound) if op == ">" else (bound, int(bound * 1.15) + 1)
        return (
            f"len(regexp_extract_all({column}, '\\S+')) BETWEEN ? AND ?",
            [low, high],
            "fall within 15% of the word bound",
        )
    return None


def _examples(
    ctx: ToolContext, field: str, where: str, params: list[Any], limit: int
) -> list[Example]:
    if limit == 0:
        return []
    rows = ctx.con.execute(
        f"SELECT sample_id, step, persona, left({field}, {MAX_EXAMPLE_CHARS}), length({field}) "
        f"FROM samples WHERE {where} ORDER BY hash(sample_id) LIMIT {limit}",
        params,
    ).fetchall()
    return [
        Example(sample_id=r[0], step=r[1], persona=r[2], text=r[3] or "", chars=r[4] or 0)
        for r in rows
    ]


@tool("detect")
def detect(ctx: ToolContext, args: DetectInput) -> DetectOutput:
    """Preview a behaviour detector: how many samples it flags, its rate early and late in the
    run and per persona, example hits, and near misses (samples a looser version would flag).
    Read the hits and near misses to judge whether the detector catches the symptom before
    using it in other tools. Give `symptom` instead of `behavior` to have a detector proposed
    from plain words: candidates from its quotes and words, the run's emerging behaviours and
    those close to it in meaning, each measured on the run, with why the winner won; when
    nothing in the run carries the symptom it says so and lists what the run does show."""
    proposal: ProposalView | None = None
    suggested: list[Candidate] = []
    if args.behavior:
        spec: str | None = args.behavior
    elif args.symptom:
        spec, proposal, suggested = _propose(ctx, args.symptom)
    else:
        raise BadInputError("give --behavior SPEC or --symptom TEXT")
    if spec is None:
        return _not_found(proposal, suggested, run_frame(ctx).n)
    behavior = resolve(spec)
    frame, hits = behavior_frame(ctx, behavior)
    steps = frame.step
    lo, hi = np.quantile(steps, [0.1, 0.9]) if frame.n else (0, 0)
    early, late = steps <= lo, steps >= hi
    persona = frame.slice("persona")
    by_persona = {
        name: float(hits[persona.codes == i].mean())
        for i, name in enumerate(persona.names)
        if np.any(persona.codes == i)
    }
    hit_rows = np.flatnonzero(behavior_hits(ctx, behavior))  # row_idx of the hits
    ctx.con.register("hit_rows", pa.table({"row_idx": hit_rows}))
    try:
        hit_examples = _examples(
            ctx, behavior.field, "row_idx IN (SELECT row_idx FROM hit_rows)", [], args.examples
        )
        near = _near_miss_sql(behavior)
        near_misses, rule = [], f"not available for {behavior.kind} detectors"
        if near is not None:
            expr, params, rule = near
            near_misses = _examples(
                ctx,
                behavior.field,
                f"{expr} AND row_idx NOT IN (SELECT row_idx FROM hit_rows)",
                params,
                args.examples,
            )
    finally:
        ctx.con.unregister("hit_rows")
    sampled = None
    if behavior.kind == "judge":
        from rootcause.behaviour.judge import judge_result

        sampled = judge_result(ctx, behavior).describe()
    return DetectOutput(
        sampled=sampled,
        behavior=behavior.spec,
        field=behavior.field,
        samples=frame.n,
        hits=int(hits.sum()),
        rate=float(hits.mean()) if frame.n else 0.0,
        rate_first_tenth=float(hits[early].mean()) if early.any() else 0.0,
        rate_last_tenth=float(hits[late].mean()) if late.any() else 0.0,
        by_persona=by_persona,
        hit_examples=hit_examples,
        near_misses=near_misses,
        near_miss_rule=rule,
        proposal=proposal,
        suggestions=suggestion_views(
            (suggested or run_suggestions(ctx, behavior.field)) if not hits.any() else []
        ),
    )


def _not_found(
    proposal: ProposalView | None, suggested: list[Candidate], samples: int
) -> DetectOutput:
    return DetectOutput(
        behavior=None,
        field=proposal.field if proposal else "completion",
        samples=samples,
        hits=0,
        rate=0.0,
        rate_first_tenth=0.0,
        rate_last_tenth=0.0,
        by_persona={},
        hit_examples=[],
        near_misses=[],
        near_miss_rule="",
        proposal=proposal,
        suggestions=suggestion_views(suggested),
    )
