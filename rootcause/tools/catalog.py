"""Imports every tool module so each registers itself; the registry's single entry point."""

from rootcause.tools import t_detect, t_run  # noqa: F401
