"""A tool describes its figure once (`PlotSpec`); it is drawn as PNG or as terminal text."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field


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


def save_png(spec: PlotSpec, path: Path) -> Path:
    """Draw `spec` with matplotlib (Agg, no display) into `path`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

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

    plt.clear_figure()
    plt.plotsize(width, height)
    plt.theme("clear")
    for series in spec.series:
        if series.kind == "bar":
            labels = spec.categories or [str(x) for x in series.x]
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
    text: str = plt.uncolorize(plt.build())
    return text
