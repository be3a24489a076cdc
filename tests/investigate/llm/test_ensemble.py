"""Many investigators in one: independent LLM investigations of one spec, aggregated on what
the referee confirms (driven by `ScriptedModel`, no network)."""

from __future__ import annotations

import dataclasses
import json

import pytest
from agents.testing import ScriptedModel

from rootcause.core.errors import BadInputError
from rootcause.investigate.job import InvestigationRequest, Outcome, run_investigation
from rootcause.investigate.llm import LLMBrain, LLMOptions
from rootcause.investigate.llm.ensemble import TEMPERATURES, run_ensemble, run_options
from rootcause.store.workspace import Workspace
from tests.conftest import LabRun
from tests.investigate.llm.helpers import Script
from tests.investigate.llm.test_referee import THIN_PUSHER, one_finding_script


def test_run_options_vary_models_and_temperatures() -> None:
    base = LLMOptions(max_turns=30)
    plain = run_options(base, 3, [])
    assert [o.temperature for o in plain] == list(TEMPERATURES)
    assert all(o.max_turns == 30 and o.model is None for o in plain)
    models = run_options(LLMOptions(temperature=0.5), 1, ["a", "b"])
    assert [(o.model, o.temperature) for o in models] == [("a", 0.5), ("b", 0.5)]
    with pytest.raises(BadInputError, match="at most"):
        run_options(base, 99, [])


def test_ensemble_of_three_names_the_cause_the_referee_confirms(quirk_run: LabRun) -> None:
    """Two runs name the culprit, one a component the referee does not confirm: the aggregate
    names the culprit, lists the third run as a disagreement with its verdict and folder, and
    adds up the costs."""
    lab = quirk_run
    targets = [lab.culprit, THIN_PUSHER, lab.culprit]
    models = [ScriptedModel(one_finding_script(Script(), lab, t)) for t in targets]
    brains = iter(models)
    seen: list[LLMOptions] = []

    def run(ws: Workspace, request: InvestigationRequest) -> Outcome:
        assert isinstance(request.options, LLMOptions)
        seen.append(request.options)
        brain = LLMBrain(request.options, model=next(brains))
        return run_investigation(ws, dataclasses.replace(request, brain=brain))

    request = InvestigationRequest(
        run=lab.run, symptom=lab.key["symptom"], brain="llm", options=LLMOptions()
    )
    workspace = Workspace(lab.workspace)
    report, outcomes = run_ensemble(workspace, request, run_options(LLMOptions(), 3, []), run)
    for model in models:
        model.assert_complete()
    assert [o.temperature for o in seen] == list(TEMPERATURES)
    assert report.verdict == "cause_found" and report.cause == f"reward_component {lab.culprit}"
    assert report.runs_naming_cause == 2 and report.referee
    assert [r.verdict for r in report.runs] == ["cause_found", "inconclusive", "cause_found"]
    (disagreement,) = report.disagreements
    assert disagreement.startswith("run 2 ") and "inconclusive" in disagreement
    assert f"named reward_component {THIN_PUSHER}, confirmed none" in disagreement
    assert str(outcomes[1].folder) in disagreement
    assert report.total.tool_calls == sum(o.report.stats.tool_calls for o in outcomes)
    assert report.total.tokens_in == sum(o.report.stats.tokens_in for o in outcomes)
    folder = workspace.root / "ensembles" / report.id
    assert json.loads((folder / "ensemble.json").read_text())["cause"] == report.cause
    markdown = (folder / "ensemble.md").read_text()
    assert "## Disagreements" in markdown and "| total |" in markdown
