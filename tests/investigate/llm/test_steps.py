"""Every step must produce what it is for, checked: a corrective turn when it does not, an
honest failure after that, no detector or conclusion filled in for the model, and findings
that name the run's candidates (ScriptedModel, no network)."""

from __future__ import annotations

import json
from typing import Any

from agents.testing import ScriptedModel

from rootcause.investigate.job import Outcome, investigate
from rootcause.investigate.llm import LLMBrain, LLMOptions
from rootcause.store.workspace import Workspace
from tests.conftest import LabRun
from tests.investigate.llm.helpers import Script, characterise, finding, full_script


def _run(lab: LabRun, model: ScriptedModel, options: dict[str, Any] | None = None) -> Outcome:
    return investigate(
        Workspace(lab.workspace),
        run=lab.run,
        symptom=lab.key["symptom"],
        brain=LLMBrain(options or {}, model=model),
        options=LLMOptions.from_options(options or {}),
    )


def _inputs(model: ScriptedModel) -> list[str]:
    """Every item the model was sent, as text."""
    return [json.dumps(i, default=str) for c in model.calls for i in c.input]


def _log(outcome: Outcome) -> list[dict[str, Any]]:
    text = (outcome.folder / "llm-log.jsonl").read_text()
    return [json.loads(line) for line in text.splitlines() if line]


def _empty(s: Script) -> dict[str, Any]:
    return {"output": [], "usage": s._usage()}


def _good(lab: LabRun) -> dict[str, Any]:
    return {"summary": "found", "findings": [finding(lab, ["E4", "E5"])]}


def test_garbage_finding_is_refused_and_never_a_cause(quirk_run: LabRun) -> None:
    garbage = {
        "summary": "x",
        "findings": [
            {
                "kind": "data_source",
                "id": "}, {",
                "commit": None,
                "slice": [],
                "confidence": 0.0,
                "mechanism": "",
                "evidence": [],
                "fix": "",
            }
        ],
    }
    model = ScriptedModel(full_script(Script(), quirk_run, [garbage, garbage, garbage]))
    outcome = _run(quirk_run, model)
    model.assert_complete()
    report = outcome.report
    assert report.meta.llm.grounding_rejections == 2
    assert any("is not one of the run's data sources" in t for t in _inputs(model))
    (kept,) = report.findings
    assert kept.id == "}, {" and not kept.grounded
    assert report.verdict == "inconclusive"


def test_finding_naming_no_candidate_is_sent_back(quirk_run: LabRun) -> None:
    s = Script()
    made_up = {**finding(quirk_run, ["E4", "E5"]), "id": "made_up_rm"}
    script = full_script(s, quirk_run, [{"summary": "x", "findings": [made_up]}])
    model = ScriptedModel([*script, s.calls(("submit_conclusion", _good(quirk_run)))])
    outcome = _run(quirk_run, model)
    model.assert_complete()
    sent_back = [t for t in _inputs(model) if "made_up_rm" in t and "rejected" in t]
    assert sent_back and "reward components" in sent_back[0]
    assert outcome.report.verdict == "cause_found" and outcome.report.findings[0].grounded


def test_propose_refuses_a_candidate_the_run_does_not_have(quirk_run: LabRun) -> None:
    s = Script()
    bogus = {"kind": "data_source", "target": "}, {", "commit": None, "statement": "x"}
    real = {"kind": "reward_component", "target": quirk_run.culprit, "commit": None}
    model = ScriptedModel(
        [
            *characterise(s, quirk_run),
            s.calls(("propose_hypothesis", bogus)),
            s.calls(("propose_hypothesis", {**real, "statement": "it rewards it"})),
            s.say("Proposed one."),
        ]
    )
    outcome = _run(quirk_run, model, {"max_turns": 7})
    model.assert_complete()
    assert [(h.kind, h.target) for h in outcome.report.hypotheses] == [
        ("reward_component", quirk_run.culprit)
    ]
    assert any("is not one of the run's data sources" in t for t in _inputs(model))


def test_text_instead_of_settling_fails_the_step_after_one_corrective_turn(
    quirk_run: LabRun,
) -> None:
    s = Script()
    model = ScriptedModel([s.say("It is about dragons."), s.say("Still dragons, clearly.")])
    outcome = _run(quirk_run, model)
    model.assert_complete()
    corrective = json.dumps(model.calls[1].input[-1])
    assert "no detector is settled" in corrective and "settle_detector" in corrective
    report = outcome.report
    # Nothing is filled in for the model: no detector, no tool run on its behalf.
    assert report.behavior is None and report.evidence == []
    assert report.verdict == "inconclusive"
    assert [f.step for f in report.meta.llm.failed_steps] == ["characterise"]
    assert "characterise failed" in report.summary
    kinds = [r["kind"] for r in _log(outcome)]
    assert "corrective" in kinds and "step_failed" in kinds
    markdown = outcome.markdown_path.read_text()
    assert "**Failed steps:**" in markdown and "no detector is settled" in markdown


def test_settled_detector_must_parse_and_have_been_run(quirk_run: LabRun) -> None:
    s = Script()
    # The key's terms in another order: a spec the symptom's own detect did not run.
    hint = "terms:" + ",".join(reversed(quirk_run.hint.removeprefix("terms:").split(",")))
    model = ScriptedModel(
        [
            s.call("overview"),
            s.call("detect", behavior=None, symptom=quirk_run.key["symptom"], examples=None),
            s.call("settle_detector", behavior="no", direction="up", evidence=[], note="x"),
            s.call("settle_detector", behavior=hint, direction="up", evidence=[], note="x"),
            s.call("detect", behavior=hint, symptom=None, examples=None),
            s.call("settle_detector", behavior=hint, direction="up", evidence=["E3"], note="ok"),
        ]
    )
    outcome = _run(quirk_run, model, {"max_turns": 6})
    model.assert_complete()
    sent = _inputs(model)
    assert any("behaviour 'no': expected regex:PATTERN" in t for t in sent)
    assert any(f"{hint} was not run through detect" in t for t in sent)
    behavior = outcome.report.behavior
    assert behavior is not None and behavior.spec == hint and behavior.evidence == ["E3"]
    assert behavior.basis.startswith("settled by the model")


def test_a_corrective_turn_rescues_a_step(quirk_run: LabRun) -> None:
    s = Script()
    script = full_script(s, quirk_run, [_good(quirk_run)])
    # H1's test: an empty reply before its result; H2's: text instead of a tool call.
    script[8:8] = [_empty(s)]
    script[10:10] = [s.say("H2 looks refuted to me.")]
    model = ScriptedModel(script)
    outcome = _run(quirk_run, model)
    model.assert_complete()
    report = outcome.report
    assert [(h.id, h.status) for h in report.hypotheses] == [("H1", "supported"), ("H2", "refuted")]
    assert report.verdict == "cause_found" and report.meta.llm.failed_steps == []
    correctives = [r for r in _log(outcome) if r["kind"] == "corrective"]
    assert [("H1" in r["message"], "H2" in r["message"]) for r in correctives] == [
        (True, False),
        (False, True),
    ]


def test_failed_test_step_leaves_the_hypothesis_untested(quirk_run: LabRun) -> None:
    s = Script()
    script = full_script(s, quirk_run, [_good(quirk_run)])
    script[9:10] = [s.say("Hmm."), s.say("Not sure.")]  # H2 never recorded
    model = ScriptedModel(script)
    outcome = _run(quirk_run, model)
    model.assert_complete()
    report = outcome.report
    h2 = report.hypotheses[1]
    assert h2.status == "inconclusive" and h2.notes[-1].startswith("not tested")
    assert report.meta.llm.untested == ["H2"]
    assert [f.step for f in report.meta.llm.failed_steps] == ["test H2"]
    # The model concluded H1, but an untested alternative leaves the verdict open.
    assert report.verdict == "inconclusive" and "Not tested: H2" in report.summary


def test_conclusion_that_does_not_parse_gets_a_second_chance(quirk_run: LabRun) -> None:
    s = Script()
    script = full_script(s, quirk_run, [])
    model = ScriptedModel(
        [
            *script,
            s.say('{"summary": "cause is the rubric", "findings": [{"kind": '),
            s.calls(("submit_conclusion", _good(quirk_run))),
        ]
    )
    outcome = _run(quirk_run, model)
    model.assert_complete()
    assert "no conclusion was submitted" in json.dumps(model.calls[-1].input[-1])
    assert outcome.report.verdict == "cause_found"


def test_conclusion_written_as_json_text_is_taken(quirk_run: LabRun) -> None:
    s = Script()
    text = "```json\n" + json.dumps(_good(quirk_run)) + "\n```"
    model = ScriptedModel([*full_script(s, quirk_run, []), s.say(text)])
    outcome = _run(quirk_run, model)
    model.assert_complete()
    assert outcome.report.verdict == "cause_found"
    # The model's summary, then what the referee found.
    assert outcome.report.summary.startswith("found Referee (the systematic tests): ")


def test_brain_runs_in_a_worker_thread(quirk_run: LabRun) -> None:
    """Each step opens and closes its own event loop, so a thread (as the TUI's worker) works."""
    import threading

    model = ScriptedModel(full_script(Script(), quirk_run, [_good(quirk_run)]))
    done: list[Outcome] = []
    worker = threading.Thread(target=lambda: done.append(_run(quirk_run, model)))
    worker.start()
    worker.join()
    model.assert_complete()
    assert done and done[0].report.verdict == "cause_found"
