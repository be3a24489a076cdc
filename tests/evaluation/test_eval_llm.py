"""`rootcause eval --brain llm` end to end with a scripted model (no network), to keep the
eval's LLM path working: brain options reach the brain, tokens and dollars reach the table.

The script is written here from the answer key (it has to name tools and candidates), which
checks the eval's plumbing, not the LLM brain's accuracy; the runner still gives the brain only
the run folder and the symptom.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from rootcause.evaluation.cache import ensure_run
from rootcause.evaluation.suite import load_suite
from tests.conftest import CliResult, LabRun


def test_eval_of_the_llm_brain_with_a_scripted_model(
    cli: Callable[..., CliResult], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("agents")
    from agents.testing import ScriptedModel

    from rootcause.investigate import job
    from rootcause.investigate.llm import LLMBrain, LLMOptions
    from rootcause.investigate.options import BrainOptions
    from tests.investigate.llm.helpers import Script, finding, full_script

    suite = tmp_path / "llm.yaml"
    suite.write_text(
        "defaults: {steps: 60, groups: 16, group_size: 8}\n"
        "scenarios:\n  - {bug: persona_reward_quirk, seed: 1}\n"
    )
    ws = tmp_path / "ws"
    scn = load_suite(suite).scenarios[0]
    cached = ensure_run(ws, scn.bug, scn.seed, scn.options)
    lab = LabRun(cached.run_dir, json.loads(cached.key_path.read_text()), ws)
    conclusion = {
        "summary": f"{lab.culprit} rewards the behaviour.",
        "findings": [finding(lab, ["E4", "E5"])],
    }
    seen: list[BrainOptions] = []

    def scripted(options: BrainOptions, api_key: str | None) -> LLMBrain:
        assert isinstance(options, LLMOptions)
        seen.append(options)
        model = ScriptedModel(full_script(Script(tokens=(1000, 100)), lab, [conclusion]))
        return LLMBrain(options, api_key, model=model)

    kind = job.BrainKind(LLMOptions, scripted, job.BRAINS["llm"].memo)
    monkeypatch.setitem(job.BRAINS, "llm", kind)
    result = cli(
        "eval",
        "--suite",
        str(suite),
        "--brain",
        "llm",
        "--model",
        "gpt-4.1-mini",
        "--brain-option",
        "max_turns=50",
        "--json",
        "-",
        workspace=ws,
    )
    assert result.code == 0, result.err
    data = result.json()
    (scenario,) = data["scenarios"]
    assert scenario["error"] is None and scenario["verdict"] == "cause_found"
    assert seen and all(isinstance(o, LLMOptions) for o in seen)
    assert all((o.model, o.max_turns) == ("gpt-4.1-mini", 50) for o in seen)
    summary = data["summary"]
    assert summary["top1"] == 1.0 and summary["errors"] == 0
    assert summary["tokens_in"] == 11_000 and summary["tokens_out"] == 1_100
    assert summary["cost_usd"] > 0
    assert data["spec"]["brain"] == "llm"
    assert data["spec"]["brain_options"] == {"model": "gpt-4.1-mini", "max_turns": 50}
    report = json.loads(Path(scenario["report_path"]).read_text())
    assert report["brain"] == "llm"
