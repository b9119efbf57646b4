"""The 2-D dataset, colored and shaped by class, over the network's decision regions.

Each class has its own color *and* symbol, so classes stay apart without color vision. The
decision regions are a light tint of the predicted class's color, stronger where the network is
more confident; the tint stays light so the points on top of it remain readable, and a network
that has learned nothing shows up as an almost untinted (uncertain) background.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QPainter

from ..snapshot import DecisionGrid
from .theme import (
    LIGHT,
    MajorTicksAxis,
    Swatch,
    Theme,
    add_entry,
    make_legend,
    put_legend_above,
    qcolor,
    restyle_legend,
    style_axis,
    swatch_size,
)

SYMBOLS = ("o", "t1", "s", "d", "t", "star", "p", "h")
POINT_ALPHA = 0.7  # translucent points: the decision boundary shows through where they crowd
GRID_MARGIN = 0.5  # the view (and the decision grid) extends this far beyond the data's box
TINT_MIN = 0.08  # blend share of the class color at chance-level confidence
TINT_MAX = 0.45  # ... and at full confidence: light enough for the points to stay readable


def _rgb(color: str) -> np.ndarray:
    c = qcolor(color)
    return np.array([c.red(), c.green(), c.blue()], dtype=np.float64)


def decision_rgba(
    grid: DecisionGrid, class_colors: tuple[str, ...], base: str, n_classes: int
) -> np.ndarray:
    """(ny, nx, 4) uint8 image: each cell's predicted class color blended toward ``base``.

    The blend share grows linearly from TINT_MIN at chance confidence (1 / n_classes) to TINT_MAX
    at certainty.
    """
    predicted = np.asarray(grid.predicted, dtype=np.intp)
    confidence = np.asarray(grid.confidence, dtype=np.float64)
    chance = 1.0 / max(n_classes, 2)
    with np.errstate(all="ignore"):
        t = np.clip((confidence - chance) / (1.0 - chance), 0.0, 1.0)
    t = np.where(np.isfinite(t), t, 0.0)
    share = (TINT_MIN + (TINT_MAX - TINT_MIN) * t)[..., None]
    palette = np.array([_rgb(c) for c in class_colors])
    colors = palette[np.clip(predicted, 0, len(palette) - 1)]
    rgb = _rgb(base) * (1.0 - share) + colors * share
    rgba = np.empty((*predicted.shape, 4), dtype=np.uint8)
    rgba[..., :3] = np.clip(np.round(rgb), 0, 255).astype(np.uint8)
    rgba[..., 3] = 255
    return rgba


def point_size(theme: Theme) -> int:
    """Marker size in pixels: small enough that 500 points leave the boundary visible, large
    enough to tell the class symbols apart (6 px at 12 pt ticks, 8 px in presentation)."""
    return max(6, round(theme.tick_font_pt * 0.5))


STROKE_SPACING_PX = 14  # a drag paints a point every this many pixels


class DatasetPlot(pg.PlotWidget):
    """Scatter of the 2-D data by class, over the network's decision regions.

    In drawing mode (:meth:`set_drawing`) a left click or drag emits ``pointsDrawn`` with the
    points in data coordinates (a drag: one every STROKE_SPACING_PX pixels, one stroke), and a
    right click emits ``removeRequested`` with where it was; the window decides what they do.
    """

    pointsDrawn = Signal(object)  # (k, 2) float64
    removeRequested = Signal(float, float)

    def __init__(self, parent=None, theme: Theme = LIGHT) -> None:
        super().__init__(
            parent=parent,
            background=theme.background,
            axisItems={"left": MajorTicksAxis("left"), "bottom": MajorTicksAxis("bottom")},
        )
        # PlotWidget copies some PlotItem methods onto the instance; `clear` would shadow ours.
        if "clear" in self.__dict__:
            del self.clear
        self._pi: pg.PlotItem = self.getPlotItem()
        self._vb: pg.ViewBox = self._pi.getViewBox()
        self._theme = theme
        self._n_classes = 0
        self._names: tuple[str, ...] | None = None
        self._x = np.zeros((0, 2))
        self._y = np.zeros(0, dtype=np.intp)
        self._grid: DecisionGrid | None = None
        self._rgba: np.ndarray | None = None
        self._grid_rect: QRectF | None = None
        pi = self._pi
        pi.hideButtons()
        pi.setMenuEnabled(False)
        vb = pi.getViewBox()
        # A fixed extent, the data's box plus a margin, filled by the decision regions: with the
        # aspect locked a short, wide dock stretched the axes to ±20 around a small, unlit box.
        vb.setAspectLocked(False)
        vb.setMouseEnabled(x=False, y=False)
        vb.disableAutoRange()
        self._image = pg.ImageItem(axisOrder="row-major")
        self._image.setZValue(-10)
        pi.addItem(self._image, ignoreBounds=True)
        self._scatters: list[pg.ScatterPlotItem] = []
        self._drawing = False
        self._stroke: list[QPointF] | None = None
        self._stroke_item = pg.ScatterPlotItem(pxMode=True)  # the stroke until it is released
        self._stroke_item.setZValue(10)
        pi.addItem(self._stroke_item, ignoreBounds=True)
        self._legend = make_legend(theme, columns=5)
        put_legend_above(pi, self._legend)
        pi.setLabel("bottom", "x₁")
        pi.setLabel("left", "x₂")
        self.apply_theme(theme)

    # ------------------------------------------------------------------ public API
    def apply_theme(self, theme: Theme) -> None:
        self._theme = theme
        self.setBackground(theme.background)
        pi = self._pi
        for name in ("left", "bottom"):
            style_axis(pi.getAxis(name), theme)
        pi.layout.setContentsMargins(4, 4, 14, 4)
        restyle_legend(self._legend, theme)
        self._redraw_points()
        if self._grid is not None:
            self.show_decision(self._grid)

    def set_data(
        self, x: np.ndarray, y: np.ndarray, class_names: tuple[str, ...] | None = None
    ) -> None:
        """The points (n, 2), their integer class labels (n,), and the classes' names for the
        legend (a teacher's own points; None: "class 1", "class 2", ...)."""
        x = np.asarray(x, dtype=np.float64).reshape(-1, 2)
        y = np.asarray(y).astype(np.intp).ravel()
        if len(x) != len(y):
            raise ValueError(f"x has {len(x)} points but y has {len(y)} labels")
        names = tuple(class_names) if class_names is not None else None
        if np.array_equal(x, self._x) and np.array_equal(y, self._y) and names == self._names:
            return  # the same dataset, sent again with every snapshot: nothing to redraw
        self._x, self._y, self._names = x, y, names
        self._n_classes = max(int(y.max()) + 1 if y.size else 0, len(names or ()))
        self._redraw_points()
        if x.size and self._grid_rect is None and not self._drawing:
            lo, hi = x.min(axis=0) - GRID_MARGIN, x.max(axis=0) + GRID_MARGIN
            self._vb.setRange(xRange=(lo[0], hi[0]), yRange=(lo[1], hi[1]), padding=0)

    def show_decision(self, grid: DecisionGrid | None) -> None:
        """Tint the background by the predicted class and its confidence; None removes it."""
        self._grid = grid
        if grid is None:
            self._rgba = None
            self._grid_rect = None
            self._image.clear()
            return
        n_classes = max(
            self._n_classes, int(np.max(grid.predicted)) + 1 if grid.predicted.size else 2
        )
        self._rgba = decision_rgba(grid, self._theme.class_colors, self._theme.tint_base, n_classes)
        xs, ys = np.asarray(grid.xs, float), np.asarray(grid.ys, float)
        dx = (xs[-1] - xs[0]) / (len(xs) - 1) if len(xs) > 1 else 1.0
        dy = (ys[-1] - ys[0]) / (len(ys) - 1) if len(ys) > 1 else 1.0
        # Row 0 of the grid is ys[0], drawn at the bottom; cell centers sit on the grid points.
        rect = QRectF(xs[0] - dx / 2, ys[0] - dy / 2, dx * len(xs), dy * len(ys))
        self._image.setImage(self._rgba, autoLevels=False)
        self._image.setRect(rect)
        if rect != self._grid_rect:
            # Show exactly the evaluated area: the regions fill the view, which stays still
            # (while drawing it stays where the teacher draws, whatever the new extent).
            self._grid_rect = rect
            if not self._drawing:
                self._vb.setRange(rect=rect, padding=0)

    # ------------------------------------------------------------------ drawing
    def set_drawing(self, on: bool) -> None:
        if self._drawing and not on and self._grid_rect is not None:
            self._vb.setRange(rect=self._grid_rect, padding=0)  # the view follows the data again
        self._drawing = on
        self._stroke = None
        self._stroke_item.clear()
        self.viewport().setCursor(Qt.CursorShape.CrossCursor if on else Qt.CursorShape.ArrowCursor)

    def is_drawing(self) -> bool:
        return self._drawing

    def data_point(self, pos: QPointF) -> tuple[float, float]:
        """The data coordinates under the viewport position ``pos``."""
        p = self._vb.mapSceneToView(self.mapToScene(pos.toPoint()))
        return float(p.x()), float(p.y())

    def view_point(self, x: float, y: float) -> QPoint:
        """The viewport position of data point (x, y) (the inverse of :meth:`data_point`)."""
        return self.mapFromScene(self._vb.mapViewToScene(QPointF(x, y)))

    def plot_area(self) -> QRectF:
        """The data area in viewport coordinates: where drawing happens (not on the legend or
        the axes, which would put points outside the view)."""
        return self.mapFromScene(self._vb.sceneBoundingRect()).boundingRect().toRectF()

    def mousePressEvent(self, ev) -> None:
        if not self._drawing:
            super().mousePressEvent(ev)
            return
        ev.accept()
        if not self.plot_area().contains(ev.position()):
            return
        if ev.button() == Qt.MouseButton.RightButton:
            self.removeRequested.emit(*self.data_point(ev.position()))
        elif ev.button() == Qt.MouseButton.LeftButton:
            self._stroke = [ev.position()]
            self._show_stroke()

    def mouseMoveEvent(self, ev) -> None:
        if not self._drawing:
            super().mouseMoveEvent(ev)
            return
        ev.accept()
        if self._stroke is not None and ev.buttons() & Qt.MouseButton.LeftButton:
            last = self._stroke[-1]
            step = ev.position() - last
            far = (step.x() ** 2 + step.y() ** 2) ** 0.5 >= STROKE_SPACING_PX
            if far and self.plot_area().contains(ev.position()):
                self._stroke.append(ev.position())
                self._show_stroke()

    def mouseReleaseEvent(self, ev) -> None:
        if not self._drawing:
            super().mouseReleaseEvent(ev)
            return
        ev.accept()
        if ev.button() == Qt.MouseButton.LeftButton and self._stroke:
            points = np.array([self.data_point(p) for p in self._stroke], dtype=np.float64)
            self._stroke = None
            self._stroke_item.clear()
            self.pointsDrawn.emit(points)

    def _show_stroke(self) -> None:
        xy = np.array([self.data_point(p) for p in self._stroke])
        self._stroke_item.setData(
            xy[:, 0],
            xy[:, 1],
            symbol="o",
            size=point_size(self._theme),
            brush=None,
            pen=pg.mkPen(self._theme.foreground, width=1.5),
        )

    def class_labels(self) -> list[str]:
        """The classes as the legend names them, in class order."""
        return [
            self._names[k] if self._names is not None else f"class {k + 1}"
            for k in range(self._n_classes)
        ]

    def decision_image(self) -> np.ndarray | None:
        """The RGBA (ny, nx, 4) image of the decision regions, or None."""
        return None if self._rgba is None else self._rgba.copy()

    def clear(self) -> None:
        self.set_data(np.zeros((0, 2)), np.zeros(0, dtype=np.intp))
        self.show_decision(None)

    # ------------------------------------------------------------------ internals
    def _redraw_points(self) -> None:
        t = self._theme
        pi = self._pi
        while len(self._scatters) < self._n_classes:
            item = pg.ScatterPlotItem(pxMode=True)
            pi.addItem(item)
            self._scatters.append(item)
        size = point_size(t)
        outline = t.color("foreground", 0.55)
        pen = pg.mkPen(outline, width=0.7)
        for k, item in enumerate(self._scatters):
            mask = self._y == k
            color = qcolor(t.class_colors[k % len(t.class_colors)])
            color.setAlphaF(POINT_ALPHA)
            item.setData(
                self._x[mask, 0],
                self._x[mask, 1],
                symbol=SYMBOLS[k % len(SYMBOLS)],
                size=size,
                brush=pg.mkBrush(color),
                pen=pen,
            )
            item.setVisible(k < self._n_classes)
        self._rebuild_legend(size)

    def _rebuild_legend(self, symbol_size: int) -> None:
        with self._legend.rebuilding():  # laid out once, not once per entry
            self._fill_legend(symbol_size)

    def _fill_legend(self, symbol_size: int) -> None:
        t = self._theme
        self._legend.clear()
        for k in range(self._n_classes):
            add_entry(
                self._legend,
                Swatch(
                    self._symbol_swatch(k, max(symbol_size, round(swatch_size(t) * 0.6))),
                    swatch_size(t),
                ),
                self.class_labels()[k],
            )
        if self._n_classes:
            add_entry(
                self._legend,
                Swatch(self._tint_swatch(), swatch_size(t)),
                "background: predicted class (stronger = more confident)",
                "predicted class",
            )

    def _symbol_swatch(self, k: int, size: int):
        t = self._theme

        def draw(p: QPainter, r: QRectF) -> None:
            p.translate(r.center())
            pg.graphicsItems.ScatterPlotItem.drawSymbol(
                p,
                SYMBOLS[k % len(SYMBOLS)],
                size,
                pg.mkPen(t.foreground, width=0.8),
                pg.mkBrush(t.class_colors[k % len(t.class_colors)]),
            )

        return draw

    def _tint_swatch(self):
        t = self._theme

        def draw(p: QPainter, r: QRectF) -> None:
            n = max(self._n_classes, 2)
            for k in range(min(n, 4)):
                w = r.width() / min(n, 4)
                cell = QRectF(r.left() + k * w, r.top(), w, r.height())
                color = _rgb(t.tint_base) * (1 - TINT_MAX) + _rgb(t.class_colors[k]) * TINT_MAX
                p.fillRect(cell, pg.mkColor(*[int(c) for c in color]))
            p.setPen(pg.mkPen(t.foreground, width=0.8))
            p.drawRect(r)

        return draw
