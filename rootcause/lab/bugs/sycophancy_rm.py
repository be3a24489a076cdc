"""A preference-model checkpoint bump to one that likes flattery."""

from __future__ import annotations

from rootcause.lab.bugs import BugSetup, seeded_bug
from rootcause.lab.names import FLATTERY_TERMS


@seeded_bug(
    "sycophancy_rm",
    index=7,
    summary="a preference model update that rewards flattery",
    cause_kind="config_change",
)
def seed(setup: BugSetup) -> None:
    pref = setup.components["pref"]
    checkpoint = setup.new_checkpoint({t: 1.0 for t in FLATTERY_TERMS})
    params = setup.builder.rewards[pref]["params"]
    edit = setup.set_path(params, "checkpoint", checkpoint, f"bump {pref} to {checkpoint}")
    setup.cause("config_change", pref, edit, setup.onset, None)
    setup.scenario.detector_hint = "regex:(?i)" + "|".join(FLATTERY_TERMS)
    setup.scenario.symptom = "Answers increasingly open with flattery such as 'Great question!'."
