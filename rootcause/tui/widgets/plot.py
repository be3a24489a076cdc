"""A tool's plot drawn in the terminal: the `PlotSpec` a tool describes, through the widget's
own plotext instance (textual-plotext), so two plots never share a figure."""

from __future__ import annotations

from textual_plotext import PlotextPlot

from rootcause.tools.plotting import PlotSpec, draw_plotext, sanitised


class PlotView(PlotextPlot):
    """Draws one `PlotSpec` (lines, bars, scatter, vertical markers)."""

    def __init__(self, spec: PlotSpec, id: str | None = None, classes: str | None = None):
        super().__init__(id=id, classes=classes)
        self.spec = sanitised(spec)

    def on_mount(self) -> None:
        self.draw()

    def draw(self) -> None:
        plt = self.plt
        spec = self.spec
        plt.clear_figure()
        draw_plotext(plt, spec)
        self.refresh()
