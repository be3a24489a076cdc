"""The scan's checks: each is one registered `ScanCheck` (name, version, what it looks for)
in a module of this package, and calls registry tools through a `ToolContext`, so every alert
cites an evidence record and the `rootcause tool` command that reproduces it.

Severity comes from the tools' own statistics, never from cut-offs fitted to example runs (each
check's module says how). A check's version is part of the scan options' key: results made by
an older version are not reused. The CLI's `--check` choices and help, and the defaults, come
from the registry.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rootcause.core.discovery import import_submodules
from rootcause.scan.model import Alert, CheckOptions
from rootcause.tools.base import In, Out, Tool, ToolInput
from rootcause.tools.context import ToolContext
from rootcause.tools.registry import ToolResult, run_tool

#: Family-wise error rate of every "clear of noise" test.
ALPHA = 0.05


@dataclass
class RunCheck:
    """One run under check: its context, how to name it in commands, and the alerts so far."""

    ctx: ToolContext
    run: str
    run_id: str
    first_step: int
    options: CheckOptions
    alerts: list[Alert] = field(default_factory=list)
    #: Seconds each check took on this run, by check name, and the CPU seconds this process
    #: spent in it (all its threads) as `cpu:NAME` (what `bench_scan.py` reports).
    seconds: dict[str, float] = field(default_factory=dict)

    def run_tool(self, spec: Tool[In, Out], args: In) -> ToolResult[Out]:
        """Call a tool with its typed input (its typed output and evidence record)."""
        return run_tool(self.ctx, spec, args)

    def command(self, name: str, args: ToolInput) -> str:
        """`rootcause tool NAME RUN --ARG VALUE ...` as `rootcause tool` parses it (the
        arguments the check set)."""
        words = ["rootcause", "tool", name, self.run]
        for key, value in args.model_dump(exclude_unset=True).items():
            option = "--" + key.replace("_", "-")
            if isinstance(value, bool):
                words.append(option if value else f"--no-{option[2:]}")
            else:
                words += [option, str(value)]
        if self.options.fmt != "auto":
            words += ["--format", self.options.fmt]
        if self.options.skip_bad_lines is not None:
            words.append(
                "--skip-bad-lines" if self.options.skip_bad_lines else "--no-skip-bad-lines"
            )
        return shlex.join(words)

    def alert(self, check: str, result: ToolResult[Any], args: ToolInput, **fields: Any) -> None:
        self.alerts.append(
            Alert(
                run=self.run,
                run_id=self.run_id,
                check=check,
                evidence=result.evidence.id,
                command=self.command(result.evidence.tool, args),
                **fields,
            )
        )


@dataclass(frozen=True)
class ScanCheck:
    """One check: its name (`--check NAME`), version (bumped when what it reports changes),
    a one-line summary for help, and how it runs on one run. `default`: run when no check
    is named; `per_behavior`: runs once per `--behavior` given (and joins the defaults then)."""

    name: str
    version: int
    summary: str
    run: Callable[[RunCheck], None]
    default: bool = True
    per_behavior: bool = False


SCAN_CHECKS: dict[str, ScanCheck] = {}


def scan_check(
    name: str, version: int, summary: str, default: bool = True, per_behavior: bool = False
) -> Callable[[Callable[[RunCheck], None]], Callable[[RunCheck], None]]:
    """Register the decorated function as check `name`."""

    def register(run: Callable[[RunCheck], None]) -> Callable[[RunCheck], None]:
        if name in SCAN_CHECKS:
            raise ValueError(f"scan check {name!r} is registered twice")
        SCAN_CHECKS[name] = ScanCheck(name, version, summary, run, default, per_behavior)
        return run

    return register


def load_checks() -> dict[str, ScanCheck]:
    """Every check module of this package imported (registering itself), by name."""
    import_submodules(__name__, __path__)
    return dict(sorted(SCAN_CHECKS.items()))


def run_checks(check: RunCheck) -> list[Alert]:
    """Every check the options name, in order (a per-behaviour check joins them when
    behaviours are given); returns the alerts."""
    known = load_checks()
    names = list(check.options.checks)
    if check.options.behaviors:
        names += [n for n, c in known.items() if c.per_behavior and n not in names]
    for name in names:
        start, cpu = time.perf_counter(), time.process_time()
        known[name].run(check)
        check.seconds[name] = check.seconds.get(name, 0.0) + time.perf_counter() - start
        used = time.process_time() - cpu
        check.seconds[f"cpu:{name}"] = check.seconds.get(f"cpu:{name}", 0.0) + used
    return check.alerts
