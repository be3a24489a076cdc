"""Find and call tools by name; every call is validated and leaves an evidence record."""

from __future__ import annotations

import functools
import importlib
import logging
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from rootcause.core.errors import BadInputError, RootcauseError
from rootcause.core.evidence import Evidence
from rootcause.core.untrusted import figure_name, label
from rootcause.tools.arguments import parse_arguments
from rootcause.tools.base import REGISTRY, Tool, ToolInput, ToolOutput, bounded
from rootcause.tools.catalog import TOOL_MODULES
from rootcause.tools.context import ToolContext
from rootcause.tools.plot_png import save_png
from rootcause.tools.plotting import drawable

logger = logging.getLogger(__name__)


class UnknownToolError(BadInputError):
    """No tool has that name."""


class CatalogError(RootcauseError):
    """`tools/catalog.py` and the tool modules disagree (a tool missing from the catalog, or
    listed under a module that does not define it): a fault of ours, found when tools load."""


def tool_names() -> list[str]:
    """Every tool's name, sorted, without importing any tool module."""
    return sorted(set(TOOL_MODULES) | set(REGISTRY))


def load_all() -> dict[str, Tool[Any, Any]]:
    """Import every tool module (each registers itself), check them against the catalog, and
    return the registry."""
    for module in sorted(set(TOOL_MODULES.values())):
        importlib.import_module(f"{__package__}.{module}")
    _check_catalog()
    return REGISTRY


@functools.cache
def _check_catalog() -> None:
    """Each tool of a module of ours is listed in the catalog under that module, and each
    listed tool is defined (once per process: the modules do not change)."""
    for name, spec in REGISTRY.items():
        module = spec.fn.__module__
        if not module.startswith(f"{__package__}."):
            continue  # registered from elsewhere (a test's tool): not the catalog's business
        listed = TOOL_MODULES.get(name)
        if listed is None or f"{__package__}.{listed}" != module:
            where = "missing from" if listed is None else f"listed under {listed!r} in"
            raise CatalogError(f"tool {name!r} of {module} is {where} rootcause/tools/catalog.py")
    missing = sorted(set(TOOL_MODULES) - set(REGISTRY))
    if missing:
        raise CatalogError(f"rootcause/tools/catalog.py lists tools no module defines: {missing}")


def get_tool(name: str) -> Tool[Any, Any]:
    """The tool `name`, importing its module only (not every tool's)."""
    if name not in REGISTRY and name in TOOL_MODULES:
        importlib.import_module(f"{__package__}.{TOOL_MODULES[name]}")
        if name not in REGISTRY:
            raise CatalogError(
                f"rootcause/tools/catalog.py lists {name!r} under {TOOL_MODULES[name]!r}, "
                "which does not define it"
            )
    if name not in REGISTRY:
        raise UnknownToolError(f"unknown tool {name!r}; known: {', '.join(tool_names())}")
    return REGISTRY[name]


def validation_message(prefix: str, exc: ValidationError) -> str:
    """One line naming the first bad field of a pydantic error (or the arguments as a whole,
    for a check across fields)."""
    err = exc.errors()[0]
    field = ".".join(str(p) for p in err["loc"])
    message = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        return f"{prefix}: unknown argument '{field}'"
    if not field:
        return f"{prefix}: {message}"
    return f"{prefix}: argument '{field}': {message}"


def tool_label(name: str) -> str:
    """What every error of tool `name` starts with, once (then `: `)."""
    return f"tool {name}"


@contextmanager
def errors_named(name: str) -> Iterator[None]:
    """Prefix a deliberate error raised inside with the tool's name, once (its type, and so
    its exit code, stay)."""
    try:
        yield
    except RootcauseError as exc:
        message, prefix = str(exc), f"{tool_label(name)}: "
        if not message.startswith(prefix):
            exc.args = (prefix + message,)
        raise


def parse_tool_words(name: str, words: Sequence[str]) -> dict[str, Any]:
    """Arguments of tool `name` from command words (`--by persona`, `by=persona`, ...; see
    `rootcause.tools.arguments`)."""
    spec = get_tool(name)
    with errors_named(name):
        return parse_arguments(spec.input_model, words)


def validate_args(name: str, args: dict[str, Any]) -> ToolInput:
    """Tool `name`'s typed input from `args`; a bad value is one line naming the argument."""
    spec = get_tool(name)
    try:
        parsed: ToolInput = spec.input_model.model_validate(args)
    except ValidationError as exc:
        raise BadInputError(validation_message(tool_label(name), exc)) from None
    return parsed


@dataclass
class ToolResult:
    """A finished call: its evidence record, typed output and text rendering."""

    evidence: Evidence
    output: ToolOutput
    text: str


def call_tool(ctx: ToolContext, name: str, args: dict[str, Any]) -> ToolResult:
    """Validate `args`, run the tool, draw its plot, record and return the evidence (figure
    names built from a run's labels are quoted when they are not plain identifiers; the record
    caps its own sizes)."""
    spec = get_tool(name)
    parsed = validate_args(name, args)
    with errors_named(name):
        output: ToolOutput = spec(ctx, parsed)
    evidence_id = ctx.evidence.next_id()
    plot_path = None
    plot = drawable(output.plot_spec()) if ctx.make_plots else None
    if plot is not None:
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower())
        plot_path = save_png(plot, ctx.plots_dir / f"{evidence_id}-{slug}.png")
    text = bounded(output.render())
    record = Evidence(
        id=evidence_id,
        tool=name,
        args=parsed.model_dump(mode="json", exclude_defaults=True),
        figures={figure_name(k): v for k, v in output.figures().items()},
        summary=text.splitlines()[0] if text else "",
        plot=None if plot_path is None else str(plot_path),
        behavior=output.measured(),
        about=[s.model_copy(update={"name": label(s.name)}) for s in output.subjects()],
    )
    ctx.evidence.add(record)
    logger.debug("tool %s -> %s", name, evidence_id)
    return ToolResult(record, output, f"[evidence {evidence_id}]\n{text}")
