"""What a tool is: a typed function with an LLM-facing docstring, a bounded text rendering,
key figures for its evidence record, and optionally a plot."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar, get_type_hints

from pydantic import BaseModel, ConfigDict

from rootcause.core.evidence import Figure, Points, Subject, SubjectKind
from rootcause.core.untrusted import MAX_QUOTE_CHARS as MAX_QUOTE_CHARS
from rootcause.core.untrusted import quote as quote
from rootcause.core.untrusted import visible
from rootcause.tools.plotting import PlotSpec

if TYPE_CHECKING:
    from rootcause.tools.context import ToolContext

#: Longest text rendering a tool returns; callers (an LLM above all) read all of it.
MAX_TEXT_CHARS = 6000


class ToolInput(BaseModel):
    """Arguments of a tool; unknown fields are an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class ToolOutput(BaseModel):
    """Result of a tool; subclasses say how it reads, what it weighs, and how it looks."""

    def render(self) -> str:
        """Compact text for people and models. Untrusted text (samples, ids, labels, cells)
        only through `rootcause.core.untrusted`: `quote`, `label`, `inline`, `sql_cell`."""
        lines = self.model_dump_json(indent=1).split("\n")
        return "\n".join(visible(line, MAX_TEXT_CHARS) for line in lines)

    def figures(self) -> dict[str, Figure]:
        """The key figures recorded as evidence (what a report may cite)."""
        return {}

    def plot_spec(self) -> PlotSpec | None:
        return None

    def measured(self) -> str | None:
        """The behaviour spec the figures measure (None when they measure no behaviour)."""
        behavior = getattr(self, "behavior", None)
        return behavior if isinstance(behavior, str) else None

    def subjects(self) -> list[Subject]:
        """The candidates (components, sources, personas, envs, commits) the figures are
        about, and which way they move the behaviour for each; none by default."""
        return []


#: The slice fields that are candidate kinds (a `split` is not a cause).
SLICE_SUBJECTS: dict[str, SubjectKind] = {
    "persona": "persona",
    "data_source": "data_source",
    "env": "env",
}


def points_of(low: float, high: float) -> Points:
    """Which way an interval points: up when clear above zero, down when clear below."""
    if low > 0:
        return "up"
    if high < 0:
        return "down"
    return "neither"


def bounded(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    """Cut a rendering to `limit` characters, saying so."""
    if len(text) <= limit:
        return text
    return text[: limit - 40].rstrip() + f"\n… (truncated, {len(text) - limit + 40} chars more)"


In = TypeVar("In", bound=ToolInput)
Out = TypeVar("Out", bound=ToolOutput)


#: A full stop and a space that end a sentence: not one that ends "e.g." or "i.e.".
_SENTENCE_END = re.compile(r"(?<!\be\.g)(?<!\bi\.e)\. ")


@dataclass(frozen=True)
class Tool(Generic[In, Out]):
    """A registered tool. `description` is the function's docstring: what the model reads."""

    name: str
    description: str
    input_model: type[In]
    output_model: type[Out]
    fn: Callable[[ToolContext, In], Out]

    @property
    def summary(self) -> str:
        """The description's first sentence (a full stop after an abbreviation such as "e.g."
        or "i.e." does not end it)."""
        flat = " ".join(self.description.split())
        end = _SENTENCE_END.search(flat)
        return flat[: end.start() + 1] if end else flat

    def __call__(self, ctx: ToolContext, args: In) -> Out:
        return self.fn(ctx, args)


REGISTRY: dict[str, Tool[Any, Any]] = {}


def tool(name: str) -> Callable[[Callable[[ToolContext, In], Out]], Tool[In, Out]]:
    """Register `fn(ctx, args) -> output` as the tool `name`; types come from its annotations."""

    def register(fn: Callable[[ToolContext, In], Out]) -> Tool[In, Out]:
        from rootcause.tools.context import ToolContext

        hints = get_type_hints(fn, localns={"ToolContext": ToolContext})
        params = list(inspect.signature(fn).parameters)
        input_model, output_model = hints[params[1]], hints["return"]
        if name in REGISTRY:
            raise RuntimeError(f"tool {name!r} registered twice")
        spec: Tool[In, Out] = Tool(
            name=name,
            description=inspect.cleandoc(fn.__doc__ or ""),
            input_model=input_model,
            output_model=output_model,
            fn=fn,
        )
        REGISTRY[name] = spec
        return spec

    return register
