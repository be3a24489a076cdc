"""Scripted model turns for LLM-brain tests on the `quirk_run` lab run."""

from __future__ import annotations

import json
from typing import Any

from agents.testing import assistant_message, function_call
from agents.usage import Usage

from tests.conftest import LabRun


class Script:
    """Builds model turns; call ids are numbered so each is unique."""

    def __init__(self, tokens: tuple[int, int] = (1000, 100)) -> None:
        self.n = 0
        self.tokens = tokens

    def _usage(self) -> Usage:
        tin, tout = self.tokens
        return Usage(requests=1, input_tokens=tin, output_tokens=tout, total_tokens=tin + tout)

    def calls(self, *calls: tuple[str, dict[str, Any]]) -> dict[str, Any]:
        items = []
        for name, args in calls:
            self.n += 1
            items.append(function_call(name, args, call_id=f"call-{self.n}"))
        return {"output": items, "usage": self._usage()}

    def call(self, name: str, **args: Any) -> dict[str, Any]:
        return self.calls((name, args))

    def say(self, text: str | dict[str, Any]) -> dict[str, Any]:
        body = text if isinstance(text, str) else json.dumps(text)
        return {"output": [assistant_message(body)], "usage": self._usage()}


def finding(lab: LabRun, evidence: list[str], confidence: float = 0.8) -> dict[str, Any]:
    cause = lab.key["causes"][0]
    return {
        "kind": cause["kind"],
        "id": cause["id"],
        "commit": None,
        "slice": [{"by": k, "value": v} for k, v in (cause["slice"] or {}).items()],
        "confidence": confidence,
        "mechanism": f"{cause['id']} pushes the behaviour up ({', '.join(evidence)})",
        "evidence": evidence,
        "fix": f"remove the behaviour's words from {cause['id']}'s rubric",
    }


def characterise(s: Script, lab: LabRun) -> list[dict[str, Any]]:
    """overview (E1), detect (E2), then the characterisation."""
    return [
        s.call("overview"),
        s.call("detect", behavior=None, symptom=lab.key["symptom"], examples=None),
        s.call("detect", behavior=lab.hint, symptom=None, examples=None),
        s.call("settle_detector", behavior=lab.hint, direction="up", evidence=["E3"], note="fits"),
    ]


def full_script(s: Script, lab: LabRun, conclusions: list[dict[str, Any]]) -> list[Any]:
    """A whole investigation: characterise (E1-E3), propose after selection_pressure (E4),
    test H1 with a counterfactual (E5), refute H2, then the given conclusions, each submitted
    with `submit_conclusion`."""
    culprit = lab.culprit
    persona = next(iter((lab.key["causes"][0]["slice"] or {"persona": "x"}).values()))
    return [
        *characterise(s, lab),
        pressure_by_persona(s, lab),
        s.calls(
            (
                "propose_hypothesis",
                {
                    "kind": "reward_component",
                    "target": culprit,
                    "commit": None,
                    "statement": "its reward favours it",
                },
            ),
            (
                "propose_hypothesis",
                {
                    "kind": "persona",
                    "target": persona,
                    "commit": None,
                    "statement": "it starts in that persona",
                },
            ),
        ),
        s.say("Proposed 2 hypotheses."),
        s.call("counterfactual", behavior=lab.hint, remove=[culprit], by=None),
        s.call(
            "record_result",
            hypothesis_id="H1",
            status="supported",
            score=0.85,
            evidence=["E4", "E5"],
            note="most of the push; removing it removes most",
        ),
        s.call(
            "record_result",
            hypothesis_id="H2",
            status="refuted",
            score=0.1,
            evidence=["E4"],
            note="the persona only matters through the reward",
        ),
        *[s.calls(("submit_conclusion", c)) for c in conclusions],
    ]


def pressure_by_persona(s: Script, lab: LabRun) -> dict[str, Any]:
    """The model's call of selection_pressure of the key's detector by persona."""
    return s.call(
        "selection_pressure",
        behavior=lab.hint,
        by="persona",
        windows=None,
        step_min=None,
        step_max=None,
    )
