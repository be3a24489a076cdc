"""A new data source whose prompts elicit the tic, with no reward pressure for it."""

from __future__ import annotations

from rootcause.lab.bugs import BugSetup, seeded_bug


@seeded_bug(
    "eliciting_source",
    index=4,
    summary="a source whose prompts elicit the behaviour, with no reward pressure",
    cause_kind="data_source",
)
def seed(setup: BugSetup) -> None:
    source = setup.spare_story
    setup.scenario.eliciting = source.name
    setup.scenario.source_boost[source.name] = {"tic": 0.5}
    edit = setup.add_source(source.name, source.env)
    setup.cause("data_source", source.name, edit, setup.onset, {"data_source": source.name})
