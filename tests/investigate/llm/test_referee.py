"""What a model's `cause_found` must survive (driven by `ScriptedModel`, no network): evidence
about its own candidate that points the behaviour's way, the ledger's refutations, and the
referee (the systematic brain's tests re-run on each finding)."""

from __future__ import annotations

import json
from typing import Any

from agents.testing import ScriptedModel

from rootcause.core.report import Report
from rootcause.investigate.job import Outcome, investigate
from rootcause.investigate.llm import LLMBrain, LLMOptions
from rootcause.store.workspace import Workspace
from tests.conftest import LabRun
from tests.investigate.llm.helpers import Script, characterise, pressure_by_persona

#: A component of the quirk run whose pressure interval is clear above zero (in E4) but that
#: the systematic rule does not call a pusher (a small share of the push).
THIN_PUSHER = "test_runner"
#: A component of the quirk run that pushes nothing.
INNOCENT = "markdown_format"


def _run(lab: LabRun, turns: list[Any], **options: Any) -> tuple[Outcome, ScriptedModel]:
    model = ScriptedModel(turns)
    outcome = investigate(
        Workspace(lab.workspace),
        run=lab.run,
        symptom=lab.key["symptom"],
        brain=LLMBrain(options, model=model),
        options=LLMOptions.from_options(options),
    )
    model.assert_complete()
    return outcome, model


def _finding(target: str, evidence: list[str]) -> dict[str, Any]:
    return {
        "kind": "reward_component",
        "id": target,
        "commit": None,
        "slice": [],
        "confidence": 0.99,
        "mechanism": f"{target} rewards the behaviour ({', '.join(evidence)})",
        "evidence": evidence,
        "fix": f"drop {target}",
    }


def _conclude(s: Script, target: str, evidence: list[str]) -> dict[str, Any]:
    conclusion = {"summary": f"{target} did it.", "findings": [_finding(target, evidence)]}
    return s.calls(("submit_conclusion", conclusion))


def _propose(s: Script, target: str) -> dict[str, Any]:
    args = {"kind": "reward_component", "target": target, "commit": None, "statement": "x"}
    return s.calls(("propose_hypothesis", args))


def _record(s: Script, status: str, evidence: list[str], hypothesis: str = "H1") -> dict[str, Any]:
    return s.call(
        "record_result",
        hypothesis_id=hypothesis,
        status=status,
        score=0.9,
        evidence=evidence,
        note="n",
    )


def _rejections(model: ScriptedModel) -> list[str]:
    """The tool results of `submit_conclusion` the model read."""
    outputs = [i for c in model.calls for i in c.input if isinstance(i, dict)]
    texts = [str(i.get("output", "")) for i in outputs if i.get("type") == "function_call_output"]
    return list(dict.fromkeys(t for t in texts if "conclusion was rejected" in t))


def _pressure_of(report: Report, evidence_id: str, component: str) -> str:
    record = next(e for e in report.evidence if e.id == evidence_id)
    (subject,) = record.subjects("reward_component", component)
    return subject.points


def test_finding_citing_evidence_about_another_candidate_is_sent_back(quirk_run: LabRun) -> None:
    """The model tests an innocent component, cites a detect call, then the culprit's
    counterfactual, then a pressure record where the innocent one points nowhere: each time
    the refusal names the cited record and what it is about; kept after that, not grounded,
    and the verdict is not cause_found."""
    s, lab = Script(), quirk_run
    turns = [
        *characterise(s, lab),  # E1 overview, E2-E3 detect
        pressure_by_persona(s, lab),  # E4
        _propose(s, INNOCENT),
        s.say("Proposed."),
        s.call("counterfactual", behavior=lab.hint, remove=[lab.culprit], by=None),  # E5
        _record(s, "supported", ["E2"]),
        _conclude(s, INNOCENT, ["E2"]),
        _conclude(s, INNOCENT, ["E5"]),
        _conclude(s, INNOCENT, ["E4"]),
    ]
    outcome, model = _run(lab, turns)
    report = outcome.report
    first, second = _rejections(model)
    assert "E2 (detect) is about no candidate" in first
    assert f"not reward_component {INNOCENT}" in first
    assert f"E5 (counterfactual) is about reward_component {lab.culprit} (up)" in second
    assert _pressure_of(report, "E4", INNOCENT) == "neither"
    (kept,) = report.findings
    assert not kept.grounded and kept.referee is None
    assert report.verdict == "inconclusive"
    assert report.meta.llm.ungrounded == [f"reward_component {INNOCENT}"]
    assert report.meta.llm.grounding_rejections == 2
    assert report.meta.llm.referee == "not needed"


def test_concluding_a_refuted_hypothesis_needs_evidence_after_the_refutation(
    quirk_run: LabRun,
) -> None:
    """The ledger refuted the culprit at E4; a conclusion naming it on E4 is refused, and the
    verdict does not take it (kept, not grounded)."""
    s, lab = Script(), quirk_run
    turns = [
        *characterise(s, lab),
        pressure_by_persona(s, lab),  # E4: supports the culprit, but the model refutes it
        _propose(s, lab.culprit),
        s.say("Proposed."),
        _record(s, "refuted", ["E4"]),
        *[_conclude(s, lab.culprit, ["E4"]) for _ in range(3)],
    ]
    outcome, model = _run(lab, turns)
    report = outcome.report
    assert [(h.id, h.status, h.refuted_at) for h in report.hypotheses] == [("H1", "refuted", 4)]
    refusals = _rejections(model)
    assert refusals and "E4 (selection_pressure) was recorded before H1 was refuted" in refusals[0]
    assert "the ledger refuted it as H1" in refusals[0]
    assert report.verdict == "inconclusive" and not report.findings[0].grounded


def test_refuted_then_supported_by_later_evidence_is_a_cause(quirk_run: LabRun) -> None:
    """Evidence recorded after the refutation that supports the candidate can overturn it:
    H1 (the culprit) is refuted at E4; testing H2, the model runs the culprit's counterfactual
    (E5); a conclusion on E4 is refused, one on E5 is taken, and the referee confirms it."""
    s, lab = Script(), quirk_run
    persona = next(iter(lab.key["causes"][0]["slice"].values()))
    other = {"kind": "persona", "target": persona, "commit": None, "statement": "y"}
    turns = [
        *characterise(s, lab),
        pressure_by_persona(s, lab),  # E4
        s.calls(
            ("propose_hypothesis", {**other, "kind": "reward_component", "target": lab.culprit}),
            ("propose_hypothesis", other),
        ),
        s.say("Proposed."),
        _record(s, "refuted", ["E4"]),
        s.call("counterfactual", behavior=lab.hint, remove=[lab.culprit], by=None),  # E5
        _record(s, "refuted", ["E5"], hypothesis="H2"),
        _conclude(s, lab.culprit, ["E4"]),
        _conclude(s, lab.culprit, ["E5"]),
    ]
    outcome, model = _run(lab, turns)
    report = outcome.report
    (refusal,) = _rejections(model)
    assert "E4 (selection_pressure) was recorded before H1 was refuted (at E4)" in refusal
    assert report.verdict == "cause_found"
    (top,) = report.findings
    assert top.grounded and top.evidence == ["E5"] and top.referee and top.referee.confirmed


def test_right_cause_on_thin_evidence_is_confirmed_by_the_referee(quirk_run: LabRun) -> None:
    """One pressure record is all the model cites; the referee runs the counterfactual and
    the timing itself and confirms it, with its own evidence beside the claim."""
    lab = quirk_run
    outcome, _ = _run(lab, one_finding_script(Script(), lab, lab.culprit))
    report = outcome.report
    assert report.verdict == "cause_found"
    (top,) = report.findings
    assert top.grounded and top.referee is not None and top.referee.confirmed
    tools = {e.id: e.tool for e in report.evidence}
    assert "counterfactual" in {tools[e] for e in top.referee.evidence}
    assert report.meta.llm.referee == "ran" and report.meta.llm.referee_calls >= 6
    markdown = outcome.markdown_path.read_text()
    assert "| the referee: confirmed |" in markdown and "selects for the behaviour" in markdown


def one_finding_script(s: Script, lab: LabRun, target: str) -> list[Any]:
    """Characterise, one pressure record (E4), one hypothesis supported on it, concluded."""
    return [
        *characterise(s, lab),
        pressure_by_persona(s, lab),  # E4
        _propose(s, target),
        s.say("Proposed."),
        _record(s, "supported", ["E4"]),
        _conclude(s, target, ["E4"]),
    ]


def test_grounded_finding_the_referee_does_not_confirm_is_not_a_cause(quirk_run: LabRun) -> None:
    """A component whose pressure is above zero but that the systematic rule does not call a
    pusher: grounded (E4 is about it and points up), kept, marked not confirmed with the
    referee's figures and evidence, and the verdict is inconclusive. With --no-referee the
    same script ends cause_found and the report says the referee was off."""
    lab = quirk_run
    outcome, _ = _run(lab, one_finding_script(Script(), lab, THIN_PUSHER))
    report = outcome.report
    assert _pressure_of(report, "E4", THIN_PUSHER) == "up"
    (kept,) = report.findings
    assert kept.grounded and kept.referee is not None and not kept.referee.confirmed
    assert kept.referee.status in ("refuted", "inconclusive")
    assert "not a pusher" in kept.referee.figures
    assert kept.referee.evidence and all(int(e[1:]) > 4 for e in kept.referee.evidence)
    assert report.verdict == "inconclusive"
    assert "the referee (the systematic tests) confirmed none" in report.summary
    markdown = outcome.markdown_path.read_text()
    assert "(not confirmed by the referee)" in markdown
    assert f"| the referee: not confirmed ({kept.referee.status}) |" in markdown

    off, _ = _run(lab, one_finding_script(Script(), lab, THIN_PUSHER), referee=False)
    assert off.report.verdict == "cause_found" and off.report.findings[0].referee is None
    assert off.report.meta.llm.referee == "off" and off.report.meta.llm.referee_calls == 0
    assert "off (--no-referee)" in off.markdown_path.read_text()
    assert json.loads(off.json_path.read_text())["meta"]["llm"]["referee"] == "off"
