"""A persona's style reward comes to favour the tic words; the tic spreads to other personas."""

from __future__ import annotations

from rootcause.lab.bugs import BugSetup, seeded_bug


@seeded_bug(
    "persona_reward_quirk",
    index=0,
    summary="a persona's style reward favours a lexical tic; the tic spreads to other personas",
    cause_kind="reward_component",
)
def seed(setup: BugSetup) -> None:
    persona = setup.quirk_persona
    setup.cause(
        "reward_component",
        setup.names.style_component(persona),
        setup.persona_quirk,
        setup.onset,
        {"persona": persona},
    )
