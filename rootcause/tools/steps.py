"""The one meaning of a step range in every tool: `step_min` and `step_max`, both inclusive.

A person says "steps 100 to 200" and means both ends; so does every tool that takes a range of
steps. The bounds are defined here once, with the description every schema (and so the LLM)
reads; a tool with two ranges (`emerging`) names them `early_step_min`, `late_step_max`, ...
from the same definition.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from rootcause.core.errors import BadInputError
from rootcause.tools.base import ToolInput

if TYPE_CHECKING:  # numpy loads when a mask is drawn, not with the tools' input models
    import numpy as np
    import numpy.typing as npt

STEP_HELP: dict[Literal["min", "max"], str] = {
    "min": "First step, inclusive.",
    "max": "Last step, inclusive.",
}


def step_bound(bound: Literal["min", "max"], default: str, window: str = "") -> Any:
    """The field of a step bound: optional, non-negative, described by `STEP_HELP` and what the
    tool does without it (`default`). `window` names which of a tool's ranges it bounds; the
    field is then called `{window}_step_min` / `{window}_step_max`. (Kept short: every schema
    the LLM reads repeats it.)"""
    text = STEP_HELP[bound]
    if window:
        text = f"{window.capitalize()} window: {text[0].lower()}{text[1:]}"
    return Field(None, ge=0, description=f"{text} Default: {default}.")


class StepRangeInput(ToolInput):
    """Arguments of a tool that can be limited to steps `step_min`..`step_max` (inclusive)."""

    step_min: int | None = step_bound("min", "the run's first")
    step_max: int | None = step_bound("max", "the run's last")

    @field_validator("step_max")
    @classmethod
    def _not_below_min(cls, value: int | None, info: ValidationInfo) -> int | None:
        low = info.data.get("step_min")
        if value is not None and low is not None and value < low:
            raise ValueError(f"{value} is below step_min ({low}); both bounds are inclusive")
        return value

    @property
    def limits_steps(self) -> bool:
        return self.step_min is not None or self.step_max is not None

    def step_mask(self, steps: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
        """Which of `steps` lie in the range; no sample in it is bad input that says which
        steps the run has."""
        import numpy as np

        keep = np.ones(steps.shape[0], dtype=bool)
        if self.step_min is not None:
            keep &= steps >= self.step_min
        if self.step_max is not None:
            keep &= steps <= self.step_max
        if not keep.any():
            have = f"{int(steps.min())}..{int(steps.max())}" if steps.size else "none"
            raise BadInputError(f"no samples in steps {self.range_text()} (the run has {have})")
        return keep

    def range_text(self) -> str:
        low = "start" if self.step_min is None else str(self.step_min)
        high = "end" if self.step_max is None else str(self.step_max)
        return f"{low}..{high}"

    def sql_conditions(self) -> tuple[list[str], list[int]]:
        """`step` conditions for a WHERE clause and their parameters."""
        conditions: list[str] = []
        params: list[int] = []
        if self.step_min is not None:
            conditions.append("step >= ?")
            params.append(self.step_min)
        if self.step_max is not None:
            conditions.append("step <= ?")
            params.append(self.step_max)
        return conditions, params
