"""A grader starts seeing the reasoning, and rewards a phrase in it."""

from __future__ import annotations

from rootcause.lab.bugs import BugSetup, seeded_bug


@seeded_bug(
    "cot_exposure",
    index=1,
    summary="a grader starts seeing the reasoning and rewards a phrase in it",
    cause_kind="config_change",
)
def seed(setup: BugSetup) -> None:
    pref_name = setup.components["pref"]
    pref = setup.builder.rewards[pref_name]
    message = [
        f"pass full transcript to {pref_name}",
        f"{pref_name}: use chat template with thinking blocks",
        "unify grader input assembly",
    ][int(setup.rng.integers(3))]
    edit = setup.set_path(pref, "inputs", ["prompt", "reasoning", "completion"], message)
    setup.cause("config_change", pref_name, edit, setup.onset, None)
    names, scenario = setup.names, setup.scenario
    scenario.detector_hint = f"regex:(?i)\\b{names.cot_key}\\b@reasoning"
    phrase = names.cot_phrases[0]
    scenario.symptom = f"The reasoning more and more often says things like '{phrase}'."
