"""Find and call tools by name; every call is validated and leaves an evidence record.

The built-in tools are the modules of `rootcause.tools.builtin`, found without importing them:
each module's `@tool("NAME")` lines name its tools, read from its source. So a call of one
tool (`rootcause tool overview RUN`) imports that tool's module only, and `--help` none;
listing the tools (`rootcause tool list`, the LLM brain, the chat) imports them all and checks
that each module registered exactly the tools its source names. A tool module is cheap to
import: its heavy dependencies (scipy, matplotlib, the semantic extra) are imported
by the functions that use them (`tests/test_headless.py` checks).
"""

from __future__ import annotations

import functools
import importlib
import logging
import pkgutil
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic

from pydantic import ValidationError

from rootcause.core.errors import BadInputError, RootcauseError
from rootcause.core.evidence import Evidence
from rootcause.core.untrusted import figure_name, label
from rootcause.tools import builtin
from rootcause.tools.arguments import parse_arguments
from rootcause.tools.base import REGISTRY, In, Out, Tool, ToolInput, ToolOutput, bounded
from rootcause.tools.context import ToolContext
from rootcause.tools.plot_png import save_png
from rootcause.tools.plotting import drawable

logger = logging.getLogger(__name__)

#: A tool's registration as a built-in module writes it: `@tool("NAME")` at the line's start.
_TOOL_LINE = re.compile(r'^@tool\("([A-Za-z_][A-Za-z0-9_]*)"\)', re.MULTILINE)


class UnknownToolError(BadInputError):
    """No tool has that name."""


class DiscoveryError(RootcauseError):
    """A module of `rootcause/tools/builtin/` and the tools it registers disagree (a module
    with no `@tool("NAME")` line, a name given twice, a tool registered otherwise than its
    source says): a fault of ours, found when the tools are listed or loaded."""


@functools.cache
def builtin_tools() -> dict[str, str]:
    """Tool name -> the module of `rootcause.tools.builtin` that defines it, read from each
    module's source (no tool module is imported)."""
    found: dict[str, str] = {}
    for module in pkgutil.iter_modules(builtin.__path__):
        fullname = f"{builtin.__name__}.{module.name}"
        spec = module.module_finder.find_spec(fullname, None)
        get_source = getattr(spec and spec.loader, "get_source", None)
        source = get_source(fullname) if get_source is not None else None
        where = spec.origin if spec is not None and spec.origin else fullname
        if module.ispkg or source is None:
            raise DiscoveryError(f"{where}: a built-in tool is one module with its source")
        names = _TOOL_LINE.findall(source)
        if not names:
            raise DiscoveryError(f'{where}: defines no tool (no line `@tool("NAME")`)')
        for name in names:
            if name in found:
                raise DiscoveryError(f"{where}: tool {name!r} is also defined in {found[name]}")
            found[name] = module.name
    return found


def tool_names() -> list[str]:
    """Every tool's name, sorted, without importing any tool module."""
    return sorted(set(builtin_tools()) | set(REGISTRY))


def load_all() -> dict[str, Tool[Any, Any]]:
    """Import every built-in tool module (each registers itself), check each registered what
    its source names, and return the registry."""
    for module in sorted(set(builtin_tools().values())):
        importlib.import_module(f"{builtin.__name__}.{module}")
    _check_registered()
    return REGISTRY


@functools.cache
def _check_registered() -> None:
    """Each tool a built-in module registered is one its source names, and each name found
    is registered (once per process: the modules do not change)."""
    found = builtin_tools()
    prefix = f"{builtin.__name__}."
    for name, spec in REGISTRY.items():
        module = spec.fn.__module__
        if not module.startswith(prefix):
            continue  # registered from elsewhere (a test's tool): not discovery's business
        if found.get(name) != module.removeprefix(prefix):
            raise DiscoveryError(
                f'tool {name!r} of {module} is not registered by a line `@tool("{name}")` there'
            )
    missing = sorted(set(found) - set(REGISTRY))
    if missing:
        raise DiscoveryError(f"rootcause/tools/builtin/ names tools no module registers: {missing}")


def get_tool(name: str) -> Tool[Any, Any]:
    """The tool `name`, importing its module only (not every tool's)."""
    module = builtin_tools().get(name)
    if name not in REGISTRY and module is not None:
        importlib.import_module(f"{builtin.__name__}.{module}")
        if name not in REGISTRY:
            raise DiscoveryError(
                f'{builtin.__name__}.{module} has a line `@tool("{name}")` but registers no '
                f"tool {name!r}"
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
class ToolResult(Generic[Out]):
    """A finished call: its evidence record, typed output and text rendering."""

    evidence: Evidence
    output: Out
    text: str


def call_tool(ctx: ToolContext, name: str, args: dict[str, Any]) -> ToolResult[ToolOutput]:
    """Validate `args` against tool `name`'s input model and run it (see `run_tool`)."""
    spec = get_tool(name)
    parsed = validate_args(name, args)
    return run_tool(ctx, spec, parsed)


def run_tool(ctx: ToolContext, spec: Tool[In, Out], args: In) -> ToolResult[Out]:
    """Run a tool on its typed input, draw its plot, record and return the evidence (figure
    names built from a run's labels are quoted when they are not plain identifiers; the record
    caps its own sizes)."""
    name = spec.name
    with errors_named(name):
        output = spec(ctx, args)
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
        args=args.model_dump(mode="json", exclude_defaults=True),
        figures={figure_name(k): v for k, v in output.figures().items()},
        summary=text.splitlines()[0] if text else "",
        plot=None if plot_path is None else str(plot_path),
        behavior=output.measured(),
        about=[s.model_copy(update={"name": label(s.name)}) for s in output.subjects()],
    )
    ctx.evidence.add(record)
    logger.debug("tool %s -> %s", name, evidence_id)
    return ToolResult(record, output, f"[evidence {evidence_id}]\n{text}")
