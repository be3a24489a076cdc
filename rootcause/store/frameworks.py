"""The registry of frameworks: the built-in ones and those registered from outside the tree.

A package registers a framework with an entry point in the group `rootcause.frameworks`; the
entry point's name is the format name (`--format NAME`), and it loads to a `Framework` (or a
function returning one):

    [project.entry-points."rootcause.frameworks"]
    mylab-rl = "mylab_rootcause:FRAMEWORK"

Detection order: the built-in frameworks, then the registered ones, then the secondary ones
(W&B tables, which copy what a trainer also writes). A registered framework that cannot be
loaded, is not a `Framework`, names itself differently from its entry point or takes a
built-in name is left out with a warning on stderr naming it (never silently).

Only this module reads entry points; the format list (`format_names`) is read without importing
any reader, so `rootcause --help` stays fast.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from typing import TYPE_CHECKING

from rootcause.store.builtin_frameworks import BUILTIN, NATIVE
from rootcause.store.framework import ConfigSemantics, Framework, FrameworkError

if TYPE_CHECKING:
    from importlib import metadata

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "rootcause.frameworks"


@functools.cache
def _entry_points() -> tuple[metadata.EntryPoint, ...]:
    """The group's entry points, read once per process: reading them scans every installed
    package's metadata (5-15 ms here), and a command's `--format` help alone asked four times
    (typer reads an option's annotation more than once)."""
    from importlib import metadata  # read when a format is looked up, not to list options

    return tuple(sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name))


def reload() -> None:
    """Forget the entry points and frameworks read so far, so the next look-up reads them
    again (a test that registers a framework, a process that installed one)."""
    _entry_points.cache_clear()
    frameworks.cache_clear()


def _registered(ep: metadata.EntryPoint, taken: set[str]) -> Framework:
    """The framework an entry point registers, checked."""
    where = f"entry point {ep.name!r} ({ep.value})"
    if ep.name in taken:
        raise FrameworkError(f"{where}: the format name {ep.name!r} is already taken")
    try:
        found = ep.load()
        framework = found if isinstance(found, Framework) else found()
    except Exception as exc:  # a third-party module: any failure is that plugin's
        raise FrameworkError(f"{where} cannot be loaded: {exc}") from exc
    if not isinstance(framework, Framework):
        raise FrameworkError(f"{where} gives {type(framework).__name__}, not a Framework")
    if framework.name != ep.name:
        raise FrameworkError(f"{where} names its framework {framework.name!r}")
    framework = dataclasses.replace(framework, origin=where)
    try:
        framework.reader()  # made now, so a broken reader is left out here, not mid-command
    except Exception as exc:
        raise FrameworkError(f"{where}: its reader cannot be made: {exc}") from exc
    return framework


@functools.cache
def frameworks() -> tuple[Framework, ...]:
    """Every usable framework, in detection order (see the module docstring)."""
    primary = [f for f in BUILTIN if not f.secondary]
    secondary = [f for f in BUILTIN if f.secondary]
    taken = {f.name for f in BUILTIN} | {"auto"}
    for ep in _entry_points():
        try:
            framework = _registered(ep, taken)
        except FrameworkError as exc:
            log.warning("framework plugin left out: %s", exc)
            continue
        taken.add(framework.name)
        (secondary if framework.secondary else primary).append(framework)
    return (*primary, *secondary)


def framework(name: str) -> Framework | None:
    """The framework of the format `name`, if any."""
    return next((f for f in frameworks() if f.name == name), None)


def format_names() -> list[str]:
    """The format names, in detection order, without loading any plugin or reader (the names
    of registered frameworks are their entry points' names)."""
    builtin = [f.name for f in BUILTIN if not f.secondary]
    secondary = [f.name for f in BUILTIN if f.secondary]
    names = {*builtin, *secondary}
    extra = [ep.name for ep in _entry_points() if ep.name not in names]
    return [*builtin, *extra, *secondary]


def format_help() -> str:
    """The `--format` help line."""
    names = ["auto", *format_names()]
    return f"Run format: {', '.join(names[:-1])} or {names[-1]}."


def option_formats(key: str) -> list[str]:
    """The built-in formats whose reader honours the overlay option `key`."""
    return [f.name for f in BUILTIN if any(o.key == key for o in f.options)]


def config_semantics() -> list[tuple[str, ConfigSemantics]]:
    """(format, config semantics) of every framework that has them, in detection order."""
    return [(f.name, f.config) for f in frameworks() if f.config is not None]


def importer_table() -> list[str]:
    """The README's importer table: one row per built-in foreign format."""
    rows = [
        "| format | reads | leaves out (each counted in a note) | fixtures written by |",
        "| --- | --- | --- | --- |",
    ]
    for f in BUILTIN:
        if f.name != NATIVE:
            rows.append(f"| `{f.name}` | {f.reads} | {f.leaves_out} | {f.fixtures} |")
    return rows
