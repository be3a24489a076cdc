"""Whether a finding is grounded by what it cites: evidence about its own candidate, measuring
the settled behaviour, whose figures point the behaviour's way (`Evidence.about`), and, when
the ledger refuted the candidate, recorded after the refutation.

A finding that cites only records about something else (a `detect` call, another component's
pressure, a source's enrichment for a component) is not grounded, and the line that says so
names each cited record and what it is about, so the model can cite the right one.
"""

from __future__ import annotations

from rootcause.core.evidence import Evidence, Subject
from rootcause.core.report import Finding, Hypothesis
from rootcause.core.untrusted import inline, label
from rootcause.investigate.llm.candidates import Candidates
from rootcause.investigate.state import InvestigationState

#: Tools whose figures can support each kind of finding (said to the model in a refusal).
SUPPORTING_TOOLS = {
    "reward_component": "selection_pressure, counterfactual or reward_contrast",
    "config_change": "event_alignment for the commit, or selection_pressure for the component",
    "data_source": "enrichment or selection_pressure by data_source",
    "persona": "enrichment or selection_pressure by persona",
    "env": "enrichment or selection_pressure by env",
}


def evidence_number(evidence_id: str) -> int:
    """The order of an evidence id (E12 -> 12); unknown forms sort last."""
    return int(evidence_id[1:]) if evidence_id[1:].isdigit() else 10**9


def last_evidence(state: InvestigationState) -> int:
    """The number of the latest evidence record (0 before any)."""
    return max((evidence_number(e.id) for e in state.evidence), default=0)


def _matches(finding: Finding, subject: Subject, candidates: Candidates) -> bool:
    """Whether a record's subject is the finding's candidate (records keep names as `label`
    shows them: a run's hostile label is escaped there, so it is compared escaped)."""
    name = label(finding.id)
    if finding.kind != "config_change":
        return subject.kind == finding.kind and subject.name == name
    if subject.kind == "reward_component":
        return subject.name == name
    commit = candidates.commit(finding.commit or finding.id)
    return subject.kind == "config_change" and commit is not None and subject.name == commit


def _about(record: Evidence) -> str:
    if not record.about:
        return "is about no candidate (it measures no component, source, slice or commit)"
    named = [f"{s.kind} {s.name} ({s.points})" for s in record.about[:4]]
    more = f" and {len(record.about) - 4} more" if len(record.about) > 4 else ""
    return f"is about {', '.join(named)}{more}"


def refuting(finding: Finding, state: InvestigationState, c: Candidates) -> Hypothesis | None:
    """The hypothesis of the ledger, refuted at some point, that names the finding's
    candidate, if any (a later result does not erase the refutation)."""
    for h in state.hypotheses:
        if h.refuted_at is None or (h.kind, h.target) != (finding.kind, finding.id):
            continue
        same_commit = not (h.commit and finding.commit) or c.commit(h.commit) == c.commit(
            finding.commit
        )
        if finding.kind != "config_change" or same_commit:
            return h
    return None


def support_problems(
    finding: Finding, state: InvestigationState, candidates: Candidates
) -> list[str]:
    """Why the finding's cited evidence does not ground it (empty when one record does)."""
    records = {e.id: e for e in state.evidence}
    if not any(e in records for e in finding.evidence):
        return []  # cites nothing a tool produced: the grounding check says so
    behavior = state.behavior
    way = behavior.direction if behavior else "up"
    refuted = refuting(finding, state, candidates)
    name = f"{finding.kind} {label(finding.id)}"
    why = []
    for evidence_id in finding.evidence:
        record = records.get(evidence_id)
        if record is None:
            continue  # an id no tool produced: said by the grounding check
        where = f"{evidence_id} ({record.tool})"
        own = [s for s in record.about if _matches(finding, s, candidates)]
        if not own:
            why.append(f"{where} {_about(record)}, not {name}")
            continue
        if behavior is not None and record.behavior != behavior.spec:
            why.append(
                f"{where} measures {inline(record.behavior or 'no behaviour')}, not the settled "
                f"detector {inline(behavior.spec)}"
            )
            continue
        pointing = [s for s in own if s.points == way]
        if not pointing:
            shown = "; ".join(inline(s.figures) or s.points for s in own)
            why.append(f"{where} does not show {name} moving the behaviour {way} ({shown})")
            continue
        if refuted is not None and evidence_number(evidence_id) <= (refuted.refuted_at or 0):
            why.append(
                f"{where} was recorded before {refuted.id} was refuted (at E{refuted.refuted_at})"
            )
            continue
        return []
    head = f"finding {name} is not supported by the evidence it cites"
    if refuted is not None:
        head += (
            f" (the ledger refuted it as {refuted.id}: only evidence recorded after "
            f"E{refuted.refuted_at} that supports it can overturn that)"
        )
    tools = SUPPORTING_TOOLS[finding.kind]
    return [
        f"{head}: {'; '.join(why)}. Cite a record whose figures show "
        f"{name} moving the behaviour {way} ({tools})"
    ]
