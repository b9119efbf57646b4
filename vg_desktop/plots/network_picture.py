"""A picture of the network: layers as columns of units, the gradient flowing back through them.

Each hidden layer is a column of units (all of them up to ``MAX_UNITS``, then its first ones);
each unit is shaded by its mean |output| |f(u)| on the snapshot's sample of the current batch,
and the band of links into each layer is coloured by the gradient that reached it, on the bars'
own log scale and bounds (and the heatmap's colour map), so the fading is seen running back
toward the input as the network trains. Clicking a column selects that layer everywhere.

Cheap enough to run at the history views' cadence at depth 200 (issue 13): the units are drawn
by one scatter item per shade, and a snapshot re-sets only the items whose units changed shade;
the links, colour bar, range and selection are set only when they change. (One scatter item with
a brush per unit re-styled every unit in Python at every step: ~7 ms of a 13 ms draw at depth 100.)
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Signal

from ..engine import get_activation
from ..snapshot import Snapshot
from .heatmap import COLOR_MAP
from .theme import LIGHT, Theme, qcolor, style_axis

MAX_UNITS = 12  # units drawn per layer; a wider layer shows its first MAX_UNITS
MAX_INPUTS = 12  # input units drawn (the digits have 64)
SHADES = 9  # grey levels of a unit's mean |f(u)|, from the background to the foreground


def unit_activity(snap: Snapshot, activation: str, units: int) -> np.ndarray:
    """(depth, units) per hidden layer, the mean |f(u)| of its first ``units`` units over the
    snapshot's sample of pre-activations (the first rows of the current batch)."""
    f = get_activation(activation).fn
    width = snap.config.network.width
    layers = [np.asarray(u).reshape(-1, width)[:, :units] for u in snap.preactivations]
    if not layers:
        return np.zeros((0, min(units, width)))
    with np.errstate(all="ignore"):
        if all(u.shape == layers[0].shape for u in layers):  # one call for every layer
            return np.mean(np.abs(f(np.stack(layers))), axis=1)
        return np.array([np.mean(np.abs(f(u)), axis=0) for u in layers])


class NetworkPicture(pg.PlotWidget):
    """Columns of units, input at the left; links shaded by the gradient reaching each layer."""

    layerClicked = Signal(int)  # 0-based hidden layer

    def __init__(self, parent=None, theme: Theme = LIGHT) -> None:
        super().__init__(parent=parent, background=theme.background)
        self._theme = theme
        self._pi: pg.PlotItem = self.getPlotItem()
        self._pi.hideButtons()
        self._pi.setMenuEnabled(False)
        self._pi.hideAxis("left")
        self._vb: pg.ViewBox = self._pi.getViewBox()
        self._vb.setMouseEnabled(x=False, y=False)
        self._links = pg.ImageItem(axisOrder="row-major")
        self._links.setZValue(-10)
        self._pi.addItem(self._links)
        # One scatter item per shade, each with one brush: a new step re-sets only the items
        # whose units changed shade (no per-unit styling in Python).
        self._shade_items = [pg.ScatterPlotItem(pxMode=True) for _ in range(SHADES)]
        for item in self._shade_items:
            self._pi.addItem(item)
        self._shade_members: list[np.ndarray | None] = [None] * SHADES  # unit indices shown
        self._structure: tuple | None = None  # (depth, inputs, units, classes, rows)
        self._xs = self._ys = np.zeros(0)
        self._links_rgba: np.ndarray | None = None  # the links' colours and height, as drawn
        self._links_rows = 0
        self._bar_key: tuple | None = None
        self._range_key: tuple | None = None
        self._selection_key: tuple | None = None
        self._styled = False  # the shade items have the theme's brushes and pen
        self.item_updates = 0  # scatter items and link images set (tests: no redundant work)
        self._selected = pg.PlotCurveItem()
        self._pi.addItem(self._selected)
        self._levels = np.zeros(0)
        self._depth = 0
        self._rows = MAX_UNITS
        self._shown_key: tuple | None = None
        self._selected_layer = 0
        self._cmap = pg.colormap.get(COLOR_MAP)
        self._pi.setLabel("bottom", "layer (input → output)")
        # The links' colour scale: the bars' quantity, on the bars' own bounds (log10).
        self._bar = pg.ColorBarItem(
            values=(-24.0, 2.0), colorMap=self._cmap, interactive=False, width=12
        )
        self._bar.getAxis("right").enableAutoSIPrefix(False)
        self._pi.layout.addItem(self._bar, 2, 3)
        self.setToolTip(
            "Each column is a layer, input at the left; each dot a unit (at most "
            f"{MAX_UNITS} per layer), darker when its mean |f(u)| on the current batch is larger. "
            "The band of links into each layer is coloured by the quantity the bars show, on "
            "their log scale and bounds (the colour bar). Click a column to select that layer."
        )
        self._pi.scene().sigMouseClicked.connect(self._on_click)
        self.apply_theme(theme)

    # ------------------------------------------------------------------ public API
    def apply_theme(self, theme: Theme) -> None:
        self._theme = theme
        self._shown_key = None  # redraw in the new colours
        self.setBackground(theme.background)
        fg, bg = qcolor(theme.foreground), qcolor(theme.background)
        self._palette = [pg.mkBrush(_blend(bg, fg, k / (SHADES - 1))) for k in range(SHADES)]
        self._pen = pg.mkPen(fg, width=0.8)
        self._styled = False
        self._links_rgba = None  # the neutral colour may differ
        self._selection_key = None
        style_axis(self._pi.getAxis("bottom"), theme)

    def layer_levels(self) -> np.ndarray:
        """log10 of the quantity each band of links shows (layer 1 first), as drawn."""
        return self._levels.copy()

    def unit_shades(self) -> np.ndarray:
        """The shade (0 .. SHADES - 1) of every unit drawn: the inputs, then each hidden layer's
        units (layer 1 first), then the outputs; as the shade items draw them."""
        shades = np.zeros(len(self._xs), dtype=int)
        for k, members in enumerate(self._shade_members):
            if members is not None:
                shades[members] = k
        return shades

    def set_selected_layer(self, index: int) -> None:
        self._selected_layer = index
        self._draw_selection()

    def show_snapshot(
        self,
        snap: Snapshot,
        values: np.ndarray,
        bounds: tuple[float, float],
        quantity_symbol: str = "",
    ) -> None:
        """Draw ``snap``'s network; ``values`` are the bars' per-layer values (log10 taken here),
        ``bounds`` the bars' (lo, hi) decades. The same step drawn again costs nothing."""
        key = (snap.run_id, snap.step, quantity_symbol, tuple(bounds), len(values))
        if key == self._shown_key:
            return
        self._shown_key = key
        depth = snap.depth
        self._depth = depth
        n_inputs = snap.data_x.shape[1]
        n_classes = snap.config.data.n_classes
        activity = unit_activity(snap, snap.config.network.activation, MAX_UNITS)
        # Links into layer l span x in [l - 1, l]; the output layer's at [depth, depth + 1].
        with np.errstate(divide="ignore", invalid="ignore"):
            levels = np.log10(np.asarray(values, dtype=np.float64))
        self._levels = levels
        bands = np.full(depth + 1, np.nan)
        bands[: len(levels)] = levels
        lo, hi = bounds
        bar_key = (lo, hi, quantity_symbol)
        if bar_key != self._bar_key:
            self._bar_key = bar_key
            self._bar.setLevels((lo, hi))
            self._bar.getAxis("right").setLabel(f"log₁₀ {quantity_symbol}")
        t = np.clip((bands - lo) / max(hi - lo, 1e-9), 0.0, 1.0)
        rgba = self._cmap.map(np.nan_to_num(t, nan=0.0), mode="byte")
        neutral = qcolor(self._theme.neutral)
        rgba[~np.isfinite(bands)] = [neutral.red(), neutral.green(), neutral.blue(), 255]
        rows = max(MAX_UNITS, min(n_inputs, MAX_INPUTS), n_classes)
        self._rows = rows
        rgba = rgba.reshape(1, depth + 1, 4)
        if (
            self._links_rgba is None
            or self._links_rows != rows
            or not np.array_equal(rgba, self._links_rgba)
        ):
            self._links_rgba, self._links_rows = rgba, rows
            self._links.setImage(rgba)
            self._links.setRect(QRectF(0, -0.5, depth + 1, rows))
            self.item_updates += 1
        # Units: input (unshaded), hidden (shaded by mean |f(u)|), output (unshaded).
        hidden = activity  # (depth, units)
        top = float(np.nanmax(hidden)) if hidden.size and np.isfinite(hidden).any() else 1.0
        top = top if np.isfinite(top) and top > 0 else 1.0
        shade = np.round(np.clip(np.nan_to_num(hidden / top), 0.0, 1.0) * (SHADES - 1))
        n_in, units = min(n_inputs, MAX_INPUTS), hidden.shape[1] if hidden.ndim == 2 else 0
        self._place_units(depth, n_in, units, n_classes, rows)
        codes = np.concatenate([np.zeros(n_in), shade.ravel(), np.zeros(n_classes)]).astype(int)
        self._shade_units(codes)
        range_key = (depth, rows)
        if range_key != self._range_key:
            self._range_key = range_key
            self._vb.setRange(xRange=(-0.6, depth + 1.6), yRange=(-1.0, rows), padding=0.0)
        self._draw_selection()

    def _place_units(self, depth: int, n_in: int, units: int, n_classes: int, rows: int) -> None:
        """Every unit's position, and the dots' size and style, when the network's shape or
        the theme changed."""
        structure = (depth, n_in, units, n_classes, rows)
        if structure == self._structure and self._styled:
            return
        self._structure, self._styled = structure, True
        centre = (rows - 1) / 2.0
        self._xs = np.concatenate(
            [
                np.zeros(n_in),
                np.repeat(np.arange(1.0, depth + 1), units),
                np.full(n_classes, depth + 1.0),
            ]
        )
        self._ys = np.concatenate(
            [
                centre + (n_in - 1) / 2.0 - np.arange(n_in),
                np.tile(centre + (units - 1) / 2.0 - np.arange(units), depth),
                centre + (n_classes - 1) / 2.0 - np.arange(n_classes),
            ]
        )
        size = float(np.clip(300.0 / max(rows, depth + 2), 3.0, 12.0))
        for item, brush in zip(self._shade_items, self._palette, strict=True):
            item.setData(x=[], y=[], brush=brush, pen=self._pen, size=size, symbol="o")
        self._shade_members = [None] * SHADES  # every item is set again below

    def _shade_units(self, codes: np.ndarray) -> None:
        """Give each shade item the units of its shade; the items whose units did not change
        are left alone (and so not repainted from scratch)."""
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(SHADES + 1))
        for k, item in enumerate(self._shade_items):
            members = order[bounds[k] : bounds[k + 1]]
            shown = self._shade_members[k]
            if shown is not None and np.array_equal(members, shown):
                continue
            self._shade_members[k] = members
            item.setData(x=self._xs[members], y=self._ys[members])
            self.item_updates += 1

    # ------------------------------------------------------------------ internals
    def _draw_selection(self) -> None:
        if not self._depth:
            return
        x = self._selected_layer + 1.0
        rows = self._rows
        key = (x, rows)
        if key == self._selection_key:
            return
        self._selection_key = key
        pen = pg.mkPen(self._theme.selection, width=3)
        self._selected.setData(
            [x - 0.45, x + 0.45, x + 0.45, x - 0.45, x - 0.45],
            [-0.8, -0.8, rows - 0.2, rows - 0.2, -0.8],
            pen=pen,
        )

    def layer_at(self, x: float) -> int | None:
        """The 0-based hidden layer whose column is nearest to view x (None: input/output)."""
        layer = round(x) - 1
        return layer if 0 <= layer < self._depth else None

    def _on_click(self, event) -> None:
        pos = self._vb.mapSceneToView(event.scenePos())
        layer = self.layer_at(pos.x())
        if layer is not None:
            self.layerClicked.emit(layer)


def _blend(a, b, share: float):
    """The colour ``share`` of the way from ``a`` to ``b``."""
    return pg.mkColor(
        int(a.red() + (b.red() - a.red()) * share),
        int(a.green() + (b.green() - a.green()) * share),
        int(a.blue() + (b.blue() - a.blue()) * share),
    )
