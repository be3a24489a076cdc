"""A tool describes its figure once (`PlotSpec`); it is drawn as PNG (`plot_png`) or as terminal
text (plotext, here and in the chat's plot widget).

Both drawings share the decisions that make a figure read at a glance: one colour per series
from a colour-blind-safe palette, whole-number ticks when x counts steps, a lone point (a
single window) drawn as a point with its interval, and a spec with nothing to draw is never
drawn at all (`has_data`).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from rootcause.core.untrusted import MAX_LABEL_CHARS, visible

#: Okabe & Ito's palette: distinct for the common colour-vision deficiencies. The finding's
#: marker takes vermillion (`FINDING_COLOUR`), which no series uses.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
FINDING_COLOUR = "#D55E00"
#: The palette as plotext's RGB triples (plotext takes names, 0-255 codes or triples).
PALETTE_RGB = tuple(tuple(int(c[i : i + 2], 16) for i in (1, 3, 5)) for c in PALETTE)
FINDING_RGB = tuple(int(FINDING_COLOUR[i : i + 2], 16) for i in (1, 3, 5))

#: What a vertical marker is: an event on the axis (a config deployment), a reference line
#: (an onset, a split), or the tool's own finding (drawn in its own colour, named in the legend).
MarkerRole = Literal["event", "reference", "finding"]


class Series(BaseModel):
    """One line, band or set of bars."""

    name: str
    x: list[float]
    y: list[float]
    kind: Literal["line", "bar", "scatter"] = "line"
    low: list[float] | None = None
    high: list[float] | None = None


class Marker(BaseModel):
    """A vertical line at `x`, labelled."""

    x: float
    label: str
    role: MarkerRole = "event"


class PlotSpec(BaseModel):
    title: str
    x_label: str = ""
    y_label: str = ""
    series: list[Series] = Field(default_factory=list)
    markers: list[Marker] = Field(default_factory=list)
    categories: list[str] | None = None

    @property
    def has_data(self) -> bool:
        """False when no series has a point: such a figure is empty axes and is not drawn."""
        return any(s.x and s.y for s in self.series)


def drawable(spec: PlotSpec | None) -> PlotSpec | None:
    """`spec` when it has something to draw, else None: no empty figure is ever shown."""
    return spec if spec is not None and spec.has_data else None


def colour_of(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def sanitised(spec: PlotSpec, for_matplotlib: bool = False) -> PlotSpec:
    """`spec` with every text (titles and labels name a run's personas, sources, components)
    on one line, controls made visible and cut; for matplotlib `$` is escaped too, so a label
    is never read as mathtext."""

    def clean(text: str, limit: int = MAX_LABEL_CHARS) -> str:
        shown = visible(text, limit)
        return shown.replace("$", r"\$") if for_matplotlib else shown

    return spec.model_copy(
        update={
            "title": clean(spec.title, 2 * MAX_LABEL_CHARS),
            "x_label": clean(spec.x_label),
            "y_label": clean(spec.y_label),
            "series": [s.model_copy(update={"name": clean(s.name)}) for s in spec.series],
            "markers": [m.model_copy(update={"label": clean(m.label)}) for m in spec.markers],
            "categories": None if spec.categories is None else [clean(c) for c in spec.categories],
        }
    )


def lone_points_as_categories(spec: PlotSpec) -> PlotSpec:
    """A figure whose every series is one point at the same x (one window of a trace) as one
    point per series, side by side with its interval: drawn as lines they would be empty axes,
    drawn at one x they would cover each other."""
    series = spec.series
    if spec.categories or not series or any(len(s.x) != 1 or len(s.y) != 1 for s in series):
        return spec
    if len({s.x[0] for s in series}) != 1:
        return spec
    where = f" ({spec.x_label} {series[0].x[0]:g})" if spec.x_label else ""
    return spec.model_copy(
        update={
            "title": spec.title + where,
            "x_label": "",
            "series": [
                s.model_copy(update={"x": [float(i)], "kind": "scatter"})
                for i, s in enumerate(series)
            ],
            "categories": [s.name for s in series],
            "markers": [],
        }
    )


def integer_steps(spec: PlotSpec) -> bool:
    """True when every x is a whole number (steps, windows' start steps): ticks then say 47,
    never 47.5."""
    if spec.categories:
        return False
    xs = [x for s in spec.series for x in s.x] + [m.x for m in spec.markers]
    return bool(xs) and all(float(x).is_integer() for x in xs)


def integer_ticks(low: float, high: float, count: int = 6) -> list[int]:
    """About `count` whole-number ticks from `low` to `high`, on a round stride."""
    span = max(high - low, 1.0)
    raw = span / max(count - 1, 1)
    magnitude = 10 ** max(len(str(int(raw))) - 1, 0)
    stride = next((m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw), 10 * magnitude)
    start = int(low // stride * stride)
    ticks = list(range(start, int(high) + 1, int(stride)))
    return [t for t in ticks if low <= t <= high] or [int(low)]


def render_text(spec: PlotSpec, width: int = 100, height: int = 22) -> str:
    """Draw `spec` with plotext as a string for the terminal."""
    import plotext as plt

    spec = sanitised(spec)
    plt.clear_figure()
    plt.plotsize(width, height)
    plt.theme("clear")
    draw_plotext(plt, spec)
    text: str = plt.uncolorize(plt.build())
    return text


def draw_plotext(plt: Any, spec: PlotSpec) -> None:
    """Draw a sanitised `spec` on a cleared plotext figure: the module itself, or the instance a
    terminal widget owns (`plt` is plotext's untyped interface)."""
    spec = lone_points_as_categories(spec)
    xs: list[float] = []
    for index, series in enumerate(spec.series):
        colour = PALETTE_RGB[index % len(PALETTE_RGB)]
        xs += series.x
        if series.kind == "bar":
            labels = spec.categories or [f"{x:g}" for x in series.x]
            plt.bar(labels, series.y, label=series.name, color=colour)
        elif series.kind == "scatter" or len(series.x) == 1:
            # Side by side under their names, points need no legend (it would cover them).
            label = None if spec.categories else series.name
            if series.low is not None and series.high is not None:
                for x, lo, hi in zip(series.x, series.low, series.high, strict=True):
                    plt.plot([x, x], [lo, hi], color=colour)  # the interval
            plt.scatter(series.x, series.y, label=label, color=colour, marker="●")
        else:
            plt.plot(series.x, series.y, label=series.name, color=colour)
    for marker in spec.markers:
        plt.vline(marker.x, FINDING_RGB if marker.role == "finding" else "gray")
        xs.append(marker.x)
    if spec.categories and not any(s.kind == "bar" for s in spec.series):
        plt.xticks(list(range(len(spec.categories))), spec.categories)
    elif integer_steps(spec) and xs:
        plt.xticks(integer_ticks(min(xs), max(xs)))
    plt.title(spec.title)
    plt.xlabel(spec.x_label)
    plt.ylabel(spec.y_label)
