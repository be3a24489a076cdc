"""The briefing that opens each step's conversation: the symptom, the detector, the ledger and
every evidence record so far, built from the checkpointed state (so a resumed step reads the
same). Each step starts a fresh conversation from it, which keeps the context bounded."""

from __future__ import annotations

from rootcause.core.evidence import Evidence
from rootcause.core.untrusted import args_text, figures_text
from rootcause.investigate.llm.session import Session

#: Evidence records listed in full (older ones are counted, not listed).
MAX_EVIDENCE_LINES = 80
MAX_FIGURES = 8
#: Candidates a record points a way for, shown per evidence line (which ones it can ground).
MAX_POINTING = 4


def briefing(session: Session, task: str) -> str:
    state = session.state
    lines = [f"Symptom (from the user): {state.spec.symptom}"]
    if state.spec.behavior:
        lines.append(f"Behaviour spec given by the user (use it as is): {state.spec.behavior}")
    b = state.behavior
    if b is not None:
        lines.append(
            f"Detector settled: {b.spec} (direction {b.direction}; rate {_num(b.rate)}, "
            f"first tenth {_num(b.rate_early)}, last tenth {_num(b.rate_late)}; "
            f"{', '.join(b.evidence)})"
        )
    lines.append(f"Budget left: {session.budget_left()}.")
    if state.hypotheses:
        lines += ["", "Hypotheses:"]
        for h in state.hypotheses:
            commit = f" @ {h.commit[:10]}" if h.commit else ""
            note = f"; {h.notes[-1]}" if h.notes else ""
            cites = f" [{', '.join(h.evidence)}]" if h.evidence else ""
            lines.append(
                f"- {h.id} {h.kind} {h.target}{commit}: {h.status} ({h.score:.2f}){cites}: "
                f"{h.statement}{note}"
            )
    if state.evidence:
        shown = state.evidence[-MAX_EVIDENCE_LINES:]
        lines += ["", "Evidence so far (cite these ids):"]
        if len(state.evidence) > len(shown):
            lines.append(f"- ({len(state.evidence) - len(shown)} earlier records not listed)")
        lines += [_evidence_line(e) for e in shown]
    lines += ["", "Task:", task]
    return "\n".join(lines)


def _evidence_line(e: Evidence) -> str:
    args = args_text(e.args)
    figures = figures_text(e.figures, MAX_FIGURES)
    line = f"- {e.id} {e.tool}({args}): {e.summary}" + (f" [{figures}]" if figures else "")
    pointing = [s for s in e.about if s.points != "neither"][:MAX_POINTING]
    if pointing:
        line += " (points " + ", ".join(f"{s.points}: {s.kind} {s.name}" for s in pointing)
        more = sum(s.points != "neither" for s in e.about) - len(pointing)
        line += f" and {more} more)" if more > 0 else ")"
    return line


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3g}"
