"""Activation plot: f(x), f′(x), the responsive band, and where one layer's pre-activations sit.

The histogram shares the x axis with the curves, so a student sees directly which part of f′ the
layer's units are using: the mean derivative printed in the corner is the per-layer factor the
chain rule actually pays. The x range is fixed to [-8, 8] and the histogram bins are fixed
(:data:`BINS` bins over that range), so histograms of different layers and steps are comparable.
Values outside the range are counted in the edge bins, and their share is stated.

The histogram's height is shown as a share of units per bin on the right-hand axis. Its scale steps
through 5, 10, 20, 50, 100 % instead of following every frame, so the bars do not jitter.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QFontMetricsF, QPainter

from ..engine import get_activation
from ..snapshot import DatasetFigures
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

X_RANGE = (-8.0, 8.0)
BINS = 64
EDGES = np.linspace(X_RANGE[0], X_RANGE[1], BINS + 1)
_SHARE_SCALES = (
    0.05,
    0.10,
    0.15,
    0.20,
    0.30,
    0.40,
    0.50,
    0.75,
    1.00,
)  # right-axis top, as a share of units
_HIST_TOP = 0.9  # the scale's top maps to this share of the curves' y top
_CURVE_POINTS = 321  # every 0.05: smooth at any size, includes x = 0 (ReLU kink)

# How the derivative is named in the "max … = " label.
_PRIME_NAMES = {"sigmoid": "σ′", "tanh": "tanh′"}


def clipped_histogram(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, int, int]:
    """(counts, edges, n_outside, n_dropped) of ``values`` on the fixed bins.

    Finite values outside [-8, 8] and ±Inf are clipped into the edge bins (``n_outside`` counts
    them); NaN cannot be placed anywhere and is dropped (``n_dropped``).
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    nan = np.isnan(v)
    v = v[~nan]
    outside = int(np.count_nonzero((v < X_RANGE[0]) | (v > X_RANGE[1])))
    counts, edges = np.histogram(np.clip(v, *X_RANGE), bins=BINS, range=X_RANGE)
    return counts, edges, outside, int(np.count_nonzero(nan))


class ShareAxis(MajorTicksAxis):
    """Right axis in "share of units" (%): the histogram's own scale; no negative ticks."""

    def tickValues(self, minVal: float, maxVal: float, size: float):
        levels = super().tickValues(minVal, maxVal, size)
        return [(spacing, [v for v in values if v >= -1e-9]) for spacing, values in levels]

    def tickStrings(self, values, scale, spacing):
        return [f"{v * scale:g} %" for v in values]


class ActivationPlot(pg.PlotWidget):
    """f(x) and f′(x) of one activation with the live pre-activation histogram of one layer."""

    def __init__(self, parent=None, theme: Theme = LIGHT) -> None:
        self._share_axis = ShareAxis("right")
        super().__init__(
            parent=parent,
            background=theme.background,
            axisItems={
                "left": MajorTicksAxis("left"),
                "bottom": MajorTicksAxis("bottom"),
                "right": self._share_axis,
            },
        )
        # PlotWidget copies some PlotItem methods onto the instance; `clear` would shadow ours.
        if "clear" in self.__dict__:
            del self.clear
        self._pi: pg.PlotItem = self.getPlotItem()
        self._vb: pg.ViewBox = self._pi.getViewBox()
        self._theme = theme
        self._activation = get_activation("sigmoid")
        self._counts = np.zeros(BINS, dtype=np.int64)
        self._share_top = _SHARE_SCALES[0]
        self._y_range = (0.0, 1.0)
        self._layer_text = ""
        self._plain = False

        pi = self._pi
        pi.hideButtons()
        pi.setMenuEnabled(False)
        pi.showAxis("right")
        vb = pi.getViewBox()
        vb.setMouseEnabled(x=False, y=False)
        vb.disableAutoRange()
        self._share_axis.linkToView(vb)

        self._band = pg.LinearRegionItem(movable=False)
        for line in self._band.lines:
            line.setPen(pg.mkPen(None))
        self._hist = pg.PlotDataItem(stepMode="center", fillLevel=0)
        self._f = pg.PlotDataItem()
        self._df = pg.PlotDataItem()
        self._peak = pg.InfiniteLine(angle=0, movable=False)
        self._peak_label = pg.TextItem(anchor=(0.0, 1.0))
        self._info = pg.TextItem(anchor=(0.0, 0.0))
        for item, z in (
            (self._band, -10),
            (self._hist, -5),
            (self._peak, 1),
            (self._f, 2),
            (self._df, 3),
            (self._peak_label, 4),
            (self._info, 10),
        ):
            item.setZValue(z)
            pi.addItem(item, ignoreBounds=True)

        self._legend = make_legend(theme, columns=4)
        put_legend_above(pi, self._legend)
        pi.setLabel("bottom", "pre-activation u")
        pi.setLabel("left", "value")
        self._share_axis.setLabel("share of units per bin")
        vb.setXRange(*X_RANGE, padding=0)
        vb.sigResized.connect(self._place_texts)
        vb.sigResized.connect(self._place_peak_label)
        self.apply_theme(theme)
        self.set_activation("sigmoid")

    # ------------------------------------------------------------------ public API
    def apply_theme(self, theme: Theme) -> None:
        self._theme = theme
        self.setBackground(theme.background)
        pi = self._pi
        for name in ("left", "bottom", "right"):
            style_axis(pi.getAxis(name), theme)
        pi.showGrid(x=True, y=True, alpha=theme.grid_alpha)
        pi.layout.setContentsMargins(4, 4, 8, 4)
        fm = QFontMetricsF(theme.font(theme.tick_font_pt))
        title = QFontMetricsF(theme.font(theme.axis_font_pt)).height()
        self._share_axis.setWidth(int(fm.horizontalAdvance("100 %") + title + 18))
        pi.getAxis("left").setWidth(int(fm.horizontalAdvance("−0.5") + title + 18))
        self._band.setBrush(pg.mkBrush(theme.band_fill))
        self._band.setHoverBrush(pg.mkBrush(theme.band_fill))
        self._hist.setPen(pg.mkPen(theme.histogram_outline, width=1))
        self._hist.setBrush(pg.mkBrush(theme.histogram_fill))
        self._f.setPen(pg.mkPen(theme.curve_f, width=theme.line_width))
        self._df.setPen(pg.mkPen(theme.curve_df, width=theme.line_width + 0.5))
        self._peak.setPen(pg.mkPen(theme.curve_df, width=1.5, style=Qt.PenStyle.DashLine))
        self._peak_label.setColor(theme.curve_df)
        self._peak_label.setFont(theme.font(theme.legend_font_pt))
        self._peak_label.fill = pg.mkBrush(theme.text_box)  # readable over the histogram
        self._info.setColor(theme.foreground)
        self._info.setFont(theme.font(theme.legend_font_pt + 1))
        self._info.fill = pg.mkBrush(theme.text_box)
        self._info.border = pg.mkPen(theme.foreground, width=1)
        restyle_legend(self._legend, theme)
        self._rebuild_legend()
        self._place_texts()
        self._place_peak_label()

    def set_activation(self, name: str) -> None:
        """Draw f, f′, the responsive band and the peak-derivative line of activation ``name``."""
        act = get_activation(name)
        self._activation = act
        xs = np.linspace(*X_RANGE, _CURVE_POINTS)
        f, df = act.fn(xs), act.grad(xs)
        self._f.setData(xs, f)
        self._df.setData(xs, df)
        lo_band, hi_band = act.healthy_band
        self._band.setRegion((max(lo_band, X_RANGE[0]), min(hi_band, X_RANGE[1])))
        self._peak.setValue(act.peak_derivative)
        self._y_range = self._curve_y_range(f, df, act.peak_derivative)
        self._vb.setYRange(*self._y_range, padding=0)
        if not self._legend.items:  # its entries name no activation: built once, and again
            self._rebuild_legend()  # by a theme or wording change (80 ms of the GUI thread)
        self._redraw_histogram()
        self._place_texts()
        self._place_peak_label()

    def set_plain_language(self, plain: bool) -> None:
        """Legend in plain words (simple mode); the precise wording stays in its tooltip."""
        if bool(plain) != self._plain:
            self._plain = bool(plain)
            self._rebuild_legend()

    def activation_name(self) -> str:
        return self._activation.name

    def show_layer(
        self,
        layer_index: int,
        preactivations: np.ndarray,
        mean_derivative: float,
        saturated_fraction: float,
        rms_derivative: float | None = None,
        dataset: DatasetFigures | None = None,
    ) -> None:
        """Histogram of layer ``layer_index``'s (0-based) pre-activations, and its mean f′, RMS
        f′ and saturated (or dead) share, as measured by the engine on the whole batch.

        The RMS √E[f′²] is the factor the gradient's norm pays at this layer (the chain-rule
        estimate uses it); the mean is what the histogram's weight on the f′ curve shows.
        The saturated (dead) share is of this batch; with ``dataset`` the units saturated (dead)
        on *every* sample of the dataset are counted apart, and an all-dead layer says so."""
        counts, _, outside, dropped = clipped_histogram(preactivations)
        self._counts = counts
        total = int(counts.sum())
        share = counts / total if total else np.zeros(BINS)
        peak = float(share.max()) if total else 0.0
        if peak > _HIST_TOP * self._share_top or peak < 0.3 * _HIST_TOP * self._share_top:
            # Change scale only when the histogram overflows or shrinks a lot: no jitter.
            self._share_top = next(
                (s for s in _SHARE_SCALES if peak <= _HIST_TOP * s), _SHARE_SCALES[-1]
            )
        rms = "" if rms_derivative is None else f"  ·  RMS f′ = {rms_derivative:.3g}"
        word = self._activation.dead_word
        lines = [
            f"Layer {layer_index + 1} — mean f′ = {mean_derivative:.3g}{rms}  ·  "
            f"{_batch_word(word)} {100 * saturated_fraction:.1f} % of this batch"
        ]
        if dataset is not None and layer_index < len(dataset.dead_units):
            dead = int(dataset.dead_units[layer_index])
            if dead == dataset.width:
                lines.append(
                    f"ALL {dead} units {word} on every one of the {dataset.samples:,} samples: "
                    "no gradient passes this layer"
                )
            else:
                lines.append(
                    f"{word} on every one of the {dataset.samples:,} samples: "
                    f"{dead} of {dataset.width} units"
                )
        if total and outside:
            lines.append(f"{100 * outside / total:.1f} % outside ±8 (in the edge bins)")
        if dropped:
            lines.append(f"{dropped} NaN values not shown")
        self._layer_text = "\n".join(lines)
        self._redraw_histogram()
        self._place_texts()

    def clear_layer(self) -> None:
        """Remove the histogram and the layer text (e.g. for a new run)."""
        self._counts = np.zeros(BINS, dtype=np.int64)
        self._layer_text = ""
        self._redraw_histogram()
        self._place_texts()

    def histogram(self) -> tuple[np.ndarray, np.ndarray]:
        """(counts, edges) of the drawn histogram: raw counts on :data:`EDGES`, clipped."""
        return self._counts.copy(), EDGES.copy()

    info_in_plot = True  # the window shows the text in a label instead (never clipped)

    def set_info_in_plot(self, visible: bool) -> None:
        self.info_in_plot = visible
        self._place_texts()

    def info_text(self) -> str:
        return self._layer_text

    # ------------------------------------------------------------------ internals
    @staticmethod
    def _curve_y_range(f: np.ndarray, df: np.ndarray, peak: float) -> tuple[float, float]:
        """A y range showing f′ in full and f up to a cap, so ReLU-like f (which reaches 8)
        does not flatten the derivative curve, the subject of the plot."""
        top = max(1.0, 1.15 * peak, min(float(np.max(f)), 2.0))
        bottom = min(0.0, max(float(np.min(f)), -1.5), float(np.min(df)))
        pad = 0.06 * (top - bottom)
        return bottom - pad, top + pad

    def _redraw_histogram(self) -> None:
        total = int(self._counts.sum())
        y_top = self._y_range[1]
        scale = _HIST_TOP * y_top / self._share_top  # view units per unit share
        heights = self._counts / total * scale if total else np.zeros(BINS)
        self._hist.setData(EDGES, heights)
        self._hist.setVisible(total > 0)
        # The right axis reads share of units in percent: view y -> share * 100.
        # Regenerate the share axis only when its scale changes: redrawing an axis costs more
        # than the histogram itself, and most frames keep the same tallest bin.
        new_scale = 100.0 / scale
        if new_scale != getattr(self, "_share_scale", None) or self._share_axis.isVisible() != (
            total > 0
        ):
            self._share_scale = new_scale
            self._share_axis.setScale(new_scale)
            self._share_axis.setVisible(total > 0)
            self._share_axis.picture = None
            self._share_axis.update()

    def _fit_axis_titles(self, *args) -> None:
        """The longest right-axis title that fits the plot's height (never past its ends)."""
        metrics = QFontMetricsF(self._theme.font(self._theme.axis_font_pt))
        room = self._vb.height() - 6
        titles = ("share of units per bin", "share per bin", "%")
        text = next((t for t in titles if metrics.horizontalAdvance(t) <= room), titles[-1])
        if self._share_axis.labelText != text:
            self._share_axis.setLabel(text)
            style_axis(self._share_axis, self._theme)

    def _place_texts(self, *args) -> None:
        self._fit_axis_titles()
        lo, hi = self._y_range
        self._info.setText(self._layer_text)
        self._info.setVisible(bool(self._layer_text) and self.info_in_plot)
        self._info.setPos(X_RANGE[0] + 0.2, hi - 0.02 * (hi - lo))

    def _place_peak_label(self, *args) -> None:
        """Put "max σ′ = 0.25" on its dashed line where it overlaps no curve and is not clipped:
        above the line at the left or the right end (one of them is free of f and f′ for every
        activation here), else below it, else a shorter text; hidden when nothing fits."""
        label, act = self._peak_label, self._activation
        psx, psy = self._vb.viewPixelSize() if self._vb.width() > 0 else (0.0, 0.0)
        if psx <= 0 or psy <= 0:
            label.setVisible(False)
            return
        peak = act.peak_derivative
        lo, hi = self._vb.viewRange()[1]
        xs = np.linspace(*X_RANGE, _CURVE_POINTS)
        curves = np.concatenate([act.fn(xs), act.grad(xs)])
        xs = np.concatenate([xs, xs])
        inset = 0.2
        clearance = 3 * psy  # the line width of f′ along the dashed line itself
        for text in (peak_label(act.name), f"max {peak:.3g}", f"{peak:.3g}"):
            label.setText(text)
            rect = label.boundingRect()
            w, h = rect.width() * psx, rect.height() * psy
            for above in (True, False):
                y0, y1 = (peak + clearance, peak + h) if above else (peak - h, peak - clearance)
                for left in (True, False):
                    x0 = X_RANGE[0] + inset if left else X_RANGE[1] - inset - w
                    inside = (xs >= x0) & (xs <= x0 + w) & (curves > y0) & (curves < y1)
                    fits = X_RANGE[0] <= x0 and x0 + w <= X_RANGE[1] and lo <= y0 and y1 <= hi
                    if fits and not inside.any():
                        label.setAnchor((0.0, 1.0) if above else (0.0, 0.0))
                        label.setPos(x0, peak)
                        label.setVisible(True)
                        return
        label.setVisible(False)

    def peak_label_rect(self):
        """Scene rectangle of the peak label, or None when hidden (for tests)."""
        label = self._peak_label
        return label.mapRectToScene(label.boundingRect()) if label.isVisible() else None

    # ------------------------------------------------------------------ legend
    def _rebuild_legend(self) -> None:
        with self._legend.rebuilding():  # laid out once, not once per entry
            self._fill_legend()

    def _fill_legend(self) -> None:
        t = self._theme
        size = swatch_size(t)
        self._legend.clear()
        plain = self._plain
        add_entry(
            self._legend,
            Swatch(self._line_swatch(t.curve_f, t.line_width), size),
            "activation f(x)" if plain else "f(x)",
            "f(x)",
            tip="f(x): the activation function",
        )
        add_entry(
            self._legend,
            Swatch(self._line_swatch(t.curve_df, t.line_width + 0.5), size),
            "its slope f′(x)" if plain else "f′(x)",
            "f′(x)",
            tip="f′(x): its derivative, the factor the gradient is multiplied by",
        )
        add_entry(
            self._legend,
            Swatch(self._fill_swatch(t.band_fill, None), size),
            "responsive: slope ≥ half its peak" if plain else "f′ ≥ ½ max (responsive)",
            "responsive",
            tip="f′ ≥ ½ max f′: the responsive band",
        )
        add_entry(
            self._legend,
            Swatch(self._fill_swatch(t.histogram_fill, t.histogram_outline), size),
            "where the layer's inputs fall" if plain else "pre-activations u of the layer",
            "u of the layer",
            tip="the histogram of the layer's pre-activations u (the inputs of f)",
        )

    @staticmethod
    def _line_swatch(color: str, width: float):
        def draw(p: QPainter, r: QRectF) -> None:
            p.setPen(pg.mkPen(color, width=width))
            y = r.center().y()
            p.drawLine(QPointF(r.left(), y), QPointF(r.right(), y))

        return draw

    @staticmethod
    def _fill_swatch(fill: str, outline: str | None):
        def draw(p: QPainter, r: QRectF) -> None:
            p.setPen(pg.mkPen(outline) if outline else pg.mkPen(None))
            p.setBrush(qcolor(fill))
            p.drawRect(r)

        return draw


def _batch_word(word: str) -> str:
    """A ReLU unit at or below 0 for *this batch* is inactive; "dead" means inactive for every
    input, which only the whole-dataset count can tell (about half are inactive by design)."""
    return "inactive" if word == "dead" else word


def peak_label(name: str) -> str:
    """The text of the peak-derivative label, e.g. 'max σ′ = 0.25' for sigmoid."""
    act = get_activation(name)
    prime = _PRIME_NAMES.get(act.name, "f′")
    return f"max {prime} = {act.peak_derivative:.3g}"
