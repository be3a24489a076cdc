"""A tool's summary (the tool list, the palette, block titles) is its first sentence."""

from __future__ import annotations

import dataclasses

from rootcause.tools.registry import get_tool


def test_summary_is_the_first_sentence_past_abbreviations() -> None:
    tool = dataclasses.replace(
        get_tool("sql"), description="Compare A (e.g. a persona) with B, i.e. the rest. Then more."
    )
    assert tool.summary == "Compare A (e.g. a persona) with B, i.e. the rest."
