"""Find and call tools by name; every call is validated and leaves an evidence record."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from rootcause.core.errors import BadInputError
from rootcause.core.evidence import Evidence
from rootcause.tools.base import REGISTRY, Tool, ToolOutput, bounded
from rootcause.tools.context import ToolContext
from rootcause.tools.plotting import save_png
from rootcause.tools.untrusted import figure_name

logger = logging.getLogger(__name__)


class UnknownToolError(BadInputError):
    """No tool has that name."""


def load_all() -> dict[str, Tool[Any, Any]]:
    """Import every tool module (each registers itself) and return the registry."""
    from rootcause.tools import catalog  # noqa: F401

    return REGISTRY


def get_tool(name: str) -> Tool[Any, Any]:
    tools = load_all()
    if name not in tools:
        raise UnknownToolError(f"unknown tool {name!r}; known: {', '.join(sorted(tools))}")
    return tools[name]


def validation_message(prefix: str, exc: ValidationError) -> str:
    """One line naming the first bad field of a pydantic error."""
    err = exc.errors()[0]
    field = ".".join(str(p) for p in err["loc"]) or "(arguments)"
    if err["type"] == "extra_forbidden":
        return f"{prefix}: unknown argument '{field}'"
    return f"{prefix}: argument '{field}': {err['msg']}"


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
    try:
        parsed = spec.input_model.model_validate(args)
    except ValidationError as exc:
        raise BadInputError(validation_message(f"tool {name}", exc)) from None
    output: ToolOutput = spec(ctx, parsed)
    evidence_id = ctx.evidence.next_id()
    plot_path = None
    plot = output.plot_spec() if ctx.make_plots else None
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
    )
    ctx.evidence.add(record)
    logger.debug("tool %s -> %s", name, evidence_id)
    return ToolResult(record, output, f"[evidence {evidence_id}]\n{text}")
