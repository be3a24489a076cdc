"""A weight or sign change of an existing component: the length term turned into a bonus
(answers grow), or the harmlessness classifier up-weighted (answers hedge)."""

from __future__ import annotations

from rootcause.lab.bugs import BugSetup, seeded_bug


@seeded_bug(
    "reward_weight_change",
    index=5,
    summary="a weight or sign change of an existing reward component",
    cause_kind="config_change",
)
def seed(setup: BugSetup) -> None:
    rewards, scenario = setup.builder.rewards, setup.scenario
    if setup.rng.random() < 0.5:
        changed = setup.components["length"]
        edit = setup.set_path(rewards[changed], "weight", -0.6, f"simplify {changed} config")
        scenario.detector_hint, scenario.symptom = "words:>70", "Responses have become much longer."
    else:
        changed = setup.components["safety"]
        message = f"reweight {changed} after red-team review"
        edit = setup.set_path(rewards[changed], "weight", 1.5, message)
        scenario.detector_hint = "regex:(?i)grain of salt|might be wrong|not fully sure"
        scenario.symptom = (
            "Answers increasingly end with hedges like 'take this with a grain of salt'."
        )
    setup.cause("config_change", changed, edit, setup.onset, None)
