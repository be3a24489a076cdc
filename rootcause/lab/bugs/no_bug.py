"""No cause: the tic drifts up after the onset with no reward or data behind it."""

from __future__ import annotations

from rootcause.lab.bugs import BugSetup, seeded_bug


@seeded_bug(
    "no_bug",
    index=9,
    summary="the behaviour drifts with no reward or data cause",
    cause_kind="none",
)
def seed(setup: BugSetup) -> None:
    steps = setup.scenario.steps
    setup.scenario.drift = (setup.onset, 1.0 / max(steps - setup.onset, 1))
