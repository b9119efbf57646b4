"""Applies the layout rules of :mod:`vg_desktop.layout` to the main window's widgets.

The window's panels (controls, lesson, the two core views, the three history views) live in
splitters and tab widgets owned by :class:`WindowLayout`; on every resize, theme, zoom, lesson or
Compare A/B change it measures what each panel needs at the current type size, asks
:func:`vg_desktop.layout.decide` for a plan and moves and sizes the panels accordingly. A
user's splitter drag is kept as a share and re-applied through the same rules. Stage view
(F5) shows only the core views and a strip with the run buttons.
"""

from __future__ import annotations

import json
import logging

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPoint, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QFont, QFontMetrics, QImage, QPainter
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QLayout,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from . import layout as rules

log = logging.getLogger(__name__)

SIDE_KEYS = ("lesson", "controls")
SETTINGS_KEY = "view/layout"
LESSON_TAB_FRAME = 4  # px a tab page's frame takes on each side
HEADLINE_MAX_SCALE = 1.15  # the finding's type relative to the window's (app.HEADLINE_SCALE)


class FlowLayout(QLayout):
    """Lays its items out left to right and wraps onto further rows when the width runs out,
    so a tool row never clips a control in a narrow panel or in large type."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 6) -> None:
        super().__init__(parent)
        self._items: list = []
        self.setSpacing(spacing)
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item) -> None:
        self._items.append(item)

    def add_stretch(self) -> None:
        """A break point that pushes the following items to the right on a single row."""
        self._items.append(None)

    def count(self) -> int:
        return len([i for i in self._items if i is not None])

    def _real(self) -> list:
        return [i for i in self._items if i is not None]

    def itemAt(self, index: int):
        real = self._real()
        return real[index] if 0 <= index < len(real) else None

    def takeAt(self, index: int):
        real = self._real()
        if 0 <= index < len(real):
            item = real[index]
            self._items.remove(item)
            return item
        return None

    def expandingDirections(self):
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._arrange(QRect(0, 0, width, 0), apply=False)

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._arrange(rect, apply=True)

    def sizeHint(self) -> QSize:
        real = self._real()
        width = sum(i.sizeHint().width() for i in real) + self.spacing() * max(len(real) - 1, 0)
        height = max((i.sizeHint().height() for i in real), default=0)
        return QSize(width, height)

    def minimumSize(self) -> QSize:
        width = max((i.minimumSize().width() for i in self._real()), default=0)
        return QSize(width, self.heightForWidth(width) if width else 0)

    def _arrange(self, rect: QRect, apply: bool) -> int:
        """Place the items in rows; a stretch marker right-aligns what follows it when all
        items fit on one row. Returns the height used."""
        real = self._real()
        space = self.spacing()
        total = self.sizeHint().width()
        one_row = total <= rect.width()
        x, y, row_h = rect.x(), rect.y(), 0
        right_from = None
        if one_row and None in self._items:
            cut = self._items.index(None)
            right_from = len([i for i in self._items[:cut] if i is not None])
        if right_from is not None:
            tail = sum(i.sizeHint().width() for i in real[right_from:])
            tail += space * max(len(real) - right_from - 1, 0)
        for n, item in enumerate(real):
            hint = item.sizeHint()
            if right_from is not None and n == right_from:
                x = max(x, rect.right() + 1 - tail)
            if x + hint.width() > rect.right() + 1 and x > rect.x():
                x, y, row_h = rect.x(), y + row_h + space, 0
            if apply:
                item.setGeometry(QRect(QPoint(x, y), hint))
            x += hint.width() + space
            row_h = max(row_h, hint.height())
        return y + row_h - rect.y()


class Panel(QWidget):
    """One panel of the window (a view or the controls), with a title shown when it sits in a
    row; in a tab, the tab names it. ``show()``/``hide()``/``raise_()`` open, close and bring
    forward the panel wherever the layout placed it, and ``visibilityChanged`` says when it
    comes on screen or leaves it (the API of the dock widgets it replaces)."""

    visibilityChanged = Signal(bool)  # QDockWidget's name

    def __init__(self, key: str, title: str, content: QWidget, owner: WindowLayout) -> None:
        super().__init__()
        self.key = key
        self.content = content
        self._owner = owner
        self.setObjectName(f"panel_{key}")
        self.title_label = ElidedLabel(title)
        self.title_label.setObjectName("panel_title")
        self._bold_title()
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(2)
        self.title_row = QHBoxLayout()
        self.title_row.setContentsMargins(0, 0, 0, 0)
        self.title_row.addWidget(self.title_label)
        box.addLayout(self.title_row)
        box.addWidget(content, 1)
        self._action = QAction(title, self)
        self._action.setCheckable(True)
        self._action.setChecked(True)
        self._action.toggled.connect(self._on_toggled)
        self.setWindowTitle(title)

    def add_to_title_row(self, layout: QHBoxLayout) -> None:
        """Put a panel's own tools on its title's row (a row less on a short projector)."""
        self.title_row.addSpacing(12)
        self.title_row.addLayout(layout, 1)

    # the QDockWidget API the window and tests use
    def show(self) -> None:
        self._owner.open_panel(self.key)

    def hide(self) -> None:
        self._owner.close_panel(self.key)

    def raise_(self) -> None:
        self._owner.raise_panel(self.key)

    def _bold_title(self) -> None:
        font = QFont(self.font())
        font.setBold(True)
        self.title_label.setFont(font)

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:  # the title follows the window's type size
            self._bold_title()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.visibilityChanged.emit(True)

    def hideEvent(self, event) -> None:
        super().hideEvent(event)
        self.visibilityChanged.emit(False)

    def toggleViewAction(self) -> QAction:
        return self._action

    def setWindowTitle(self, title: str) -> None:
        super().setWindowTitle(title)
        self.title_label.setText(title)
        self._action.setText(title)
        if hasattr(self, "_owner"):
            self._owner.retitle(self)

    def _on_toggled(self, on: bool) -> None:
        if on != self._owner.is_open(self.key):
            self.show() if on else self.hide()


class ElidedLabel(QLabel):
    """A one-line label that ends in "…" when it has less room than its text (the whole text in
    its tooltip): a panel's title shares its row with the panel's tools, and an A/B title such as
    "Activation and its derivative — B: ReLU + He" was cut mid-word."""

    def __init__(self, text: str = "") -> None:
        super().__init__()
        self._full = ""  # its full width when it fits; down to a few letters when it does not
        self.setText(text)

    def setText(self, text: str) -> None:
        self._full = text
        self._elide()

    def full_text(self) -> str:
        return self._full

    def sizeHint(self):
        hint = super().sizeHint()
        hint.setWidth(self.fontMetrics().horizontalAdvance(self._full) + 4)
        return hint

    def minimumSizeHint(self):
        hint = super().minimumSizeHint()
        hint.setWidth(self.fontMetrics().horizontalAdvance("Activation…"))
        return hint

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._elide()

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._elide()

    def _elide(self) -> None:
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, self.width())
        QLabel.setText(self, shown)
        self.setToolTip(self._full if shown != self._full else "")


class StageStrip(QWidget):
    """Stage view's only controls: play/pause, one step, reset, the lesson's question and the
    way back (Esc)."""

    exitRequested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("stage_strip")
        self.play = QPushButton("Play")
        self.step = QPushButton("Step")
        self.reset = QPushButton("Reset")
        self.leave = QPushButton("Exit Stage view (Esc)")
        for button, name, tip in (
            (self.play, "Stage view: Play / Pause", "Start or pause training (Space)"),
            (self.step, "Stage view: Step", "Train exactly one step and show it (S)"),
            (self.reset, "Stage view: Reset", "Rebuild the network from its seed (R)"),
            (self.leave, "Exit Stage view", "Back to the full window (Esc)"),
        ):
            button.setAccessibleName(name)
            button.setToolTip(tip)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Space stays Play/Pause
        self.play.setCheckable(True)
        self.status = QLabel()
        self.status.setAccessibleName("Stage view status")
        self.question = QLabel()
        self.question.setAccessibleName("Stage view question")
        self.question.setWordWrap(True)
        self.question.setObjectName("stage_question")
        self.question.setStyleSheet(
            "QLabel#stage_question { background: #FFF4CE; color: #1A1A1A; "
            "border: 2px solid #E69F00; border-radius: 6px; padding: 4px 8px; }"
        )
        self.question.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 6, 8, 6)
        for button in (self.play, self.step, self.reset):
            row.addWidget(button)
        row.addWidget(self.status)
        row.addWidget(self.question, 1)
        row.addStretch(0)
        row.addWidget(self.leave)
        self.leave.clicked.connect(self.exitRequested)

    def set_playing(self, playing: bool) -> None:
        self.play.setChecked(playing)
        self.play.setText("Pause" if playing else "Play")

    def set_question(self, text: str) -> None:
        self.question.setText(f"Question for the class: {text}" if text else "")
        self.question.setVisible(bool(text))


class WindowLayout(QObject):
    """Owns the window's containers and keeps the panels where the rules put them."""

    def __init__(
        self,
        window,
        bars_panel: QWidget,
        activation: tuple[str, QWidget],
        side: dict[str, tuple[str, QWidget]],
        history: dict[str, tuple[str, QWidget]],
    ) -> None:
        super().__init__(window)
        self.window = window
        self.panels: dict[str, Panel] = {}
        for key, (title, widget) in {**side, **history}.items():
            self.panels[key] = Panel(key, title, widget, self)
        self._open = {k: True for k in self.panels}
        self._open["lesson"] = False
        self.bars_panel = bars_panel
        # The activation plot is a core view: titled, never closed, never moved.
        self.activation_panel = Panel("activation", activation[0], activation[1], self)
        activation_panel = self.activation_panel
        self.panels["activation"] = activation_panel
        # Data and layer features share one place in the history row, as tabs.
        self.data_tabs = QTabWidget()
        self.data_tabs.setObjectName("data_tabs")

        self.core = QSplitter(Qt.Orientation.Horizontal)
        self.core.setObjectName("core_splitter")
        self.core.addWidget(bars_panel)
        self.core.addWidget(activation_panel)
        self.side_tabs = QTabWidget()
        self.side_tabs.setObjectName("side_tabs")
        self.bottom_tabs = QTabWidget()
        self.bottom_tabs.setObjectName("bottom_tabs")
        self.bottom_row = QSplitter(Qt.Orientation.Horizontal)
        self.bottom_row.setObjectName("history_row")
        self.bottom = QWidget()
        bottom_box = QVBoxLayout(self.bottom)
        bottom_box.setContentsMargins(0, 0, 0, 0)
        bottom_box.addWidget(self.bottom_tabs)
        bottom_box.addWidget(self.bottom_row)
        self.right = QSplitter(Qt.Orientation.Vertical)
        self.right.setObjectName("core_bottom_splitter")
        self.right.addWidget(self.core)
        self.right.addWidget(self.bottom)
        self.main = QSplitter(Qt.Orientation.Horizontal)
        self.main.setObjectName("side_splitter")
        self.main.addWidget(self.side_tabs)
        self.main.addWidget(self.right)
        self.stage_strip = StageStrip()
        self.stage_strip.hide()
        self.root = QWidget()
        root_box = QVBoxLayout(self.root)
        root_box.setContentsMargins(0, 0, 0, 0)
        root_box.setSpacing(0)
        root_box.addWidget(self.stage_strip)
        root_box.addWidget(self.main, 1)
        for splitter in (self.core, self.right, self.main, self.bottom_row):
            splitter.setChildrenCollapsible(False)
            splitter.setHandleWidth(rules.Needs.handle)
        # The rules size everything: no widget may impose a minimum that grows the window.
        for widget in (self.root, self.main, self.right, self.core, self.bottom, self.side_tabs):
            widget.setMinimumSize(1, 1)
        for widget in (bars_panel, activation_panel, self.bottom_tabs, self.bottom_row):
            widget.setMinimumSize(1, 1)
        for panel in self.panels.values():
            panel.setMinimumSize(1, 1)

        self.stage = False
        self._stage_restore: dict | None = None
        self.plan: rules.LayoutPlan | None = None
        self.needs: rules.Needs | None = None
        self._chrome_cache: dict[tuple, dict[str, tuple[int, int]]] = {}
        self._failed_zoom: dict[tuple, float] = {}
        self._applying = False
        self.user = self._load_user_choices()
        self.passes = 0  # reflows done (tests wait for the layout to settle)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.reflow)
        self._pending_passes = 0
        for splitter, name in (
            (self.core, "core"),
            (self.right, "right"),
            (self.main, "main"),
        ):
            splitter.splitterMoved.connect(lambda *_a, n=name: self._on_user_drag(n))
        self.bottom_tabs.currentChanged.connect(self._on_bottom_page)

    # ---------------------------------------------------------------- panels
    def is_open(self, key: str) -> bool:
        return self._open.get(key, key == "activation")

    def open_panel(self, key: str) -> None:
        if key not in self._open:
            return  # a core view is always open
        self._open[key] = True
        self.panels[key].toggleViewAction().setChecked(True)
        self.reflow_now()
        self.raise_panel(key)

    def close_panel(self, key: str) -> None:
        if key not in self._open:
            return  # a core view cannot be closed
        self._open[key] = False
        self.panels[key].toggleViewAction().setChecked(False)
        self.reflow_now()

    def raise_panel(self, key: str) -> None:
        panel = self.panels[key]
        for tabs in (self.side_tabs, self.bottom_tabs, self.data_tabs):
            index = tabs.indexOf(panel)
            if index >= 0 and tabs.currentIndex() != index:
                tabs.setCurrentIndex(index)

    def retitle(self, panel: Panel) -> None:
        for name in ("side_tabs", "bottom_tabs", "data_tabs"):
            tabs = getattr(self, name, None)
            if tabs is None:
                continue
            index = tabs.indexOf(panel)
            if index >= 0:
                tabs.setTabText(index, panel.windowTitle())

    def drawers(self) -> dict[QWidget, QWidget]:
        """Each tab page and the tab bar that opens it (for :mod:`vg_desktop.layout_probe`)."""
        out: dict[QWidget, QWidget] = {}
        for tabs in (self.side_tabs, self.bottom_tabs, self.data_tabs):
            if tabs.isVisible():
                for i in range(tabs.count()):
                    out[tabs.widget(i)] = tabs.tabBar()
        return out

    def view_actions(self) -> list[QAction]:
        """View-menu toggles of the panels a user may close (never the core views)."""
        return [self.panels[k].toggleViewAction() for k in self._open]

    # ---------------------------------------------------------------- reflow
    def schedule(self, passes: int = 2) -> None:
        """Reflow once the pending events (new fonts, resizes) have reached the widgets."""
        self._pending_passes = max(self._pending_passes, passes)
        self._timer.start()

    def reflow_now(self) -> None:
        self.reflow()
        self.schedule(1)  # once more with the chrome the new sizes give

    def reflow(self) -> None:
        if self._applying or not self.window.isVisible():
            return
        self._applying = True
        try:
            self._reflow_once()
        finally:
            self._applying = False
        self.passes += 1
        if self._pending_passes > 1:
            self._pending_passes -= 1
            self._timer.start()
        else:
            self._pending_passes = 0

    def central_size(self) -> tuple[int, int]:
        """The room the central widget has now (the window's layout brought up to date)."""
        window = self.window
        window.layout().activate()
        size = window.centralWidget().size()
        return size.width(), size.height()

    def _reflow_once(self) -> None:
        prime_axes(self.window)
        central = self.central_size()
        self.needs = self.measure_needs()
        args = self._decide_args()
        plan = rules.decide(central, self.needs, **args)
        if self._rezoom(central, plan, args):
            return  # new type size: the next pass measures and lays out again
        self.plan = plan
        self._apply(plan, central)
        if not plan.fits:
            log.debug("layout at %s does not meet every minimum: %s", central, plan.notes)

    def _rezoom(self, central: tuple[int, int], plan: rules.LayoutPlan, args: dict) -> bool:
        """Rule 5: lower the effective zoom while the core views do not fit; raise it back
        toward the user's zoom when they would (never to a zoom already seen not to fit at
        this size). True when the type size changed."""
        window = self.window
        wanted, current = window.zoom, window.effective_zoom
        lowest = min(1.0, wanted)
        # Keyed on the window's size: the central area itself changes with the type size.
        key = (window.width(), window.height(), window.theme_name, round(wanted, 3))
        ceiling = self._failed_zoom.get(key, wanted * 1.001)
        if not plan.fits and current > lowest + 1e-3:
            self._failed_zoom[key] = min(ceiling, current)
            target = max(lowest, current / 1.05)
        elif plan.fits and current < wanted - 1e-3:
            at_one = self.needs.scaled(1.0 / current)
            target = rules.largest_fitting_zoom(central, at_one, wanted, lowest=current, **args)
            if target >= ceiling - 1e-3:
                target = current
        else:
            return False
        if abs(target - current) < 1e-3:
            return False
        window.set_effective_zoom(target)
        self.schedule(3)
        return True

    def _decide_args(self) -> dict:
        page = self.bottom_tabs.currentWidget()
        return {
            "lesson_open": self._open["lesson"],
            "bottom_page": page.key if isinstance(page, Panel) else "controls",
            "stage": self.stage,
            "controls_shown": self._open["controls"],
            "history": tuple(k for k in rules.HISTORY_KEYS if self._open[k]),
            "core_share": self.user.get("core_share"),
            "activation_share": self.user.get(
                "activation_share_stacked" if self._stacked_hint() else "activation_share"
            ),
            "side_width": self.user.get("side_width"),
        }

    def _stacked_hint(self) -> bool:
        return self.core.orientation() == Qt.Orientation.Vertical

    def _apply(self, plan: rules.LayoutPlan, central: tuple[int, int]) -> None:
        width = central[0]
        side_keys = [k for k in SIDE_KEYS if self._open[k]]
        history_keys = [k for k in rules.HISTORY_KEYS if self._open[k]]
        for key, panel in self.panels.items():
            if not self.is_open(key):
                self._detach(panel)
        if plan.stage:
            self.side_tabs.hide()
            self.bottom.hide()
        else:
            if plan.side_column:
                self._fill_tabs(self.side_tabs, side_keys)
                self.side_tabs.show()
            else:
                self.side_tabs.hide()
            tab_keys = list(plan.bottom_pages) if plan.history_in_tabs else []
            if not plan.side_column:
                tab_keys = [k for k in plan.bottom_pages]
            row_keys = [] if plan.history_in_tabs else history_keys
            if not plan.side_column and not plan.history_in_tabs:
                tab_keys = side_keys
            self._fill_tabs(self.bottom_tabs, tab_keys)
            self._fill_row(row_keys)
            self.bottom_tabs.setVisible(bool(tab_keys))
            self.bottom_row.setVisible(bool(row_keys))
            self.bottom.setVisible(bool(tab_keys or row_keys))
        # sizes
        orientation = Qt.Orientation.Vertical if plan.core_stacked else Qt.Orientation.Horizontal
        if self.core.orientation() != orientation:
            self.core.setOrientation(orientation)
        side_w = plan.side_width if plan.side_column else 0
        right_w = width - (side_w + self.main.handleWidth() if plan.side_column else 0)
        if plan.side_column:
            self.main.setSizes([side_w, right_w])
        core_h = plan.core_height
        bottom_h = plan.bottom_height if self.bottom.isVisibleTo(self.window) else 0
        if bottom_h:
            self.right.setSizes([core_h, bottom_h])
        # The splitters above have resized the core row: split what it really has.
        core_total = self.core.height() if plan.core_stacked else self.core.width()
        self.core.setSizes(
            [core_total - plan.activation_size - self.core.handleWidth(), plan.activation_size]
        )
        slots = self.bottom_row.count()
        if not plan.history_in_tabs and slots:
            # Each place gets its view's minimum, and the rest is shared by ROW_WEIGHTS.
            keys = [
                [k for k in slot if self.is_open(k)]
                for slot in rules.ROW_SLOTS
                if any(self.is_open(k) for k in slot)
            ]
            mins = [rules.row_slot_min(slot, self.needs) for slot in keys]
            weights = [
                rules.ROW_WEIGHTS[rules.ROW_SLOTS.index(s)]
                for s in rules.ROW_SLOTS
                if any(self.is_open(k) for k in s)
            ]
            room = right_w - self.bottom_row.handleWidth() * (slots - 1)
            extra = max(0, room - sum(mins))
            self.bottom_row.setSizes(
                [m + round(extra * w / sum(weights)) for m, w in zip(mins, weights, strict=True)]
            )

    def _detach(self, panel: Panel) -> None:
        for tabs in (self.side_tabs, self.bottom_tabs, self.data_tabs):
            index = tabs.indexOf(panel)
            if index >= 0:
                tabs.removeTab(index)
        if panel.parent() is self.bottom_row:
            panel.setParent(None)
        panel.setParent(self.root)
        QWidget.setVisible(panel, False)

    def _fill_tabs(self, tabs: QTabWidget, keys: list[str]) -> None:
        current = tabs.currentWidget()
        wanted = [self.panels[k] for k in keys]
        present = [tabs.widget(i) for i in range(tabs.count())]
        if present == wanted:
            return
        tabs.blockSignals(True)
        try:
            while tabs.count():
                tabs.removeTab(0)
            for panel in wanted:
                panel.title_label.hide()
                tabs.addTab(panel, panel.windowTitle())
            arrived = [p for p in wanted if p.key in SIDE_KEYS and p not in present]
            if arrived:  # the controls (or the lesson) just moved here: show them
                tabs.setCurrentWidget(arrived[0])
            elif current in wanted:
                tabs.setCurrentWidget(current)
            shown = tabs.currentWidget()
            for panel in wanted:  # a detached panel was hidden explicitly: show the current
                QWidget.setVisible(panel, panel is shown)
        finally:
            tabs.blockSignals(False)

    def _fill_row(self, keys: list[str]) -> None:
        """The history views side by side, titled; data and layer features share a slot as
        tabs (both, or whichever is open)."""
        slots: list[QWidget] = []
        for slot in rules.ROW_SLOTS:
            members = [k for k in slot if k in keys]
            if len(members) > 1:
                self._fill_tabs(self.data_tabs, members)
                slots.append(self.data_tabs)
            elif members:
                slots.append(self.panels[members[0]])
        if len(slots) and self.data_tabs not in slots and self.data_tabs.count():
            self._fill_tabs(self.data_tabs, [])
        present = [self.bottom_row.widget(i) for i in range(self.bottom_row.count())]
        if present != slots:
            for widget in present:
                if widget not in slots:
                    widget.setParent(self.root)
                    QWidget.setVisible(widget, False)
            for i, widget in enumerate(slots):
                if isinstance(widget, Panel):
                    for tabs in (self.side_tabs, self.bottom_tabs, self.data_tabs):
                        index = tabs.indexOf(widget)
                        if index >= 0:
                            tabs.removeTab(index)
                self.bottom_row.insertWidget(i, widget)
                QWidget.setVisible(widget, True)
        for widget in slots:
            if isinstance(widget, Panel):
                widget.title_label.show()
        self._row_slots = len(slots)

    # ---------------------------------------------------------------- needs
    def type_key(self) -> tuple:
        return (self.window.theme_name, round(self.window.effective_zoom, 3))

    def measure_needs(self) -> rules.Needs:
        """What each panel needs now: measured on the widgets where they are on screen,
        remembered per type size, estimated from the type size where never seen."""
        from .layout_probe import plot_views

        window = self.window
        cache = self._chrome_cache.setdefault(self.type_key(), {})
        views = plot_views(window)
        for key, outer in (("bars", self.bars_panel), ("activation", self.activation_panel)):
            measured = _chrome(outer, [views[key][1]])
            if measured is not None:
                # Room for the texts above and below the plots at their longest, so a text
                # that changes with the data does not move the layout under the class.
                label, lines, scale = (
                    ("headline", 2, HEADLINE_MAX_SCALE) if key == "bars" else ("layer_info", 3, 1.0)
                )
                measured = (measured[0], measured[1] + self._text_allowance(label, lines, scale))
            if measured is not None:
                if key == "activation":
                    # The histogram's axis appears with the first data: count it from the
                    # start, so the layout does not change under the class when it does.
                    share = window.activation_plot.getPlotItem().getAxis("right")
                    if not share.isVisible():
                        measured = (measured[0] + share.width(), measured[1])
                cache[key] = measured
        # The history views are not measured: their legends wrap differently in a row and in
        # a tab, and a measure taken in one arrangement would decide the other (the layout
        # would not come back exactly). Their estimates are generous; the tests measure them.
        scale = self._type_scale()
        estimate = {
            "bars": (110, 160),
            "activation": (190, 200),
            "curves": (150, 210),
            "features": (70, 115),
            "heatmap": (160, 70),
            "dataset": (70, 115),
        }

        def chrome(key: str) -> tuple[int, int]:
            if key in cache:
                return cache[key]
            w, h = estimate[key]
            return (round(w * scale), round(h * scale))

        scroll = window.controls_scroll
        side_width = scroll.minimumWidth() + 8
        metrics = window.fontMetrics()
        line = metrics.height()
        tab_bar = self.bottom_tabs.tabBar().sizeHint().height() or line + 12
        return rules.Needs(
            bars_chrome=chrome("bars"),
            activation_chrome=chrome("activation"),
            curves_chrome=chrome("curves"),
            heatmap_chrome=chrome("heatmap"),
            dataset_chrome=chrome("dataset"),
            features_chrome=chrome("features"),
            side_width=side_width,
            controls_min_height=round(7 * line + 40),
            lesson_min_height=round(6 * line + 40),
            lesson_height=self._lesson_height(),
            tab_bar=tab_bar + 4,
            title=self.panels["curves"].title_label.sizeHint().height() + 2,
            handle=self.core.handleWidth(),
        )

    def _lesson_height(self) -> int:
        """What the lesson panel needs for its current step at the width a bottom tab gives
        it (the window's central width less the tab frame)."""
        if not self._open["lesson"]:
            return 0
        width = self.central_size()[0] - 2 * LESSON_TAB_FRAME
        return self.window.lesson_panel.needed_height(width) + 2 * LESSON_TAB_FRAME

    def _text_allowance(self, name: str, lines: int, scale: float) -> int:
        """Height ``lines`` lines of the window's label ``name`` need (bold, ``scale`` x the
        window's type: the finding's largest type) beyond the height it has now."""
        label = getattr(self.window, name, None)
        if label is None:
            return 0
        font = QFont(QApplication.font())
        font.setPointSizeF(font.pointSizeF() * scale)
        font.setBold(name == "headline")
        room = lines * QFontMetrics(font).lineSpacing() + 4
        return max(0, room - (label.height() if label.isVisible() else 0))

    def watch(self, widget: QWidget) -> None:
        """Reflow when ``widget`` changes its size by itself (a label whose text wraps anew)."""
        widget.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:
        # Also while applying a plan: a label that wraps anew because the plan gave it another
        # width changes the chrome this pass measured before it, so one more pass must measure
        # again. Dropping it left the layout on a stale measure that depended on what the label
        # showed when the window opened (and so on what ran before it in the process).
        if event.type() == QEvent.Type.Resize:
            old, new = event.oldSize(), event.size()
            if old.isValid() and old.height() != new.height():
                self.schedule(1)
        return False

    def _type_scale(self) -> float:
        theme = self.window.plot_theme()
        return theme.tick_font_pt / 12.0

    # ---------------------------------------------------------------- user choices
    def _on_user_drag(self, name: str) -> None:
        """A user dragged a splitter: keep the new proportion (the rules clamp it)."""
        if self._applying:
            return
        if name == "core":
            sizes = self.core.sizes()
            total = sum(sizes) - 0
            if total > 0:
                key = "activation_share_stacked" if self._stacked_hint() else "activation_share"
                self.user[key] = sizes[1] / total
        elif name == "right" and self.bottom.isVisible():
            sizes = self.right.sizes()
            if sum(sizes) > 0:
                self.user["core_share"] = sizes[0] / sum(sizes)
        elif name == "main" and self.side_tabs.isVisible():
            self.user["side_width"] = self.main.sizes()[0]
        self._save_user_choices()
        self.schedule(1)

    def reset_user_choices(self) -> None:
        self.user = {}
        self._save_user_choices()
        self.reflow_now()

    def _load_user_choices(self) -> dict:
        raw = self.window.settings.settings.value(SETTINGS_KEY)
        try:
            data = json.loads(str(raw)) if raw is not None else {}
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            return {}
        out = {}
        for key in ("core_share", "activation_share", "activation_share_stacked"):
            value = data.get(key)
            if isinstance(value, (int, float)) and 0.05 <= value <= 0.95:
                out[key] = float(value)
        width = data.get("side_width")
        if isinstance(width, int) and 100 <= width <= 4000:
            out["side_width"] = width
        return out

    def _save_user_choices(self) -> None:
        self.window.settings.set(SETTINGS_KEY, json.dumps(self.user))

    def _on_bottom_page(self, _index: int) -> None:
        if not self._applying:
            self.schedule(1)  # the new page may need more height

    # ---------------------------------------------------------------- stage view
    def set_stage(self, on: bool, full_screen: bool = True) -> None:
        """Stage view: the core views and a strip of run buttons; off restores the window."""
        window = self.window
        if on == self.stage:
            return
        if on:
            self._stage_restore = {
                "geometry": window.geometry(),
                "state": window.windowState(),
                "menu": window.menuBar().isVisible(),
                "status": window.statusBar().isVisible(),
                "full_screen": full_screen,
            }
            self.stage = True
            window.menuBar().hide()
            window.statusBar().hide()
            self.stage_strip.show()
            if full_screen:
                window.showFullScreen()
        else:
            restore = self._stage_restore or {}
            self.stage = False
            self.stage_strip.hide()
            window.menuBar().setVisible(restore.get("menu", True))
            window.statusBar().setVisible(restore.get("status", True))
            if restore.get("full_screen"):
                window.setWindowState(restore["state"])
                if not restore["state"] & (
                    Qt.WindowState.WindowFullScreen | Qt.WindowState.WindowMaximized
                ):
                    window.setGeometry(restore["geometry"])
        self.reflow_now()


def _chrome(outer: QWidget, boxes: list) -> tuple[int, int] | None:
    """``outer``'s size minus the plot areas of ``boxes`` (stacked vertically), or None when
    ``outer`` is not on screen at a usable size."""
    if not outer.isVisible() or outer.width() < 60 or outer.height() < 60:
        return None
    rects = [b.sceneBoundingRect() for b in boxes]
    if any(r.width() < 2 or r.height() < 2 for r in rects):
        return None
    width = outer.width() - min(r.width() for r in rects)
    height = outer.height() - sum(r.height() for r in rects)
    return (_quantize(width), _quantize(height))


def _quantize(pixels: float, step: int = 4) -> int:
    """Round chrome up to whole steps: a sub-pixel change in a plot's geometry must not move
    the layout (it would not come back exactly after a theme round trip)."""
    return int(-(-pixels // step) * step)


def prime_axes(window) -> None:
    """Let pyqtgraph size every axis for its current tick font now, not during the next paint:
    it grows an axis only once it has drawn a label that does not fit, so the first frame after
    larger type printed the axis title over the tick labels."""
    image = QImage(4, 4, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        for view in (
            window.bars,
            window.activation_plot,
            window.curves,
            window.heatmap,
            window.dataset_plot,
        ):
            if not view.isVisible():
                continue
            for item in view.scene().items():
                if isinstance(item, pg.AxisItem) and item.isVisible() and item.style["showValues"]:
                    item.generateDrawSpecs(painter)
    finally:
        painter.end()
