"""A brain's typed tool call: `box.run(tool, Input(...))` gives the tool's own output type and
its evidence id, announced on the event stream like a call by name."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rootcause.core.errors import BadInputError
from rootcause.investigate.events import (
    EvidenceRecorded,
    InvestigationEvent,
    ToolCalled,
    ToolFailed,
)
from rootcause.investigate.toolbox import Toolbox, ToolDisabledError
from rootcause.tools.builtin.run import SamplesInput, SamplesOutput, SqlInput, samples, sql
from rootcause.tools.context import ToolContext
from tests.conftest import sample_rows
from tests.search.runs import tool_context


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ToolContext]:
    with tool_context(tmp_path_factory.mktemp("toolbox"), sample_rows()) as context:
        yield context


def test_a_typed_call_returns_the_tools_output_and_is_announced(ctx: ToolContext) -> None:
    events: list[InvestigationEvent] = []
    box = Toolbox(ctx, events.append)
    out, evidence_id = box.run(samples, SamplesInput(limit=2, persona=None))
    assert isinstance(out, SamplesOutput) and len(out.samples) == 2
    called, recorded = events
    assert isinstance(called, ToolCalled) and isinstance(recorded, EvidenceRecorded)
    # The arguments given, as a call by name gives them (a None is not an argument).
    assert (called.tool, called.arguments) == ("samples", {"limit": 2})
    assert recorded.evidence.id == evidence_id == called.evidence_id
    assert recorded.evidence.args == {"limit": 2}
    assert box.calls == 1


def test_a_typed_call_that_fails_or_is_disabled_says_so(ctx: ToolContext) -> None:
    events: list[InvestigationEvent] = []
    box = Toolbox(ctx, events.append, disabled={"samples"})
    with pytest.raises(BadInputError, match="tool sql: "):
        box.run(sql, SqlInput(query="DELETE FROM samples"))
    assert [type(e) for e in events] == [ToolCalled, ToolFailed]
    with pytest.raises(ToolDisabledError):
        box.run(samples, SamplesInput())
    assert box.calls == 0


def test_the_typed_and_the_named_call_record_the_same_evidence(ctx: ToolContext) -> None:
    box = Toolbox(ctx)
    typed, typed_id = box.run(samples, SamplesInput(limit=3))
    named = box.call("samples", limit=3, persona=None)
    assert named.output == typed
    first, second = (ctx.evidence.get(i) for i in (typed_id, named.evidence.id))
    assert first is not None and second is not None
    assert (first.args, first.figures, first.summary) == (
        second.args,
        second.figures,
        second.summary,
    )
