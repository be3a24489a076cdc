"""A `PlotSpec` drawn as PNG with matplotlib (Agg, no display).

Marker labels (config deployments on a rate trace, often several within a few steps) are placed
so none covers another: each is stood beside its line, on the side that keeps it inside the
axes, at the first height where it touches no label already placed; a label that fits nowhere
is listed under the axes instead. The legend sits under the axes, clear of the labels.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rootcause.core.disk import written_via_temp
from rootcause.tools.plotting import (
    FINDING_COLOUR,
    Marker,
    PlotSpec,
    colour_of,
    integer_steps,
    lone_points_as_categories,
    sanitised,
)

#: Heights (axes fraction, from the top) a marker label may start at.
LABEL_LEVELS = (0.99, 0.66, 0.33)


def draw_png(spec: PlotSpec) -> Any:
    """The matplotlib figure of `spec` (the caller closes it)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    spec = lone_points_as_categories(sanitised(spec, for_matplotlib=True))
    fig, ax = plt.subplots(figsize=(8, 4.6), dpi=110, layout="constrained")
    named = _draw_series(ax, spec)
    if spec.categories:
        ax.set_xticks(range(len(spec.categories)), spec.categories, rotation=30, ha="right")
    elif integer_steps(spec):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(spec.title)
    ax.set_xlabel(spec.x_label)
    ax.set_ylabel(spec.y_label)
    ax.grid(alpha=0.25)
    if len(named) == 1 or spec.categories:
        named = []  # one series: the title names it; categories: the ticks do
    low, high = ax.get_ylim()
    if low < 0 < high:
        ax.axhline(0.0, color="black", linewidth=0.6)
    named += [line for m in spec.markers if (line := _draw_line(ax, m)) is not None]
    events = [m for m in spec.markers if m.role == "event"]
    if events:
        low, high = ax.get_ylim()
        ax.set_ylim(low, high + 0.3 * (high - low))  # headroom: labels stand above the data
    legend = _legend(fig, named, crowded=False)
    fig.canvas.draw()
    texts, unplaced = _place_labels(fig, ax, events)
    if unplaced:
        # The legend gains a line for them, which shortens the axes: place again.
        for text in texts:
            text.remove()
        if legend is not None:
            legend.remove()
        legend = _legend(fig, named, crowded=True)
        fig.canvas.draw()
        texts, unplaced = _place_labels(fig, ax, events)
        assert legend is not None
        legend.get_texts()[-1].set_text(_also_marked(unplaced))
    return fig


def save_png(spec: PlotSpec, path: Path) -> Path | None:
    """Draw `spec` into `path`; None (and nothing written) when it has no data to draw."""
    if not spec.has_data:
        return None
    import matplotlib.pyplot as plt

    fig = draw_png(spec)
    try:
        with written_via_temp(path) as tmp:
            fig.savefig(tmp, bbox_inches="tight", format="png")
    finally:
        plt.close(fig)
    return path


def _draw_series(ax: Any, spec: PlotSpec) -> list[Any]:
    """Draw each series in its own colour; return their legend handles."""
    handles: list[Any] = []
    bars = [s for s in spec.series if s.kind == "bar"]
    width = 0.8 / max(len(bars), 1)
    for i, series in enumerate(spec.series):
        colour = colour_of(i)
        interval = series.low is not None and series.high is not None
        if series.kind == "bar":
            offset = (i - (len(bars) - 1) / 2) * width
            handles.append(ax.bar([x + offset for x in series.x], series.y, width=width,
                                  label=series.name, color=colour))  # fmt: skip
        elif series.kind == "scatter" or len(series.x) == 1:
            errors = None
            if interval:
                assert series.low is not None and series.high is not None
                errors = [
                    [max(y - lo, 0.0) for y, lo in zip(series.y, series.low, strict=True)],
                    [max(hi - y, 0.0) for y, hi in zip(series.y, series.high, strict=True)],
                ]
            handles.append(ax.errorbar(series.x, series.y, yerr=errors, fmt="o", markersize=4,
                                       capsize=3, color=colour, label=series.name))  # fmt: skip
            continue
        else:
            (line,) = ax.plot(series.x, series.y, label=series.name, linewidth=1.6, color=colour)
            handles.append(line)
        if interval:
            ax.fill_between(series.x, series.low, series.high, alpha=0.18, color=colour)
    return handles


def _draw_line(ax: Any, marker: Marker) -> Any:
    """The marker's line; a finding's and a reference's are returned to be named in the
    legend (an event's is labelled beside it)."""
    if marker.role == "finding":
        return ax.axvline(marker.x, color=FINDING_COLOUR, linewidth=2.0, label=marker.label)
    if marker.role == "reference":
        return ax.axvline(marker.x, color="black", linestyle=":", linewidth=1.2,
                          label=marker.label)  # fmt: skip
    ax.axvline(marker.x, color="grey", linestyle="--", linewidth=0.9)
    return None


def _place_labels(fig: Any, ax: Any, markers: list[Marker]) -> tuple[list[Any], list[Marker]]:
    """Stand each event marker's label beside its line where it overlaps nothing placed;
    return the labels placed and the markers whose label fit nowhere."""
    renderer = fig.canvas.get_renderer()
    inside = ax.get_window_extent(renderer)
    boxes: list[Any] = []
    texts: list[Any] = []
    unplaced: list[Marker] = []
    for marker in sorted(markers, key=lambda m: m.x):
        text = _place_one(ax, renderer, inside, boxes, marker)
        if text is None:
            unplaced.append(marker)
        else:
            texts.append(text)
    return texts, unplaced


def _place_one(ax: Any, renderer: Any, inside: Any, boxes: list[Any], marker: Marker) -> Any:
    for level in LABEL_LEVELS:
        for side, nudge in (("right", -2), ("left", 2)):
            text = ax.annotate(
                marker.label, (marker.x, level), xycoords=("data", "axes fraction"),
                xytext=(nudge, 0), textcoords="offset points", rotation=90, va="top",
                ha=side, fontsize=7, color="dimgrey",
                bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 0.3},
            )  # fmt: skip
            box = text.get_window_extent(renderer)
            fits = (
                box.x0 >= inside.x0
                and box.x1 <= inside.x1
                and box.y0 >= inside.y0
                and not any(box.overlaps(other) for other in boxes)
            )
            if fits:
                boxes.append(box)
                return text
            text.remove()
    return None


def _legend(fig: Any, named: list[Any], crowded: bool) -> Any:
    """The legend under the axes: the series (when more than one), the finding and the
    references; with `crowded`, a last line for the labels that fit beside no line."""
    from matplotlib.lines import Line2D

    handles = list(named)
    labels = [h.get_label() for h in handles]
    if crowded:
        handles.append(Line2D([], [], color="grey", linestyle="--", linewidth=0.9))
        labels.append(_also_marked([]))
    if not handles:
        return None
    return fig.legend(handles, labels, loc="outside lower center", ncol=min(len(handles), 4),
                      fontsize=8, frameon=False)  # fmt: skip


def _also_marked(markers: list[Marker], limit: int = 110) -> str:
    """The labels of markers too crowded to label at their lines, cut to fit the figure."""
    text = "also marked: " + ", ".join(m.label for m in markers)
    return text if len(text) <= limit else text[: limit - 1] + "…"
