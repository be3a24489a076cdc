"""Imports every tool module so each registers itself; the registry's single entry point."""

from rootcause.tools import (  # noqa: F401
    t_config_diff,
    t_config_history,
    t_contrast,
    t_cot,
    t_detect,
    t_emerging,
    t_events,
    t_monitorability,
    t_pressure,
    t_prevalence,
    t_run,
)
