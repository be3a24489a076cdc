"""Imports every tool module so each registers itself; the registry's single entry point."""

from rootcause.tools import t_config_diff, t_config_history, t_detect, t_run  # noqa: F401
