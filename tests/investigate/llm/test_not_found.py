"""The LLM brain's `symptom_not_found`: taken only when the recorded detect evidence shows the
symptom absent, with the run's emerging behaviours as suggestions (ScriptedModel and a local
Chat Completions server; no network)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from agents.testing import ScriptedModel

from rootcause.core.evidence import Evidence
from rootcause.investigate.events import ConclusionRejected, InvestigationEvent
from rootcause.investigate.job import Outcome, investigate
from rootcause.investigate.llm import LLMBrain, LLMOptions
from rootcause.investigate.llm.absence import absence_problems
from rootcause.investigate.state import InvestigationSpec, InvestigationState
from rootcause.store.workspace import Workspace
from tests.conftest import LabRun
from tests.investigate.events_contract import assert_event_contract
from tests.investigate.llm.chat_server import ChatServer, tool_calls
from tests.investigate.llm.helpers import Script

#: A symptom the dragon-quirk lab run does not have.
ABSENT = "It keeps forecasting thunderstorms and snowfall."


@pytest.fixture(autouse=True)
def _no_provider_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "ROOTCAUSE_LLM_MODEL", "ROOTCAUSE_LLM_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def _run(
    lab: LabRun, model: ScriptedModel, symptom: str
) -> tuple[Outcome, list[InvestigationEvent]]:
    events: list[InvestigationEvent] = []
    outcome = investigate(
        Workspace(lab.workspace),
        run=lab.run,
        symptom=symptom,
        brain=LLMBrain({}, model=model),
        options=LLMOptions(),
        on_event=events.append,
    )
    return outcome, events


def _sent(model: ScriptedModel) -> list[str]:
    return [json.dumps(i, default=str) for c in model.calls for i in c.input]


def _not_found(evidence: list[str]) -> dict[str, Any]:
    return {"evidence": evidence, "note": "nothing in the run is about weather"}


def test_absent_symptom_ends_symptom_not_found_with_suggestions(quirk_run: LabRun) -> None:
    s = Script()
    tried = "terms:thunderstorm,snowfall"
    model = ScriptedModel(
        [
            s.call("overview"),
            s.call("detect", behavior=None, symptom=ABSENT, examples=None),
            s.call("detect", behavior=tried, symptom=None, examples=None),
            s.call("settle_detector", behavior=tried, direction="up", evidence=["E3"], note="x"),
            s.call("record_symptom_not_found", **_not_found(["E2", "E3"])),
        ]
    )
    outcome, events = _run(quirk_run, model, ABSENT)
    model.assert_complete()  # no step after the first asked the model anything
    assert "record_symptom_not_found" in {t.name for t in model.calls[0].tools}
    # A detector that matched nothing is not settled: the model is told what to do instead.
    assert any(
        "matches no sample (E3)" in t and "record_symptom_not_found" in t for t in _sent(model)
    )
    report = outcome.report
    assert report.verdict == "symptom_not_found" and report.brain == "llm"
    assert report.behavior is None and not report.findings and not report.hypotheses
    assert report.summary.startswith("symptom not found (E2, E3): ")
    assert report.suggestions and any("dragon" in x.behavior for x in report.suggestions)
    assert len({x.behavior for x in report.suggestions}) == len(report.suggestions)
    assert report.meta.llm is not None and report.meta.llm.grounding_rejections == 0
    markdown = outcome.markdown_path.read_text()
    assert "## Verdict: symptom not found" in markdown and "`--behavior '" in markdown
    assert_event_contract(events, report)


def test_not_found_claim_against_the_evidence_is_not_taken(quirk_run: LabRun) -> None:
    s = Script()
    symptom = quirk_run.key["symptom"]
    claim = _not_found(["E2"])
    model = ScriptedModel(
        [
            s.call("overview"),
            s.call("detect", behavior=None, symptom=symptom, examples=None),
            *[s.call("record_symptom_not_found", **claim) for _ in range(3)],
        ]
    )
    outcome, events = _run(quirk_run, model, symptom)
    model.assert_complete()
    # Sent back twice with what the evidence shows, then kept and not taken by the verdict.
    refused = [t for t in _sent(model) if "The symptom is not shown absent" in t]
    assert refused and "E2 found" in refused[0] and "in the run" in refused[0]
    kept = [e.kept for e in events if isinstance(e, ConclusionRejected)]
    assert kept == [False, False, True]
    report = outcome.report
    assert report.verdict == "inconclusive" and not report.suggestions
    assert report.summary.startswith("inconclusive: the model answered that the symptom is not")
    assert "E2 found" in report.summary and "that behaviour is in the run" in report.summary
    assert report.meta.llm is not None and report.meta.llm.grounding_rejections == 2


def test_absent_symptom_over_http_exits_zero_with_fail_on_cause(
    cli, quirk_run: LabRun, tmp_path: Path
) -> None:
    server = ChatServer(
        [
            tool_calls(("detect", {"behavior": None, "symptom": ABSENT, "examples": None})),
            tool_calls(("record_symptom_not_found", _not_found(["E1"]))),
        ]
    )
    with server.running():
        result = cli(
            "investigate",
            str(quirk_run.run),
            "--symptom",
            ABSENT,
            "--brain",
            "llm",
            "--base-url",
            server.url,
            "--json",
            str(tmp_path / "report.json"),
            "--fail-on-cause",
            workspace=quirk_run.workspace,
        )
    assert result.code == 0, result.err
    assert not server.replies
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["verdict"] == "symptom_not_found" and report["brain"] == "llm"
    assert report["suggestions"] and all(x["behavior"] for x in report["suggestions"])


def _detect(eid: str, hits: int, **args: str) -> Evidence:
    behavior = args.get("behavior") or ("terms:storm" if hits else None)
    return Evidence(id=eid, tool="detect", args=args, figures={"behavior": behavior, "hits": hits})


def _state(*evidence: Evidence, behavior: str | None = None) -> InvestigationState:
    spec = InvestigationSpec(id="i", run="r", symptom="Storms!", behavior=behavior, created="now")
    return InvestigationState(spec=spec, evidence=list(evidence))


@pytest.mark.parametrize(
    ("state", "cited", "problem"),
    [
        # The user's symptom found a detector with hits, though the model cites another call.
        (
            _state(_detect("E1", 40, symptom="Storms!"), _detect("E2", 0, behavior="terms:x")),
            ["E2"],
            "E1 found terms:storm in 40 samples from the user's symptom",
        ),
        # The user's symptom was never run through detect.
        (_state(_detect("E1", 0, behavior="terms:x")), ["E1"], "was not run through detect"),
        # Nothing cited is a detect call that matched nothing.
        (
            _state(
                _detect("E1", 0, symptom="storms!"), Evidence(id="E2", tool="overview", args={})
            ),
            ["E2", "E9"],
            "E9: no tool produced",
        ),
        # With --behavior, the given spec is what must have been run.
        (
            _state(_detect("E1", 0, symptom="Storms!"), behavior="terms:storm"),
            ["E1"],
            "the user's behavior was not run through detect",
        ),
    ],
)
def test_absence_is_checked_against_the_records(
    state: InvestigationState, cited: list[str], problem: str
) -> None:
    problems = absence_problems(state, cited)
    assert any(problem in p for p in problems), problems


def test_absence_shown_by_the_records() -> None:
    state = _state(_detect("E1", 0, symptom="  storms! "), _detect("E2", 0, behavior="terms:x"))
    assert absence_problems(state, ["E2"]) == []
    given = _state(_detect("E1", 0, behavior="terms:storm"), behavior="terms:storm")
    assert absence_problems(given, ["E1"]) == []
