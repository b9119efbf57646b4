"""The "Layer features" view: what the units of the selected hidden layer compute.

The consequence of a vanishing gradient, made visible (issue 13). On 2-D data: small multiples of
each unit's output a = f(u) over the input plane (the decision view's extent), one shared,
labelled colour scale. On the digits: layer 1's incoming weights as 8×8 images on a diverging
scale centred at 0 (strokes once the layer learns; the initial noise while it does not), and for
deeper layers the units' outputs on one test digit of each class. The numbers come from the
training process (:mod:`vg_desktop.layer_features`), for the layer on screen only.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QTimer
from PySide6.QtWidgets import QGraphicsRectItem

from ..layer_features import FEATURE_UNITS
from ..snapshot import LayerFeatures
from .theme import LIGHT, Theme, qcolor

OUTPUT_MAP = "viridis"  # unit outputs: sequential
# Weights: diverging blue-white-red (ColorBrewer RdBu's ends), exactly white at 0, so a weight
# that did not change (W − W₀) or is zero (W) shows as the page.
WEIGHT_MAP = pg.ColorMap([0.0, 0.5, 1.0], ["#2166ac", "#ffffff", "#b2182b"])
# Output ranges of bounded activations: the colour scale is fixed there, so the same colour
# means the same output at every step and in every layer.
BOUNDED = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}
SAMPLE_GAP = 1  # pixels between sample digits (rows)
CELLS_PER_IDLE_TICK = 2  # cells built ahead per idle turn of the event loop (~3 ms each)


DRAWABLE = 1e150  # larger outputs are drawn as this (the colour is the scale's end anyway)


def drawable(values: np.ndarray) -> np.ndarray:
    """``values`` as float64 within ±DRAWABLE (NaN kept). pyqtgraph maps an image to colours
    in the image's own type: float32 outputs of an exploding linear network (±3e38) overflowed
    in that subtraction, inside a paint, and every repaint failed again."""
    return np.clip(np.asarray(values, dtype=np.float64), -DRAWABLE, DRAWABLE)


def output_levels(values: np.ndarray, activation: str) -> tuple[float, float]:
    """The shared colour scale of unit outputs: the activation's range, or the values' span."""
    if activation in BOUNDED:
        return BOUNDED[activation]
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 0.0, 1.0
    lo, hi = float(finite.min()), float(finite.max())
    return (lo, hi) if hi > lo else (lo - 0.5, hi + 0.5)


def weight_levels(values: np.ndarray) -> tuple[float, float]:
    """Symmetric about 0, so white is exactly 0 and the two signs are equally strong."""
    finite = np.abs(values[np.isfinite(values)])
    m = float(finite.max()) if finite.size else 1.0
    return (-m, m) if m > 0 else (-1.0, 1.0)


def grid_shape(n: int, aspect: float = 2.0) -> tuple[int, int]:
    """(rows, columns) of square cells for n small multiples in a view ``aspect`` times wider
    than tall: the arrangement whose cells come out largest."""
    best = (0.0, 1, n)
    for cols in range(1, n + 1):
        rows = math.ceil(n / cols)
        side = min(aspect / cols, 1.0 / rows)
        if side > best[0]:
            best = (side, rows, cols)
    return best[1], best[2]


def change_levels(initial: np.ndarray) -> tuple[float, float]:
    """The scale of W − W₀: ± the largest initial weight, so a layer that kept its initial
    weights shows white, and a change as large as an initial weight shows full colour."""
    return weight_levels(initial)


# What the digits' layer-1 images show: the weights, or what training changed in them.
WEIGHT_MODES = {
    "change": "What it learned: W − W₀",
    "weights": "Its weights W",
}


class LayerFeaturesView(pg.GraphicsLayoutWidget):
    """Small multiples of the selected layer's units, with one labelled colour bar."""

    def __init__(self, parent=None, theme: Theme = LIGHT) -> None:
        super().__init__(parent=parent)
        self._theme = theme
        self._features: LayerFeatures | None = None
        self._title = self.addLabel("Layer features", row=0, col=0, colspan=2)
        self._cells_layout = self.addLayout(row=1, col=0)
        self._cells: list[tuple[pg.ViewBox, pg.ImageItem]] = []  # the cells on show
        self._frames: list[QGraphicsRectItem] = []  # an outline around each cell's image
        # Every cell ever built, kept for reuse: building and placing 16 view boxes took
        # 50-200 ms of the GUI thread, once per change of layer kind, unit count or shape.
        self._pool: list[tuple[pg.ViewBox, pg.ImageItem, QGraphicsRectItem]] = []
        self._placed: list = []  # the items in the cells' grid now
        # ... built ahead, a few per turn of the event loop, so not even the first layer shown
        # builds them all at once.
        self._pool_timer = QTimer(self)
        self._pool_timer.setInterval(0)
        self._pool_timer.timeout.connect(self._grow_pool)
        self._pool_timer.start()
        self._samples_box = pg.ViewBox(invertY=True, lockAspect=True, enableMouse=False)
        self._samples_images = pg.ImageItem(axisOrder="row-major")
        self._samples_outputs = pg.ImageItem(axisOrder="row-major")
        self._samples_box.addItem(self._samples_images)
        self._samples_box.addItem(self._samples_outputs)
        self._bar = pg.ColorBarItem(
            values=(0.0, 1.0), colorMap=pg.colormap.get(OUTPUT_MAP), interactive=False, width=14
        )
        self.addItem(self._bar, row=1, col=1)
        bar_axis = self._bar.getAxis("right")
        bar_axis.enableAutoSIPrefix(False)  # no "×0.001" beside the label
        bar_axis.setWidth(None)  # as wide as its tick labels and title need (no overlap)
        self._cells_layout.setSpacing(3)
        self._cells_layout.setContentsMargins(0, 0, 0, 0)
        # The cells take the width the colour bar does not need: in a wide, short bottom tab
        # they sat in a third of it, 40 pixels each.
        self.ci.layout.setColumnStretchFactor(0, 1)
        self.ci.layout.setColumnStretchFactor(1, 0)
        self.ci.setContentsMargins(4, 2, 4, 2)
        self._layout_key: tuple | None = None
        self._cell_rect: QRectF | None = None
        self.weight_mode = "change"
        self.apply_theme(theme)

    def set_weight_mode(self, mode: str) -> None:
        """Digits, layer 1: draw W − W₀ ("change", the default) or W ("weights")."""
        if mode not in WEIGHT_MODES:
            raise ValueError(f"mode must be one of {', '.join(WEIGHT_MODES)}; got {mode!r}")
        self.weight_mode = mode
        if self._features is not None:
            self._cell_rect = None  # outlines in the new theme's colour
            self.show_features(self._features, force=True)

    # ------------------------------------------------------------------ public API
    @property
    def features(self) -> LayerFeatures | None:
        return self._features

    @property
    def title(self) -> str:
        return self._title.text

    def shown_images(self) -> list[np.ndarray]:
        """The arrays the small multiples draw, in unit order (for tests)."""
        if self._features is not None and self._features.kind == "samples":
            return [self._samples_outputs.image]
        return [img.image for box, img in self._cells if box.isVisible()]

    def levels(self) -> tuple[float, float]:
        return tuple(self._bar.levels())

    def apply_theme(self, theme: Theme) -> None:
        self._theme = theme
        self.setBackground(theme.background)
        axis = self._bar.getAxis("right")
        axis.setPen(pg.mkPen(theme.foreground))
        axis.setTextPen(pg.mkPen(theme.foreground))
        axis.setTickFont(theme.font(theme.tick_font_pt))
        axis.label.setFont(theme.font(theme.tick_font_pt))
        if self._features is not None:
            self._cell_rect = None  # outlines in the new theme's colour
            self.show_features(self._features, force=True)
        else:
            self._set_title("Layer features: press Play or Step")

    def clear_features(self, message: str) -> None:
        self._features = None
        for box, _ in self._cells:
            box.setVisible(False)
        self._set_title(message)

    def show_features(self, features: LayerFeatures, force: bool = False) -> None:
        """Draw ``features``; the same numbers again (every snapshot carries the newest, as a
        new object after crossing from the training process) cost nothing."""
        if not force and _same(features, self._features):
            return
        self._features = features
        if features.kind == "samples":
            self._show_samples(features)
        else:
            self._show_cells(features)
        self._set_title(self._describe(features))
        self._fill_view()

    def _fill_view(self) -> None:
        """Keep the cells' layout as large as the view. In a window made after another one,
        it stayed at the width of the place the view first had (430 of 1,276 pixels, the
        cells 40 pixels wide) although the view had its new size and range."""
        whole = QRectF(0, 0, self.width(), self.height())
        ci = getattr(self, "ci", None)  # (a resize comes during construction)
        if ci is not None and ci.geometry() != whole:
            ci.setGeometry(whole)

    # ------------------------------------------------------------------ drawing
    def _set_title(self, text: str) -> None:
        t = self._theme
        self._title.setText(text, color=t.foreground, size=f"{t.tick_font_pt}pt")
        self._wrap_title()

    def _wrap_title(self) -> None:
        """The title wraps to the view's width: one line was the layout's minimum width, and
        in a narrow place (the data view's, 265 pixels at 1920x1080) it pushed the cells and
        the colour bar out of the view."""
        item = self._title.item
        room = max(80.0, self.width() - 16.0)
        item.setTextWidth(-1)  # its natural width first
        if item.boundingRect().width() > room:
            item.setTextWidth(room)
        self._title.updateMin()

    def _describe(self, f: LayerFeatures) -> str:
        """A short title (it must fit a dock 400 pixels wide); the tooltip says the rest."""
        units = f"units 1–{len(f.units)}" if len(f.units) < f.width else f"all {f.width} units"
        if f.kind == "plane":
            tip = (
                f"Each square is one unit of hidden layer {f.layer} ({units} of {f.width}): its "
                "output a = f(u) at every point of the input plane (the decision view's extent), "
                "all on the colour scale at the right. A layer that never learns keeps the "
                "simple random features it started with."
            )
            title = f"Layer {f.layer}: f(u) of {units} over the plane"
        elif f.kind == "weights":
            change = self.weight_mode == "change"
            tip = (
                f"Each square is one unit of layer 1 ({units} of {f.width}): its 64 incoming "
                "weights, one per pixel of the 8×8 digit. "
                + (
                    "Shown: W − W₀, what training changed since step 0, on the scale of the "
                    "initial weights (white: unchanged). A starved layer stays white."
                    if change
                    else "Shown: the weights W themselves (white: 0); at the start they are "
                    "random noise."
                )
            )
            title = f"Layer 1: {'W − W₀' if change else 'W'} of {units}, 8×8"
        else:
            tip = (
                f"Rows: one held-out test digit of each class. Columns: {units} of hidden layer "
                f"{f.layer} ({f.width} in all). Colour: the unit's output a = f(u) on that digit."
            )
            title = f"Layer {f.layer}: f(u) of {units} on 10 digits"
        self.setToolTip(tip)
        return f"{title} · step {f.step:,}"

    def _use_layout(self, key: tuple, items) -> bool:
        """Place ``items()`` (a list of (item, row, col)) in the grid only when its shape
        changes (not on every refresh); True when it was placed anew. The items are moved,
        not re-created: they stay in the scene, and those not placed are hidden."""
        if key == self._layout_key:
            return False
        self._layout_key = key
        grid = self._cells_layout.layout  # the QGraphicsGridLayout under pyqtgraph's layout
        for item in self._placed:
            item.setVisible(False)
        while grid.count():
            grid.removeAt(grid.count() - 1)
        placed = items()
        for item, row, col in placed:
            grid.addItem(item, row, col)  # (a child of the cells' layout from now on)
            item.setVisible(True)
        self._placed = [item for item, _, _ in placed]
        return True

    def _grow_pool(self) -> None:
        if len(self._pool) >= FEATURE_UNITS:
            self._pool_timer.stop()
            return
        self._cell(min(len(self._pool) + CELLS_PER_IDLE_TICK, FEATURE_UNITS) - 1, invert_y=False)

    def _cell(self, k: int, invert_y: bool) -> tuple[pg.ViewBox, pg.ImageItem, QGraphicsRectItem]:
        """Cell ``k`` of the pool, built the first time it is needed."""
        while len(self._pool) <= k:
            box = pg.ViewBox(lockAspect=True, enableMouse=False, invertY=invert_y)
            box.setMenuEnabled(False)
            image = pg.ImageItem(axisOrder="row-major")
            box.addItem(image)
            frame = QGraphicsRectItem()
            box.addItem(frame)
            box.setVisible(False)
            self._pool.append((box, image, frame))
        box, image, frame = self._pool[k]
        if box.yInverted() != invert_y:
            box.invertY(invert_y)
        return box, image, frame

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if hasattr(self, "_title"):
            self._wrap_title()
        self._fill_view()
        # A new shape of the view may want another grid (2 x 8 in a wide tab, 4 x 4 square).
        f = getattr(self, "_features", None)  # (a resize may come during construction)
        if f is not None and f.kind != "samples" and self.isVisible():
            n = len(f.units)
            if self._layout_key is not None and self._layout_key[2:] != grid_shape(
                n, self._aspect()
            ):
                self._show_cells(f)

    def _aspect(self) -> float:
        return max(self.width() - 60, 1) / max(self.height() - 40, 1)  # minus bar and title

    def _show_cells(self, f: LayerFeatures) -> None:
        n = len(f.units)
        rows, cols = grid_shape(n, self._aspect())
        weights = f.kind == "weights"

        def cells() -> list:
            pool = [self._cell(k, weights) for k in range(n)]
            self._cells = [(box, image) for box, image, _ in pool]
            self._frames = [frame for _, _, frame in pool]
            return [(box, k // cols, k % cols) for k, (box, _, _) in enumerate(pool)]

        force_layout = self._use_layout((f.kind, n, rows, cols), cells)
        values = drawable(f.values)
        if weights:
            cmap = WEIGHT_MAP
            rect = QRectF(0, 0, f.values.shape[2], f.values.shape[1])
            if self.weight_mode == "change" and f.initial is not None:
                values = drawable(np.asarray(f.values, np.float64) - f.initial)
                levels, label = change_levels(f.initial), "W − W₀"
            else:
                levels, label = weight_levels(values), "weight W"
        else:
            levels, cmap = output_levels(values, f.activation), pg.colormap.get(OUTPUT_MAP)
            x0, x1, y0, y1 = f.extent
            rect = QRectF(x0, y0, x1 - x0, y1 - y0)
            label = "output f(u)"
        lut = cmap.getLookupTable(nPts=256)
        border = pg.mkPen(self._theme.foreground, width=1)  # a white (unchanged) cell stays seen
        border.setCosmetic(True)
        new_rect = rect != self._cell_rect
        self._cell_rect = rect
        for k, (box, image) in enumerate(self._cells):
            box.setVisible(True)
            frame = self._frames[k]
            image.setImage(np.asarray(values[k]), autoLevels=False, levels=levels, lut=lut)
            if new_rect or force_layout:
                frame.setRect(rect)
                frame.setPen(border)
                image.setRect(rect)
                box.setRange(rect, padding=0.02)
        self._bar.setColorMap(cmap)
        self._bar.setLevels(levels)
        self._bar.getAxis("right").setLabel(label)

    def _show_samples(self, f: LayerFeatures) -> None:
        self._use_layout(("samples",), lambda: [(self._samples_box, 0, 0)])
        t = self._theme
        k, side = len(f.sample_labels), 8
        pitch = side + SAMPLE_GAP
        digits = np.full((k * pitch, side), np.nan)
        for i, image in enumerate(np.asarray(f.samples).reshape(k, side, side)):
            digits[i * pitch : i * pitch + side] = image
        ink = pg.ColorMap([0.0, 1.0], [qcolor(t.background), qcolor(t.foreground)])
        self._samples_images.setImage(
            np.nan_to_num(digits), levels=(0.0, 1.0), lut=ink.getLookupTable(nPts=256)
        )
        self._samples_images.setRect(QRectF(0, 0, side, k * pitch))
        values = drawable(f.values)
        levels, cmap = output_levels(values, f.activation), pg.colormap.get(OUTPUT_MAP)
        units = f.values.shape[1]
        self._samples_outputs.setImage(values, levels=levels, lut=cmap.getLookupTable(nPts=256))
        # One square cell per (digit, unit), each row level with its digit.
        self._samples_outputs.setRect(QRectF(side + 2, 0, units * pitch, k * pitch))
        self._samples_box.setRange(QRectF(0, 0, side + 2 + units * pitch, k * pitch), padding=0.02)
        self._bar.setColorMap(cmap)
        self._bar.setLevels(levels)
        self._bar.getAxis("right").setLabel("output f(u)")


def _same(a: LayerFeatures | None, b: LayerFeatures | None) -> bool:
    """The same layer, step and numbers (a snapshot re-sends the newest features)."""
    if a is b:
        return True
    if a is None or b is None:
        return False
    return (a.layer, a.kind, a.step, a.width, a.activation, a.extent) == (
        b.layer,
        b.kind,
        b.step,
        b.width,
        b.activation,
        b.extent,
    ) and np.array_equal(a.values, b.values)
