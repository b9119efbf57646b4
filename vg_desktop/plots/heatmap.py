"""Gradient flow over time: a layer × step image of log10 gradient norms.

Layer 1 (the input side) is at the bottom, like the first floor of a building, so "toward the
input" reads downward and a vanishing gradient shows as a dark floor that never lights up.
The color map is cividis (perceptually uniform and designed for color-vision deficiency) with
fixed levels shared with the gradient bars' bounds: a color means the same number in both views
and never re-stretches as training goes on. Missing values (NaN) are drawn in neutral gray;
zeros (log10 = −Inf) take the lowest color and +Inf the highest.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QFontMetricsF
from PySide6.QtWidgets import QGraphicsRectItem

from .gradient_bars import DEFAULT_BOUNDS, LayerAxis, decade_label, decade_ticks
from .theme import LIGHT, StepAxis, Theme, css_size, style_axis

COLOR_MAP = "cividis"
COLORBAR_LABELS = {
    "signal": "‖∂L/∂z‖",
    "weight": "‖∂L/∂W‖",
    "update": "‖ΔW‖/‖W‖",
    "stream": "‖∂L/∂h‖",
    "distance": "‖W−W₀‖/‖W₀‖",
}


class GradientHeatmap(pg.PlotWidget):
    """Image of log10 norms: x = training step, y = layer (input at the bottom)."""

    def __init__(self, parent=None, theme: Theme = LIGHT) -> None:
        self._layer_axis = LayerAxis("left")
        super().__init__(
            parent=parent,
            background=theme.background,
            axisItems={"left": self._layer_axis, "bottom": StepAxis("bottom")},
        )
        # PlotWidget copies some PlotItem methods onto the instance; `clear` would shadow ours.
        if "clear" in self.__dict__:
            del self.clear
        self._pi: pg.PlotItem = self.getPlotItem()
        self._vb: pg.ViewBox = self._pi.getViewBox()
        self._theme = theme
        self._levels = DEFAULT_BOUNDS["signal"]
        self._quantity = "signal"
        self._shape = (0, 0)
        pi = self._pi
        pi.hideButtons()
        pi.setMenuEnabled(False)
        vb = pi.getViewBox()
        vb.setMouseEnabled(x=False, y=False)
        vb.disableAutoRange()

        self._missing = QGraphicsRectItem()  # shows through where the image is NaN (transparent)
        self._missing.setZValue(-20)
        vb.addItem(self._missing, ignoreBounds=True)
        self._image = pg.ImageItem(axisOrder="col-major")
        pi.addItem(self._image)
        self._cmap = pg.colormap.get(COLOR_MAP)
        self._image.setLookupTable(self._cmap.getLookupTable(nPts=256))
        self._colorbar = pg.ColorBarItem(
            values=self._levels,
            colorMap=self._cmap,
            interactive=False,
            width=18,
            colorMapMenu=False,
        )
        self._colorbar.setImageItem(self._image, insert_in=pi)
        self._colorbar.geometryChanged.connect(self._update_colorbar_ticks)
        pi.layout.setColumnFixedWidth(4, 14)  # a gap between the image and the color bar

        pi.setLabel("left", "Layer (input at bottom)")
        pi.setLabel("bottom", "Step")
        self.apply_theme(theme)
        self.set_levels(*self._levels)
        self.clear()

    # ------------------------------------------------------------------ public API
    def apply_theme(self, theme: Theme) -> None:
        self._theme = theme
        self.setBackground(theme.background)
        pi = self._pi
        style_axis(self._layer_axis, theme)
        style_axis(pi.getAxis("bottom"), theme)
        pi.layout.setContentsMargins(4, 8, 8, 4)
        for name in ("left", "right", "top", "bottom"):
            axis = self._colorbar.getAxis(name)
            axis.setPen(pg.mkPen(theme.foreground))
            axis.setTextPen(pg.mkPen(theme.foreground))
            axis.setTickFont(theme.font(theme.tick_font_pt))
        bar_axis = self._colorbar.axis
        ticks = QFontMetricsF(theme.font(theme.tick_font_pt)).horizontalAdvance("10⁻²⁴")
        title = QFontMetricsF(theme.font(theme.axis_font_pt)).height()
        bar_axis.setWidth(int(ticks + title + 16))
        bar_axis.setLabel(
            self._colorbar_label(),
            color=theme.foreground,
            **{"font-size": css_size(theme.axis_font_pt)},
        )
        self._missing.setBrush(pg.mkBrush(theme.neutral))
        self._missing.setPen(pg.mkPen(None))
        self._update_colorbar_ticks()

    def set_levels(self, lo: float, hi: float) -> None:
        """Color levels in decades (share them with :meth:`GradientBarsPlot.bounds`)."""
        if not lo < hi:
            raise ValueError(f"the lower level must be below the upper; got {lo} and {hi}")
        if (float(lo), float(hi)) == self._levels and self._image.levels is not None:
            return  # called every frame with the bars' bounds; usually nothing changed
        self._levels = (float(lo), float(hi))
        self._image.setLevels(self._levels)
        self._colorbar.setLevels(self._levels)
        self._update_colorbar_ticks()

    def levels(self) -> tuple[float, float]:
        return self._levels

    def set_quantity(self, quantity: str) -> None:
        """Name the quantity on the color bar; "weight" and "update" end with the output row."""
        if quantity not in COLORBAR_LABELS:
            raise ValueError(
                f"quantity must be one of {', '.join(COLORBAR_LABELS)}; got {quantity!r}"
            )
        self._quantity = quantity
        self._layer_axis.has_output = quantity in ("weight", "update", "distance")
        self._layer_axis.picture = None
        self._layer_axis.update()
        self.apply_theme(self._theme)

    def set_data(self, steps: np.ndarray, log_norms: np.ndarray) -> None:
        """Draw ``log_norms`` (rows = len(steps), columns = layers, input first) of log10 norms.

        Steps are assumed evenly spaced (as :class:`~vg_desktop.engine.RunHistory` keeps them);
        each row is drawn as one column of the image, centered on its step.
        """
        steps = np.asarray(steps, dtype=np.float64).ravel()
        data = np.array(log_norms, dtype=np.float64, copy=True)
        if data.ndim != 2 or data.shape[0] != len(steps):
            raise ValueError(
                f"log_norms must have shape (len(steps), layers); got {data.shape} "
                f"for {len(steps)} steps"
            )
        if data.size == 0:
            self.clear()
            # No steps yet, but the network is known: its layer axis, not the previous one's.
            self._show_layers(data.shape[1])
            return
        lo, hi = self._levels
        # ±Inf: beyond the levels (the colors saturate); NaN stays NaN, drawn transparent.
        data[np.isneginf(data)] = lo - 1.0
        data[np.isposinf(data)] = hi + 1.0
        rows, layers = data.shape
        step = float(np.median(np.diff(steps))) if rows > 1 else 1.0
        step = step if step > 0 else 1.0
        x0 = steps[0] - step / 2
        width = (steps[-1] - steps[0]) + step
        rect = QRectF(x0, 0.5, width, layers)
        self._image.setImage(data, levels=self._levels, autoLevels=False)
        self._image.setRect(rect)
        self._missing.setRect(rect)
        self._missing.setVisible(True)
        self._shape = data.shape
        self._layer_axis.n_layers = layers
        vb = self._vb
        vb.setRange(xRange=(x0, x0 + width), yRange=(0.5, layers + 0.5), padding=0)

    def _show_layers(self, layers: int) -> None:
        self._layer_axis.n_layers = layers
        self._layer_axis.picture = None
        self._layer_axis.update()
        if layers:
            self._vb.setYRange(0.5, layers + 0.5, padding=0)

    def layer_range(self) -> tuple[float, float]:
        """The layer axis' visible range (for tests: it follows the network's depth)."""
        return tuple(self._vb.viewRange()[1])

    def clear(self) -> None:
        """Show nothing (a new run has no history yet)."""
        self._image.setImage(np.full((1, 1), np.nan), levels=self._levels, autoLevels=False)
        self._image.setRect(QRectF(0, 0.5, 1, 1))
        self._missing.setVisible(False)
        self._shape = (0, 0)
        self._layer_axis.n_layers = 0

    def image_shape(self) -> tuple[int, int]:
        """(steps, layers) of the data last drawn; (0, 0) when empty."""
        return self._shape

    def image_data(self) -> np.ndarray | None:
        return self._image.image

    # ------------------------------------------------------------------ internals
    def _colorbar_label(self) -> str:
        if self._quantity == "distance":
            # Too long with the suffix for a short heatmap (clipped at 1280x720); the ticks,
            # powers of ten, already say the scale is logarithmic.
            return COLORBAR_LABELS["distance"]
        return f"{COLORBAR_LABELS[self._quantity]} (log₁₀)"

    def _update_colorbar_ticks(self) -> None:
        lo, hi = self._levels
        max_ticks = max(3, int(self._colorbar.height() / (self._theme.tick_font_pt * 2.6)) or 8)
        _, majors = decade_ticks(lo, hi, max_ticks)
        self._colorbar.axis.setTicks([[(float(v), decade_label(v)) for v in majors]])
