"""Registries filled by their modules: importing every module of a package lets each register
itself (a seeded bug, a scan check), so a new one is one new file."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable


def import_submodules(package: str, path: Iterable[str]) -> None:
    """Import every module of `package` (its `__name__`), found on `path` (its `__path__`)."""
    for module in pkgutil.iter_modules(path):
        importlib.import_module(f"{package}.{module.name}")
