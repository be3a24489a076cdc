"""Full investigations by the LLM brain, driven by `agents.testing.ScriptedModel` (no network):
the tool loop, the ledger, grounding rejection, budget stops and the call log."""

from __future__ import annotations

import json
from typing import Any

import pytest
from agents.testing import ScriptedModel

from rootcause.investigate.cancel import CancelToken, JobCancelled
from rootcause.investigate.events import (
    BudgetStopped,
    ConclusionRejected,
    HypothesisChanged,
    InvestigationEvent,
    ModelText,
    ModelTurn,
    ToolCalled,
    ToolFailed,
)
from rootcause.investigate.job import Outcome, investigate
from rootcause.investigate.llm import LLMBrain, LLMOptions
from rootcause.store.workspace import Workspace
from tests.conftest import LabRun
from tests.investigate.events_contract import assert_event_contract
from tests.investigate.llm.helpers import Script, finding, full_script


def _run(
    lab: LabRun, model: ScriptedModel, options: dict[str, Any] | None = None
) -> tuple[Outcome, list[InvestigationEvent]]:
    events: list[InvestigationEvent] = []
    outcome = investigate(
        Workspace(lab.workspace),
        run=lab.run,
        symptom=lab.key["symptom"],
        brain=LLMBrain(options or {}, model=model),
        options=LLMOptions.from_options(options or {}),
        on_event=events.append,
    )
    return outcome, events


def _text(item: Any) -> str:
    return json.dumps(item, default=str)


def test_scripted_investigation_end_to_end(quirk_run: LabRun) -> None:
    s = Script(tokens=(1000, 100))
    conclusion = {
        "summary": f"{quirk_run.culprit} rewards the behaviour.",
        "findings": [finding(quirk_run, ["E4", "E5"])],
    }
    model = ScriptedModel(full_script(s, quirk_run, [conclusion]))
    outcome, events = _run(quirk_run, model, {"model": "gpt-4.1-mini"})
    model.assert_complete()
    report = outcome.report
    assert report.brain == "llm" and report.verdict == "cause_found"
    (top,) = report.findings
    cause = quirk_run.key["causes"][0]
    assert (top.kind, top.id, top.slice) == (cause["kind"], cause["id"], cause["slice"])
    assert top.grounded and top.evidence == ["E4", "E5"]
    tools = {e.id: e.tool for e in report.evidence}
    assert dict(list(tools.items())[:5]) == {
        "E1": "overview",
        "E2": "detect",
        "E3": "detect",
        "E4": "selection_pressure",
        "E5": "counterfactual",
    }
    # The referee re-ran the systematic tests on the finding after the model's calls (E6 on):
    # the facts (overview, pressure by each slice, event alignment, source arrivals), then the
    # component's test (its counterfactual and the pressure around each change to it).
    llm = report.meta.llm
    assert llm.referee == "ran" and llm.referee_calls == len(tools) - 5
    assert top.referee is not None and top.referee.confirmed and top.referee.status == "supported"
    assert top.referee.evidence and all(int(e[1:]) > 5 for e in top.referee.evidence)
    assert "counterfactual" in [tools[e] for e in top.referee.evidence]
    assert "selects for the behaviour" in top.referee.figures
    assert report.behavior.spec == quirk_run.hint and report.behavior.evidence == ["E3"]
    assert [(h.id, h.status) for h in report.hypotheses] == [("H1", "supported"), ("H2", "refuted")]
    assert report.hypotheses[0].evidence == ["E4", "E5"]
    # Tokens and cost: 11 model turns of 1000 in / 100 out at the built-in gpt-4.1-mini price.
    assert (report.stats.tokens_in, report.stats.tokens_out) == (11_000, 1_100)
    assert report.stats.cost_usd == pytest.approx((11_000 * 0.40 + 1_100 * 1.60) / 1e6)
    assert report.stats.tool_calls == 5 + llm.referee_calls
    assert report.meta.llm.budget_stop is None and report.meta.llm.turns == 11
    # Each tool result the model read started with its evidence id.
    outputs = [i for c in model.calls for i in c.input if isinstance(i, dict)]
    assert any(str(i.get("output", "")).startswith("[evidence E5]") for i in outputs)
    # The model saw strict schemas built from the tools' own docstrings.
    first = model.calls[0]
    names = {t.name for t in first.tools}
    # Step 1 gets the tools that read the behaviour; the later steps every tool.
    assert {"overview", "detect", "sql", "settle_detector"} <= names
    assert "selection_pressure" not in names and "propose_hypothesis" not in names
    assert "selection_pressure" in {t.name for t in model.calls[4].tools}
    detect = next(t for t in first.tools if t.name == "detect")
    assert detect.strict_json_schema and "symptom" in detect.params_json_schema["required"]
    assert "untrusted data" in (first.system_instructions or "")
    # The typed event stream for the faces: the same contract as the systematic brain's.
    assert_event_contract(events, report)
    turns = [e for e in events if isinstance(e, ModelTurn)]
    assert [t.turn for t in turns] == list(range(1, 12))
    assert turns[-1].tokens_in_total == 11_000 and turns[0].calls == ["overview"]
    assert any(t.text == "Proposed 2 hypotheses." for t in turns)
    changes = [(e.id, e.change, e.status) for e in events if isinstance(e, HypothesisChanged)]
    assert changes == [
        ("H1", "proposed", "open"),
        ("H2", "proposed", "open"),
        ("H1", "recorded", "supported"),
        ("H2", "recorded", "refuted"),
    ]
    # The local log has every model and tool call.
    log = [
        json.loads(line)
        for line in (outcome.folder / "llm-log.jsonl").read_text().split("\n")
        if line
    ]
    assert sum(r["kind"] == "model" for r in log) == 11
    assert sum(r["kind"] == "tool" for r in log) == 5
    assert sum(r["kind"] == "referee" for r in log) == 1
    assert "api_key" not in (outcome.folder / "spec.json").read_text()
    markdown = outcome.markdown_path.read_text()
    assert "## Verdict: cause found" in markdown and "Stopped on budget" not in markdown
    assert "| the model's claim |" in markdown and "| the referee: confirmed |" in markdown


def test_conclusion_citing_unknown_evidence_is_sent_back(quirk_run: LabRun) -> None:
    s = Script()
    bad = {"summary": "made up", "findings": [finding(quirk_run, ["E999"])]}
    good = {"summary": "fixed", "findings": [finding(quirk_run, ["E4", "E5"])]}
    model = ScriptedModel(full_script(s, quirk_run, [bad, good]))
    outcome, events = _run(quirk_run, model)
    model.assert_complete()
    # The rejection, with the valid ids, reached the model in its next call.
    last_input = _text(model.calls[-1].input[-1])
    assert "rejected" in last_input and "E999" in last_input and "E1, E2, E3, E4, E5" in last_input
    assert outcome.report.findings[0].grounded
    assert outcome.report.summary.startswith("fixed Referee (the systematic tests):")
    assert outcome.report.meta.llm.grounding_rejections == 1
    assert any(isinstance(e, ConclusionRejected) and not e.kept for e in events)


def test_conclusion_that_stays_ungrounded_is_marked(quirk_run: LabRun) -> None:
    s = Script()
    bad = {"summary": "made up", "findings": [finding(quirk_run, ["E999"])]}
    none = {"summary": "made up", "findings": [finding(quirk_run, [])]}
    model = ScriptedModel(full_script(s, quirk_run, [bad, none, bad]))
    outcome, _ = _run(quirk_run, model)
    model.assert_complete()
    (top,) = outcome.report.findings
    assert not top.grounded
    assert outcome.report.meta.llm.ungrounded == [f"reward_component {quirk_run.culprit}"]
    assert "Not grounded in evidence" in outcome.markdown_path.read_text()
    # A conclusion whose findings are all ungrounded names no cause.
    assert outcome.report.verdict == "inconclusive"
    assert "no finding is grounded" in outcome.report.summary


def test_tool_errors_go_back_to_the_model(quirk_run: LabRun) -> None:
    s = Script()
    script = full_script(s, quirk_run, [{"summary": "ok", "findings": []}])
    # After overview: a bad behaviour spec and an unknown argument.
    script[1:1] = [
        s.call("prevalence", behavior="nonsense:(", by=None, bins=None),
        s.call("overview", nonsense=1),
    ]
    model = ScriptedModel(script)
    outcome, events = _run(quirk_run, model)
    model.assert_complete()
    outputs = [_text(i) for c in model.calls for i in c.input if isinstance(i, dict)]
    assert any("error:" in o and "prevalence" in o for o in outputs)
    assert any("unknown argument 'nonsense'" in o for o in outputs)
    # A failed call is announced with the id it reserved; the next call gets that id.
    assert_event_contract(events, outcome.report)
    failed = [(e.tool, e.evidence_id) for e in events if isinstance(e, ToolFailed)]
    assert failed == [("prevalence", "E2"), ("overview", "E2")]
    assert [(e.id, e.tool) for e in outcome.report.evidence[:2]] == [
        ("E1", "overview"),
        ("E2", "detect"),
    ]
    # An empty conclusion is a null result, said so.
    assert outcome.report.verdict == "no_cause_found"
    assert outcome.report.summary.startswith("no cause found")


def test_budget_stop_finishes_from_the_ledger(quirk_run: LabRun) -> None:
    s = Script()
    # overview and detect use the two tool calls; prevalence hits the budget.
    model = ScriptedModel(
        [
            s.call("overview"),
            s.call("detect", behavior=quirk_run.hint, symptom=None, examples=None),
            s.call("prevalence", behavior=quirk_run.hint, by="persona", bins=None),
        ]
    )
    outcome, events = _run(quirk_run, model, {"max_tool_calls": 2})
    model.assert_complete()
    report = outcome.report
    assert report.meta.llm.budget_stop == "max tool calls (2)"
    assert report.stats.tool_calls == 2
    # Stopped before anything was tested: inconclusive, never "no cause found", and no
    # detector is made up for the model (it ran detect but never settled one).
    assert report.verdict == "inconclusive" and report.behavior is None
    assert report.summary.startswith("(stopped on budget: max tool calls (2)) inconclusive")
    assert "Nothing was tested" in report.summary
    markdown = outcome.markdown_path.read_text()
    assert "Stopped on budget" in markdown and "## Verdict: inconclusive" in markdown
    assert "**Detector:** not settled" in markdown
    assert any(isinstance(e, BudgetStopped) for e in events)
    assert_event_contract(events, report)


def test_turn_budget_keeps_what_was_supported(quirk_run: LabRun) -> None:
    s = Script()
    script = full_script(s, quirk_run, [])[:9]  # up to H1's record_result
    model = ScriptedModel(script)
    outcome, _ = _run(quirk_run, model, {"max_turns": 9})
    model.assert_complete()
    report = outcome.report
    assert report.meta.llm.budget_stop == "max turns (9)"
    assert [(h.id, h.status) for h in report.hypotheses] == [
        ("H1", "supported"),
        ("H2", "inconclusive"),
    ]
    (top,) = report.findings  # from the ledger: H1 was supported before the stop
    assert top.id == quirk_run.culprit and top.grounded and top.evidence == ["E4", "E5"]
    # H2 was never tested, so the verdict cannot be a cause: the report says what was tested.
    assert report.verdict == "inconclusive" and report.meta.llm.untested == ["H2"]
    assert "Tested: H1" in report.summary and "Not tested: H2" in report.summary


def test_injected_model_needs_no_provider() -> None:
    brain = LLMBrain({"max_turns": 1}, model=ScriptedModel([]))
    assert brain.options.max_turns == 1 and brain.model_name == "scripted"


class Killed(Exception):
    """Stands in for the process dying in the middle of a model call."""


def test_killed_llm_investigation_resumes_from_its_checkpoint(quirk_run: LabRun) -> None:
    from agents.testing import ModelStep

    s = Script()
    conclusion = {"summary": "found", "findings": [finding(quirk_run, ["E4", "E5"])]}
    script = full_script(s, quirk_run, [conclusion])
    first = ScriptedModel([*script[:9], ModelStep.raise_error(Killed())])  # dies testing H2
    workspace = Workspace(quirk_run.workspace)
    with pytest.raises(Killed):
        investigate(
            workspace,
            run=quirk_run.run,
            symptom=quirk_run.key["symptom"],
            brain=LLMBrain({}, model=first),
            options=LLMOptions(max_turns=50),
        )
    folder = max(
        (p for p in workspace.investigations_dir.iterdir() if p.is_dir()),
        key=lambda p: p.stat().st_mtime,
    )
    assert not (folder / "report.json").exists()
    spec = json.loads((folder / "spec.json").read_text())
    assert spec["brain"] == "llm" and spec["options"] == {"max_turns": 50}
    rest = ScriptedModel(script[9:])
    events: list[InvestigationEvent] = []
    resumed = investigate(
        workspace,
        resume=folder.name,
        brain=LLMBrain(spec["options"], model=rest),
        on_event=events.append,
    )
    rest.assert_complete()
    report = resumed.report
    # The model's steps made no tool call after the resume: every call is the referee's.
    called = [e.tool for e in events if isinstance(e, ToolCalled)]
    assert len(called) == report.meta.llm.referee_calls and called[1] == "selection_pressure"
    assert [(h.id, h.status) for h in report.hypotheses] == [("H1", "supported"), ("H2", "refuted")]
    assert report.findings[0].grounded and report.findings[0].evidence == ["E4", "E5"]
    assert report.meta.llm.turns == 11  # nine before the kill, two after


def test_token_and_wall_time_budgets(quirk_run: LabRun) -> None:
    s = Script(tokens=(1000, 0))
    model = ScriptedModel([s.call("overview"), s.call("detect", behavior=quirk_run.hint)])
    outcome, _ = _run(quirk_run, model, {"max_tokens": 1500})
    model.assert_complete()  # the third model call was never made
    assert outcome.report.meta.llm.budget_stop == "max tokens (1,500)"
    assert outcome.report.stats.tokens_in == 2000
    idle = ScriptedModel([])
    outcome, _ = _run(quirk_run, idle, {"wall_time_s": 0.001})
    assert outcome.report.meta.llm.budget_stop == "wall time (0.001 s)"
    # Nothing was settled or tested: no detector is filled in, and the verdict says so.
    assert outcome.report.behavior is None and outcome.report.evidence == []
    assert outcome.report.verdict == "inconclusive"


def test_streamed_text_comes_as_deltas(quirk_run: LabRun) -> None:
    s = Script()
    model = ScriptedModel([s.say("Looking at the run first; then the detector.")])
    outcome, events = _run(quirk_run, model, {"stream": True, "max_turns": 1})
    model.assert_complete()
    deltas = [e for e in events if isinstance(e, ModelText)]
    assert len(deltas) >= 1 and all(d.phase == "characterise" for d in deltas)
    assert "".join(d.delta for d in deltas) == "Looking at the run first; then the detector."
    (turn,) = [e for e in events if isinstance(e, ModelTurn)]
    assert turn.text == "Looking at the run first; then the detector."
    assert outcome.report.meta.llm is not None
    assert outcome.report.meta.llm.budget_stop == "max turns (1)"


def test_cancelled_llm_investigation_resumes_to_the_same_report(quirk_run: LabRun) -> None:
    s = Script()
    conclusion = {"summary": "found", "findings": [finding(quirk_run, ["E4", "E5"])]}
    script = full_script(s, quirk_run, [conclusion])
    token = CancelToken()
    turns: list[ModelTurn] = []

    def cancel_after_five_turns(event: InvestigationEvent) -> None:
        if isinstance(event, ModelTurn):
            turns.append(event)
            if len(turns) == 5:  # the first turn of step 2, which asks for a tool
                token.cancel()

    first = ScriptedModel(script[:5])
    workspace = Workspace(quirk_run.workspace)
    with pytest.raises(JobCancelled) as stopped:
        investigate(
            workspace,
            run=quirk_run.run,
            symptom=quirk_run.key["symptom"],
            brain=LLMBrain({}, model=first),
            on_event=cancel_after_five_turns,
            cancel=token,
        )
    first.assert_complete()
    # The tool the fifth turn asked for never ran: the cancel came between turn and tool.
    folder = workspace.investigations_dir / stopped.value.investigation
    assert json.loads((folder / "cancelled.json").read_text())["phase"] == "propose"
    rest = ScriptedModel(script[4:])  # step 2 runs again from its first turn
    resumed = investigate(
        workspace, resume=stopped.value.investigation, brain=LLMBrain({}, model=rest)
    )
    rest.assert_complete()
    report = resumed.report
    assert report.verdict == "cause_found" and report.findings[0].evidence == ["E4", "E5"]
    assert [e.tool for e in report.evidence][:5] == [
        "overview",
        "detect",
        "detect",
        "selection_pressure",
        "counterfactual",
    ]
    assert report.meta.llm is not None and report.meta.llm.turns == 11
    assert len(report.evidence) == 5 + report.meta.llm.referee_calls
