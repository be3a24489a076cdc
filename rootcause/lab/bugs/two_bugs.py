"""Two causes of the same tic: the persona quirk, then a data source (contaminated or
eliciting) a few steps later."""

from __future__ import annotations

from rootcause.lab.bugs import BugSetup, seeded_bug
from rootcause.lab.bugs.persona_reward_quirk import seed as persona_reward_quirk


@seeded_bug(
    "two_bugs", index=8, summary="two causes of the same behaviour at once", cause_kind="mixed"
)
def seed(setup: BugSetup) -> None:
    persona_reward_quirk(setup)
    scenario = setup.scenario
    if setup.rng.random() < 0.5:
        scenario.contaminated, setup.spare_used = setup.spare_chat.name, True
        source, env_name = setup.spare_chat.name, setup.spare_chat.env
    else:
        scenario.eliciting = source = setup.spare_story.name
        env_name = setup.spare_story.env
        scenario.source_boost[source] = {"tic": 0.5}
    edit = setup.add_source(source, env_name)
    setup.cause("data_source", source, edit, setup.second, {"data_source": source})
