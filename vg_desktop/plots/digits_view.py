"""The handwritten-digits data view: held-out test digits with the network's answer for each.

A grid of the first test images (never trained on), each labelled with the predicted class;
a wrong answer is framed and marked ✗ (a shape cue as well as a colour), and the title gives the
accuracy on the whole test split. A network whose first layers never learned anything answers
the same digit for every image, which this view makes plain at a glance.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF

from ..snapshot import TestResult
from .theme import LIGHT, Theme, qcolor

COLUMNS = 10
SIDE = 8  # pixels per image side
GAP = 5  # pixels between images (room for the label under each)
CELL_W = SIDE + 2
CELL_H = SIDE + GAP


def tile_digits(x: np.ndarray, columns: int = COLUMNS) -> np.ndarray:
    """(rows·CELL_H, columns·CELL_W) image of ink values in [0, 1] (NaN between images)."""
    n = len(x)
    rows = max(1, -(-n // columns))
    out = np.full((rows * CELL_H, columns * CELL_W), np.nan)
    for i, image in enumerate(np.asarray(x, dtype=np.float64).reshape(n, SIDE, SIDE)):
        r, c = divmod(i, columns)
        out[r * CELL_H : r * CELL_H + SIDE, c * CELL_W + 1 : c * CELL_W + 1 + SIDE] = image
    return out


def cell_origin(i: int, columns: int = COLUMNS) -> tuple[float, float]:
    """Top-left corner of image ``i`` in view coordinates (y grows downward)."""
    r, c = divmod(i, columns)
    return c * CELL_W + 1.0, r * CELL_H


class DigitsView(pg.PlotWidget):
    """Test digits, their predicted class and whether it is right; accuracy in the title."""

    def __init__(self, parent=None, theme: Theme = LIGHT) -> None:
        super().__init__(parent=parent, background=theme.background)
        self._pi: pg.PlotItem = self.getPlotItem()
        self._vb: pg.ViewBox = self._pi.getViewBox()
        self._theme = theme
        self._x = np.zeros((0, 64))
        self._y = np.zeros(0, dtype=np.int64)
        self._result: TestResult | None = None
        pi = self._pi
        pi.hideButtons()
        pi.setMenuEnabled(False)
        pi.hideAxis("left")
        pi.hideAxis("bottom")
        self._vb.invertY(True)
        self._vb.setAspectLocked(True)
        self._vb.setMouseEnabled(x=False, y=False)
        self._image = pg.ImageItem(axisOrder="row-major")
        pi.addItem(self._image)
        self._labels: list[pg.TextItem] = []
        self._frames = pg.PlotCurveItem(connect="pairs")
        pi.addItem(self._frames)
        self.apply_theme(theme)

    # ------------------------------------------------------------------ public API
    @property
    def predicted_labels(self) -> list[str]:
        """The text under each shown digit (what the class sees), for tests."""
        return [item.textItem.toPlainText() for item in self._labels if item.isVisible()]

    @property
    def title(self) -> str:
        return self._pi.titleLabel.text

    def apply_theme(self, theme: Theme) -> None:
        self._theme = theme
        self.setBackground(theme.background)
        # Ink dark on the page, like the digits were written: 0 = background, 1 = foreground.
        bg, fg = qcolor(theme.background), qcolor(theme.foreground)
        cmap = pg.ColorMap([0.0, 1.0], [bg, fg])
        self._image.setLookupTable(cmap.getLookupTable(nPts=256))
        self._image.setLevels((0.0, 1.0))
        for item in self._labels:
            item.setFont(theme.font(theme.tick_font_pt))
        self._redraw()

    def set_data(self, x: np.ndarray, y: np.ndarray) -> None:
        """The shown test images (k, 64) in [0, 1] and their true classes (k,)."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != SIDE * SIDE:
            raise ValueError(f"digits must have shape (k, {SIDE * SIDE}); got {x.shape}")
        self._x, self._y = x, np.asarray(y).astype(np.int64).ravel()
        self._result = None
        image = np.nan_to_num(tile_digits(x), nan=0.0)
        self._image.setImage(image, autoLevels=False)
        self._image.setRect(QRectF(0, 0, image.shape[1], image.shape[0]))
        while len(self._labels) < len(x):
            item = pg.TextItem(anchor=(0.5, 0.0))
            item.setFont(self._theme.font(self._theme.tick_font_pt))
            self._pi.addItem(item)
            self._labels.append(item)
        self._vb.setRange(
            QRectF(0, 0, image.shape[1], image.shape[0] + 0.5), padding=0.02, update=False
        )
        self._redraw()

    def show_result(self, result: TestResult | None) -> None:
        """The network's answers (None: not evaluated yet)."""
        self._result = result
        self._redraw()

    # ------------------------------------------------------------------ drawing
    def _redraw(self) -> None:
        t = self._theme
        n = len(self._x)
        result = self._result
        predicted = None
        if result is not None and len(result.predicted) >= n:
            predicted = np.asarray(result.predicted[:n])
        wrong_xy: list[float] = []
        for i, item in enumerate(self._labels):
            item.setVisible(i < n)
            if i >= n:
                continue
            x0, y0 = cell_origin(i)
            item.setPos(x0 + SIDE / 2, y0 + SIDE)
            if predicted is None:
                item.setText("…", color=t.foreground)
                continue
            p = int(predicted[i])
            right = p == self._y[i]
            shown = "?" if p < 0 else str(p)
            item.setText(shown if right else f"{shown} ✗", color=t.foreground)
            if not right:
                wrong_xy += _frame(x0 - 0.5, y0 - 0.5, SIDE + 1.0, SIDE + GAP - 0.5)
        pts = np.array(wrong_xy, dtype=np.float64).reshape(-1, 2)
        self._frames.setData(
            pts[:, 0] if len(pts) else [],
            pts[:, 1] if len(pts) else [],
            pen=pg.mkPen(t.exploding, width=max(2.0, t.line_width)),
        )
        if result is None:
            title = "Test digits (answers follow)"
        else:
            title = f"Test accuracy {result.accuracy:.1%} · ✗ wrong"
            self.setToolTip(
                f"The first {n} of the {result.n_test} held-out test digits (never trained "
                "on), each with the network's answer under it; a wrong answer is framed and "
                f"marked ✗. Test accuracy is over all {result.n_test}."
            )
        self._pi.setTitle(title, color=t.foreground, size=f"{t.axis_font_pt}pt")


def _frame(x: float, y: float, w: float, h: float) -> list[float]:
    """The four sides of a rectangle as segment end points (for ``connect="pairs"``)."""
    a, b, c, d = (x, y), (x + w, y), (x + w, y + h), (x, y + h)
    return [*a, *b, *b, *c, *c, *d, *d, *a]
