"""The systematic brain: every test over every candidate, combined by a written-down rule."""

from rootcause.investigate.systematic.brain import SystematicBrain

__all__ = ["SystematicBrain"]
