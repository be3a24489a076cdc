"""A tool describes its figure once (`PlotSpec`); it is drawn as PNG or as terminal text."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from rootcause.tools.untrusted import MAX_LABEL_CHARS, visible


class Series(BaseModel):
    """One line, band or set of bars."""

    name: str
    x: list[float]
    y: list[float]
    kind: Literal["line", "bar", "scatter"] = "line"
    low: list[float] | None = None
    high: list[float] | None = None


class PlotSpec(BaseModel):
    title: str
    x_label: str = ""
    y_label: str = ""
    series: list[Series] = Field(default_factory=list)
    markers: list[tuple[float, str]] = Field(default_factory=list)
    categories: list[str] | None = None


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
            "markers": [(x, clean(text)) for x, text in spec.markers],
            "categories": None if spec.categories is None else [clean(c) for c in spec.categories],
        }
    )


def save_png(spec: PlotSpec, path: Path) -> Path:
    """Draw `spec` with matplotlib (Agg, no display) into `path`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    spec = sanitised(spec, for_matplotlib=True)
    fig, ax = plt.subplots(figsize=(8, 4.2), dpi=110)
    bars = [s for s in spec.series if s.kind == "bar"]
    width = 0.8 / max(len(bars), 1)
    for i, series in enumerate(spec.series):
        if series.kind == "bar":
            offset = (i - (len(bars) - 1) / 2) * width
            ax.bar([x + offset for x in series.x], series.y, width=width, label=series.name)
        elif series.kind == "scatter":
            ax.scatter(series.x, series.y, label=series.name, s=12)
        else:
            ax.plot(series.x, series.y, label=series.name, linewidth=1.6)
        if series.low is not None and series.high is not None:
            ax.fill_between(series.x, series.low, series.high, alpha=0.18)
    for x, label in spec.markers:
        ax.axvline(x, color="grey", linestyle="--", linewidth=0.9)
        ax.annotate(
            label,
            (x, 1.0),
            xycoords=("data", "axes fraction"),
            rotation=90,
            va="top",
            ha="right",
            fontsize=7,
            color="dimgrey",
        )
    if spec.categories:
        ax.set_xticks(range(len(spec.categories)), spec.categories, rotation=30, ha="right")
    ax.set_title(spec.title)
    ax.set_xlabel(spec.x_label)
    ax.set_ylabel(spec.y_label)
    if len(spec.series) > 1:
        ax.legend(fontsize=8, loc="best")
    ax.grid(alpha=0.25)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.png")
    fig.savefig(tmp)
    plt.close(fig)
    tmp.replace(path)
    return path


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
    for series in spec.series:
        if series.kind == "bar":
            labels = spec.categories or [f"{x:g}" for x in series.x]
            plt.bar(labels, series.y, label=series.name)
        elif series.kind == "scatter":
            plt.scatter(series.x, series.y, label=series.name)
        else:
            plt.plot(series.x, series.y, label=series.name)
    for x, _label in spec.markers:
        plt.vline(x)
    plt.title(spec.title)
    plt.xlabel(spec.x_label)
    plt.ylabel(spec.y_label)
