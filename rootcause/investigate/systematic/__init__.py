"""The systematic brain: every test over every candidate, combined by a written-down rule.
`SystematicBrain` loads on first use, so the investigation state can import this package's
memo without loading the brain."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rootcause.investigate.systematic.brain import SystematicBrain

__all__ = ["SystematicBrain"]


def __getattr__(name: str) -> Any:
    if name == "SystematicBrain":
        from rootcause.investigate.systematic.brain import SystematicBrain

        return SystematicBrain
    raise AttributeError(name)
