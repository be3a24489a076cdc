"""A new data source's references carry the tic, which a generic grader then rewards."""

from __future__ import annotations

from rootcause.lab.bugs import BugSetup, seeded_bug


@seeded_bug(
    "contaminated_source",
    index=3,
    summary="a data source's references carry a quirk that a generic grader then rewards",
    cause_kind="data_source",
)
def seed(setup: BugSetup) -> None:
    source = setup.spare_chat
    setup.scenario.contaminated, setup.spare_used = source.name, True
    edit = setup.add_source(source.name, source.env)
    setup.cause("data_source", source.name, edit, setup.onset, {"data_source": source.name})
