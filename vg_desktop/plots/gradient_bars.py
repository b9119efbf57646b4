"""Gradient bars: one bar per layer, input at the left, on a true log10 axis with fixed bounds.

Why it is built the way it is:

* ``pg.BarGraphItem`` has no log mode, so the bars are drawn in log10 units and the axis is
  labelled 10ⁿ at integer decades (:class:`DecadeAxis`).
* The y bounds never auto-scale: a healthy run auto-scaled to its own range looks exactly like a
  vanishing one. They change only through :meth:`GradientBarsPlot.set_bounds` or the one-shot
  :meth:`GradientBarsPlot.fit_to`, and :meth:`GradientBarsPlot.set_locked` protects them.
* Health is shown by color *and* by hatching (vanishing ////, exploding ××××, healthy solid), so
  it survives a grayscale print or a washed-out projector. The thresholds are in the legend and
  drawn as dotted guide lines (see :mod:`vg_desktop.health`).
* A bar must never silently disappear: zero or below-axis values get a ▼ marker at the bottom,
  above-axis values a ▲ marker at the top, NaN a ✕ (the run diverged).

Default bounds: 10⁻²⁴ … 10² for ‖∂L/∂z‖ and ‖∂L/∂W‖, and 10⁻²⁴ … 10⁰ for ‖ΔW‖/‖W‖. A
float64 sigmoid stack of depth 30 reaches ~10⁻²⁰ at its first layer, so the default lessons stay on
the axis; the top leaves two decades above a typical last-layer gradient (~10⁻¹) before ▲ markers
appear, and an update ratio above 10⁰ means the weights are rewritten every step. Deeper runs fall
below the axis with ▼ markers until the user fits or sets the bounds.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFontMetricsF, QPainter, QPen, QRegion, QTextOption
from PySide6.QtWidgets import QGraphicsRectItem

from .. import health
from .theme import (
    LIGHT,
    BaseAxis,
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

QUANTITY_LABELS = {
    "signal": "‖∂L/∂z‖ back-propagated signal (log₁₀)",
    "weight": "‖∂L/∂W‖ weight gradient (log₁₀)",
    "update": "‖ΔW‖/‖W‖ update ratio (log₁₀)",
    "stream": "‖∂L/∂h‖ residual-stream gradient (log₁₀)",
    "distance": "‖W−W₀‖/‖W₀‖ distance from init (log₁₀)",
}
QUANTITY_SYMBOLS = {
    "signal": "‖∂L/∂z‖",
    "weight": "‖∂L/∂W‖",
    "update": "‖ΔW‖/‖W‖",
    "stream": "‖∂L/∂h‖",
    "distance": "‖W−W₀‖/‖W₀‖",
}
DEFAULT_BOUNDS = {
    "signal": (-24, 2),
    "weight": (-24, 2),
    "update": (-24, 0),
    "stream": (-24, 2),
    "distance": (-16, 2),
}
PREDICT_MESSAGE = "Make your prediction. The bars appear when you press Play."
PREDICTION_LABEL = "chain-rule estimate: ∏ RMS f′ × gain"
PREDICTION_NOT_SHOWN = "chain-rule estimate: not for this network (plain stacks only)"

LABEL_SLACK = 1.08  # rendered axis title width / font-metrics width (measured: 1.04) + margin
BELOW_NOTE_MIN = 5  # from this many ▼ markers on, a text also states the count
AB_OUTLINE = 2.5  # pixels: the run A / run B outline of side-by-side bars
MESSAGE_MAX_HEIGHT = 0.4  # share of the plot's height a message over the bars may take
MESSAGE_OPACITY = 0.78  # of the box behind a message: the bars show through
ANIMATION_RATE = 0.35  # share of the remaining distance covered per frame
ANIMATION_SNAP = 0.01  # decades: closer than this, jump to the target

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
_DECADE_STEPS = (1, 2, 3, 4, 5, 6, 10, 20, 30, 50, 100, 200, 300, 500)
_LAYER_STEPS = (1, 2, 5, 10, 20, 25, 50, 100)


def decade_label(exponent: float) -> str:
    """'10⁻¹²' for -12: the tick label of a log10 axis."""
    return "10" + str(round(exponent)).translate(_SUPERSCRIPT)


def decade_ticks(lo: float, hi: float, max_ticks: int) -> tuple[int, list[int]]:
    """(step, integer decades in [lo, hi] that are multiples of step), at most ``max_ticks``."""
    first, last = math.ceil(lo - 1e-9), math.floor(hi + 1e-9)
    if last < first:
        return 1, []
    span = max(last - first, 1)
    step = next((s for s in _DECADE_STEPS if span / s < max(max_ticks, 2)), _DECADE_STEPS[-1])
    return step, [v for v in range(first, last + 1) if v % step == 0]


class DecadeAxis(BaseAxis):
    """Axis of a log10 plot: ticks at integer decades, labelled 10ⁿ, thinned to fit."""

    def __init__(self, orientation: str = "left", **kwargs) -> None:
        super().__init__(orientation, **kwargs)
        self._step = 1

    def _text_height(self) -> float:
        font = self.style["tickFont"] or self.font()
        return QFontMetricsF(font).height()

    def tickValues(self, minVal: float, maxVal: float, size: float):
        max_ticks = int(size / (self._text_height() * 1.7))
        self._step, major = decade_ticks(minVal, maxVal, max_ticks)
        levels = [(float(self._step), [float(v) for v in major])]
        decade_px = size / max(maxVal - minVal, 1e-9)
        if self._step > 1 and decade_px >= 5:
            minor = [
                float(v) for v in range(math.ceil(minVal), math.floor(maxVal) + 1) if v % self._step
            ]
            levels.append((1.0, minor))
        return levels

    def tickStrings(self, values, scale, spacing):
        if spacing < self._step:
            return ["" for _ in values]
        return [decade_label(v) for v in values]


def fit_decade_axis_width(axis: pg.AxisItem, theme: Theme, widest: str = "10⁻²⁴") -> None:
    """Fix the axis width to its widest tick label plus its title, so it never overlaps and
    never jitters as labels change from frame to frame."""
    ticks = QFontMetricsF(theme.font(theme.tick_font_pt)).horizontalAdvance(widest)
    title = QFontMetricsF(theme.font(theme.axis_font_pt)).height() if axis.labelText else 0
    axis.setWidth(int(ticks + title + max(4, theme.tick_font_pt // 3) + 14))


def layer_tick_step(px_per_layer: float, label_px: float) -> int:
    """The smallest layer step whose labels do not crowd: 1 or 2 count from layer 1 (1, 3, 5…);
    larger steps label round numbers after layer 1 (1, 5, 10…), so layer 1 and the first round
    number must be a label apart too, or the next step is taken."""
    for s in _LAYER_STEPS:
        if s * px_per_layer >= label_px and (s <= 2 or (s - 1) * px_per_layer >= label_px):
            return s
    return _LAYER_STEPS[-1]


def layer_ticks(
    first: int,
    last: int,
    n: int,
    step: int,
    px_per_layer: float,
    label_px: float,
    uneven: bool = False,
) -> set[int] | None:
    """Layer ticks from ``first`` to ``last`` of ``n`` layers, every ``step``, with both ends;
    None when an end would crowd out a regular tick (unless ``uneven`` allows dropping it)."""
    if step <= 2:  # 1, 3, 5, … : counting from the first layer, never "1, 4, 6"
        ticks = {v for v in range(first, last + 1) if (v - 1) % step == 0}
    else:  # 1, 5, 10, … : round numbers after the first layer (the step keeps them apart)
        ticks = {v for v in range(first, last + 1) if v % step == 0 or v == 1}
    for end in (1, n):
        if first <= end <= last:
            kept = {t for t in ticks if t == end or abs(t - end) * px_per_layer >= label_px}
            if kept != ticks and not uneven:
                return None
            ticks = kept | {end}
    return ticks


class LayerAxis(BaseAxis):
    """Bottom axis: layer numbers 1..n, thinned when dense; the output layer reads 'out'."""

    def __init__(self, orientation: str = "bottom", **kwargs) -> None:
        super().__init__(orientation, **kwargs)
        self.n_layers = 0
        self.has_output = False

    def tickValues(self, minVal: float, maxVal: float, size: float):
        n = self.n_layers
        if n == 0:
            return []
        metrics = QFontMetricsF(self.style["tickFont"] or self.font())
        if self.orientation in ("left", "right"):
            label_px = metrics.height() * 1.3
        else:
            label_px = metrics.horizontalAdvance("000") + 10
        px_per_layer = size / max(maxVal - minVal, 1e-9)
        first, last = max(1, math.ceil(minVal)), min(n, math.floor(maxVal))
        step = layer_tick_step(px_per_layer, label_px)
        ticks = layer_ticks(first, last, n, step, px_per_layer, label_px)
        # Counting by 2, a tick dropped beside the last layer leaves an uneven gap
        # ("… 15, 17, 20"): round numbers read evenly (1, 5, 10, 15, 20). Among round numbers
        # an uneven last gap is expected ("… 15, 20, 23").
        if ticks is None and step <= 2:
            step = next(s for s in _LAYER_STEPS if s > 2)
        if ticks is None:
            ticks = layer_ticks(first, last, n, step, px_per_layer, label_px, uneven=True)
        return [(float(step), [float(t) for t in sorted(ticks)])]

    def tickStrings(self, values, scale, spacing):
        out = []
        for v in values:
            layer = round(v)
            out.append("out" if self.has_output and layer == self.n_layers else str(layer))
        return out


def pale(color: str, background: str, share: float = 0.45) -> QColor:
    """``color`` blended toward ``background``: run B's fills, lighter than run A's."""
    c, b = qcolor(color), qcolor(background)
    return QColor.fromRgbF(
        *(
            x * share + y * (1 - share)
            for x, y in zip(c.getRgbF()[:3], b.getRgbF()[:3], strict=True)
        )
    )


def _log10(values: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.log10(np.abs(values))


def _set_colors(bars: pg.BarGraphItem, width: float, brushes: list, pens: list | None) -> None:
    """Per-bar brushes and pens (None: no outline); pyqtgraph 0.14 fails on empty pen lists."""
    if not brushes:
        bars.setOpts(width=width, brushes=None, brush=None, pens=None, pen=None)
    elif pens is None:
        bars.setOpts(width=width, brushes=brushes, pens=None, pen=None)
    else:
        bars.setOpts(width=width, brushes=brushes, pens=pens)


_DEVICE_LIMIT = 1e6  # pixels: bars reaching far outside the view are clamped to this


def _device_rects(item: pg.BarGraphItem, p: QPainter) -> tuple[list[int], list[QRect]]:
    """(bar indices, their rectangles in device pixels) of ``item``'s visible, non-empty bars.

    The plot's transform is a scale and a translation, so each bar maps to an axis-aligned
    rectangle; rounding it to whole pixels lets Qt fill it without antialiasing.
    """
    x, height = item.opts.get("x"), item.opts.get("height")
    if x is None or len(x) == 0:
        return [], []
    x = np.asarray(x, dtype=float)
    height = np.asarray(height, dtype=float)
    half = float(item.opts.get("width") or 0.0) / 2
    bottom = np.broadcast_to(np.asarray(item.opts.get("y0", 0.0), dtype=float), x.shape)
    t = p.transform()
    left, right = t.m11() * (x - half) + t.dx(), t.m11() * (x + half) + t.dx()
    y_a, y_b = t.m22() * bottom + t.dy(), t.m22() * (bottom + height) + t.dy()
    with np.errstate(invalid="ignore"):
        lo = np.clip([np.minimum(left, right), np.minimum(y_a, y_b)], -_DEVICE_LIMIT, _DEVICE_LIMIT)
        hi = np.clip([np.maximum(left, right), np.maximum(y_a, y_b)], -_DEVICE_LIMIT, _DEVICE_LIMIT)
        corners, ends = np.rint(lo), np.rint(hi)
    sizes = ends - corners
    drawn = np.isfinite(corners).all(axis=0) & np.isfinite(sizes).all(axis=0) & (sizes[1] > 0)
    indices = np.flatnonzero(drawn).tolist()
    rects = [
        QRect(int(corners[0, i]), int(corners[1, i]), int(sizes[0, i]), int(sizes[1, i]))
        for i in indices
    ]
    return indices, rects


class _DeviceBars(pg.BarGraphItem):
    """Bars drawn as whole-pixel rectangles, one ``drawRects`` call per (fill, outline) pair.

    pyqtgraph records each bar as an antialiased rectangle in data coordinates and replays the
    recording: about 90 µs per bar here, 9 ms of a 12 ms bar-chart paint at depth 100. Bars
    are axis-aligned, so drawing them in device pixels without antialiasing gives the same
    picture (crisper edges) in a few hundred microseconds.
    """

    def paint(self, p: QPainter, *args) -> None:
        brushes, pens = self.opts.get("brushes"), self.opts.get("pens")
        if brushes is None:
            super().paint(p, *args)  # single-color items: pyqtgraph's own fast path
            return
        indices, rects = _device_rects(self, p)
        groups: dict[tuple[int, int], tuple[QBrush, QPen, list[QRect]]] = {}
        for i, rect in zip(indices, rects, strict=True):
            brush = brushes[i]
            pen = pens[i] if pens is not None else _NO_PEN
            key = (id(brush), id(pen))
            if key not in groups:
                groups[key] = (brush, pen, [])
            groups[key][2].append(rect)
        p.save()
        p.resetTransform()
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        for brush, pen, group in groups.values():
            p.setBrush(brush)
            p.setPen(pen)
            p.drawRects(group)
        p.restore()


_NO_PEN = QPen(Qt.PenStyle.NoPen)


class _DeviceHatch(pg.BarGraphItem):
    """Bars filled with a hatch pattern, one clipped fill per pattern.

    Qt's raster engine fills each rectangle with a pattern brush slowly (about 0.15 ms per bar,
    whatever its size): at depth 200 the hatching alone took 12 ms of a 28 ms bar-chart paint.
    Here the bars that share a pattern become one clip region in device pixels, filled once:
    under a millisecond, and the same picture (Qt draws patterns at device resolution anyway).
    """

    def paint(self, p: QPainter, *args) -> None:
        brushes = self.opts.get("brushes")
        if brushes is None:
            return
        groups: dict[int, tuple[QBrush, QRegion]] = {}
        for i, rect in zip(*_device_rects(self, p), strict=True):
            brush = brushes[i]
            if brush.style() == Qt.BrushStyle.NoBrush:
                continue
            key = int(brush.style().value)
            _, region = groups.get(key, (brush, QRegion()))
            groups[key] = (brush, region.united(rect))
        p.save()
        p.resetTransform()
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)  # pixel-aligned: no need
        for brush, region in groups.values():
            p.save()
            p.setClipRegion(region, Qt.ClipOperation.IntersectClip)
            p.fillRect(region.boundingRect(), brush)
            p.restore()
        p.restore()


class _Run:
    """What one run (A or B) shows: raw values, health codes, target and displayed heights.

    ``logs`` and ``shown`` are the unclipped log10 targets and animated tops (a zero, NaN or ±Inf
    value takes a stand-in below or above the axis); ``targets`` and ``heights`` are the same
    clipped to the axis. ``codes`` classify the *shown* values, so while a bar animates its color
    always agrees with where it stands against the threshold lines, which are drawn from the
    shown reference bar too: lines and colors move with the bars, never ahead of them.
    """

    def __init__(self) -> None:
        self.values = np.zeros(0)
        self.codes = np.zeros(0, dtype=np.int8)
        self.logs = np.zeros(0)
        self.shown = np.zeros(0)
        self.shown_values = np.zeros(0)
        self.targets = np.zeros(0)
        self.heights = np.zeros(0)
        self.x = np.zeros(0)

    def __len__(self) -> int:
        return len(self.values)


class GradientBarsPlot(pg.PlotWidget):
    """Per-layer gradient norms as health-colored bars on a fixed log10 axis.

    Signals
    -------
    layerClicked(int)
        0-based index of the clicked layer. For "weight" and "update" the last index (depth) is
        the output layer, which has no activation.
    boundsChanged(int, int)
        The y bounds (decades) changed; the heatmap shares them as its color levels.
    """

    layerClicked = Signal(int)
    boundsChanged = Signal(int, int)

    def __init__(self, parent=None, theme: Theme = LIGHT) -> None:
        self._left_axis = DecadeAxis("left")
        self._bottom_axis = LayerAxis("bottom")
        super().__init__(
            parent=parent,
            background=theme.background,
            axisItems={"left": self._left_axis, "bottom": self._bottom_axis},
        )
        # PlotWidget copies some PlotItem methods onto the instance; `clear` would shadow ours.
        if "clear" in self.__dict__:
            del self.clear
        self._pi: pg.PlotItem = self.getPlotItem()
        self._vb: pg.ViewBox = self._pi.getViewBox()
        self._theme = theme
        self._quantity = "signal"
        self._bounds = dict(DEFAULT_BOUNDS)
        self._locked = False
        self._animated = True
        self._overlay = True
        self._guides_on = True
        self._plain = False
        self._run_labels = ("run A", "run B")
        self._selected: int | None = None
        self._diverged_message: str | None = None
        self._a, self._b = _Run(), _Run()
        self._has_b = False
        self._predicted: np.ndarray | None = None
        self._prediction_note_text = ""  # why the estimate is not drawn for this network
        self._n_columns = 0

        pi = self._pi
        pi.hideButtons()
        pi.setMenuEnabled(False)
        vb = pi.getViewBox()
        vb.setMouseEnabled(x=True, y=False)  # y is fixed on purpose; x zoom helps at depth 200
        vb.disableAutoRange()
        vb.setDefaultPadding(0.0)
        pi.showGrid(x=False, y=True, alpha=theme.grid_alpha)

        self._column = pg.BarGraphItem(x=[], height=[], width=1.0, pen=None, brush=None)
        self._bars_a = _DeviceBars(x=[], height=[], width=0.8)
        self._hatch_a = _DeviceHatch(x=[], height=[], width=0.8, pen=None)
        self._bars_b = _DeviceBars(x=[], height=[], width=0.4)
        self._hatch_b = _DeviceHatch(x=[], height=[], width=0.4, pen=None)
        self._outline = pg.BarGraphItem(x=[], height=[], width=0.8, brush=None)
        self._guide_lo = pg.InfiniteLine(angle=0, movable=False)
        self._guide_hi = pg.InfiniteLine(angle=0, movable=False)
        self._prediction = pg.PlotDataItem(connect="finite")
        self._markers = pg.ScatterPlotItem(pxMode=True)
        self._diverged = pg.TextItem(anchor=(0.5, 0.5))
        self._below_note = pg.TextItem(anchor=(0.0, 1.0))
        items = (
            (self._column, -10),
            (self._bars_a, 0),
            (self._hatch_a, 1),
            (self._bars_b, 0),
            (self._hatch_b, 1),
            (self._guide_lo, 2),
            (self._guide_hi, 2),
            (self._outline, 3),
            (self._prediction, 4),
            (self._markers, 5),
            (self._below_note, 6),
            (self._diverged, 20),
        )
        for item, z in items:
            item.setZValue(z)
            pi.addItem(item, ignoreBounds=True)
        self._diverged.setVisible(False)
        self._below_note.setVisible(False)
        # A lesson step that asks the class to predict hides the bars until Play: a veil of the
        # background color over the whole view (the axes and legend stay), and what to do.
        self._veil = QGraphicsRectItem(QRectF(-1e6, -1e6, 2e6, 2e6))
        self._veil.setZValue(15)
        vb.addItem(self._veil, ignoreBounds=True)
        self._veil_text = pg.TextItem(PREDICT_MESSAGE, anchor=(0.5, 0.5))
        self._veil_text.setZValue(16)
        pi.addItem(self._veil_text, ignoreBounds=True)
        self._veil.setVisible(False)
        self._veil_text.setVisible(False)

        self._legend = make_legend(theme, columns=3)
        put_legend_above(pi, self._legend)

        self.scene().sigMouseClicked.connect(self._on_scene_click)
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)
        vb.sigRangeChanged.connect(self._place_diverged)
        vb.sigResized.connect(self._on_resized)

        self._bottom_axis.setLabel("Layer (input → output)")
        self._left_axis.setLabel(QUANTITY_LABELS[self._quantity])
        self.apply_theme(theme)
        self._apply_y_range()
        self._set_x_range(1)

    # ------------------------------------------------------------------ public API
    def apply_theme(self, theme: Theme) -> None:
        """Restyle everything (colors, fonts, line widths) and redraw."""
        self._theme = theme
        self.setBackground(theme.background)
        style_axis(self._left_axis, theme)
        style_axis(self._bottom_axis, theme)
        fit_decade_axis_width(self._left_axis, theme)
        pi = self._pi
        pi.showGrid(x=False, y=True, alpha=theme.grid_alpha)
        pi.layout.setContentsMargins(4, 4, 14, 4)
        colors = (theme.vanishing, theme.healthy, theme.exploding)
        self._fills = [QBrush(qcolor(c)) for c in colors]
        self._edges = [pg.mkPen(qcolor(c).darker(135), width=1) for c in colors]
        hatch = qcolor(theme.hatch)
        self._hatches = [
            QBrush(hatch, Qt.BrushStyle.BDiagPattern),
            QBrush(Qt.BrushStyle.NoBrush),
            QBrush(hatch, Qt.BrushStyle.DiagCrossPattern),
        ]
        self._fills_b = [QBrush(pale(c, theme.background)) for c in colors]
        self._hatches_b = [
            QBrush(qcolor(colors[0]).darker(130), Qt.BrushStyle.BDiagPattern),
            QBrush(Qt.BrushStyle.NoBrush),
            QBrush(qcolor(colors[2]).darker(130), Qt.BrushStyle.DiagCrossPattern),
        ]
        self._run_pens = (
            pg.mkPen(theme.run_a, width=AB_OUTLINE),
            pg.mkPen(theme.run_b, width=AB_OUTLINE, style=Qt.PenStyle.DashLine),
        )
        self._marker_pen = pg.mkPen(theme.foreground, width=1)
        self._marker_brushes = {c: pg.mkBrush(c) for c in (theme.vanishing, theme.exploding)}
        self._column.setOpts(brush=theme.color("foreground", 0.07), pen=None)
        self._outline.setOpts(pen=pg.mkPen(theme.selection, width=3), brush=None)
        for line, color in ((self._guide_lo, theme.vanishing), (self._guide_hi, theme.exploding)):
            line.setPen(pg.mkPen(color, width=2, style=Qt.PenStyle.DotLine))
        self._prediction.setPen(pg.mkPen(theme.prediction, width=max(2.0, theme.line_width - 0.5)))
        self._prediction.setSymbol("o")
        self._prediction.setSymbolPen(pg.mkPen(theme.prediction, width=1.5))
        self._prediction.setSymbolBrush(theme.background)
        self._prediction.setSymbolSize(max(7, theme.tick_font_pt // 2 + 2))
        self._below_note.setColor(theme.foreground)
        self._below_note.setFont(theme.font(theme.legend_font_pt))
        self._below_note.fill = pg.mkBrush(theme.text_box)
        self._veil.setBrush(pg.mkBrush(theme.background))
        self._veil.setPen(pg.mkPen(None))
        self._veil_text.setColor(theme.foreground)
        self._veil_text.setFont(theme.font(theme.title_font_pt, bold=True))
        self._diverged.setColor(theme.exploding)
        # Translucent enough that the bars (their ✕ markers) stay readable behind it.
        self._diverged.fill = pg.mkBrush(theme.color("text_box", MESSAGE_OPACITY))
        self._diverged.border = pg.mkPen(theme.exploding, width=3)
        self._diverged.setFont(theme.font(round(theme.title_font_pt * 1.3), bold=True))
        self._diverged.textItem.document().setDefaultTextOption(
            QTextOption(Qt.AlignmentFlag.AlignCenter)
        )
        restyle_legend(self._legend, theme)
        self._rebuild_legend()
        self._redraw(colors_changed=True)

    def set_quantity(self, quantity: str) -> None:
        """Show "signal" (‖∂L/∂z‖), "weight" (‖∂L/∂W‖) or "update" (‖ΔW‖/‖W‖).

        Each quantity keeps its own y bounds. The caller then passes that quantity's values.
        """
        if quantity not in QUANTITY_LABELS:
            raise ValueError(
                f"quantity must be one of {', '.join(QUANTITY_LABELS)}; got {quantity!r}"
            )
        if quantity == self._quantity:
            return
        self._quantity = quantity
        self._update_axis_label()
        self._rebuild_legend()
        self._apply_y_range()
        self._recompute_targets()
        self._redraw(colors_changed=True)
        self.boundsChanged.emit(*self.bounds())

    def quantity(self) -> str:
        return self._quantity

    def axis_label(self) -> str:
        """The y axis title of the current quantity (a short plot shows its short form)."""
        return QUANTITY_LABELS[self._quantity]

    def _update_axis_label(self) -> None:
        """The full title, or "‖∂L/∂z‖ (log₁₀)" when the plot is too short to show it whole."""
        full = QUANTITY_LABELS[self._quantity]
        font = self._theme.font(self._theme.axis_font_pt)
        height = self._vb.height()
        # The title is drawn as rich text, a few per cent wider than the font metrics say: at
        # 1024x768 in presentation type a title that "fitted" ran into the legend.
        width = QFontMetricsF(font).horizontalAdvance(full) * LABEL_SLACK
        fits = height <= 0 or width <= height - 8
        text = full if fits else f"{QUANTITY_SYMBOLS[self._quantity]} (log₁₀)"
        if text != self._left_axis.labelText:
            self._left_axis.setLabel(text)
            style_axis(self._left_axis, self._theme)

    def set_bounds(self, lo_decade: int, hi_decade: int) -> None:
        """Fix the y axis to 10^lo … 10^hi (integer decades, lo < hi). Works even when locked."""
        lo, hi = int(lo_decade), int(hi_decade)
        if not lo < hi:
            raise ValueError(f"the lower bound must be below the upper; got {lo} and {hi}")
        if (lo, hi) == self._bounds[self._quantity]:
            return
        self._bounds[self._quantity] = (lo, hi)
        self._apply_y_range()
        self._recompute_targets()
        self._redraw(colors_changed=True)
        self.boundsChanged.emit(lo, hi)

    def bounds(self) -> tuple[int, int]:
        """(lo, hi) decades of the current quantity's y axis."""
        return self._bounds[self._quantity]

    def set_locked(self, locked: bool) -> None:
        """Locked bounds ignore :meth:`fit_to` (explicit :meth:`set_bounds` still applies)."""
        self._locked = bool(locked)

    def is_locked(self) -> bool:
        return self._locked

    def fit_to(self, values: np.ndarray) -> None:
        """One-shot: bounds to the decades enclosing the positive finite ``values``, ±1 decade.

        Ignored when locked or when no value is positive and finite.
        """
        if self._locked:
            return
        logs = _log10(np.asarray(values, dtype=np.float64).ravel())
        logs = logs[np.isfinite(logs)]
        if logs.size == 0:
            return
        lo, hi = math.floor(logs.min()) - 1, math.ceil(logs.max()) + 1
        self.set_bounds(lo, max(hi, lo + 2))

    def set_animated(self, animated: bool) -> None:
        """With animation off, bars jump to their targets on every :meth:`show_values`."""
        self._animated = bool(animated)
        if not self._animated:
            for run in (self._a, self._b):
                run.shown = run.logs.copy()
                self._settle(run)
            self._redraw(colors_changed=True)

    def set_overlay(self, enabled: bool) -> None:
        """Show the chain-rule prediction (only meaningful, and only drawn, for "signal")."""
        self._overlay = bool(enabled)
        self._rebuild_legend()
        self._redraw()

    def set_plain_language(self, plain: bool) -> None:
        """Legend in plain words (simple mode); the precise rules stay in its tooltip."""
        if bool(plain) != self._plain:
            self._plain = bool(plain)
            self._rebuild_legend()

    def set_run_labels(self, label_a: str, label_b: str) -> None:
        """Legend names of the runs of an A/B comparison ("A: sigmoid + Xavier")."""
        if (label_a, label_b) != self._run_labels:
            self._run_labels = (label_a, label_b)
            self._rebuild_legend()

    def run_fill(self, run: str, code: int) -> QColor:
        """The fill color of run "A" or "B"'s bars of health ``code`` (for tests)."""
        fills = self._fills_b if run == "B" and self._has_b else self._fills
        return fills[code].color()

    def legend_texts(self) -> list[str]:
        """The legend's entries as shown now (for tests)."""
        return [label.text for _, label in self._legend.items]

    def set_threshold_guides(self, enabled: bool) -> None:
        """Show the dotted vanishing / exploding threshold lines (on by default)."""
        self._guides_on = bool(enabled)
        self._redraw()

    def show_values(
        self,
        values: np.ndarray,
        predicted: np.ndarray | None = None,
        values_b: np.ndarray | None = None,
        prediction_note: str = "",
    ) -> None:
        """Draw one frame: per-layer ``values`` (input -> output) of the current quantity.

        ``predicted`` is the engine's chain-rule estimate of ‖∂L/∂z‖ (same length as ``values``);
        ``values_b`` is run B of an A/B comparison, drawn as the right-hand bar of each pair.
        ``prediction_note`` (from :func:`~vg_desktop.engine.chain_rule_model_note`) says why
        the estimate does not model this network: the overlay then shows that note instead of
        a line that would miss the bars by orders of magnitude.
        """
        legend_changed = prediction_note != self._prediction_note_text
        self._prediction_note_text = prediction_note
        had_b = self._has_b
        self._set_run(self._a, values)
        self._has_b = values_b is not None
        self._set_run(self._b, values_b if values_b is not None else np.zeros(0))
        self._predicted = None if predicted is None else np.asarray(predicted, dtype=np.float64)
        n = max(len(self._a), len(self._b))
        self._bottom_axis.has_output = self._quantity in ("weight", "update", "distance")
        if n != self._n_columns or had_b != self._has_b:
            self._set_x_range(n)
        if legend_changed or had_b != self._has_b:  # once, whatever changed
            self._rebuild_legend()
        self._redraw(colors_changed=True)

    def clear(self) -> None:
        """Remove all bars (a new run starts with an empty plot)."""
        self._a, self._b = _Run(), _Run()
        self._has_b = False
        self._predicted = None
        self._set_x_range(0)
        self._rebuild_legend()
        self._redraw(colors_changed=True)

    def advance_animation(self) -> bool:
        """Move displayed heights toward their targets; call once per frame. True while moving."""
        if not self._animated:
            return False
        moving = recolor = False
        for run in (self._a, self._b):
            if len(run) == 0:
                continue
            delta = run.logs - run.shown
            done = np.abs(delta) < ANIMATION_SNAP
            if done.all():
                if not np.any(delta != 0):
                    continue
                run.shown = run.logs.copy()  # one last redraw below
            else:
                run.shown = np.where(done, run.logs, run.shown + ANIMATION_RATE * delta)
            moving = True
            before = run.codes
            self._settle(run)
            recolor = recolor or not np.array_equal(before, run.codes)
        if recolor:
            self._redraw(colors_changed=True)
        elif moving:
            self._redraw_geometry()
            self._update_guides()
        return bool(np.any(self._a.shown != self._a.logs)) or bool(
            np.any(self._b.shown != self._b.logs)
        )

    def heights(self) -> np.ndarray:
        """Displayed bar tops of run A, in log10 units (clipped to the bounds)."""
        return self._a.heights.copy()

    def target_heights(self) -> np.ndarray:
        """Where run A's bars are heading: log10 of the values, clipped to the bounds."""
        return self._a.targets.copy()

    def heights_b(self) -> np.ndarray:
        return self._b.heights.copy()

    def health(self) -> np.ndarray:
        """Health codes of run A's bars as shown (see :mod:`vg_desktop.health`); at rest they
        are the codes of the values."""
        return self._a.codes.copy()

    def threshold_lines(self) -> tuple[float, float]:
        """(vanishing, exploding) threshold lines in log10 units, NaN when not drawn."""
        return tuple(
            line.value() if line.isVisible() else math.nan
            for line in (self._guide_lo, self._guide_hi)
        )

    def markers(self) -> dict[str, np.ndarray]:
        """0-based layers of run A drawn with a marker: 'below' ▼, 'above' ▲, 'nan' ✕."""
        return self._marker_layers(self._a)

    def set_selected_layer(self, index: int | None) -> None:
        """Outline layer ``index`` (0-based), or nothing for None."""
        self._selected = None if index is None else int(index)
        self._redraw_geometry()

    def selected_layer(self) -> int | None:
        return self._selected

    def set_answer_hidden(self, hidden: bool) -> None:
        """Hide the bars (not the axes) while the class predicts what they will show."""
        self._veil.setVisible(bool(hidden))
        self._veil_text.setVisible(bool(hidden))
        self._place_diverged()

    def answer_hidden(self) -> bool:
        return self._veil.isVisible()

    def set_diverged(self, message: str | None) -> None:
        """Show "DIVERGED — message" over the plot; None clears it."""
        if message == self._diverged_message:
            return
        self._diverged_message = message
        self._update_diverged()

    def prediction_note_text(self) -> str | None:
        """The note shown instead of the chain-rule line, or None when none is shown."""
        shown = self._overlay and self._quantity == "signal" and self._prediction_note_text
        return self._prediction_note_text if shown else None

    def diverged_text(self) -> str | None:
        """The banner text, or None when hidden."""
        return self._diverged.toPlainText() if self._diverged.isVisible() else None

    def layer_at(self, x: float) -> int | None:
        """0-based layer whose column contains view x-coordinate ``x``, or None."""
        if not math.isfinite(x):
            return None
        i = round(x) - 1
        return i if 0 <= i < self._n_columns else None

    def bar_center(self, index: int) -> QPointF:
        """Scene position of the middle of layer ``index``'s column (for tests and tooltips)."""
        lo, hi = self.bounds()
        vb = self._vb
        return vb.mapViewToScene(QPointF(index + 1, (lo + hi) / 2))

    # ------------------------------------------------------------------ internals
    def _set_run(self, run: _Run, values: np.ndarray) -> None:
        v = np.asarray(values, dtype=np.float64).ravel()
        resized = len(v) != len(run)
        run.values = v
        run.logs = self._logs(v)
        if resized:
            # A new network grows its bars from the axis bottom.
            lo = self.bounds()[0]
            run.shown = np.full(len(v), float(lo)) if self._animated else run.logs.copy()
        elif not self._animated:
            run.shown = run.logs.copy()
        self._settle(run)

    def _logs(self, values: np.ndarray) -> np.ndarray:
        """Unclipped log10 targets; stand-ins where a value has no logarithm."""
        lo, hi = self.bounds()
        t = _log10(values)
        t[np.isnan(t)] = lo  # NaN: no meaningful height; marked with ✕ instead
        t[np.isneginf(t)] = lo - 1  # zero: below the axis (▼)
        t[np.isposinf(t)] = hi + 1  # infinite: above it
        return t

    def _settle(self, run: _Run) -> None:
        """Clipped tops and the health codes of what is shown (see :class:`_Run`)."""
        lo, hi = self.bounds()
        run.targets = np.clip(run.logs, lo, hi)
        run.heights = np.clip(run.shown, lo, hi)
        if not len(run):
            run.codes, run.shown_values = np.zeros(0, np.int8), np.zeros(0)
            return
        with np.errstate(all="ignore"):
            # A bar at rest shows its own value exactly; a moving one the value of its height.
            shown = np.where(run.shown == run.logs, run.values, 10.0**run.shown)
        codes = health.classify(shown, self._quantity)
        codes[~np.isfinite(run.values)] = health.EXPLODING
        codes[run.values == 0] = health.VANISHING
        run.shown_values, run.codes = shown, codes

    def _recompute_targets(self) -> None:
        for run in (self._a, self._b):
            if len(run):
                run.logs = self._logs(run.values)
                if not self._animated:
                    run.shown = run.logs.copy()
                self._settle(run)

    def _apply_y_range(self) -> None:
        lo, hi = self.bounds()
        vb = self._vb
        vb.setLimits(yMin=lo, yMax=hi)
        vb.setYRange(lo, hi, padding=0)
        self._place_diverged()

    def _set_x_range(self, n: int) -> None:
        self._n_columns = n
        self._bottom_axis.n_layers = n
        vb = self._vb
        right = max(n, 1) + 0.5
        vb.setLimits(xMin=0.5, xMax=right, minXRange=min(3.0, right - 0.5))
        vb.setXRange(0.5, right, padding=0)
        self._bottom_axis.picture = None
        self._bottom_axis.update()

    def _bar_layout(self) -> tuple[float, float]:
        """(width of one bar, offset of A from the column center) in layer units."""
        if self._has_b:
            return 0.42, -0.21
        return 0.8, 0.0

    def _dense(self) -> bool:
        """True when bars are only a few pixels wide and outlines would hide the fill."""
        width_px = self._vb.width()
        return self._n_columns > 0 and width_px / self._n_columns * self._bar_layout()[0] < 7

    def _redraw(self, colors_changed: bool = False) -> None:
        width, offset = self._bar_layout()
        self._a.x = np.arange(1, len(self._a) + 1) + offset
        self._b.x = np.arange(1, len(self._b) + 1) - offset
        dense = self._dense()
        for run, bars, hatch in (
            (self._a, self._bars_a, self._hatch_a),
            (self._b, self._bars_b, self._hatch_b),
        ):
            codes = run.codes
            if colors_changed:
                # Run B: pale fills (a lightness cue that survives color blindness and
                # grayscale) and a dashed outline (a cue without color), as B's curves are dashed.
                run_b = self._has_b and run is self._b
                fills, hatches = (
                    (self._fills_b, self._hatches_b) if run_b else (self._fills, self._hatches)
                )
                if dense:
                    pens = [pg.mkPen(None)] * len(codes)
                elif self._has_b:
                    pens = [self._run_pens[1] if run_b else self._run_pens[0]] * len(codes)
                else:
                    pens = [self._edges[c] for c in codes]
                _set_colors(bars, width, [fills[c] for c in codes], pens)
                _set_colors(hatch, width, [hatches[c] for c in codes], None)
        self._redraw_geometry()
        self._redraw_overlays()

    def _redraw_geometry(self) -> None:
        lo, _ = self.bounds()
        for run, bars, hatch in (
            (self._a, self._bars_a, self._hatch_a),
            (self._b, self._bars_b, self._hatch_b),
        ):
            bars.setOpts(x=run.x, y0=lo, height=run.heights - lo)
            hatch.setOpts(x=run.x, y0=lo, height=run.heights - lo)
        self._redraw_selection()

    def _redraw_selection(self) -> None:
        lo, hi = self.bounds()
        i = self._selected
        if i is None or not 0 <= i < self._n_columns:
            self._column.setOpts(x=[], height=[])
            self._outline.setOpts(x=[], height=[])
            return
        self._column.setOpts(x=[i + 1], y0=lo, height=[hi - lo], width=1.0)
        if i < len(self._a):
            width, offset = self._bar_layout()
            top = max(self._a.heights[i] - lo, 0.004 * (hi - lo))
            self._outline.setOpts(x=[i + 1 + offset], y0=lo, height=[top], width=width)
        else:
            self._outline.setOpts(x=[], height=[])

    def _marker_layers(self, run: _Run) -> dict[str, np.ndarray]:
        lo, hi = self.bounds()
        logs = _log10(run.values)
        nan = np.isnan(run.values)
        return {
            "below": np.flatnonzero(~nan & (logs < lo)),
            "above": np.flatnonzero(~nan & (logs > hi)),
            "nan": np.flatnonzero(nan),
        }

    def _redraw_overlays(self) -> None:
        t = self._theme
        lo, hi = self.bounds()
        inset = 0.035 * (hi - lo)
        width_px = self._vb.width() / max(self._n_columns, 1)
        size = float(np.clip(width_px * 0.7, 5, t.tick_font_pt * 1.2))
        spots = []
        # The same pen and brush objects every frame: pyqtgraph caches rendered symbols by
        # object identity, and fresh ones made it render (and keep) every marker anew.
        fg_pen = self._marker_pen
        for run in (self._a, self._b):
            layers = self._marker_layers(run)
            for kind, symbol, y, color in (
                ("below", "t", lo + inset, t.vanishing),
                ("above", "t1", hi - inset, t.exploding),
                ("nan", "x", hi - inset, t.exploding),
            ):
                for i in layers[kind]:
                    spots.append(
                        {
                            "pos": (run.x[i], y),
                            "symbol": symbol,
                            "size": size * (1.2 if symbol == "x" else 1.0),
                            "brush": self._marker_brushes[color],
                            "pen": fg_pen,
                        }
                    )
        self._markers.setData(spots=spots)
        self._update_below_note(inset)

        pred = self._predicted
        y = finite = None
        overlay_on = self._overlay and self._quantity == "signal" and len(self._a) > 0
        note = self._prediction_note_text if overlay_on else ""
        if overlay_on and not note and pred is not None and len(pred) == len(self._a):
            y = _log10(pred)
            finite = np.isfinite(y)
            y[~finite] = np.nan
        if y is not None and finite.any():
            # Markers only while they stay apart; at depth 200 the line alone reads better.
            self._prediction.setSymbol("o" if width_px >= 9 else None)
            self._prediction.setData(self._a.x, y)
            self._prediction.setVisible(True)
        else:
            self._prediction.setData([], [])
            self._prediction.setVisible(False)

        self._update_guides()
        self._update_diverged()

    def _update_below_note(self, inset: float) -> None:
        """Name how many layers lie below the axis once there are too many ▼ to count."""
        below = self._marker_layers(self._a)["below"]
        if len(below) < BELOW_NOTE_MIN or self._has_b:
            self._below_note.setVisible(False)
            return
        lo = self.bounds()[0]
        self._below_note.setText(f"▼ {len(below)} layers below {decade_label(lo)}")
        self._below_note.setPos(self._a.x[below[0]] - 0.4, lo + 2.2 * inset)
        self._below_note.setVisible(True)

    def _update_guides(self) -> None:
        if not self._guides_on or len(self._a) == 0 or self._has_b:
            self._guide_lo.setVisible(False)
            self._guide_hi.setVisible(False)
            return
        for line, value in zip(
            (self._guide_lo, self._guide_hi),
            health.thresholds(self._a.shown_values, self._quantity),
            strict=True,
        ):
            log = math.log10(value) if value > 0 and math.isfinite(value) else math.nan
            line.setVisible(math.isfinite(log))
            if math.isfinite(log):
                line.setValue(log)

    def _update_diverged(self) -> None:
        message = self._diverged_message
        if message is None and len(self._a) and not np.all(np.isfinite(self._a.values)):
            message = "a gradient is NaN or infinite"
        if message is None:
            self._diverged.setVisible(False)
            return
        text = f"DIVERGED — {message}" if message else "DIVERGED"
        if text != self._diverged.toPlainText():
            self._diverged.setText(text)
        self._diverged.setVisible(True)
        self._place_diverged()

    def _place_diverged(self, *args) -> None:
        vb = self._vb
        (x0, x1), (y0, y1) = vb.viewRange()
        self._diverged.setPos((x0 + x1) / 2, (y0 + y1) / 2)
        self._fit_message(self._diverged, vb.width(), vb.height())
        self._veil_text.setPos((x0 + x1) / 2, (y0 + y1) / 2)
        self._fit_message(self._veil_text, vb.width(), vb.height())

    def _fit_message(self, item: pg.TextItem, width: float, height: float) -> None:
        """Wrap ``item`` to the plot's width and shrink its type, from the title size down to
        the tick size, until it takes at most :data:`MESSAGE_MAX_HEIGHT` of the plot's height:
        a message over the bars must fit at every size and leave most bars in view."""
        if not item.isVisible() or width <= 0 or height <= 0:
            return
        t = self._theme
        item.setTextWidth(max(120.0, width * 0.9))
        document = item.textItem.document()
        for size in range(round(t.title_font_pt * 1.3), max(8, t.tick_font_pt - 6) - 1, -1):
            item.setFont(t.font(size, bold=True))
            if document.size().height() <= MESSAGE_MAX_HEIGHT * height:
                break

    def _on_resized(self, *args) -> None:
        self._update_axis_label()
        self._place_diverged()
        self._redraw(colors_changed=True)  # outlines depend on the bar width in pixels

    def mousePressEvent(self, event) -> None:
        super().mousePressEvent(event)
        if event.button() == Qt.MouseButton.LeftButton:
            event.accept()  # a left click selects a layer (see _on_scene_click)

    def mouseReleaseEvent(self, event) -> None:
        super().mouseReleaseEvent(event)
        if event.button() == Qt.MouseButton.LeftButton:
            event.accept()

    def _on_scene_click(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        vb = self._vb
        pos = event.scenePos()
        if not vb.sceneBoundingRect().contains(pos):
            return
        layer = self.layer_at(vb.mapSceneToView(pos).x())
        if layer is not None:
            self.set_selected_layer(layer)
            self.layerClicked.emit(layer)

    def _on_mouse_moved(self, pos) -> None:
        vb = self._vb
        layer = None
        if vb.sceneBoundingRect().contains(pos):
            layer = self.layer_at(vb.mapSceneToView(pos).x())
        self.setToolTip(self._tooltip(layer) if layer is not None else "")

    def _tooltip(self, layer: int) -> str:
        lines = []
        is_output = self._bottom_axis.has_output and layer == self._n_columns - 1
        name = "output layer" if is_output else f"layer {layer + 1}"
        for tag, run in (("A: ", self._a), ("B: ", self._b)):
            if layer < len(run):
                prefix = tag if self._has_b else ""
                v = run.values[layer]
                code = health.classify(run.values, self._quantity)[layer]
                lines.append(
                    f"{prefix}{name}: {QUANTITY_SYMBOLS[self._quantity]} = {v:.3g} "
                    f"({health.label(code)})"
                )
        return "\n".join(lines)

    # ------------------------------------------------------------------ legend
    def _rebuild_legend(self) -> None:
        with self._legend.rebuilding():  # laid out once, not once per entry
            self._fill_legend()

    def _fill_legend(self) -> None:
        t = self._theme
        size = swatch_size(t)
        self._legend.clear()
        precise = health.describe(self._quantity)
        words = health.describe_plainly(self._quantity) if self._plain else precise
        for code in (health.VANISHING, health.HEALTHY, health.EXPLODING):
            add_entry(
                self._legend,
                Swatch(self._bar_swatch(code), size),
                words[code],
                health.label(code),
                tip=precise[code],
            )
        beyond = "beyond the axis (0 is ▼); ✕ NaN"
        add_entry(
            self._legend,
            Swatch(self._marker_swatch(), size),
            "off the chart; ✕ broken" if self._plain else beyond,
            "off the chart" if self._plain else "beyond axis",
            tip=beyond,
        )
        if self._has_b:
            # Each run is colored against its own last hidden layer; one run's threshold lines
            # would mislead about the other's, so A/B shows none.
            label_a, label_b = self._run_labels
            add_entry(
                self._legend,
                Swatch(self._run_swatch(False), size),
                f"{label_a} (solid, left)",
                label_a,
                tip=f"{label_a}: the left bar of each pair, solid fill, solid outline",
                shortest=label_a.split(":")[0],
            )
            add_entry(
                self._legend,
                Swatch(self._run_swatch(True), size),
                f"{label_b} (pale, dashed, right)",
                label_b,
                tip=f"{label_b}: the right bar of each pair, pale fill, dashed outline",
                shortest=label_b.split(":")[0],
            )
        else:
            add_entry(
                self._legend, Swatch(self._guide_swatch(), size), "threshold lines", "thresholds"
            )
        if self._overlay and self._quantity == "signal":
            if self._prediction_note_text:
                # In the legend, above the plot: a note over the bars would hide them.
                add_entry(
                    self._legend,
                    Swatch(lambda p, r: None, size),
                    PREDICTION_NOT_SHOWN,
                    "chain rule: n/a",
                    tip=self._prediction_note_text,
                )
            else:
                label = PREDICTION_LABEL + (" (run A)" if self._has_b else "")
                swatch = Swatch(self._prediction_swatch(), size)
                add_entry(self._legend, swatch, label, "chain rule")

    def _run_swatch(self, run_b: bool):
        def draw(p: QPainter, r: QRectF) -> None:
            p.setPen(self._run_pens[1 if run_b else 0])
            p.setBrush((self._fills_b if run_b else self._fills)[health.HEALTHY])
            p.drawRect(r.adjusted(2, 0, -2, 0))

        return draw

    def _bar_swatch(self, code: int):
        def draw(p: QPainter, r: QRectF) -> None:
            p.setPen(self._edges[code])
            p.setBrush(self._fills[code])
            p.drawRect(r)
            p.fillRect(r, self._hatches[code])

        return draw

    def _marker_swatch(self):
        t = self._theme

        def draw(p: QPainter, r: QRectF) -> None:
            p.setPen(pg.mkPen(t.foreground, width=1))
            w, h = r.width(), r.height()
            down = [
                QPointF(r.left(), r.top() + h * 0.1),
                QPointF(r.left() + w * 0.45, r.top() + h * 0.1),
                QPointF(r.left() + w * 0.225, r.bottom() - h * 0.2),
            ]
            up = [
                QPointF(r.left() + w * 0.55, r.bottom() - h * 0.1),
                QPointF(r.right(), r.bottom() - h * 0.1),
                QPointF(r.left() + w * 0.775, r.top() + h * 0.2),
            ]
            p.setBrush(qcolor(t.vanishing))
            p.drawPolygon(down)
            p.setBrush(qcolor(t.exploding))
            p.drawPolygon(up)

        return draw

    def _guide_swatch(self):
        t = self._theme

        def draw(p: QPainter, r: QRectF) -> None:
            y1, y2 = r.top() + r.height() * 0.3, r.top() + r.height() * 0.7
            p.setPen(pg.mkPen(t.exploding, width=2, style=Qt.PenStyle.DotLine))
            p.drawLine(QPointF(r.left(), y1), QPointF(r.right(), y1))
            p.setPen(pg.mkPen(t.vanishing, width=2, style=Qt.PenStyle.DotLine))
            p.drawLine(QPointF(r.left(), y2), QPointF(r.right(), y2))

        return draw

    def _prediction_swatch(self):
        t = self._theme

        def draw(p: QPainter, r: QRectF) -> None:
            c = r.center()
            p.setPen(QPen(qcolor(t.prediction), 2))
            p.drawLine(QPointF(r.left(), c.y()), QPointF(r.right(), c.y()))
            p.setBrush(qcolor(t.background))
            p.drawEllipse(c, r.width() * 0.22, r.width() * 0.22)

        return draw
