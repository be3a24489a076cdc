"""Semantic behaviours and similarity search (needs the `semantic` extra)."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from rootcause.core.errors import BadInputError
from rootcause.tools.behavior import Behavior
from rootcause.tools.context import ToolContext


def semantic_hits(ctx: ToolContext, behavior: Behavior) -> npt.NDArray[np.bool_]:
    raise BadInputError(f"behaviour {behavior.spec!r}: semantic detectors are not available")


def similar_rows(
    ctx: ToolContext, text: str, where: str, params: list[Any], limit: int
) -> dict[int, float]:
    raise BadInputError("--similar: semantic search is not available")
