"""Figures that read at a glance: no marker label covers another, the finding stands out and is
named, a lone window is a point with its interval, nothing empty is written, one colour per
series, whole-number steps."""

from __future__ import annotations

import itertools
from pathlib import Path

import matplotlib.pyplot as plt
import pytest

from rootcause.tools.plot_png import draw_png, save_png
from rootcause.tools.plotting import (
    FINDING_COLOUR,
    PALETTE,
    Marker,
    PlotSpec,
    Series,
    integer_ticks,
    render_text,
)


def _trace(steps: int = 96) -> Series:
    return Series(
        name="rate", x=[float(s) for s in range(steps)], y=[s / steps for s in range(steps)]
    )


def _crowded() -> PlotSpec:
    """Deployments a step or two apart near the end, one at step 0, the finding among them."""
    events = [0, 40, 84, 85, 86, 88, 89, 91, 93, 95]
    markers = [Marker(x=float(s), label=f"c{s:05d}ab @{s}") for s in events if s != 88]
    markers += [
        Marker(x=88.0, label="nearest before the onset: c00088ab @88", role="finding"),
        Marker(x=90.0, label="onset @90", role="reference"),
    ]
    return PlotSpec(
        title="rate and deployments", x_label="step", series=[_trace()], markers=markers
    )


def test_marker_labels_never_overlap_and_stay_inside_the_axes() -> None:
    fig = draw_png(_crowded())
    try:
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        (ax,) = fig.axes
        inside = ax.get_window_extent(renderer)
        labels = [t for t in ax.texts if t.get_text().startswith("c0")]
        boxes = [t.get_window_extent(renderer) for t in labels]
        assert len(labels) >= 4, "room for several labels near one another"
        for a, b in itertools.combinations(boxes, 2):
            assert not a.overlaps(b)
        assert all(b.x0 >= inside.x0 and b.x1 <= inside.x1 and b.y0 >= inside.y0 for b in boxes)
        legend_texts = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
        assert "nearest before the onset: c00088ab @88" in legend_texts
        assert "onset @90" in legend_texts
        shown = {t.get_text().split(" @")[0] for t in labels}
        also = next((t for t in legend_texts if t.startswith("also marked:")), "")
        for s in (0, 40, 84, 85, 86, 89, 91, 93, 95):  # every label is somewhere
            assert f"c{s:05d}ab" in shown or f"c{s:05d}ab" in also
        finding = [line for line in ax.lines if line.get_label().startswith("nearest")]
        assert finding and finding[0].get_color() == FINDING_COLOUR
    finally:
        plt.close(fig)


def test_a_lone_window_is_a_point_with_its_interval() -> None:
    spec = PlotSpec(
        title="selection pressure",
        x_label="window start step",
        series=[
            Series(name=name, x=[0.0], y=[v], low=[v - 0.1], high=[v + 0.1])
            for name, v in (("robot_style", 0.4), ("mentor_style", 0.1), ("reward_model", -0.2))
        ],
    )
    fig = draw_png(spec)
    try:
        (ax,) = fig.axes
        assert len(ax.containers) == 3  # one error bar per component
        assert [t.get_text() for t in ax.get_xticklabels()] == [
            "robot_style",
            "mentor_style",
            "reward_model",
        ]
    finally:
        plt.close(fig)
    assert "robot_style" in render_text(spec)


def test_nothing_to_draw_writes_no_file(tmp_path: Path) -> None:
    spec = PlotSpec(title="empty", series=[Series(name="rate", x=[], y=[])])
    assert save_png(spec, tmp_path / "empty.png") is None
    assert not list(tmp_path.iterdir())
    drawn = save_png(_crowded(), tmp_path / "crowded.png")
    assert drawn is not None and drawn.stat().st_size > 0


def test_each_series_has_its_own_colour() -> None:
    spec = PlotSpec(
        title="by persona",
        series=[Series(name=f"p{i}", x=[0.0, 1.0, 2.0], y=[i, i + 1, i]) for i in range(5)],
    )
    fig = draw_png(spec)
    try:
        colours = [line.get_color() for line in fig.axes[0].lines if line.get_label()[0] == "p"]
        assert colours == list(PALETTE[:5])
    finally:
        plt.close(fig)


@pytest.mark.parametrize(("low", "high"), [(0, 79), (0, 7), (84, 95), (0, 1000), (5, 5)])
def test_step_ticks_are_whole_numbers(low: int, high: int) -> None:
    ticks = integer_ticks(low, high)
    assert ticks and all(low <= t <= high for t in ticks)
    assert len(ticks) == len(set(ticks))


def test_step_axes_never_show_half_steps() -> None:
    spec = PlotSpec(title="rate", x_label="step", series=[_trace(80)])
    fig = draw_png(spec)
    try:
        fig.canvas.draw()
        locs = fig.axes[0].get_xticks()
        assert all(float(x).is_integer() for x in locs)
    finally:
        plt.close(fig)
    text = render_text(PlotSpec(title="rate", x_label="step", series=[_trace(190)]))
    lines = text.splitlines()
    axis = next(i for i, line in enumerate(lines) if "└" in line)
    ticks = lines[axis + 1].split()
    assert ticks and all(t.isdigit() for t in ticks), lines[axis + 1]
