"""Loss and accuracy against step, stacked in two plots that share the step axis.

Two stacked plots instead of one plot with two y axes: each curve gets its own labelled axis in its
own units, and nobody has to work out which axis a line belongs to. Accuracy keeps a fixed
0–100 % axis, so a run stuck at chance level is visibly flat rather than stretched to fill the plot.

Per-step values are measured on one minibatch and are noisy, so each run is drawn twice: the
per-step values as a thin translucent line, and their centered moving average as a thick line
that carries the trend (and that stays legible on a projector). Run B's thick line is dashed, in
the run-B color; dashes would vanish in the noise of the thin line, which is why the cue sits on
the smooth one. Thick antialiased lines are expensive to stroke in Qt's raster engine, so the
average is drawn from at most :data:`TREND_POINTS` points.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QFontMetricsF, QPainter

from .theme import (
    LIGHT,
    MajorTicksAxis,
    StepAxis,
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

LOSS_CAP = 5.0  # the loss axis shows at most this many times the loss of the first step
MAX_POINTS = 4000  # per-step lines: more points than pixels only costs time
TREND_POINTS = 800  # moving-average lines
TREND_WINDOWS = 40  # the moving-average window is 1/40 of the history (at least 1 row)
RAW_ALPHA = 0.35
SIDE_BY_SIDE_RATIO = 3.5  # width / height from which loss and accuracy sit side by side


def subsample(n: int, limit: int = MAX_POINTS) -> np.ndarray:
    """Indices of at most ``limit`` evenly spaced rows out of ``n``, always keeping the last."""
    if n <= limit:
        return np.arange(n)
    idx = np.linspace(0, n - 1, limit).round().astype(np.intp)
    return np.unique(idx)


def moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Centered moving average over ``window`` rows, ignoring NaN; NaN where fewer than half of
    the window's values are finite (a diverged stretch stays a gap)."""
    v = np.asarray(values, dtype=np.float64)
    if window <= 1 or v.size == 0:
        return v.copy()
    finite = np.isfinite(v)
    csum = np.concatenate([[0.0], np.cumsum(np.where(finite, v, 0.0))])
    ccount = np.concatenate([[0], np.cumsum(finite)])
    half = window // 2
    idx = np.arange(v.size)
    lo = np.clip(idx - half, 0, v.size)
    hi = np.clip(idx + window - half, 0, v.size)
    count = ccount[hi] - ccount[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (csum[hi] - csum[lo]) / count
    return np.where(count >= np.maximum(1, (hi - lo) // 2), mean, np.nan)


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 (× a power of ten) that is ≥ value,
    so the top of the loss axis carries a tick label."""
    if not np.isfinite(value) or value <= 0:
        return 1.0
    power = 10.0 ** np.floor(np.log10(value))
    for mantissa in (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0):
        if mantissa * power >= value * (1 - 1e-12):
            return float(mantissa * power)
    return float(10.0 * power)


def _clean(steps: np.ndarray, values: np.ndarray, scale: float = 1.0) -> tuple[np.ndarray, ...]:
    """(steps, values * scale) with non-finite values as NaN (drawn as gaps)."""
    steps = np.asarray(steps, dtype=np.float64).ravel()
    values = np.asarray(values, dtype=np.float64).ravel()
    n = min(len(steps), len(values))
    x, y = steps[:n], values[:n] * scale
    return x, np.where(np.isfinite(y), y, np.nan)


class _Curve:
    """One quantity of one run: a thin per-step line and its thick moving average."""

    def __init__(self, plot: pg.PlotItem) -> None:
        self.raw = plot.plot(connect="finite")
        self.trend = plot.plot(connect="finite")
        self.trend.setZValue(2)

    def set_data(self, x: np.ndarray, y: np.ndarray) -> None:
        idx = subsample(len(x))
        self.raw.setData(x[idx], y[idx])
        window = max(1, len(y) // TREND_WINDOWS)
        trend = moving_average(y, window)
        idx = subsample(len(x), TREND_POINTS)
        self.trend.setData(x[idx], trend[idx])

    def clear(self) -> None:
        self.raw.setData([], [])
        self.trend.setData([], [])

    def style(self, color: str, width: float, dashed: bool) -> None:
        raw = qcolor(color)
        raw.setAlphaF(RAW_ALPHA)
        self.raw.setPen(pg.mkPen(raw, width=1))  # cosmetic 1 px: fast, and only context
        style = Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine
        self.trend.setPen(pg.mkPen(color, width=width, style=style))
        # Solid thick lines are drawn as separate segments: many times faster than one path.
        self.trend.curve.setSegmentedLineMode("off" if dashed else "on")


class TrainingCurvesPlot(pg.GraphicsLayoutWidget):
    """Loss (top) and accuracy in % (bottom) against step; optional dashed run B."""

    def __init__(self, parent=None, theme: Theme = LIGHT) -> None:
        super().__init__(parent=parent)
        # GraphicsLayoutWidget copies some layout methods onto the instance; `clear` would
        # shadow ours (and remove both plots).
        if "clear" in self.__dict__:
            del self.clear
        self._theme = theme
        self._has_b = False
        self._run_labels = ("run A", "run B")
        self._has_data = False
        self._chance: float | None = None
        self.loss_plot = self.addPlot(
            row=0, col=0, axisItems={"left": MajorTicksAxis("left"), "bottom": StepAxis("bottom")}
        )
        self.accuracy_plot = self.addPlot(
            row=1, col=0, axisItems={"left": MajorTicksAxis("left"), "bottom": StepAxis("bottom")}
        )
        self.accuracy_plot.setXLink(self.loss_plot)
        for plot in (self.loss_plot, self.accuracy_plot):
            plot.hideButtons()
            plot.setMenuEnabled(False)
            plot.getViewBox().setMouseEnabled(x=False, y=False)
        self.loss_plot.getAxis("bottom").setStyle(showValues=False)
        self.loss_plot.setLabel("left", "Loss")
        self.accuracy_plot.setLabel("left", "Accuracy (%)")
        self.accuracy_plot.setLabel("bottom", "Step")
        # Loss always shows 0 at the bottom: zooming onto 0.693 ± 0.002 would turn a stuck
        # network's noise into dramatic-looking swings.
        self.loss_plot.enableAutoRange(x=True, y=False)
        self.loss_plot.setYRange(0, 1, padding=0)
        self.accuracy_plot.enableAutoRange(x=True, y=False)
        self.accuracy_plot.setYRange(0, 100, padding=0.02)
        self.ci.layout.setVerticalSpacing(14)
        self.ci.layout.setRowStretchFactor(0, 1)
        self.ci.layout.setRowStretchFactor(1, 1)

        self._loss_a = _Curve(self.loss_plot)
        self._loss_b = _Curve(self.loss_plot)
        self._acc_a = _Curve(self.accuracy_plot)
        self._acc_b = _Curve(self.accuracy_plot)
        # The whole dataset in evaluation mode, a few evaluations a second: dots on a thin line.
        self._dataset = {
            (run, name): pg.PlotDataItem(connect="finite")
            for run in ("a", "b")
            for name in ("loss", "accuracy")
        }
        for (_, name), item in self._dataset.items():
            item.setZValue(5)
            (self.loss_plot if name == "loss" else self.accuracy_plot).addItem(item)
        self._has_dataset = False
        self._chance_line = pg.InfiniteLine(angle=0, movable=False)
        self.accuracy_plot.addItem(self._chance_line, ignoreBounds=True)
        self._chance_line.setVisible(False)

        self._legend = make_legend(theme, columns=4)
        # What the legend shows now, and whether a batch of setters is under way (see batch()):
        # rebuilding it costs ~10 ms, and a new run's first frame changed it up to five times.
        self._legend_shown: tuple | None = None
        self._batching = False
        self.legend_builds = 0  # how many times the legend was rebuilt (tests count them)
        put_legend_above(self.loss_plot, self._legend)
        self._side_by_side = False
        for plot in (self.loss_plot, self.accuracy_plot):
            plot.getViewBox().sigResized.connect(self._fit_titles)
        self.apply_theme(theme)

    # ------------------------------------------------------------------ public API
    def apply_theme(self, theme: Theme) -> None:
        self._theme = theme
        self.setBackground(theme.background)
        for plot in (self.loss_plot, self.accuracy_plot):
            for name in ("left", "bottom"):
                style_axis(plot.getAxis(name), theme)
            plot.showGrid(x=True, y=True, alpha=theme.grid_alpha)
            plot.layout.setContentsMargins(4, 2, 14, 2)
        for curve in (self._loss_a, self._acc_a):
            curve.style(theme.run_a, theme.line_width, dashed=False)
        for curve in (self._loss_b, self._acc_b):
            curve.style(theme.run_b, theme.line_width, dashed=True)
        for (run, _), item in self._dataset.items():
            color = theme.run_a if run == "a" else theme.run_b
            item.setPen(pg.mkPen(theme.foreground, width=1.0))
            item.setSymbol("o" if run == "a" else "s")
            item.setSymbolSize(5)
            item.setSymbolBrush(pg.mkBrush(color))
            item.setSymbolPen(pg.mkPen(theme.foreground, width=1.0))
        self._chance_line.setPen(pg.mkPen(theme.foreground, width=1.5, style=Qt.PenStyle.DotLine))
        ticks = QFontMetricsF(theme.font(theme.tick_font_pt)).horizontalAdvance("2.5e+07")
        title = QFontMetricsF(theme.font(theme.axis_font_pt)).height()
        for plot in (self.loss_plot, self.accuracy_plot):
            plot.getAxis("left").setWidth(int(ticks + title + 14))
        restyle_legend(self._legend, theme)
        self._legend_shown = None  # new colours and type: rebuild whatever it shows
        self._rebuild_legend()
        self._fit_titles()

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Setters called inside change the legend once, at the end (a frame calls five)."""
        if self._batching:
            yield
            return
        self._batching = True
        try:
            yield
        finally:
            self._batching = False
            self._rebuild_legend()

    def set_history(self, steps: np.ndarray, loss: np.ndarray, accuracy: np.ndarray) -> None:
        """Run A's full history; ``accuracy`` is a fraction in [0, 1] as the engine reports it."""
        self._loss_a.set_data(*_clean(steps, loss))
        self._acc_a.set_data(*_clean(steps, accuracy, 100.0))
        self._fit_loss_range()
        has_data = len(steps) > 0
        if has_data != self._has_data:
            self._has_data = has_data
            self._rebuild_legend()

    def set_dataset(
        self,
        steps: np.ndarray | None,
        loss: np.ndarray | None = None,
        accuracy: np.ndarray | None = None,
        run: str = "a",
    ) -> None:
        """The whole dataset's loss and accuracy (evaluation mode) at the steps they were
        taken, for run "a" or "b"; None removes them."""
        for name, values, scale in (("loss", loss, 1.0), ("accuracy", accuracy, 100.0)):
            item = self._dataset[(run, name)]
            x, y = (
                _clean(steps, values, scale)
                if steps is not None and values is not None
                else ([], [])
            )
            if not np.isfinite(y).any():
                # No dot to draw (none yet, or a diverged run's NaN): pyqtgraph's bounds of an
                # all-NaN scatter raise a RuntimeWarning on every paint.
                item.setData([], [])
            else:
                item.setData(x, y)
        has = any(
            item.getData()[0] is not None and len(item.getData()[0]) > 0
            for item in self._dataset.values()
        )
        if has != self._has_dataset:
            self._has_dataset = has
            self._rebuild_legend()

    def dataset_data(self, run: str = "a") -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """The drawn whole-dataset (x, y) of 'loss' and 'accuracy' (in %) of a run."""
        out = {}
        for name in ("loss", "accuracy"):
            x, y = self._dataset[(run, name)].getData()
            out[name] = (np.zeros(0) if x is None else x, np.zeros(0) if y is None else y)
        return out

    def set_history_b(
        self,
        steps: np.ndarray | None,
        loss: np.ndarray | None = None,
        accuracy: np.ndarray | None = None,
    ) -> None:
        """Run B's full history (dashed), or None to remove it."""
        if steps is None or loss is None or accuracy is None:
            self._loss_b.clear()
            self._acc_b.clear()
            has_b = False
        else:
            self._loss_b.set_data(*_clean(steps, loss))
            self._acc_b.set_data(*_clean(steps, accuracy, 100.0))
            has_b = True
        if has_b != self._has_b:
            self._has_b = has_b
            self._rebuild_legend()
        self._fit_loss_range()

    def set_run_labels(self, label_a: str, label_b: str) -> None:
        """Legend names of the runs of an A/B comparison ("A: sigmoid + Xavier")."""
        if (label_a, label_b) != self._run_labels:
            self._run_labels = (label_a, label_b)
            self._rebuild_legend()

    def legend_texts(self) -> list[str]:
        return [label.text for _, label in self._legend.items]

    def set_chance_level(self, fraction: float | None) -> None:
        """Dotted line at the accuracy of guessing (1 / classes), or None to hide it."""
        if fraction == self._chance:
            return
        self._chance = fraction
        self._chance_line.setVisible(fraction is not None)
        if fraction is not None:
            self._chance_line.setValue(100.0 * fraction)
        self._rebuild_legend()

    def clear(self) -> None:
        """Empty both plots (for a new run)."""
        for curve in (self._loss_a, self._loss_b, self._acc_a, self._acc_b):
            curve.clear()
        for item in self._dataset.values():
            item.setData([], [])
        self._has_b = self._has_data = self._has_dataset = False
        self._rebuild_legend()
        self._fit_loss_range()

    def curve_data(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """The drawn per-step (x, y) of 'loss', 'accuracy', 'loss_b', 'accuracy_b', and their
        moving averages under the same names + '_trend'."""
        curves = {
            "loss": self._loss_a,
            "accuracy": self._acc_a,
            "loss_b": self._loss_b,
            "accuracy_b": self._acc_b,
        }
        out = {}
        for name, curve in curves.items():
            for suffix, item in (("", curve.raw), ("_trend", curve.trend)):
                x, y = item.getData()
                out[name + suffix] = (
                    np.zeros(0) if x is None else x,
                    np.zeros(0) if y is None else y,
                )
        return out

    # ------------------------------------------------------------------ layout
    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if hasattr(self, "_side_by_side"):  # pyqtgraph resizes once before __init__ is done
            self._arrange(self.width() >= SIDE_BY_SIDE_RATIO * self.height())
            self._share_columns()

    def _share_columns(self) -> None:
        """Side by side, each plot gets half the width (the legend above the loss plot would
        otherwise claim most of it)."""
        layout = self.ci.layout
        if self._side_by_side:
            half = max(1.0, (self.width() - 40) / 2)
            for col in (0, 1):
                layout.setColumnFixedWidth(col, half)
        else:
            for col in (0, 1):
                layout.setColumnMinimumWidth(col, 0)
                layout.setColumnMaximumWidth(col, 1e6)

    def side_by_side(self) -> bool:
        """True when loss and accuracy sit side by side (a wide, short panel)."""
        return self._side_by_side

    def _arrange(self, side_by_side: bool) -> None:
        """Wide and short (a tab across the window): loss and accuracy side by side, each with
        the full height; otherwise one above the other, sharing the step axis."""
        if side_by_side == self._side_by_side:
            return
        self._side_by_side = side_by_side
        layout = self.ci.layout
        self.ci.removeItem(self.accuracy_plot)
        if side_by_side:
            self.ci.addItem(self.accuracy_plot, row=0, col=1)
            layout.setRowStretchFactor(1, 0)
            layout.setColumnStretchFactor(0, 1)
            layout.setColumnStretchFactor(1, 1)
        else:
            self.ci.addItem(self.accuracy_plot, row=1, col=0)
            layout.setRowStretchFactor(1, 1)
            layout.setColumnStretchFactor(1, 0)
        bottom = self.loss_plot.getAxis("bottom")
        bottom.setStyle(showValues=side_by_side)
        self.loss_plot.setLabel("bottom", "Step" if side_by_side else None)
        if not side_by_side:
            bottom.showLabel(False)
        style_axis(bottom, self._theme)
        self._fit_titles()

    def _fit_titles(self, *args) -> None:
        """The longest axis title that fits the plot's height ("Accuracy (%)", "Acc. (%)", "%")."""
        metrics = QFontMetricsF(self._theme.font(self._theme.axis_font_pt))
        for plot, titles in (
            (self.loss_plot, ("Loss",)),
            (self.accuracy_plot, ("Accuracy (%)", "Acc. (%)", "%")),
        ):
            room = plot.getViewBox().height() - 6
            text = next((t for t in titles if metrics.horizontalAdvance(t) <= room), titles[-1])
            axis = plot.getAxis("left")
            if axis.labelText != text:
                axis.setLabel(text)
                style_axis(axis, self._theme)

    # ------------------------------------------------------------------ internals
    def _fit_loss_range(self) -> None:
        """0 .. a nice number above the loss; a diverging loss leaves through the top instead of
        squashing the rest of the curve flat (the first step's loss sets the scale)."""
        top, first = 0.0, math.inf
        for curve in (self._loss_a, self._loss_b):
            y = curve.raw.getData()[1]
            if y is None:
                continue
            finite = y[np.isfinite(y)]
            if finite.size:
                top = max(top, float(finite.max()))
                first = min(first, float(finite[0]))
        if math.isfinite(first) and first > 0:
            top = min(top, LOSS_CAP * first)
        self.loss_plot.setYRange(0.0, nice_ceiling(top * 1.04) if top > 0 else 1.0, padding=0)

    def _legend_state(self) -> tuple:
        return (self._has_b, self._run_labels, self._has_data, self._has_dataset, self._chance)

    def _rebuild_legend(self) -> None:
        """Show the entries the plots' state asks for: only when that changed, and inside
        :meth:`batch` only once, at its end."""
        if self._batching or self._legend_state() == self._legend_shown:
            return
        self._legend_shown = self._legend_state()
        self.legend_builds += 1
        with self._legend.rebuilding():  # laid out once, not once per entry
            self._fill_legend()

    def _fill_legend(self) -> None:
        t = self._theme
        size = swatch_size(t)
        self._legend.clear()
        if self._has_b:
            label_a, label_b = self._run_labels
            add_entry(
                self._legend,
                Swatch(self._line(t.run_a, Qt.PenStyle.SolidLine), size),
                label_a,
                shortest=label_a.split(":")[0],
            )
            add_entry(
                self._legend,
                Swatch(self._line(t.run_b, Qt.PenStyle.DashLine), size),
                f"{label_b} (dashed)",
                label_b,
                shortest=label_b.split(":")[0],
            )
        if self._has_data or self._has_b:
            add_entry(
                self._legend,
                Swatch(self._thin_and_thick(), size),
                "thin: each step (one minibatch) · thick: moving average",
                "lines: per batch",
            )
        if self._has_dataset:
            add_entry(
                self._legend,
                Swatch(self._dot(), size),
                "dots: all samples (evaluation mode)",
                "dots: all samples",
            )
        if self._chance is not None:
            add_entry(
                self._legend,
                Swatch(self._line(t.foreground, Qt.PenStyle.DotLine, 1.5), size),
                f"accuracy of guessing ({100 * self._chance:.0f} %)",
                "guessing",
            )

    def _dot(self):
        t = self._theme

        def draw(p: QPainter, r: QRectF) -> None:
            p.setPen(pg.mkPen(t.foreground, width=1.0))
            y = r.center().y()
            p.drawLine(QPointF(r.left(), y), QPointF(r.right(), y))
            p.setBrush(pg.mkBrush(t.run_a))
            p.drawEllipse(r.center(), 3.5, 3.5)

        return draw

    def _line(self, color: str, style: Qt.PenStyle, width: float | None = None):
        width = self._theme.line_width if width is None else width

        def draw(p: QPainter, r: QRectF) -> None:
            p.setPen(pg.mkPen(color, width=width, style=style))
            y = r.center().y()
            p.drawLine(QPointF(r.left(), y), QPointF(r.right(), y))

        return draw

    def _thin_and_thick(self):
        t = self._theme

        def draw(p: QPainter, r: QRectF) -> None:
            thin = qcolor(t.run_a)
            thin.setAlphaF(RAW_ALPHA + 0.2)
            p.setPen(pg.mkPen(thin, width=1))
            y1, y2 = r.top() + r.height() * 0.3, r.top() + r.height() * 0.72
            p.drawLine(QPointF(r.left(), y1), QPointF(r.right(), y1))
            p.setPen(pg.mkPen(t.run_a, width=t.line_width))
            p.drawLine(QPointF(r.left(), y2), QPointF(r.right(), y2))

        return draw
