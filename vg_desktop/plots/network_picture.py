"""A picture of the network: layers as columns of units, the gradient flowing back through them.

Each hidden layer is a column of units (all of them up to ``MAX_UNITS``, then its first ones);
each unit is shaded by its mean |output| |f(u)| on the snapshot's sample of the current batch,
and the band of links into each layer is coloured by the gradient that reached it, on the bars'
own log scale and bounds (and the heatmap's colour map), so the fading is seen running back
toward the input as the network trains. Clicking a column selects that layer everywhere.
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


def unit_activity(snap: Snapshot, activation: str, units: int) -> list[np.ndarray]:
    """Per hidden layer, the mean |f(u)| of its first ``units`` units over the snapshot's
    sample of pre-activations (the first rows of the current batch)."""
    f = get_activation(activation).fn
    width = snap.config.network.width
    out = []
    with np.errstate(all="ignore"):
        for u in snap.preactivations:
            rows = np.asarray(u).reshape(-1, width)[:, :units]
            out.append(np.mean(np.abs(f(rows)), axis=0))
    return out


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
        self._units = pg.ScatterPlotItem(pxMode=True)
        self._pi.addItem(self._units)
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
        style_axis(self._pi.getAxis("bottom"), theme)

    def layer_levels(self) -> np.ndarray:
        """log10 of the quantity each band of links shows (layer 1 first), as drawn."""
        return self._levels.copy()

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
        self._bar.setLevels((lo, hi))
        self._bar.getAxis("right").setLabel(f"log₁₀ {quantity_symbol}")
        t = np.clip((bands - lo) / max(hi - lo, 1e-9), 0.0, 1.0)
        rgba = self._cmap.map(np.nan_to_num(t, nan=0.0), mode="byte")
        neutral = qcolor(self._theme.neutral)
        rgba[~np.isfinite(bands)] = [neutral.red(), neutral.green(), neutral.blue(), 255]
        rows = max(MAX_UNITS, min(n_inputs, MAX_INPUTS), n_classes)
        self._rows = rows
        self._links.setImage(rgba.reshape(1, depth + 1, 4))
        self._links.setRect(QRectF(0, -0.5, depth + 1, rows))
        # Units: input (unshaded), hidden (shaded by mean |f(u)|), output (unshaded).
        palette = self._palette  # a few reused brushes: the symbol cache hits
        hidden = np.array(activity, dtype=np.float64)  # (depth, units)
        top = float(np.nanmax(hidden)) if hidden.size and np.isfinite(hidden).any() else 1.0
        top = top if np.isfinite(top) and top > 0 else 1.0
        shade = np.round(np.clip(np.nan_to_num(hidden / top), 0.0, 1.0) * (SHADES - 1))
        n_in, units = min(n_inputs, MAX_INPUTS), hidden.shape[1] if hidden.ndim == 2 else 0
        centre = (rows - 1) / 2.0
        xs = np.concatenate(
            [
                np.zeros(n_in),
                np.repeat(np.arange(1.0, depth + 1), units),
                np.full(n_classes, depth + 1.0),
            ]
        )
        ys = np.concatenate(
            [
                centre + (n_in - 1) / 2.0 - np.arange(n_in),
                np.tile(centre + (units - 1) / 2.0 - np.arange(units), depth),
                centre + (n_classes - 1) / 2.0 - np.arange(n_classes),
            ]
        )
        codes = np.concatenate([np.zeros(n_in), shade.ravel(), np.zeros(n_classes)]).astype(int)
        brushes = [palette[c] for c in codes]
        size = float(np.clip(300.0 / max(rows, depth + 2), 3.0, 12.0))
        self._units.setData(x=xs, y=ys, brush=brushes, pen=self._pen, size=size, symbol="o")
        self._vb.setRange(xRange=(-0.6, depth + 1.6), yRange=(-1.0, rows), padding=0.0)
        self._draw_selection()

    # ------------------------------------------------------------------ internals
    def _draw_selection(self) -> None:
        if not self._depth:
            return
        x = self._selected_layer + 1.0
        rows = self._rows
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
