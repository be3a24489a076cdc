"""Evaluation: run an investigation brain over a suite of lab scenarios and score each report
against its answer key.

`api` is what the faces call (`run_suite`, `rescore`). `suite` reads suites (YAML files or
folders), `cache` generates each lab run once, `runner` investigates them (the investigator
sees the run folder and the symptom, never the key), `scorer` turns a report and a key into
match flags and metrics, `tables` and `results` write them out. Only this package and
`rootcause.lab` read answer keys.
"""

from __future__ import annotations
