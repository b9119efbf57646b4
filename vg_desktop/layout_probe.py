"""Measure the window as the class sees it: plot areas on screen, overlapping axis text, and
controls a user cannot reach.

The layout rules (:mod:`vg_desktop.layout`) decide where things go; this module checks the result
on the real widgets, so tests, ``tools/screenshots.py`` and a reviewer read the same numbers.
Everything is in logical (device-independent) pixels of the window.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pyqtgraph as pg
from PySide6.QtCore import QPoint, QRect, QRectF
from PySide6.QtGui import QFontMetricsF, QImage, QPainter
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QComboBox,
    QScrollArea,
    QSlider,
    QWidget,
)

# The acceptance minimums (issue 11): the two core views, and any other plot on screen.
BARS_MIN = (400, 220)
ACTIVATION_MIN = (220, 180)
ANY_PLOT_MIN = (120, 60)


@dataclass
class LayoutReport:
    """What one look at the window found."""

    window: tuple[int, int]
    plots: dict[str, tuple[int, int]] = field(default_factory=dict)  # on-screen plot areas
    hidden_plots: list[str] = field(default_factory=list)  # not on screen (closed, other tab)
    overlaps: list[str] = field(default_factory=list)
    unreachable: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        """Every way this layout fails the acceptance minimums, in words."""
        out = []
        for name, minimum in (("bars", BARS_MIN), ("activation", ACTIVATION_MIN)):
            size = self.plots.get(name)
            if size is None:
                out.append(f"{name} plot is not on screen")
            elif size[0] < minimum[0] or size[1] < minimum[1]:
                out.append(f"{name} plot area {size[0]}x{size[1]} < {minimum[0]}x{minimum[1]}")
        for name, (w, h) in self.plots.items():
            if w < ANY_PLOT_MIN[0] or h < ANY_PLOT_MIN[1]:
                out.append(f"{name} plot area {w}x{h} < {ANY_PLOT_MIN[0]}x{ANY_PLOT_MIN[1]}")
        out += self.overlaps
        out += [f"control not reachable: {name}" for name in self.unreachable]
        return out

    def summary(self) -> str:
        """'bars 812x301 · activation 301x222 · …' for tables and failure messages."""
        return " · ".join(f"{k} {w}x{h}" for k, (w, h) in self.plots.items())


def plot_views(window) -> dict[str, tuple[pg.GraphicsView, pg.ViewBox]]:
    """Every plot of the main window by name: (the widget it is drawn in, its ViewBox)."""
    return {
        "bars": (window.bars, window.bars.getPlotItem().getViewBox()),
        "activation": (window.activation_plot, window.activation_plot.getPlotItem().getViewBox()),
        "loss": (window.curves, window.curves.loss_plot.getViewBox()),
        "accuracy": (window.curves, window.curves.accuracy_plot.getViewBox()),
        "heatmap": (window.heatmap, window.heatmap.getPlotItem().getViewBox()),
        "dataset": (window.dataset_plot, window.dataset_plot.getPlotItem().getViewBox()),
        "digits": (window.digits_view, window.digits_view.getPlotItem().getViewBox()),
    }


def on_screen_rect(widget: QWidget, window: QWidget) -> QRect:
    """The part of ``widget`` the user can see, in ``window`` coordinates (empty if none):
    its rectangle clipped by every parent up to the window (a scroll area's viewport, a dock, the
    window itself). A hidden widget, or one in a hidden tab, shows nothing."""
    if not widget.isVisible() or widget.window() is not window.window():
        return QRect()
    rect = QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())
    parent = widget.parentWidget()
    while parent is not None and parent is not window:
        rect = rect.intersected(QRect(parent.mapTo(window, QPoint(0, 0)), parent.size()))
        parent = parent.parentWidget()
    return rect.intersected(window.rect())


def plot_area(view: pg.GraphicsView, vb: pg.ViewBox, window: QWidget) -> QRect:
    """The ViewBox's rectangle on screen, in window coordinates (empty when not shown)."""
    visible = on_screen_rect(view, window)
    if visible.isEmpty() or not vb.isVisible():
        return QRect()
    scene_rect = vb.sceneBoundingRect()
    polygon = view.mapFromScene(scene_rect)
    rect = polygon.boundingRect()
    rect = QRect(view.mapTo(window, rect.topLeft()), rect.size())
    return rect.intersected(visible)


def _tick_label_rects(axis: pg.AxisItem, view: pg.GraphicsView) -> list[tuple[QRectF, str]]:
    """The tick labels pyqtgraph draws on ``axis`` (as it would paint them now), as rectangles
    in ``view`` pixels: the label's advance width by its font's ascent, centred where
    pyqtgraph centres it. (pyqtgraph's own rectangles are 0.8 of the line height.)"""
    image = QImage(4, 4, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        specs = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    if not specs:
        return []
    font = axis.style["tickFont"] or axis.font()
    metrics = QFontMetricsF(font)
    out = []
    for rect, _flags, text in specs[2]:
        if not text:
            continue
        width, height = metrics.horizontalAdvance(text), metrics.ascent()
        if axis.orientation in ("left", "right"):
            # right-aligned (left axis) or left-aligned (right axis), centred vertically
            x = rect.right() - width if axis.orientation == "left" else rect.left()
            local = QRectF(x, rect.center().y() - height / 2, width, height)
        else:
            local = QRectF(rect.center().x() - width / 2, rect.top(), width, height)
        scene = axis.mapRectToScene(local)
        out.append((QRectF(view.mapFromScene(scene).boundingRect()), text))
    return out


def _axes(view: pg.GraphicsView) -> list[pg.AxisItem]:
    return [
        item
        for item in view.scene().items()
        if isinstance(item, pg.AxisItem) and item.isVisible() and item.linkedView() is not None
    ]


def _title_rect(axis: pg.AxisItem, view: pg.GraphicsView) -> QRectF | None:
    if not axis.label.isVisible() or not axis.labelText or not axis.isVisible():
        return None
    return QRectF(view.mapFromScene(axis.label.sceneBoundingRect()).boundingRect())


def _tight(rect: QRectF, axis_vertical: bool) -> QRectF:
    """A title's box without the text item's document margin (4 px on each side)."""
    if axis_vertical:  # rotated: the margin runs along both directions
        return rect.adjusted(4, 4, -4, -4)
    return rect.adjusted(4, 4, -4, -4)


def axis_text_problems(name: str, view: pg.GraphicsView) -> list[str]:
    """Overlapping tick labels on one axis; axis titles that overlap another title, a tick label,
    or run past the end of their axis."""
    problems: list[str] = []
    titles: list[tuple[str, pg.AxisItem, QRectF]] = []
    labels: list[tuple[str, QRectF]] = []
    for axis in _axes(view):
        rects = _tick_label_rects(axis, view)
        vertical = axis.orientation in ("left", "right")
        ordered = sorted(rects, key=lambda r: r[0].center().y() if vertical else r[0].center().x())
        for (a, ta), (b, tb) in itertools.pairwise(ordered):
            if a.intersects(b):
                problems.append(f"{name}: {axis.orientation} tick labels {ta!r} and {tb!r} overlap")
        title = _title_rect(axis, view)
        if title is not None:
            title = _tight(title, vertical)
            titles.append((axis.labelText, axis, title))
            span = QRectF(view.mapFromScene(axis.sceneBoundingRect()).boundingRect())
            if vertical and title.height() > span.height() + 2:
                problems.append(
                    f"{name}: title {axis.labelText!r} ({title.height():.0f} px) is longer than "
                    f"its axis ({span.height():.0f} px)"
                )
            if not vertical and title.width() > span.width() + 2:
                problems.append(
                    f"{name}: title {axis.labelText!r} ({title.width():.0f} px) is longer than "
                    f"its axis ({span.width():.0f} px)"
                )
        labels += [(text, rect) for rect, text in rects]
    for i, (ta, _, a) in enumerate(titles):
        for tb, _, b in titles[i + 1 :]:
            if a.intersects(b):
                problems.append(f"{name}: axis titles {ta!r} and {tb!r} overlap")
        for text, rect in labels:
            if a.intersects(rect):
                problems.append(f"{name}: axis title {ta!r} overlaps tick label {text!r}")
    return problems


CONTROL_TYPES = (QAbstractButton, QAbstractSpinBox, QComboBox, QSlider)


def controls_unreachable(window, drawers: dict[QWidget, QWidget] | None = None) -> list[str]:
    """Named controls a user cannot see or scroll to.

    A control is reachable when it is fully on screen, or inside a scroll area whose viewport is
    on screen and wide enough for it (it scrolls vertically only), or inside a closed drawer
    (``drawers`` maps the drawer to the button that opens it) whose button is on screen.
    Controls hidden on purpose (e.g. advanced settings in simple mode) are not counted.
    """
    drawers = drawers or {}
    missing = []
    for widget in window.findChildren(QWidget):
        if not isinstance(widget, CONTROL_TYPES) or not widget.accessibleName():
            continue
        if not widget.isVisibleTo(window):
            drawer = next((d for d in drawers if d.isAncestorOf(widget)), None)
            if (
                drawer is not None
                and not drawer.isVisible()
                and widget.isVisibleTo(drawer)
                and on_screen_rect(drawers[drawer], window).isEmpty()
            ):
                missing.append(f"{widget.accessibleName()} (drawer closed, no way to open)")
            continue  # hidden on purpose, or in a drawer that can be opened
        if not _reachable(widget, window):
            missing.append(widget.accessibleName())
    return missing


def _reachable(widget: QWidget, window: QWidget) -> bool:
    scroll = _scroll_area_of(widget)
    if scroll is not None:
        viewport = scroll.viewport()
        if on_screen_rect(viewport, window).height() < 20:
            return False
        left = widget.mapTo(scroll.widget(), QPoint(0, 0)).x()
        return left >= 0 and left + widget.width() <= viewport.width() + 1
    shown = on_screen_rect(widget, window)
    return shown.width() >= widget.width() - 1 and shown.height() >= widget.height() - 1


def _scroll_area_of(widget: QWidget) -> QScrollArea | None:
    parent = widget.parentWidget()
    while parent is not None:
        inner = parent.widget() if isinstance(parent, QScrollArea) else None
        if inner is not None and inner.isAncestorOf(widget):
            return parent
        parent = parent.parentWidget()
    return None


def measure(window, drawers: dict[QWidget, QWidget] | None = None) -> LayoutReport:
    """Look at ``window`` now (call after processing events) and report what a user sees."""
    report = LayoutReport(window=(window.width(), window.height()))
    seen_views = set()
    for name, (view, vb) in plot_views(window).items():
        rect = plot_area(view, vb, window)
        if rect.isEmpty():
            report.hidden_plots.append(name)
            continue
        report.plots[name] = (rect.width(), rect.height())
        if id(view) not in seen_views:
            seen_views.add(id(view))
            report.overlaps += axis_text_problems(name, view)
    report.unreachable = controls_unreachable(window, drawers)
    return report
