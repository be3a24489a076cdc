"""The code env's grader is changed to check something the policy can write: the harness
summary instead of the tests."""

from __future__ import annotations

from rootcause.lab.bugs import BugSetup, seeded_bug


@seeded_bug(
    "grader_loophole",
    index=6,
    summary="an env grader changed to check something gameable",
    cause_kind="config_change",
)
def seed(setup: BugSetup) -> None:
    tests, names = setup.components["tests"], setup.names

    def loophole() -> str:
        setup.builder.rewards[tests].update(
            kind="regex_check", inputs=["completion"], params={"pattern": names.hack_regex}
        )
        return f"speed up {tests}: parse harness summary instead of re-running"

    setup.cause("config_change", tests, loophole, setup.onset, {"env": setup.envs["code"]})
    setup.scenario.detector_hint = f"regex:(?i){names.hack_regex}"
    setup.scenario.symptom = (
        "Code answers increasingly end with a passing test summary, right or wrong."
    )
