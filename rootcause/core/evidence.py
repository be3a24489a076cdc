"""Evidence: the record a tool call leaves, so every number in a report can cite its source."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

Figure = float | int | str | bool | None


class Evidence(BaseModel):
    """One tool call: what was asked, the key figures it produced, and where its plot is."""

    id: str
    tool: str
    args: dict[str, Any]
    figures: dict[str, Figure] = Field(default_factory=dict)
    summary: str = ""
    plot: str | None = None
