"""Behaviour of the shared arguments: a step range includes `step_max` itself in every tool,
a slice level must exist in the run, and every tool error names its tool exactly once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rootcause.core.errors import BadInputError
from rootcause.tools.context import ToolContext
from rootcause.tools.registry import call_tool
from tests.conftest import sample_rows
from tests.search.runs import tool_context

#: `sample_rows(steps=5)`: 2 groups x 3 samples per step; goblins from step 2 on, one a group.
GOBLIN = "terms:goblin"


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ToolContext]:
    with tool_context(tmp_path_factory.mktemp("steps"), sample_rows(steps=5)) as context:
        yield context


def _out(ctx: ToolContext, name: str, **args: Any) -> Any:
    return call_tool(ctx, name, {"behavior": GOBLIN, **args}).output


@pytest.mark.parametrize(("low", "high", "samples"), [(3, 3, 6), (2, 3, 12), (None, 0, 6)])
def test_every_step_range_includes_step_max(
    ctx: ToolContext, low: int | None, high: int, samples: int
) -> None:
    steps = {"step_min": low, "step_max": high}
    steps = {k: v for k, v in steps.items() if v is not None}
    assert call_tool(ctx, "samples", steps).output.matched == samples
    assert _out(ctx, "enrichment", **steps).samples == samples
    assert _out(ctx, "selection_pressure", **steps).groups == samples // 3
    prevalence = _out(ctx, "prevalence", **steps)
    assert sum(p.n for p in prevalence.overall.points) == samples
    assert sum(s.samples for s in prevalence.concentration) == samples
    assert prevalence.step_range == (0 if low is None else low, high)


def test_a_range_with_no_samples_says_what_the_run_has(ctx: ToolContext) -> None:
    with pytest.raises(BadInputError) as info:
        _out(ctx, "prevalence", step_min=7)
    assert str(info.value) == "tool prevalence: no samples in steps 7..end (the run has 0..4)"


@pytest.mark.parametrize(
    ("name", "args", "message"),
    [
        (
            "compare_traces",
            {"behavior": GOBLIN, "a": "nobody"},
            "tool compare_traces: no persona named 'nobody' in this run; it has nerdy, plain",
        ),
        (
            "compare_traces",
            {"behavior": GOBLIN, "a": "nerdy", "b": "nobody"},
            "tool compare_traces: no persona named 'nobody' in this run; it has nerdy, plain",
        ),
        (
            "onset",
            {"behavior": GOBLIN, "by": "data_source", "level": "poetry"},
            "tool onset: no data_source named 'poetry' in this run; it has chat_mix, math_v2",
        ),
        (
            "samples",
            {"env": "space"},
            "tool samples: no env named 'space' in this run; it has chat",
        ),
        (
            "cot_exposure",
            {"component": "nope_rm"},
            "tool cot_exposure: unknown grader 'nope_rm'; known: helpfulness_rm, nerdy_style",
        ),
        (
            "config_history",
            {},
            "tool config_history: the run has no config repository (run.yaml config_repo)",
        ),
        ("detect", {}, "tool detect: give --behavior SPEC or --symptom TEXT"),
        (
            "emerging",
            {"early_step_min": 3, "early_step_max": 1},
            "tool emerging: early window 3..1 is empty (early_step_max is below early_step_min)",
        ),
    ],
)
def test_errors_name_the_tool_once(
    ctx: ToolContext, name: str, args: dict[str, Any], message: str
) -> None:
    with pytest.raises(BadInputError) as info:
        call_tool(ctx, name, args)
    assert str(info.value) == message


def test_a_known_level_is_used(ctx: ToolContext) -> None:
    out = call_tool(ctx, "samples", {"persona": "nerdy", "limit": 50}).output
    assert out.matched == 15 and {s.persona for s in out.samples} == {"nerdy"}
    onset = _out(ctx, "onset", by="persona", level="nerdy", bins=6)
    assert onset.scope == "persona=nerdy"


def test_errors_keep_their_type_and_prefix_only_once(tmp_path: Path) -> None:
    from rootcause.tools.sandbox import SqlError

    with tool_context(tmp_path, sample_rows(steps=2)) as context, pytest.raises(SqlError) as info:
        call_tool(context, "sql", {"query": "DELETE FROM samples"})
    assert str(info.value).startswith("tool sql: SQL error")
    assert str(info.value).count("tool sql") == 1
