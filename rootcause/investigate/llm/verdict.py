"""The LLM brain's verdict: what the model concluded (or, when it could not, what its ledger
holds), checked, and said honestly.

- `cause_found`: at least one finding is grounded (it cites evidence that tools produced and
  names one of the run's candidates) and every hypothesis proposed was tested;
- `no_cause_found`: every hypothesis proposed was tested and no finding is offered;
- `symptom_not_found`: the model answered that the symptom is not in the run and the recorded
  `detect` evidence shows it (`absence.py`); the report lists what the run does show. When
  the evidence does not show it, the answer is not taken: `inconclusive`, saying why;
- `inconclusive` otherwise: the investigation stopped (a budget, or a step the rest depends on
  failed) before its hypotheses were tested, a test step failed, or no finding survived the
  checks. The summary says what was and was not tested.

When the model gives no usable conclusion (a budget ran out in the last step, or the step
failed), the findings are its supported hypotheses, and the summary says so.
"""

from __future__ import annotations

from rootcause.core.report import Finding, LLMReportMeta, Verdict
from rootcause.core.untrusted import inline
from rootcause.investigate.llm.absence import (
    absence_evidence,
    absence_problems,
    suggestions,
    why_absent,
)
from rootcause.investigate.llm.referee import referee_findings
from rootcause.investigate.llm.schemas import Conclusion, to_finding
from rootcause.investigate.llm.session import LOG_NAME, Session
from rootcause.investigate.llm.support import support_problems


def ledger_findings(s: Session) -> list[Finding]:
    """Findings from the hypotheses the model supported with evidence."""
    return [
        Finding(
            rank=0,
            kind=h.kind,
            id=h.target,
            commit=h.commit,
            slice=h.slice,
            confidence=min(max(h.score, 0.0), 1.0),
            mechanism=h.notes[-1] if h.notes else h.statement,
            evidence=list(h.evidence),
            fix=f"review {h.kind} {h.target} (concluded from the ledger without the model)",
        )
        for h in s.state.hypotheses
        if h.status == "supported" and h.evidence
    ]


def untested(s: Session) -> list[str]:
    """Hypotheses that never got a result from the model."""
    marked = set(s.memo.untested)
    return [h.id for h in s.state.hypotheses if h.status == "open" or h.id in marked]


def conclude(s: Session, conclusion: Conclusion | None) -> None:
    """Rank and check the findings, set the verdict and summary, and the report's `meta.llm`."""
    state = s.state
    if s.memo.absence is not None:
        _conclude_absent(s)
        _meta(s, [])
        return
    drafts = [to_finding(d) for d in conclusion.findings] if conclusion else ledger_findings(s)
    ranked = s.ledger.conclude(drafts)  # marks findings citing no real evidence
    for f in ranked:
        named_wrong = s.candidates.problems(f.kind, f.id, f.commit, f.slice)
        if named_wrong or support_problems(f, state, s.candidates):
            f.grounded = False
    left = untested(s)
    complete = bool(state.hypotheses) and not left
    verdict: Verdict
    if complete and any(f.grounded for f in ranked):
        verdict = _refereed(s, ranked)
    elif complete and not ranked:
        verdict = "no_cause_found"
    else:
        verdict = "inconclusive"
    state.verdict = verdict
    state.summary = _summary(s, verdict, conclusion, ranked, left)
    _meta(s, ranked, left)


def _refereed(s: Session, ranked: list[Finding]) -> Verdict:
    """`cause_found` if the referee confirms a grounded finding (or is off), else
    `inconclusive`; unconfirmed findings are kept with the referee's figures."""
    if not s.options.referee:
        s.memo.referee = "off"
        return "cause_found"
    s.memo.referee = "ran"
    s.memo.referee_calls = referee_findings(s.box, s.state, ranked, s.candidates)
    s.log.write(
        "referee",
        calls=s.memo.referee_calls,
        findings=[
            {"finding": f"{f.kind} {f.id}", **f.referee.model_dump()} for f in ranked if f.referee
        ],
    )
    return "cause_found" if any(confirmed(f) for f in ranked) else "inconclusive"


def confirmed(finding: Finding) -> bool:
    return finding.grounded and finding.referee is not None and finding.referee.confirmed


def _referee_text(ranked: list[Finding]) -> str:
    """What the referee said of each finding it checked, for the summary."""
    parts = []
    for f in ranked:
        if f.referee is None:
            continue
        word = "confirmed" if f.referee.confirmed else f"not confirmed ({f.referee.status})"
        ids = ", ".join(f.referee.evidence[-3:])
        parts.append(f"{f.kind} {inline(f.id)} {word}: {inline(f.referee.figures)} ({ids})")
    return "Referee (the systematic tests): " + "; ".join(parts) + "." if parts else ""


def _meta(s: Session, ranked: list[Finding], left: list[str] | None = None) -> None:
    s.memo.report = LLMReportMeta(
        model=s.model_name,
        turns=s.turns,
        budget_stop=s.stopped,
        failed_steps=list(s.memo.failed_steps),
        untested=left or [],
        grounding_rejections=s.memo.rejections + s.memo.absence_rejections,
        ungrounded=[f"{f.kind} {f.id}" for f in ranked if not f.grounded],
        referee=s.memo.referee,
        referee_calls=s.memo.referee_calls,
        log=LOG_NAME,
    )


def _conclude_absent(s: Session) -> None:
    """The model answered that the symptom is not in the run: `symptom_not_found` with the
    run's emerging behaviours as suggestions if the detect evidence shows it, else
    `inconclusive` with what the evidence shows instead."""
    state, memo = s.state, s.memo
    answer = memo.absence
    assert answer is not None
    state.behavior = None
    problems = absence_problems(state, answer.evidence)
    if problems:
        state.verdict = "inconclusive"
        state.suggestions = []
        state.summary = (
            "inconclusive: the model answered that the symptom is not in the run, but the "
            f"evidence does not show it ({'; '.join(problems)}). No detector was settled and "
            "nothing was tested."
        )
        return
    state.verdict = "symptom_not_found"
    state.suggestions = suggestions(state, memo, answer.evidence)
    cited = ", ".join(absence_evidence(state, answer.evidence))
    shown = "; ".join(f"{x.behavior} ({x.direction})" for x in state.suggestions[:3])
    note = inline(answer.note.strip())
    state.summary = (
        f"symptom not found ({cited}): {why_absent(state, memo, answer.evidence)}"
        + (f"; the run does show {shown}" if shown else "; the run shows no emerging behaviour")
        + (f". The model: {note}" if note else "")
    )


def _summary(
    s: Session,
    verdict: Verdict,
    conclusion: Conclusion | None,
    ranked: list[Finding],
    left: list[str],
) -> str:
    said = conclusion.summary.strip() if conclusion else ""
    if not conclusion:
        names = ", ".join(f"{f.kind} {f.id}" for f in ranked)
        source = "before the stop" if s.stopped else "in the ledger (no usable conclusion)"
        said = f"Supported {source}: {names}." if names else ""
        if verdict == "no_cause_found":
            said = f"none of the hypotheses is supported {source}"
    if verdict == "no_cause_found" and not said.lower().startswith("no cause found"):
        said = f"no cause found: {said}".strip().rstrip(":")
    elif verdict == "inconclusive":
        said = f"inconclusive: {_why(s, ranked, left)}. {_tested(s)}" + (f" {said}" if said else "")
    refereed = _referee_text(ranked)
    if refereed:
        said = f"{said} {refereed}".strip()
    if s.stopped:
        said = f"(stopped on budget: {s.stopped}) {said}"
    return said


def _why(s: Session, ranked: list[Finding], left: list[str]) -> str:
    if not s.state.hypotheses:
        if s.stopped:
            return "the budget ran out before any hypothesis was proposed"
        if s.halted:
            return f"{s.halted}, so no hypothesis was proposed"
        return "no hypothesis was proposed"
    if left:
        return f"{len(left)} of {len(s.state.hypotheses)} hypotheses were not tested"
    if any(f.referee is not None for f in ranked):
        return "the referee (the systematic tests) confirmed none of the model's findings"
    if ranked:
        return "no finding is grounded in evidence and the run's candidates"
    return "the conclusion step failed"


def _tested(s: Session) -> str:
    hs = s.state.hypotheses
    left = set(untested(s))
    done = [f"{h.id} {h.kind} {h.target} ({h.status})" for h in hs if h.id not in left]
    open_ = [f"{h.id} {h.kind} {h.target}" for h in hs if h.id in left]
    parts = [f"Tested: {', '.join(done)}." if done else "Nothing was tested."]
    if open_:
        parts.append(f"Not tested: {', '.join(open_)}.")
    return " ".join(parts)
