"""Colors, fonts and line widths shared by every plot, and helpers that apply them.

Colors come from the Okabe–Ito palette (Okabe & Ito 2008), which stays distinguishable for the
common forms of color-vision deficiency; every color-coded meaning also has a second, non-color
cue in the plots themselves (hatching, symbols, dashes). Font sizes are in points and were chosen
for a classroom projector: tick labels at least 11 pt in the desktop themes, 16 pt or more in
PRESENTATION.
"""

from __future__ import annotations

import contextlib
import html
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QGraphicsGridLayout, QSizePolicy

# Okabe–Ito
BLACK = "#000000"
ORANGE = "#E69F00"
SKY_BLUE = "#56B4E9"
BLUISH_GREEN = "#009E73"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
REDDISH_PURPLE = "#CC79A7"

FONT_FAMILY = "DejaVu Sans"


@dataclass(frozen=True)
class Theme:
    """Everything a plot needs to draw itself; colors are '#RRGGBB' or '#RRGGBBAA' strings."""

    name: str
    background: str
    foreground: str
    grid_alpha: float  # 0..1, opacity of grid lines
    tick_font_pt: int  # axis tick labels
    axis_font_pt: int  # axis titles
    title_font_pt: int  # in-plot headings and the DIVERGED banner is twice this
    legend_font_pt: int
    line_width: float  # data curves, in pixels
    vanishing: str
    healthy: str
    exploding: str
    curve_f: str  # f(x)
    curve_df: str  # f′(x)
    band_fill: str  # translucent: the responsive band of f′
    histogram_fill: str  # translucent
    histogram_outline: str
    run_a: str
    run_b: str
    prediction: str  # chain-rule estimate over the bars
    selection: str  # outline of the selected bar
    hatch: str  # hatch lines drawn over colored bars
    neutral: str  # missing data (NaN) in the heatmap
    text_box: str  # translucent background behind in-plot text
    class_colors: tuple[str, ...]
    tint_base: str  # decision regions are class colors blended toward this color

    def color(self, name: str, alpha: float | None = None) -> QColor:
        """A QColor for field ``name``, optionally with an alpha in 0..1."""
        c = pg.mkColor(getattr(self, name))  # QColor("#RRGGBBAA") would read it as ARGB
        if alpha is not None:
            c.setAlphaF(alpha)
        return c

    def font(self, size_pt: int, bold: bool = False) -> QFont:
        f = QFont(FONT_FAMILY)
        f.setPointSize(size_pt)
        f.setBold(bold)
        return f


_CLASSES = (BLUE, ORANGE, BLUISH_GREEN, REDDISH_PURPLE, VERMILLION, SKY_BLUE, YELLOW, BLACK)

LIGHT = Theme(
    name="light",
    background="#FFFFFF",
    foreground="#202020",
    grid_alpha=0.18,
    tick_font_pt=12,
    axis_font_pt=13,
    title_font_pt=14,
    legend_font_pt=11,
    line_width=2.5,
    vanishing=BLUE,
    healthy=BLUISH_GREEN,
    exploding=VERMILLION,
    curve_f=BLUE,
    curve_df=VERMILLION,
    band_fill="#009E7338",
    histogram_fill="#7F7F7F55",
    histogram_outline="#606060",
    run_a="#202020",
    run_b=REDDISH_PURPLE,
    prediction="#202020",
    selection="#202020",
    hatch="#FFFFFFCC",
    neutral="#B0B0B0",
    text_box="#FFFFFFE0",
    class_colors=_CLASSES,
    tint_base="#FFFFFF",
)

# The dark theme keeps LIGHT's sizes and health colors; only what must change on black differs.
DARK = replace(
    LIGHT,
    name="dark",
    background="#1C1C1E",
    foreground="#E8E8E8",
    grid_alpha=0.22,
    curve_f=SKY_BLUE,
    curve_df=ORANGE,
    band_fill="#009E7350",
    histogram_fill="#BFBFBF40",
    histogram_outline="#A0A0A0",
    run_a="#E8E8E8",
    prediction="#F5F5F5",
    selection="#F5F5F5",
    hatch="#FFFFFFB0",
    neutral="#5A5A5A",
    text_box="#1C1C1EE0",
    class_colors=(
        SKY_BLUE,
        ORANGE,
        BLUISH_GREEN,
        REDDISH_PURPLE,
        VERMILLION,
        BLUE,
        YELLOW,
        "#E8E8E8",
    ),
    tint_base="#1C1C1E",
)

PRESENTATION = Theme(
    name="presentation",
    background="#FFFFFF",
    foreground="#000000",
    grid_alpha=0.25,
    tick_font_pt=16,
    axis_font_pt=16,
    title_font_pt=18,
    legend_font_pt=14,  # the legend is read up close; 14 pt keeps it to two columns
    line_width=4.0,
    vanishing=BLUE,
    healthy=BLUISH_GREEN,
    exploding=VERMILLION,
    curve_f=BLUE,
    curve_df=VERMILLION,
    band_fill="#009E7345",
    histogram_fill="#60606060",
    histogram_outline="#303030",
    run_a="#000000",
    run_b=REDDISH_PURPLE,
    prediction="#000000",
    selection="#000000",
    hatch="#FFFFFFDD",
    neutral="#A0A0A0",
    text_box="#FFFFFFEE",
    class_colors=_CLASSES,
    tint_base="#FFFFFF",
)

THEMES = {t.name: t for t in (LIGHT, DARK, PRESENTATION)}


def qcolor(spec: str) -> QColor:
    """QColor of '#RRGGBB' or '#RRGGBBAA' (QColor itself reads 8 hex digits as #AARRGGBB)."""
    return pg.mkColor(spec)


GRID_Z = -150  # below the ViewBox (z = -100): grid lines behind the data, as in print


def pixel_line_rect(pen: QPen, p1: QPointF, p2: QPointF) -> QRectF | None:
    """The one-pixel-wide rectangle a thin, solid, translucent horizontal or vertical line
    covers, or None for any other line (opaque lines are drawn fast as they are)."""
    if pen.color().alpha() == 255 or pen.style() != Qt.PenStyle.SolidLine or pen.widthF() > 1:
        return None
    x1, y1, x2, y2 = p1.x(), p1.y(), p2.x(), p2.y()
    if y1 == y2:
        return QRectF(min(x1, x2), y1 - 0.5, abs(x2 - x1) + 1, 1.0)
    if x1 == x2:
        return QRectF(x1 - 0.5, min(y1, y2), 1.0, abs(y2 - y1) + 1)
    return None


class BaseAxis(pg.AxisItem):
    """An AxisItem that never rescales its numbers (no "×0.001" SI prefix in the title) and that
    keeps the tick labels at the two ends of the axis.

    With a grid, pyqtgraph clips tick labels to the axis rectangle, so the labels at the ends of
    the range ("0" of a loss axis, "100" of an accuracy axis, the lowest decade) disappear; the
    bounding rectangle is widened along the axis by about half a label.
    """

    def __init__(self, orientation: str, **kwargs) -> None:
        super().__init__(orientation, **kwargs)
        self.enableAutoSIPrefix(False)
        self.grid_background: QColor | None = None  # the plot's background (see drawPicture)

    def boundingRect(self) -> QRectF:
        rect = super().boundingRect()
        metrics = QFontMetricsF(self.style["tickFont"] or self.font())
        if self.orientation in ("left", "right"):
            m = metrics.height() * 0.6
            return rect.adjusted(0, -m, 0, m)
        m = metrics.horizontalAdvance("0000") * 0.6
        return rect.adjusted(-m, 0, m, 0)

    def drawPicture(self, p: QPainter, axisSpec, tickSpecs, textSpecs) -> None:
        """pyqtgraph's drawing, except for the translucent grid lines, which would cost most
        of a plot's paint: the picture is replayed on every paint, and Qt's raster engine
        blends a translucent line slowly — 27 horizontal grid lines across a 1300-pixel plot
        took 9 ms, 9 vertical ones 0.7 ms (per pixel row). They are filled instead as one-pixel
        rectangles (horizontal: 0.03 ms) in the opaque color they have over the plot's
        background, which costs nothing per row; :func:`style_axis` puts a grid axis behind
        the data, so the data stays on top of the grid as before."""
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        pen, p1, p2 = axisSpec
        p.setPen(pen)
        p.drawLine(p1, p2)
        for pen, p1, p2 in tickSpecs:
            rect = pixel_line_rect(pen, p1, p2)
            if rect is None:
                p.setPen(pen)
                p.drawLine(p1, p2)
            else:
                p.fillRect(rect, self._grid_color(pen.color()))
        if self.style["tickFont"] is not None:
            p.setFont(self.style["tickFont"])
        p.setPen(self.textPen())
        p.setClipRect(self.boundingRect().toAlignedRect())
        for rect, flags, text in textSpecs:
            p.drawText(rect, int(flags), text)

    def _updateHeight(self) -> None:
        """As pyqtgraph's, but with room for the whole title: pyqtgraph counts 80 % of its
        height, and large presentation type printed the title over the tick labels."""
        super()._updateHeight()
        label = self.label
        shown = label is not None and label.isVisible()
        if self.fixedHeight is None and self.isVisible() and shown:
            height = self.maximumHeight() + 0.2 * label.boundingRect().height()
            self.setMaximumHeight(height)
            self.setMinimumHeight(height)

    def setGrid(self, grid) -> None:
        """As pyqtgraph's; an axis that draws a grid sits behind the data (see drawPicture)."""
        super().setGrid(grid)
        self.setZValue(GRID_Z if grid is not False else 0.5)

    def _grid_color(self, color: QColor) -> QColor:
        """``color`` composited over the plot background (opaque), or as is without one."""
        under = self.grid_background
        if under is None:
            return color
        a = color.alphaF()
        return QColor.fromRgbF(
            *(
                c * a + u * (1 - a)
                for c, u in zip(color.getRgbF()[:3], under.getRgbF()[:3], strict=True)
            )
        )

    def tickStrings(self, values, scale, spacing):
        big = max((abs(v * scale) for v in values), default=0.0)
        if big >= 1e5:  # "4e+06", not "4000000" (which would not fit the axis)
            return [f"{v * scale:.3g}" for v in values]
        return super().tickStrings(values, scale, spacing)


def _next_nice(spacing: float) -> float:
    """The next tick spacing after ``spacing`` in the 1, 2, 5, 10 series."""
    power = 10.0 ** math.floor(math.log10(spacing))
    mantissa = spacing / power
    return (2.0 if mantissa < 1.5 else 5.0 if mantissa < 3.5 else 10.0) * power


class MajorTicksAxis(BaseAxis):
    """An axis with major ticks only: its grid lines stay sparse and calm on a projector.

    The spacing also widens (1, 2, 5, 10 …) until the labels no longer touch: pyqtgraph picks
    it from the axis length alone, which printed "100 80 60 40 20 0" into a 60-pixel plot."""

    def tickSpacing(self, minVal: float, maxVal: float, size: float):
        levels = super().tickSpacing(minVal, maxVal, size)
        span = abs(maxVal - minVal)
        if not levels or span == 0 or size <= 0:
            return levels
        metrics = QFontMetricsF(self.style["tickFont"] or self.font())
        if self.orientation in ("left", "right"):
            label_px = metrics.height() * 1.15
        else:
            label_px = metrics.horizontalAdvance("0000") * 1.2
        max_ticks = max(2, int(size / label_px))
        spacing, offset = levels[0]
        lo, hi = min(minVal, maxVal), max(minVal, maxVal)
        while spacing > 0 and math.floor(hi / spacing) - math.ceil(lo / spacing) + 1 > max_ticks:
            spacing = _next_nice(spacing)
        return [(spacing, offset)]

    def tickValues(self, minVal: float, maxVal: float, size: float):
        return super().tickValues(minVal, maxVal, size)[:1]


class StepAxis(MajorTicksAxis):
    """Training steps are whole numbers: no "2.5" ticks when only a few steps are shown."""

    def tickValues(self, minVal: float, maxVal: float, size: float):
        levels = super().tickValues(minVal, maxVal, size)
        return [
            (max(spacing, 1.0), [v for v in vals if float(v).is_integer()])
            for spacing, vals in levels
        ]

    def tickStrings(self, values, scale, spacing):
        return [f"{round(v):d}" for v in values]


def configure_pyqtgraph(theme: Theme = LIGHT) -> None:
    """Global pyqtgraph options; call before creating any plot widget.

    OpenGL stays off: offscreen (tests, CI, exports) it renders blank plots, and the plots here are
    small enough for the raster engine.
    """
    pg.setConfigOptions(
        useOpenGL=False,
        antialias=True,
        background=theme.background,
        foreground=theme.foreground,
    )
    scale_cosmetic_pens()


def device_pixel_ratio() -> float:
    """The screens' largest device pixel ratio (2 on a HiDPI screen, 1 without a screen)."""
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance()
    return float(app.devicePixelRatio()) if app is not None else 1.0


def scale_cosmetic_pens() -> None:
    """Make pyqtgraph's pens as thick in logical pixels on a HiDPI screen as elsewhere.

    pyqtgraph's pens are cosmetic: their width is in device pixels, so at device pixel ratio 2
    every curve, axis and threshold line was drawn half as thick as the type around it (seen
    in docs/screenshots/matrix/*-scale2.png). ``mkPen`` now multiplies a new pen's width by
    the ratio; a pen made from a pen is copied as it is (not scaled twice)."""
    original = pg.functions.mkPen
    if getattr(original, "scales_for_hidpi", False):
        return

    def mkPen(*args, **kwargs):  # pyqtgraph's name
        pen = original(*args, **kwargs)
        if len(args) == 1 and not kwargs and isinstance(args[0], QPen):
            return pen  # a copy of a pen already made (and scaled)
        ratio = device_pixel_ratio()
        if ratio != 1.0 and pen.isCosmetic() and pen.style() != Qt.PenStyle.NoPen:
            pen.setWidthF(max(pen.widthF(), 1.0) * ratio)
        return pen

    mkPen.scales_for_hidpi = True
    pg.functions.mkPen = mkPen
    pg.mkPen = mkPen


def css_size(points: int) -> str:
    return f"{points}pt"


def settle(view: pg.GraphicsView) -> None:
    """Apply a plot's pending range and axis changes now rather than in its next paint.

    pyqtgraph recomputes auto-ranges while it paints; when a range changes there, the view
    asks for a second paint of everything it shows. Every refresh of the training curves and
    the heatmap was painted twice until this was called after updating them.
    """
    view.scene().prepareForPaint()


def style_axis(axis: pg.AxisItem, theme: Theme, label: str | None = None) -> None:
    """Tick font, pens and (optionally) the axis title of one axis."""
    axis.setPen(pg.mkPen(theme.foreground, width=1))
    axis.setTextPen(pg.mkPen(theme.foreground))
    axis.setTickFont(theme.font(theme.tick_font_pt))
    axis.setStyle(tickTextOffset=max(4, theme.tick_font_pt // 3), tickLength=-6)
    if label is not None:
        axis.setLabel(label, color=theme.foreground, **{"font-size": css_size(theme.axis_font_pt)})
    else:
        # re-apply the current label with the new size and color
        text = axis.labelText
        if text:
            axis.setLabel(
                text, color=theme.foreground, **{"font-size": css_size(theme.axis_font_pt)}
            )
    axis.setGrid(int(theme.grid_alpha * 255) if axis.grid is not False else False)
    if isinstance(axis, BaseAxis):
        axis.grid_background = theme.color("background")
        # pyqtgraph only ever grows an axis's room for its tick labels (unless they shrink by
        # 10 px or more): measured afresh for the new type, so the layout comes back exactly
        # after a zoom in and out.
        axis.textWidth = axis.textHeight = 0
        if axis.orientation in ("top", "bottom"):
            axis._updateHeight()


def style_plot_item(plot_item: pg.PlotItem, theme: Theme) -> None:
    """Theme every visible axis of a PlotItem."""
    for name in ("left", "bottom", "right", "top"):
        axis = plot_item.getAxis(name)
        style_axis(axis, theme)


def make_legend(theme: Theme, columns: int) -> FlowLegend:
    """A frameless legend meant for the row above a plot (never over the data)."""
    return FlowLegend(
        max_columns=columns,
        horSpacing=6,
        verSpacing=-2,
        frame=False,
        labelTextColor=theme.foreground,
        labelTextSize=css_size(theme.legend_font_pt),
    )


class FlowLegend(pg.LegendItem):
    """A legend laid out in as many columns (up to ``max_columns``) as fit the available width.

    It keeps its natural size inside its layout cell instead of stretching, and it re-flows into
    fewer columns when the plot gets narrower (a docked widget, or the big fonts of presentation
    mode), so it never pushes the plot wider than its widget.
    """

    ENTRY_GAP = 18  # pixels between one entry's label and the next entry's sample

    def __init__(self, max_columns: int = 3, **kwargs) -> None:
        super().__init__(offset=None, colCount=max_columns, **kwargs)
        self.max_columns = max_columns
        self.available_width: float | None = None
        self.host_layout: QGraphicsGridLayout | None = None
        self.layout.setContentsMargins(2, 2, 2, 2)
        self._deferring = False  # inside rebuilding(): lay out once, at the end
        self.layouts_done = 0  # how many times the entries were laid out (tests count them)

    @contextlib.contextmanager
    def rebuilding(self) -> Iterator[None]:
        """Clear and add entries inside: one layout at the end instead of one per entry (each
        tries every text level and column count: a five-entry legend took ~10 ms)."""
        if self._deferring:
            yield
            return
        self._deferring = True
        try:
            yield
        finally:
            self._deferring = False
            self.updateSize()

    def _addItemToLayout(self, sample, label) -> None:
        pass  # placed by _flow() in updateSize()

    def _flow(self, columns: int) -> None:
        layout = self.layout
        for i in range(layout.count() - 1, -1, -1):
            layout.removeAt(i)
        # Column-major: entries that belong together (added one after the other) stay together.
        rows = -(-len(self.items) // columns)
        for k, (sample, label) in enumerate(self.items):
            col, row = divmod(k, rows)
            layout.addItem(sample, row, 2 * col, alignment=Qt.AlignmentFlag.AlignVCenter)
            layout.addItem(label, row, 2 * col + 1)
        for col in range(2 * self.max_columns):
            layout.setColumnSpacing(col, self.ENTRY_GAP if col % 2 else 6)
        layout.invalidate()

    def _natural_size(self) -> tuple[float, float]:
        hint = self.layout.effectiveSizeHint(Qt.SizeHint.PreferredSize)
        return hint.width(), hint.height()

    def _use_texts(self, level: int) -> None:
        for sample, label in self.items:
            texts = getattr(sample, "texts", None)
            if texts is not None:
                text = html.escape(texts[min(level, len(texts) - 1)])
                if label.text != text:
                    label.setText(text)

    def _layouts(self):
        """Candidate (text level, columns) in order of preference: as few rows as possible
        (height is what a projector lacks), and in that many rows the fullest labels that fit:
        full labels, then short ones (full ones stay in the tooltip), then the shortest (an
        entry may have a third, e.g. "A" for "A: sigmoid + Xavier"), down to one column."""
        n = len(self.items)
        levels = max((len(getattr(s, "texts", None) or ()) for s, _ in self.items), default=0)
        widest = min(self.max_columns, n)
        last = max(levels - 1, 0)
        for columns in range(widest, 0, -1):
            for level in range(last + 1):
                lowest = 1 if level == last or n <= 3 else 2
                if columns >= lowest:
                    yield level, columns

    def updateSize(self) -> None:
        # pyqtgraph sums item sizes before the items are laid out; ask the layout instead.
        if getattr(self, "_deferring", False):  # (pyqtgraph's __init__ calls this too)
            return
        self.layouts_done = getattr(self, "layouts_done", 0) + 1
        w = h = 0.0
        if self.items:
            for level, columns in self._layouts():
                self._use_texts(level)
                self._flow(columns)
                w, h = self._natural_size()
                if self.available_width is None or w <= self.available_width:
                    break
            if self.available_width is not None:
                w = min(w, self.available_width)
        self.setToolTip(
            "\n".join(
                getattr(s, "tip", None) or s.texts[0]
                for s, _ in self.items
                if getattr(s, "texts", None)
            )
        )
        # Never a minimum width: a too-wide legend must not widen the plot past its widget
        # (it re-flows once the plot's real width is known).
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        self.setMinimumSize(0, h)
        self.setMaximumSize(w, h)
        self.resize(w, h)
        self.updateGeometry()
        if self.host_layout is not None:
            self.host_layout.setRowFixedHeight(0, h + 4 if h else 0)

    def fit_width(self, available: float) -> None:
        """Re-flow for ``available`` pixels (called when the host plot is resized)."""
        if self.available_width is not None and abs(available - self.available_width) < 1:
            return
        self.available_width = max(available, 50.0)
        self.updateSize()


def restyle_legend(legend: pg.LegendItem, theme: Theme) -> None:
    legend.setLabelTextColor(theme.foreground)
    legend.setLabelTextSize(css_size(theme.legend_font_pt))
    for sample, _ in legend.items:
        sample.update()
    legend.updateSize()


def put_legend_above(plot_item: pg.PlotItem, legend: FlowLegend) -> None:
    """Place ``legend`` in the title row of ``plot_item``, so it never hides data.

    The plots are title-free (the dock title names them), so the title row is free.
    """
    plot_item.layout.removeItem(plot_item.titleLabel)
    plot_item.titleLabel.setVisible(False)
    # The whole width, the left axis's column included: on a 1024-pixel projector the plot's
    # own width held two of the bars' legend columns (three rows), the whole width three.
    plot_item.layout.addItem(legend, 0, 0, 1, 3, alignment=Qt.AlignmentFlag.AlignLeft)
    legend.host_layout = plot_item.layout

    def refit() -> None:
        legend.fit_width(plot_item.width() - 16)

    plot_item.geometryChanged.connect(refit)
    legend.updateSize()


class Swatch(pg.ItemSample):
    """A legend sample drawn by a function, for entries pyqtgraph's ItemSample cannot draw
    (hatched bars, shaded bands, marker glyphs)."""

    def __init__(self, draw: Callable[[QPainter, QRectF], None], size: int = 20) -> None:
        super().__init__(None)
        self._draw = draw
        self._size = size
        self.texts: tuple[str, ...] | None = None  # (full, short[, shortest]) legend text
        self.tip: str | None = None  # the precise wording, when the legend says it in plain words
        self.setFixedWidth(size)
        self.setFixedHeight(size)

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, self._size, self._size)

    def paint(self, p: QPainter, *args) -> None:
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        self._draw(p, QRectF(2, 2, self._size - 4, self._size - 4))

    def mouseClickEvent(self, event) -> None:
        event.ignore()  # pyqtgraph's sample would toggle its (absent) item's visibility


def add_entry(
    legend: pg.LegendItem,
    swatch: Swatch,
    text: str,
    short: str | None = None,
    tip: str | None = None,
    shortest: str | None = None,
) -> None:
    """Add ``text`` (plain text: escaped, since LabelItem renders HTML) to ``legend``.

    ``short`` replaces it when the plot is too narrow for the full text (which then stays in the
    legend's tooltip), and ``shortest`` replaces ``short`` when even that does not fit; ``tip``
    is the precise wording the tooltip shows instead.
    """
    swatch.texts = (text, short if short is not None else text)
    if shortest is not None:
        swatch.texts += (shortest,)
    swatch.tip = tip
    legend.addItem(swatch, html.escape(text))


def swatch_size(theme: Theme) -> int:
    return round(theme.legend_font_pt * 1.9)
