"""The main window: controls, the views, menus, status bar and the frame timer.

Data flow: :class:`ControlPanel` emits a config -> the edited run's :class:`TrainingController`
(the run trains in a process of its own) sends snapshots -> :class:`RunSlot` keeps the newest
and appends its history -> the 30 Hz frame timer draws the newest snapshot once. With *Compare
A/B* on, a second run B trains on the same data and seed, and the bars and loss curves show both.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QEvent, QObject, QPoint, QSize, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QActionGroup, QFont, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from . import APP_NAME, ORG_NAME, __version__
from .appearance import THEME_LABELS, THEMES, ZOOM_RANGE, apply_widget_theme, scaled_theme
from .drawing import DrawBar, PointsDrawing
from .engine import ExperimentConfig, chain_rule_model_note
from .engine.config import IMAGE_DATASETS
from .file_jobs import FileJobs
from .findings import headline
from .layout import first_window, minimum_window
from .lessons import LessonFileError, builtin_lessons, load_lesson
from .paths import resource_path
from .plots import (
    ActivationPlot,
    DatasetPlot,
    DigitsView,
    GradientBarsPlot,
    GradientHeatmap,
    LayerFeaturesView,
    NetworkPicture,
    TrainingCurvesPlot,
    configure_pyqtgraph,
    settle,
)
from .plots.gradient_bars import QUANTITY_SYMBOLS
from .plots.layer_features_view import WEIGHT_MODES
from .run_labels import run_labels
from .run_slot import RunSlot
from .settings_store import SettingsStore
from .snapshot import Snapshot
from .status_text import dead_headline, run_status
from .widgets.controls import ControlPanel, optimizer_change_message
from .widgets.lesson_panel import LessonPanel
from .window_layout import FlowLayout, Panel, WindowLayout

log = logging.getLogger(__name__)

# 30 frames per second: a frame costs the GUI thread ~13 ms to draw and paint at depth 100
# (benchmarks/gui.py), so 30 Hz keeps the window to about half a core and leaves the other to
# training on a two-core classroom machine. Bars still animate smoothly.
FRAME_MS = 33
FRAME_DUTY = 2.5  # after a frame that took t seconds to draw, skip frames for 2.5 t (paint too)
QUANTITIES = [
    (
        "signal",
        "Signal ‖∂L/∂z‖",
        "The back-propagated signal at each layer's linear output. "
        "With sigmoid its activations alone divide it by at least 4 per layer toward the input "
        "(about 4.3x with Xavier weights, whose gain is about 1, in the network the app opens "
        "with).",
    ),
    (
        "weight",
        "Weight gradient ‖∂L/∂W‖",
        "What each layer's weights actually receive. For equal "
        "widths at initialization it can stay flat even while the signal vanishes "
        "(Glorot & Bengio 2010).",
    ),
    (
        "update",
        "Update ratio ‖ΔW‖/‖W‖",
        "How much one step changes each layer's weights, relative "
        "to their size; around 1e-3 is a common rule of thumb for healthy learning.",
    ),
    (
        "stream",
        "Residual stream ‖∂L/∂h‖",
        "Residual networks only: the gradient at each layer's output h, which the identity "
        "shortcut carries down to the layers below. The signal ‖∂L/∂z‖ is the gradient at "
        "the linear output inside a layer's branch: in the post-activation block it has passed "
        "back through the branch's activation and can be small while this stream stays "
        "healthy; in the pre-activation block it equals the stream from layer 2 on.",
    ),
    (
        "distance",
        "Distance ‖W−W₀‖/‖W₀‖",
        "How far each layer's weights have moved from the ones the network started with, "
        "relative to their size. The consequence of a vanishing gradient: a layer that "
        "receives almost none keeps its initial (random) weights, so it barely learns features.",
    ),
]
# The figures are measured by tests/test_readme_claims.py (the README states them too).
OVERLAY_TOOLTIP = (
    "Overlay the chain rule's prediction: start from the last layer and multiply, layer "
    "by layer, by the RMS of f′ under the histogram (√mean f′²) and the weights' gain. "
    "It models a plain stack, and there it lands within a factor of 10 of the layer-1 "
    "bar (measured: 0.16 to 6 times it on eight plain stacks, three seeds each); with "
    "normalization or residual connections a note replaces it."
)
HISTORY_FIELD = {
    "signal": "signal_grad_norm",
    "weight": "weight_grad_norm",
    "update": "update_ratio",
    "stream": "stream_grad_norm",
    "distance": "distance_from_init",
}
ZOOM_STEP = 1.15
DEFAULT_SIZE = (1440, 900)  # before show_on_screen() fits the window to its screen
SLOW_VIEW_INTERVAL = 0.15  # s between refreshes of the history views while training
# s between redraws of the Layer features view while training: 16 images twice a second is
# live enough to watch (a redraw measured ~2 ms and its paint ~4.5 ms on the 2-core machine,
# benchmarks/NOTES.md)
FEATURES_INTERVAL = 0.5
SIDE_VIEWS = ("activation", "heatmap", "dataset", "features")  # show one run of A/B, named
HISTORY_VIEWS = ("curves", "heatmap", "dataset", "features", "network")  # drawn when on screen
FILE_JOB_PATIENCE_S = 60.0  # closing waits this long for a save under way (106 MB: 0.2-2 s)
HEADLINE_INTERVAL = 0.5  # s between headline changes while training: numbers a class can read
HEADLINE_SCALE = 1.15  # the headline's type, relative to the window's (A/B: 1.0, two lines)


def default_config() -> ExperimentConfig:
    """Opens on the problem: a deep sigmoid network whose first layers get almost no gradient."""
    return ExperimentConfig()


def snapshot_values(snap: Snapshot, quantity: str) -> np.ndarray:
    return {
        "signal": snap.signal_grad_norms,
        "weight": snap.weight_grad_norms,
        "update": snap.update_ratios,
        "stream": snap.stream_grad_norms,
        "distance": snap.distance_from_init,
    }[quantity]


# The data dock's title: the 2-D data and decision regions, or (images) the test digits.
DATA_DOCK_TITLES = {False: "Data and decision regions", True: "Test digits and predictions"}


class MainWindow(QMainWindow):
    """The complete application window, with its defaults; ``MainWindow()`` is all it takes.

    ``config`` overrides the remembered experiment; ``settings`` replaces the user's QSettings
    (tests pass a temporary store).
    """

    def __init__(
        self, config: ExperimentConfig | None = None, settings: SettingsStore | None = None
    ) -> None:
        super().__init__()
        configure_pyqtgraph()
        self.setWindowTitle(APP_NAME)
        icon = resource_path("icons", "vg-desktop.svg")
        if icon.exists():
            self.setWindowIcon(QIcon(str(icon)))
        self.settings = settings or SettingsStore()
        config = config or self.settings.last_experiment() or default_config()
        self.frames_drawn = 0
        self._next_frame_at = 0.0  # frame pacing (see _draw_frame)
        self._closing = False
        self.current_file: Path | None = None
        self.editing = "A"
        self.showing = "A"  # the run the side views (activation, heatmap, data) show
        self._dataset_key: tuple[str, int] | None = None  # the run whose data the plot has
        self._data_kind_key: tuple[str, int] | None = None  # ... whose kind the panel shows
        self._decision_shown = None  # the DecisionGrid on screen (grids arrive a few per second)
        self._slow_views_due = 0.0
        self._history_frame = False  # this frame-timer tick drew the history views
        self.theme_name = self.settings.text("view/theme", "light", tuple(THEMES))
        self.zoom = self.settings.number("view/zoom", 1.0, *ZOOM_RANGE)

        self.controls = ControlPanel(config)
        self.file_jobs = FileJobs(self)  # saving and opening weights, off the GUI thread
        self.run_a = RunSlot("A", config, self)
        self.run_b: RunSlot | None = None
        self._retiring: list[RunSlot] = []  # runs B turned off whose process is still ending
        self._build_views()
        self._build_menus()
        self.drawing = PointsDrawing(self, self.draw_bar, self.dataset_plot)
        self._build_status()
        self._connect()
        self.effective_zoom = self.zoom  # the zoom the layout can afford (layout.py, rule 5)
        self.resize(QSize(*DEFAULT_SIZE))
        self.apply_theme(self.theme_name)
        for message in self.settings.warnings:
            self.statusBar().showMessage(f"Settings: {message}", 15000)

        self.frame_timer = QTimer(self)
        self.frame_timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.frame_timer.timeout.connect(self._draw_frame)
        self.frame_timer.start(FRAME_MS)

    # ---------------------------------------------------------------- compatibility helpers
    @property
    def controller(self):
        """Run A's controller (the only run unless comparing)."""
        return self.run_a.controller

    @property
    def history(self):
        return self.edited_run.history

    @property
    def _latest(self) -> Snapshot | None:
        return self.edited_run.latest

    @property
    def _drawn(self) -> Snapshot | None:
        return self.edited_run.drawn

    @property
    def edited_run(self) -> RunSlot:
        return self.run_b if (self.editing == "B" and self.run_b is not None) else self.run_a

    @property
    def shown_run(self) -> RunSlot:
        """The run the side views show (A unless comparing and switched to B)."""
        return self.run_b if (self.showing == "B" and self.run_b is not None) else self.run_a

    @property
    def data_view(self) -> QWidget:
        """The data dock's view on screen: decision regions, or the test digits."""
        return self.data_stack.currentWidget()

    def runs(self) -> list[RunSlot]:
        return [self.run_a] + ([self.run_b] if self.run_b is not None else [])

    # ---------------------------------------------------------------- construction
    def _build_views(self) -> None:
        self.bars = GradientBarsPlot()
        self.activation_plot = ActivationPlot()
        self.curves = TrainingCurvesPlot()
        self.heatmap = GradientHeatmap()
        self.dataset_plot = DatasetPlot()
        self.digits_view = DigitsView()
        self.features_view = LayerFeaturesView()
        self.network_picture = NetworkPicture()
        # Digits, layer 1: draw what training changed in the weights (default) or the weights.
        self.weight_mode = QComboBox()
        for key, text in WEIGHT_MODES.items():
            self.weight_mode.addItem(text, key)
        self.weight_mode.setAccessibleName("Layer 1 images")
        self.weight_mode.setToolTip(
            "W − W₀: what training changed in layer 1's weights since step 0, on the scale of "
            "the initial weights (a layer that receives no gradient stays white). W: the "
            "weights themselves, which start as random noise."
        )
        self.weight_mode.currentIndexChanged.connect(
            lambda: self.features_view.set_weight_mode(self.weight_mode.currentData())
        )
        mode_label = QLabel("Show")
        mode_label.setBuddy(self.weight_mode)
        mode_row = QHBoxLayout()
        mode_row.setContentsMargins(6, 2, 6, 0)
        mode_row.addWidget(mode_label)
        mode_row.addWidget(self.weight_mode)
        mode_row.addStretch(1)
        self.weight_mode_row = QWidget()
        self.weight_mode_row.setLayout(mode_row)
        self.weight_mode_row.setVisible(False)
        self.features_panel = QWidget()
        features_box = QVBoxLayout(self.features_panel)
        features_box.setContentsMargins(0, 0, 0, 0)
        features_box.setSpacing(0)
        features_box.addWidget(self.weight_mode_row)
        features_box.addWidget(self.features_view, 1)
        # The data dock shows the 2-D data and decision regions, or for an image dataset the
        # held-out test images and the network's answers.
        self.data_stack = QStackedWidget()
        self.data_stack.addWidget(self.dataset_plot)
        self.data_stack.addWidget(self.digits_view)
        # Above the 2-D data: draw your own points (issue 14; drawing.py does the edits).
        self.draw_bar = DrawBar()
        self.data_panel = QWidget()
        data_box = QVBoxLayout(self.data_panel)
        data_box.setContentsMargins(0, 0, 0, 0)
        data_box.setSpacing(0)
        data_box.addWidget(self.draw_bar)
        data_box.addWidget(self.data_stack, 1)

        # Central view: the gradient bars with their own small toolbar.
        self.quantity = QComboBox()
        for key, label, tip in QUANTITIES:
            self.quantity.addItem(label, key)
            self.quantity.setItemData(self.quantity.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        self.quantity.view().setRowHidden(self.quantity.findData("stream"), True)
        self._stream_offered = False  # see _offer_stream_quantity
        self.quantity.setAccessibleName("Gradient quantity")
        self.quantity.setToolTip("Which gradient the bars show; the axis label says which.")
        self.overlay = QCheckBox("Chain-rule estimate")
        self.overlay.setAccessibleName("Chain-rule estimate")
        self.overlay.setToolTip(OVERLAY_TOOLTIP)
        self.lock_axis = QCheckBox("Lock axis")
        self.lock_axis.setAccessibleName("Lock axis")
        self.lock_axis.setToolTip(
            "Keep the y-axis bounds fixed, even when the network or the "
            "quantity changes, so runs can be compared by eye."
        )
        self.fit_axis = QPushButton("Fit axis")
        self.fit_axis.setAccessibleName("Fit axis")
        self.fit_axis.setToolTip(
            "Set the y axis once to the decades the bars span now. The axis "
            "never rescales by itself frame to frame."
        )
        show_label = QLabel("Show")
        show_label.setBuddy(self.quantity)
        # A tool row that wraps rather than clips in a narrow panel or in large type.
        bar_tools = FlowLayout()
        bar_tools.addWidget(show_label)
        bar_tools.addWidget(self.quantity)
        bar_tools.addWidget(self.overlay)
        bar_tools.add_stretch()
        bar_tools.addWidget(self.lock_axis)
        bar_tools.addWidget(self.fit_axis)
        bars_panel = QWidget()
        bars_panel.setObjectName("bars_panel")
        # The finding in words and numbers, for the back of the room (see findings.py).
        self.headline = QLabel()
        self.headline.setObjectName("headline")
        self.headline.setAccessibleName("Finding")
        self.headline.setWordWrap(True)
        self.headline.setToolTip(
            "What the bars show, from the newest step: layer 1's gradient compared with the last "
            "hidden layer's (rounded to one significant figure), and the bars' verdict."
        )
        self._headline_at = 0.0
        v = QVBoxLayout(bars_panel)
        v.setContentsMargins(6, 6, 6, 0)
        v.addLayout(bar_tools)
        v.addWidget(self.headline)
        v.addWidget(self.bars, 1)

        # Activation plot with its layer selector.
        self.layer = QSpinBox()
        self.layer.setRange(1, self.controls.config().network.depth)
        self.layer.setAccessibleName("Layer")
        self.layer.setToolTip(
            "Which layer's pre-activations to show on the derivative curve "
            "(or click a bar; keys 1-9, ↑ and ↓)."
        )
        layer_label = QLabel("Layer")
        layer_label.setBuddy(self.layer)
        act_panel = QWidget()
        act_panel.setObjectName("activation_panel")
        av = QVBoxLayout(act_panel)
        av.setContentsMargins(6, 6, 6, 0)
        row = QHBoxLayout()
        row.addWidget(layer_label)
        row.addWidget(self.layer)
        row.addStretch(1)
        # A/B: the side views show one run; this names it and switches to the other in one click.
        self.show_other = QPushButton()
        self.show_other.setAccessibleName("Show the other run")
        self.show_other.setToolTip(
            "The activation plot, the gradient-flow heatmap and the data view show one run of "
            "the comparison; this switches them to the other (Ctrl+Shift+B)."
        )
        self.show_other.setVisible(False)
        row.addWidget(self.show_other)
        av.addWidget(self.activation_plot, 1)
        # The layer's figures, in a label that wraps rather than a text box the plot could clip.
        self.layer_info = QLabel()
        self.layer_info.setAccessibleName("Layer statistics")
        self.layer_info.setWordWrap(True)
        self.layer_info.setToolTip(
            "Mean f′: the average slope under the histogram. RMS f′ (√mean f′²): the factor "
            "the gradient's norm pays at this layer. Saturated: the share of this batch's "
            "pre-activations where |f′| is below 10 % of its maximum (for ReLU: inactive, "
            "u ≤ 0, for these inputs; units dead on every sample are counted on the next line)."
        )
        av.addWidget(self.layer_info)
        self.activation_plot.set_info_in_plot(False)

        # Compare A/B bar above the controls.
        self.compare = QCheckBox("Compare A/B")
        self.compare.setAccessibleName("Compare A/B")
        self.compare.setToolTip(
            "Train a second configuration B beside A, on the same data and "
            "seed; the bars and loss curves show both."
        )
        self.edit_a = QRadioButton("Edit A")
        self.edit_b = QRadioButton("Edit B")
        self.edit_a.setChecked(True)
        for button, name in ((self.edit_a, "Edit A"), (self.edit_b, "Edit B")):
            button.setAccessibleName(name)
            button.setToolTip(f"The controls below change run {name[-1]}.")
        self.edit_group = QButtonGroup(self)
        self.edit_group.addButton(self.edit_a)
        self.edit_group.addButton(self.edit_b)
        self.copy_a_to_b = QPushButton("Copy A → B")
        self.copy_a_to_b.setAccessibleName("Copy A → B")
        self.copy_a_to_b.setToolTip("Give B exactly A's settings, then change one thing in B.")
        compare_row = QHBoxLayout()
        compare_row.addWidget(self.edit_a)
        compare_row.addWidget(self.edit_b)
        compare_row.addWidget(self.copy_a_to_b)
        self.compare_tools = QWidget()
        self.compare_tools.setLayout(compare_row)
        compare_row.setContentsMargins(0, 0, 0, 0)
        self.compare_tools.setVisible(False)

        controls_page = QWidget()
        cv = QVBoxLayout(controls_page)
        cv.setContentsMargins(0, 0, 0, 0)
        compare_box = QVBoxLayout()
        compare_box.setContentsMargins(9, 6, 9, 0)
        compare_box.addWidget(self.compare)
        compare_box.addWidget(self.compare_tools)
        cv.addLayout(compare_box)
        self._compare_box = compare_box
        cv.addWidget(self.controls, 1)

        scroll = QScrollArea()
        scroll.setWidget(controls_page)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(self.controls.column_width() + 24)
        self.controls_scroll = scroll

        self.lesson_panel = LessonPanel()
        # Where each panel goes, and how big, is decided by the layout rules (layout.py) for
        # the window's size and type size; WindowLayout applies them. The layer features share
        # the data view's place (one click apart: the two consequences of a starved layer).
        self.view_layout = WindowLayout(
            self,
            bars_panel,
            ("Activation and its derivative", act_panel),
            side={"lesson": ("Lesson", self.lesson_panel), "controls": ("Controls", scroll)},
            history={
                "curves": ("Loss and accuracy", self.curves),
                "heatmap": ("Gradient flow over time", self.heatmap),
                "dataset": (DATA_DOCK_TITLES[False], self.data_panel),
                "features": ("Layer features", self.features_panel),
                # The network as columns of units, the gradient shading the links into each layer.
                "network": ("Network", self.network_picture),
            },
        )
        self.setCentralWidget(self.view_layout.root)
        # The layer picker shares the activation plot's title row (a row less on a projector).
        self.view_layout.activation_panel.add_to_title_row(row)
        self.view_layout.watch(self.headline)  # a finding that wraps anew: reflow
        self.view_layout.watch(self.layer_info)
        # Another step (or its whole text) needs another height: the layout gives it that room.
        self.lesson_panel.contentChanged.connect(lambda: self.view_layout.schedule(2))
        # The panels keep the dock widgets' API (show, hide, raise_, titles, visibilityChanged).
        self.docks: dict[str, Panel] = dict(self.view_layout.panels)
        self._network_on_screen = False
        self.docks["network"].visibilityChanged.connect(self._on_network_visibility)
        self._features_on_screen = False
        self._features_due = 0.0  # perf_counter time before which a training run's are not redrawn
        self.docks["features"].visibilityChanged.connect(self._on_features_visibility)
        for key in HISTORY_VIEWS:
            self.docks[key].visibilityChanged.connect(
                lambda visible, k=key: self._on_panel_shown(k, visible)
            )
        self.view_layout.stage_strip.exitRequested.connect(lambda: self.set_stage_view(False))

    def _action(self, text: str, slot, shortcuts=(), menu=None, checkable=False) -> QAction:
        action = QAction(text, self)
        if shortcuts:
            action.setShortcuts([QKeySequence(s) for s in shortcuts])
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            self.addAction(action)  # shortcuts work even with the menu bar hidden (full screen)
        action.setCheckable(checkable)
        action.triggered.connect(slot)
        if menu is not None:
            menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self.open_action = self._action(
            "&Open…", self.open_file_dialog, [QKeySequence.StandardKey.Open], file_menu
        )
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.save_action = self._action(
            "&Save", self.save, [QKeySequence.StandardKey.Save], file_menu
        )
        self.save_as_action = self._action(
            "Save &As…", self.save_as, [QKeySequence.StandardKey.SaveAs], file_menu
        )
        self.save_weights_action = self._action(
            "Save With Trained &Weights…", self.save_with_weights, (), file_menu
        )
        file_menu.addSeparator()
        self.export_action = self._action("&Export…", self.export_dialog, ["Ctrl+E"], file_menu)
        self.import_points_action = self._action(
            "&Import Points…", self.import_points_dialog, (), file_menu
        )
        self.import_points_action.setToolTip(
            "Train on your own 2-D points: a CSV of x1, x2, label (2-8 classes, 4-100,000 points)"
        )
        self.export_points_action = self._action(
            "Export &Points…", self.export_points_dialog, (), file_menu
        )
        self.export_points_action.setToolTip(
            "Save the 2-D points the edited run trains on as CSV (x1, x2, label)"
        )
        file_menu.addSeparator()
        self.quit_action = self._action(
            "&Quit", self.close, ["Ctrl+Q"], file_menu
        )  # StandardKey.Quit is empty on Windows and some Linux desktops: a teacher expects Ctrl+Q
        self._rebuild_recent_menu()

        run_menu = bar.addMenu("&Run")
        self.play_action = self._action("&Play / Pause", self.toggle_play, ["Space"], run_menu)
        self.step_action = self._action("&Step", self.step, ["S", "Right"], run_menu)
        self.reset_action = self._action("&Reset", self.reset, ["R"], run_menu)
        run_menu.addSeparator()
        self._action(
            "Next Layer", lambda: self.layer.setValue(self.layer.value() + 1), ["Up"], run_menu
        )
        self._action(
            "Previous Layer",
            lambda: self.layer.setValue(self.layer.value() - 1),
            ["Down"],
            run_menu,
        )
        for digit in range(1, 10):
            self._action(
                f"Layer {digit}", lambda _=False, d=digit: self.layer.setValue(d), [str(digit)]
            )

        self.lessons_menu = bar.addMenu("&Lessons")
        for path in builtin_lessons():
            try:
                title = load_lesson(path).title
            except LessonFileError as exc:  # a broken shipped file must not stop the app
                log.error("built-in lesson %s: %s", path.name, exc)
                continue
            self._action(title, lambda _=False, p=path: self.open_lesson(p), (), self.lessons_menu)
        self.lessons_menu.addSeparator()
        self._action("Open Lesson &File…", self.open_file_dialog, (), self.lessons_menu)

        view_menu = bar.addMenu("&View")
        for action in self.view_layout.view_actions():
            view_menu.addAction(action)
        view_menu.addSeparator()
        self.stage_action = self._action(
            "&Stage View", self.toggle_stage_view, ["F5"], view_menu, checkable=True
        )
        self.stage_action.setToolTip(
            "Only the gradient bars, the activation plot, the lesson's question and the run "
            "buttons, full screen, for the class (Esc returns)"
        )
        self.leave_stage_action = self._action("Leave Stage View", self._leave_stage, ["Esc"])
        self.leave_stage_action.setEnabled(False)
        self._action("Reset &Layout", self.view_layout.reset_user_choices, (), view_menu)
        self.compare_action = self._action(
            "&Compare A/B", self.compare.setChecked, ["Ctrl+B"], view_menu, checkable=True
        )
        self.show_other_action = self._action(
            "Side Views: Show the &Other Run", self.show_other_run, ["Ctrl+Shift+B"], view_menu
        )
        self.show_other_action.setEnabled(False)
        self.advanced_action = self._action(
            "Ad&vanced Controls", self.set_advanced, (), view_menu, checkable=True
        )
        theme_menu = view_menu.addMenu("&Theme")
        self.theme_group = QActionGroup(self)
        self.theme_actions: dict[str, QAction] = {}
        for key, label in THEME_LABELS.items():
            action = self._action(
                label, lambda _=False, k=key: self.apply_theme(k), (), theme_menu, checkable=True
            )
            self.theme_group.addAction(action)
            self.theme_actions[key] = action
        self.full_screen_action = self._action(
            "&Full Screen", self.toggle_full_screen, ["F11"], view_menu, checkable=True
        )
        self._action(
            "Zoom &In", self.zoom_in, [QKeySequence.StandardKey.ZoomIn, "Ctrl+="], view_menu
        )
        self._action("Zoom &Out", self.zoom_out, [QKeySequence.StandardKey.ZoomOut], view_menu)
        self._action("&Actual Size", lambda: self.set_zoom(1.0), ["Ctrl+0"], view_menu)

        help_menu = bar.addMenu("&Help")
        self._action("&Keyboard Shortcuts", self.show_shortcuts, ["F1", "Ctrl+/"], help_menu)
        self._action("&About", self.show_about, (), help_menu)

    def _build_status(self) -> None:
        self.status_label = QLabel("Step 0")
        self.status_label.setAccessibleName("Run status")
        self.statusBar().addPermanentWidget(self.status_label, 1)
        # The run's status fills the bar, so a message ("Saving …", "Opened …") had no room and
        # was never seen: while one shows, it takes the status's place.
        self.statusBar().messageChanged.connect(self._on_status_message)

    def _on_status_message(self, message: str) -> None:
        self.status_label.setVisible(not message)

    def _connect(self) -> None:
        c = self.controls
        c.configChanged.connect(self._on_config_changed)
        c.speedChanged.connect(self._on_speed)
        c.stopConditionsChanged.connect(self._on_stop_conditions)
        c.playToggled.connect(self.toggle_play)
        c.stepRequested.connect(self.step)
        c.resetRequested.connect(self.reset)
        strip = self.view_layout.stage_strip
        strip.play.clicked.connect(self.toggle_play)
        strip.step.clicked.connect(self.step)
        strip.reset.clicked.connect(self.reset)
        self.lesson_panel.stepChanged.connect(self._update_stage_strip)
        self._connect_run(self.run_a)
        self.quantity.currentIndexChanged.connect(self._on_quantity)
        self.overlay.toggled.connect(self._on_overlay)
        self.lock_axis.toggled.connect(self.bars.set_locked)
        self.fit_axis.clicked.connect(self.fit_bars_to_data)
        self.layer.valueChanged.connect(self._on_layer)
        self.bars.layerClicked.connect(self._on_bar_clicked)
        self.network_picture.layerClicked.connect(self._on_bar_clicked)
        self.compare.toggled.connect(self.set_compare)
        self.lesson_panel.applyRequested.connect(self.apply_lesson_step)
        self.lesson_panel.playRequested.connect(self.toggle_play)
        self.lesson_panel.stepRequested.connect(self.step)
        self.lesson_panel.resetRequested.connect(self.reset)
        self.edit_a.toggled.connect(lambda _checked: self._on_edit_target())
        self._on_speed(self.controls.speed.currentData())  # the default pace (Classroom)
        self.controls.advancedToggled.connect(self._on_advanced)
        mode = self.settings.text("view/advanced", "simple", ("simple", "advanced"))
        self.set_advanced(mode == "advanced")
        self._on_advanced(self.controls.is_advanced())
        self.copy_a_to_b.clicked.connect(self.copy_a_into_b)
        self.show_other.clicked.connect(self.show_other_run)
        self.activation_plot.set_activation(self.controls.config().network.activation)
        self.bars.set_quantity("signal")
        self.heatmap.set_quantity("signal")
        self.bars.set_overlay(self.overlay.isChecked())

    def _connect_run(self, run: RunSlot) -> None:
        run.controller.stateChanged.connect(self._on_state)
        run.controller.errorOccurred.connect(self._on_error)
        run.changed.connect(self._on_snapshot_arrived)

    # ---------------------------------------------------------------- run commands
    @Slot()
    def toggle_play(self) -> None:
        if any(r.controller.playing for r in self.runs()):
            self.pause()
        else:
            self.play()

    def play(self) -> None:
        self.reveal_answer()
        for run in self.runs():
            run.controller.play()

    def pause(self) -> None:
        for run in self.runs():
            run.controller.pause()

    @Slot()
    def step(self) -> None:
        self.reveal_answer()
        for run in self.runs():
            run.controller.step()

    @Slot()
    def reset(self) -> None:
        for run in self.runs():
            run.controller.reset()

    def apply_config(self, config: ExperimentConfig) -> None:
        """Show ``config`` in the controls and apply it to the edited run."""
        self.controls.set_config(config)
        self._on_config_changed(config)

    @Slot(object)
    def _on_config_changed(self, config: ExperimentConfig) -> None:
        run = self.edited_run
        old = run.controller.config
        run.controller.set_config(config)
        if (
            config.train.optimizer != old.train.optimizer
            and config.network == old.network
            and config.data == old.data
        ):
            self.statusBar().showMessage(optimizer_change_message(config.train.optimizer), 10000)
        if config.network.activation != old.network.activation and run is self.shown_run:
            self.activation_plot.set_activation(config.network.activation)
        self.layer.setMaximum(config.network.depth)
        self._update_title()
        self._update_run_labels()

    def _on_speed(self, steps) -> None:
        for run in self.runs():
            run.controller.set_steps_per_frame(steps)

    def _on_stop_conditions(self, max_steps, target_loss) -> None:
        for run in self.runs():
            run.controller.set_stop_conditions(max_steps, target_loss)

    @Slot(str)
    def _on_state(self, _state: str) -> None:
        playing = any(r.controller.playing for r in self.runs())
        self.controls.set_playing(playing)
        self.lesson_panel.set_playing(playing)
        self.view_layout.stage_strip.set_playing(playing)

    @Slot(str, str)
    def _on_error(self, summary: str, details: str) -> None:
        log.error("worker error: %s\n%s", summary, details)
        if self._closing:
            return  # an error racing the close: the log has it, a dialog would outlive the window
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Training stopped",
            f"Training stopped because of an error:\n\n{summary}",
            parent=self,
        )
        box.setObjectName("worker_error")
        box.setDetailedText(details)
        box.open()
        self.statusBar().showMessage(f"Error: {summary}", 10000)

    # ---------------------------------------------------------------- lessons
    def open_lesson(self, path: str | Path) -> bool:
        """Show a lesson file in the Lesson panel (its first step is not applied until asked)."""
        from .files import show_error

        path = Path(path)
        try:
            lesson = load_lesson(path)
        except LessonFileError as exc:
            show_error(
                self,
                "Cannot open the lesson",
                f"{path.name} was not opened:\n\n{exc}\n\n"
                "Nothing in the current session was changed.",
            )
            return False
        self.lesson_panel.set_lesson(lesson, 0)
        self.docks["lesson"].show()
        self.docks["lesson"].raise_()
        self._update_stage_strip()
        if path.resolve().parent != resource_path("lessons").resolve():  # a teacher's own file
            self.settings.add_recent_file(path)
            self._rebuild_recent_menu()
        self.statusBar().showMessage(f"Lesson: {lesson.title}", 8000)
        return True

    @Slot(object)
    def apply_lesson_step(self, step) -> None:
        """Set up a lesson step's experiment (in run A) and the view it asks for."""
        if self.run_b is not None and self.editing == "B":
            self.edit_a.setChecked(True)
        self.apply_config(step.settings)
        view = step.view
        if view.quantity is not None:
            self.set_quantity(view.quantity)
        if view.overlay is not None:
            self.overlay.setChecked(view.overlay)
        if view.layer is not None:
            self.layer.setValue(view.layer)
        if view.panel is not None:
            self.docks["features" if view.panel == "features" else "dataset"].raise_()
        if view.play is not None:
            self.play() if view.play else self.pause()
        if step.predict:
            self.hide_answer()
        self.statusBar().showMessage(f"Set up: {step.title}", 8000)

    def hide_answer(self) -> None:
        """A step asks the class to predict: hide the bars and the headline until Play."""
        self.bars.set_answer_hidden(True)
        self.headline.setVisible(False)

    def reveal_answer(self) -> None:
        if self.bars.answer_hidden():
            self.bars.set_answer_hidden(False)
            self.headline.setVisible(True)

    # ---------------------------------------------------------------- compare A/B
    @Slot(bool)
    def set_compare(self, on: bool) -> None:
        """Start or stop run B (a copy of A's settings, on the same data and seed)."""
        if self.compare.isChecked() != on:
            self.compare.setChecked(on)  # re-enters through the toggled signal
            return
        self.compare_action.setChecked(on)
        if on and self.run_b is None:
            self.run_b = RunSlot("B", self.run_a.config, self)
            self._connect_run(self.run_b)
            self.run_b.controller.set_steps_per_frame(self.controls.speed.currentData())
            self.run_b.controller.set_stop_conditions(*self.controls.stop_conditions())
            if self.run_a.controller.playing:
                self.run_b.controller.play()
        elif not on and self.run_b is not None:
            run_b, self.run_b = self.run_b, None
            # Stopping B's process takes up to a step's layer and its exit: a reaper thread
            # waits for it, not the GUI thread (937 ms here at depth 200 x width 256).
            run_b.controller.stateChanged.disconnect(self._on_state)
            run_b.controller.errorOccurred.disconnect(self._on_error)
            run_b.changed.disconnect(self._on_snapshot_arrived)
            self._retiring.append(run_b)
            run_b.controller.retired.connect(lambda r=run_b: self._forget_retired(r))
            run_b.retire()
            self.edit_a.setChecked(True)
            self.bars.show_values(self.bars_values_a(), values_b=None)
            self.curves.set_history_b(None, None, None)
        self.compare_tools.setVisible(on)
        self.show_other.setVisible(on)
        self.show_other_action.setEnabled(on)
        # On: nothing drawn changes until B's first snapshot, which is drawn the moment it
        # arrives; drawing A again here cost the click 40-50 ms at depth 200.
        self._on_edit_target(redraw=not on)
        self._update_title()
        self.view_layout.schedule(2)  # legends grow or shrink with run B: reflow

    def _on_edit_target(self, redraw: bool = True) -> None:
        self.editing = "B" if (self.edit_b.isChecked() and self.run_b is not None) else "A"
        run = self.edited_run
        self.controls.set_config(run.config)
        self.layer.setMaximum(run.config.network.depth)
        self.show_run(self.editing, redraw)  # the side views follow the run being edited

    def show_run(self, name: str, redraw: bool = True) -> None:
        """Show run ``name`` ("A" or "B") in the side views (A when not comparing); drawn now
        unless ``redraw`` is False (then at the shown run's next snapshot)."""
        self.showing = "B" if (name == "B" and self.run_b is not None) else "A"
        run = self.shown_run
        self.activation_plot.set_activation(run.config.network.activation)
        self._dataset_key = self._data_kind_key = None
        self._update_run_labels()
        self._update_feature_layer()
        if redraw:
            run.drawn = None
            self._redraw()

    def show_other_run(self) -> None:
        """The one-click switch of the side views between run A and run B."""
        self.show_run("A" if self.showing == "B" else "B")

    def run_labels(self) -> dict[str, str]:
        """{"A": "A: sigmoid + Xavier", "B": "B: ReLU + He"} from the runs' settings."""
        return run_labels(self.run_a.config, self.run_b.config if self.run_b else None)

    def _update_run_labels(self) -> None:
        """Name the runs by their setup in the bars' and curves' legends, the side views' titles
        and the switch."""
        labels = self.run_labels()
        comparing = self.run_b is not None
        if comparing:
            self.bars.set_run_labels(labels["A"], labels["B"])
            self.curves.set_run_labels(labels["A"], labels["B"])
            other = "B" if self.showing == "A" else "A"
            self.show_other.setText(f"Show run {other}")
        for key in SIDE_VIEWS:
            if key not in self.docks:
                continue
            title = self.docks[key].windowTitle().split(" — ")[0]
            suffix = f" — {labels[self.showing]}" if comparing else ""
            self.docks[key].setWindowTitle(title + suffix)

    def copy_a_into_b(self) -> None:
        if self.run_b is None:
            return
        self.run_b.controller.set_config(self.run_a.config)
        if self.editing == "B":
            self.controls.set_config(self.run_a.config)
        if self.showing == "B":
            self.activation_plot.set_activation(self.run_a.config.network.activation)
        self._update_run_labels()

    # ---------------------------------------------------------------- simple / advanced
    def set_advanced(self, on: bool) -> None:
        """Advanced mode shows every setting and precise legends; simple mode (the default)
        the settings a lesson needs and legends in plain words. Remembered."""
        self.controls.set_advanced(bool(on))

    def _on_advanced(self, on: bool) -> None:
        self.advanced_action.setChecked(on)
        self.settings.set("view/advanced", "advanced" if on else "simple")
        for widget in (self.lock_axis, self.fit_axis):
            widget.setVisible(on)
        update = self.quantity.findData("update")
        # The update ratio stays selectable when a lesson has chosen it.
        hide = not on and self.quantity.currentIndex() != update
        self.quantity.view().setRowHidden(update, hide)
        self.bars.set_plain_language(not on)
        self.activation_plot.set_plain_language(not on)

    def _size_dock_titles(self) -> None:
        """Panel titles in the window's type. QDockWidget draws its title in a font it reads
        once, at creation, unless its own font differs from the application's: so each dock
        gets the application font with an (invisible) different style strategy."""
        font = QFont(QApplication.font())
        font.setStyleStrategy(QFont.StyleStrategy.PreferQuality)
        for dock in self.docks.values():
            dock.setFont(font)

    def _size_headline(self, two_runs: bool) -> None:
        font = QFont(QApplication.font())
        font.setPointSizeF(font.pointSizeF() * (1.0 if two_runs else HEADLINE_SCALE))
        font.setBold(True)
        if font != self.headline.font():
            self.headline.setFont(font)

    def _update_headline(self, snaps: list[tuple[str, Snapshot]], key: str) -> None:
        now = time.perf_counter()
        playing = any(s.playing for _, s in snaps)
        if playing and now - self._headline_at < HEADLINE_INTERVAL:
            return

        def line(s: Snapshot) -> str:
            values = snapshot_values(s, key)
            dead = dead_headline(s) if key != "update" else ""
            return dead if dead and np.any(values == 0) else headline(values, key)

        text = "\n".join(f"{name}: {line(s)}" if name else line(s) for name, s in snaps)
        if text != self.headline.text():
            self._headline_at = now
            self.headline.setText(text)
            self._size_headline(len(snaps) > 1)

    # ---------------------------------------------------------------- view controls
    def fit_bars_to_data(self) -> None:
        values = [
            snapshot_values(r.drawn, self.quantity.currentData())
            for r in self.runs()
            if r.drawn is not None
        ]
        if values:
            self.bars.fit_to(np.concatenate(values))

    def _on_quantity(self) -> None:
        self.bars.set_quantity(self.quantity.currentData())
        self.heatmap.set_quantity(self.quantity.currentData())
        self._redraw()

    def set_quantity(self, key: str) -> None:
        self.quantity.setCurrentIndex(self.quantity.findData(key))

    def _offer_stream_quantity(self) -> None:
        """The residual stream ‖∂L/∂h‖ is on the Show menu only while a run has residual
        connections (a plain stack has no shortcut to carry it); leaving them switches the bars
        back to the signal."""
        residual = any(r.controller.config.network.residual for r in self.runs())
        if residual == self._stream_offered:
            return
        self._stream_offered = residual
        row = self.quantity.findData("stream")
        self.quantity.view().setRowHidden(row, not residual)
        if not residual and self.quantity.currentIndex() == row:
            self.quantity.setCurrentIndex(self.quantity.findData("signal"))

    def _on_overlay(self, on: bool) -> None:
        self.bars.set_overlay(on)
        self._redraw()

    def _on_layer(self) -> None:
        self.bars.set_selected_layer(self.layer.value() - 1)
        self.network_picture.set_selected_layer(self.layer.value() - 1)
        self._update_feature_layer()
        self._redraw()

    def _on_network_visibility(self, visible: bool) -> None:
        self._network_on_screen = visible  # drawn as it comes on screen: _on_panel_shown

    def _on_features_visibility(self, visible: bool) -> None:
        # Qt says when the dock's tab is brought to the front or sent back (isVisible() of a
        # dock behind another tab is not reliable), so this flag is the source of truth.
        self._features_on_screen = visible
        self._update_feature_layer()  # drawn as it comes on screen: _on_panel_shown

    def _update_feature_layer(self) -> None:
        """Ask the shown run's training process for the selected layer's units while the
        "Layer features" view is on screen, and every other run for none (they cost time)."""
        on_screen = self._features_on_screen and self.docks["features"].isVisible()
        for run in self.runs():
            wanted = self.layer.value() if on_screen and run is self.shown_run else None
            if run.controller.feature_layer != wanted:
                run.controller.set_feature_layer(wanted)

    def _on_bar_clicked(self, index: int) -> None:
        self.layer.setValue(index + 1)

    def apply_theme(self, name: str) -> None:
        self.theme_name = name
        self.theme_actions[name].setChecked(True)
        self._apply_type()
        self.settings.set("view/theme", name)
        self._redraw()

    def plot_theme(self):
        """The plots' theme at the current type size."""
        return scaled_theme(THEMES[self.theme_name], self.effective_zoom)

    def _apply_type(self) -> None:
        """Fonts and colors at the effective zoom, then a reflow once they reached the widgets."""
        app = QApplication.instance()
        apply_widget_theme(app, self.theme_name, self.effective_zoom)
        theme = self.plot_theme()
        for plot in (
            self.bars,
            self.activation_plot,
            self.curves,
            self.heatmap,
            self.dataset_plot,
            self.digits_view,
            self.features_view,
            self.network_picture,
        ):
            plot.apply_theme(theme)
        self._size_headline(self.run_b is not None)
        self._size_dock_titles()
        # Larger type needs a wider control panel: sized once the new fonts have reached the
        # widgets (their size hints change only then); then the layout reflows.
        QTimer.singleShot(0, self._fit_controls_width)
        self.view_layout.schedule(3)

    def set_effective_zoom(self, zoom: float) -> None:
        """The layout's choice of zoom (never above the user's): type stops growing where the
        core views would no longer fit the window."""
        if abs(zoom - self.effective_zoom) > 1e-3:
            self.effective_zoom = zoom
            self._apply_type()

    def _fit_controls_width(self) -> None:
        """Never clip a button or a field: the control panel is at least as wide as its contents
        at the current type size, plus its scroll bar."""
        scroll = self.controls_scroll
        # One column: in a wide bottom tab the groups stand side by side, which must not
        # widen the side column the controls take on a large screen.
        page = max(self.controls.column_width(), self._compare_box.sizeHint().width())
        needed = page + scroll.verticalScrollBar().sizeHint().width()
        scroll.setMinimumWidth(needed + 4)
        self.view_layout.schedule(2)

    def set_zoom(self, zoom: float) -> None:
        """The user's zoom; the window reflows (it never grows past its size for larger type)."""
        self.zoom = float(np.clip(zoom, *ZOOM_RANGE))
        self.settings.set("view/zoom", self.zoom)
        self.effective_zoom = self.zoom
        self.apply_theme(self.theme_name)

    def zoom_in(self) -> None:
        self.set_zoom(self.zoom * ZOOM_STEP)

    def zoom_out(self) -> None:
        self.set_zoom(self.zoom / ZOOM_STEP)

    def toggle_stage_view(self) -> None:
        self.set_stage_view(not self.view_layout.stage)

    def set_stage_view(self, on: bool, full_screen: bool = True) -> None:
        """Stage view (F5): only what the class must look at; Esc returns to the layout before.

        ``full_screen=False`` keeps the window's size (tests measure it at given sizes)."""
        self.view_layout.set_stage(on, full_screen)
        self.stage_action.setChecked(on)
        self.leave_stage_action.setEnabled(on)
        self._update_stage_strip()

    def _leave_stage(self) -> None:
        if self.view_layout.stage:
            self.set_stage_view(False)

    def _update_stage_strip(self) -> None:
        strip = self.view_layout.stage_strip
        step = self.lesson_panel.current_step() if self.view_layout.is_open("lesson") else None
        strip.set_question(step.question if step is not None else "")
        strip.set_playing(any(r.controller.playing for r in self.runs()))

    def show_on_screen(self) -> None:
        """First launch: fit the window to the screen's available geometry (maximized on
        screens below layout.LARGE_SCREEN), with a minimum size the screen can hold."""
        screen = self.screen() or QApplication.primaryScreen()
        available = screen.availableGeometry()
        size, maximized = first_window((available.width(), available.height()))
        self.setMinimumSize(*minimum_window((available.width(), available.height())))
        self.resize(*size)
        offset = QPoint((available.width() - size[0]) // 2, (available.height() - size[1]) // 2)
        self.move(available.topLeft() + offset)
        self.showMaximized() if maximized else self.show()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.view_layout.schedule(2)

    def toggle_full_screen(self) -> None:
        if self.isFullScreen():
            self.showNormal()
        else:
            self.showFullScreen()
        self.full_screen_action.setChecked(self.isFullScreen())

    def show_about(self) -> None:
        QMessageBox.about(
            self,
            f"About {APP_NAME}",
            f"<h3>{APP_NAME} {__version__}</h3>"
            "<p>Watch the vanishing gradient problem happen — and watch ReLU, residual "
            "connections, batch normalization and better initialization fix it. A real NumPy "
            "network trains while the window shows the gradient reaching each layer.</p>"
            "<p>Works fully offline.</p>",
        )

    def show_shortcuts(self) -> None:
        from .widgets.shortcuts import ShortcutsDialog

        ShortcutsDialog(self).open()

    # ---------------------------------------------------------------- files (see files.py)
    def open_file_dialog(self) -> None:
        from . import files

        files.open_file_dialog(self)

    def open_path(self, path: str | Path) -> bool:
        """Open ``path`` now (read on this thread; tests and scripts): True on success."""
        from . import files

        return files.open_path(self, Path(path))

    def open_in_background(self, path: str | Path) -> bool:
        """Open ``path`` as the menus do: read and checked on a thread, shown when done."""
        from . import files

        return files.open_in_background(self, Path(path))

    def save(self) -> None:
        from . import files

        files.save(self)

    def save_as(self) -> None:
        from . import files

        files.save_as(self)

    def save_with_weights(self) -> None:
        from . import files

        files.save_as(self, with_weights=True)

    def export_dialog(self) -> None:
        from . import files

        files.export_dialog(self)

    def import_points_dialog(self) -> None:
        from . import points_io

        points_io.import_points_dialog(self)

    def export_points_dialog(self) -> None:
        from . import points_io

        points_io.export_points_dialog(self)

    def _rebuild_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.settings.recent_files()
        for path in recent:
            self._action(
                path.name, lambda _=False, p=path: self.open_in_background(p), (), self.recent_menu
            ).setToolTip(str(path))
        if recent:
            self.recent_menu.addSeparator()
            self._action("Clear List", self._clear_recent, (), self.recent_menu)
        self.recent_menu.setEnabled(bool(recent))

    def _clear_recent(self) -> None:
        self.settings.clear_recent_files()
        self._rebuild_recent_menu()

    def remember_file(self, path: Path) -> None:
        self.settings.add_recent_file(path)
        self._rebuild_recent_menu()
        self.current_file = path
        self._update_title()

    def _update_title(self) -> None:
        name = f" — {self.current_file.name}" if self.current_file else ""
        mode = "  [A/B]" if self.run_b is not None else ""
        self.setWindowTitle(f"{APP_NAME}{name}{mode}")

    # ---------------------------------------------------------------- frames
    def bars_values_a(self) -> np.ndarray:
        if self.run_a.drawn is None:
            return np.zeros(0)
        return snapshot_values(self.run_a.drawn, self.quantity.currentData())

    @Slot()
    def _draw_frame(self) -> None:
        self._history_frame = False
        self._draw_if_allowed()
        if not self._history_frame:  # that frame paints enough; the bars move on at the next
            self.bars.advance_animation()

    @Slot()
    def _on_snapshot_arrived(self) -> None:
        """A new network's first snapshot is drawn at once, not at the next frame tick: at
        launch that tick came only after the empty window's first paint (about 0.1 s), and
        after a control change the user is waiting to see the new network."""
        if any(
            r.latest is not None and (r.drawn is None or r.drawn.run_id != r.latest.run_id)
            for r in self.runs()
        ):
            self._draw_if_allowed()

    def _draw_if_allowed(self) -> None:
        now = time.perf_counter()
        if now < self._next_frame_at:
            return  # the last frame was expensive: leave the GUI thread time for the user
        if any(r.needs_drawing for r in self.runs()):
            self._draw()
            # Drawing (and the painting it causes) may take at most about half the GUI thread:
            # a 200-layer A/B frame on a slow machine must not starve clicks and key presses.
            self._next_frame_at = now + FRAME_DUTY * (time.perf_counter() - now)

    def _redraw(self) -> None:
        for run in self.runs():
            run.drawn = None
        if any(r.latest is not None for r in self.runs()):
            self._draw()

    def _draw(self) -> None:
        if self.run_a.latest is None:
            return
        self._offer_stream_quantity()
        now = time.perf_counter()
        training = any(r.latest is not None and r.latest.playing for r in self.runs())
        if training and now >= self._slow_views_due and not self._new_run_waiting():
            # The history views change slowly and cost the most to paint: while training they
            # get a frame of their own a few times a second, and the bars and the activation
            # plot wait for the next tick (the bars keep animating meanwhile). So no frame
            # paints all five plots, and the frame time stays even.
            self._slow_views_due = now + SLOW_VIEW_INTERVAL
            self._history_frame = True
            self._draw_history_views()
            return
        self._draw_live_views()
        if not training:
            self._draw_history_views()
        self.frames_drawn += 1
        self._update_status()

    def _new_run_waiting(self) -> bool:
        """A new network's first snapshot has not been drawn yet (it goes first)."""
        return any(
            r.latest is not None and (r.drawn is None or r.drawn.run_id != r.latest.run_id)
            for r in self.runs()
        )

    def _draw_live_views(self) -> None:
        """The bars and the activation plot, from each run's newest snapshot."""
        key = self.quantity.currentData()
        a, b = self.run_a, self.run_b
        for run in self.runs():
            run.drawn = run.latest
        snap_a = a.drawn
        snap_b = b.drawn if b is not None else None
        predicted = snap_a.predicted_signal_norms if key == "signal" else None
        net_a = snap_a.config.network
        self.bars.show_values(
            snapshot_values(snap_a, key),
            predicted=predicted,
            values_b=snapshot_values(snap_b, key) if snap_b is not None else None,
            prediction_note=chain_rule_model_note(net_a.normalization, net_a.residual),
        )
        diverged = [
            f"run {s_name}: {s.message}" if b is not None else s.message
            for s_name, s in (("A", snap_a), ("B", snap_b))
            if s is not None and s.diverged
        ]
        self.bars.set_diverged("\n".join(diverged) if diverged else None)
        # A/B: "A" and "B" only (the legend, the status bar and the titles name their setups).
        self._update_headline(
            [("A" if b is not None else "", snap_a)] + ([("B", snap_b)] if snap_b else []), key
        )
        snap = self.shown_run.drawn
        if snap is None:
            return
        layer = min(self.layer.value(), snap.depth) - 1
        self.activation_plot.show_layer(
            layer,
            snap.preactivations[layer],
            float(snap.mean_derivatives[layer]),
            float(snap.saturated_fractions[layer]),
            rms_derivative=float(snap.rms_derivatives[layer]),
            dataset=snap.dataset,
        )
        info = self.activation_plot.info_text()
        if self.run_b is not None:  # A/B: the activation plot shows one run; name it here too
            info = f"{self.run_labels()[self.showing]} · {info}"
        self.layer_info.setText(info)

    def _draw_history_views(self) -> None:
        """Curves, heatmap, data, features and network, from the runs' histories and newest
        snapshots: those on screen. One behind another tab or closed is drawn when it comes
        on screen (_on_panel_shown), so no frame pays for what nobody sees (a new run's first
        frame drew them all: 100-140 ms with A/B at depth 100)."""
        if self.shown_run.latest is None:
            return  # run B just started: nothing of it to show yet
        for key in HISTORY_VIEWS:
            if self._view_on_screen(key):
                self._draw_history_view(key)
            elif key == "dataset":
                self._show_data_kind()  # its tab's title says digits or points: keep it true

    def _view_on_screen(self, key: str) -> bool:
        """Panel ``key`` is shown in the window: not closed, not behind another tab. (A window
        not shown yet, as in scripts and tests, counts as showing what it would show.)"""
        return self.docks[key].isVisibleTo(self)

    def _draw_history_view(self, key: str) -> None:
        shown = self.shown_run
        snap = shown.latest
        if snap is None:
            return
        quantity = self.quantity.currentData()
        if key == "curves":
            self._draw_curves(shown, snap, quantity)
        elif key == "heatmap":
            self._draw_heatmap(shown, snap, quantity)
        elif key == "dataset":
            self._draw_dataset(shown, snap, quantity)
        elif key == "features":
            self._draw_features(snap)
        elif key == "network" and self._network_on_screen:
            self.network_picture.show_snapshot(
                snap,
                snapshot_values(snap, quantity),
                self.bars.bounds(),
                QUANTITY_SYMBOLS[quantity],
            )

    def draw_view_now(self, key: str) -> None:
        """Draw history view ``key`` from the current data even if it is not on screen (an
        export of it). Unknown keys do nothing."""
        if key in HISTORY_VIEWS and self.shown_run.latest is not None:
            self._draw_history_view(key)

    def _on_panel_shown(self, key: str, visible: bool) -> None:
        """A history view came on screen (its tab chosen, its panel opened): show the current
        data before it paints, since frames skip views that are not on screen."""
        if visible and not self._closing and self._view_on_screen(key):
            self._draw_history_view(key)

    def _draw_features(self, snap: Snapshot) -> None:
        if not self._features_on_screen:
            return
        features = snap.features
        if features is not None and features.layer == min(self.layer.value(), snap.depth):
            shown = self.features_view.features
            now = time.perf_counter()
            if (
                snap.playing
                and shown is not None
                and shown.layer == features.layer
                and now < self._features_due
            ):
                return  # while training, 16 images twice a second is live enough
            self._features_due = now + FEATURES_INTERVAL
            self.weight_mode_row.setVisible(features.kind == "weights")
            self.features_view.show_features(features)
        elif features is None or self.features_view.features is None:
            self.features_view.clear_features(
                f"Layer {self.layer.value()}: computing its units' outputs…"
            )

    def _draw_curves(self, shown: RunSlot, snap: Snapshot, key: str) -> None:
        ha = self.run_a.history
        with self.curves.batch():  # the legend changes once, whatever changed
            self.curves.set_history(ha.steps, ha.loss, ha.accuracy)
            self.curves.set_dataset(ha.dataset_steps, ha.dataset_loss, ha.dataset_accuracy)
            if self.run_b is not None:
                hb = self.run_b.history
                self.curves.set_history_b(hb.steps, hb.loss, hb.accuracy)
                self.curves.set_dataset(hb.dataset_steps, hb.dataset_loss, hb.dataset_accuracy, "b")
            else:
                self.curves.set_dataset(None, run="b")
            self.curves.set_chance_level(1.0 / snap.config.data.n_classes)
        settle(self.curves)

    def _draw_heatmap(self, shown: RunSlot, snap: Snapshot, key: str) -> None:
        h = shown.history
        with np.errstate(divide="ignore", invalid="ignore"):
            rows = h.layer_field(HISTORY_FIELD[key])
            if key in ("signal", "stream"):
                rows = rows[:, : snap.depth]
            self.heatmap.set_data(h.steps, np.log10(rows))
        self.heatmap.set_levels(*self.bars.bounds())
        settle(self.heatmap)

    def _show_data_kind(self) -> bool:
        """Points or digits in the data panel, and its title, for the shown run's newest
        snapshot (cheap; done even while the panel is behind another tab). True: images."""
        shown = self.shown_run
        snap = shown.latest
        images = snap.config.data.name in IMAGE_DATASETS
        if self._data_kind_key != (shown.name, snap.run_id):
            self._data_kind_key = (shown.name, snap.run_id)
            self.data_stack.setCurrentWidget(self.digits_view if images else self.dataset_plot)
            self.draw_bar.setVisible(not images)
            if images:
                self.draw_bar.toggle.setChecked(False)
            self.docks["dataset"].setWindowTitle(DATA_DOCK_TITLES[images])
            self._update_run_labels()  # A/B: the title names the run it shows
        return images

    def _draw_dataset(self, shown: RunSlot, snap: Snapshot, key: str) -> None:
        images = self._show_data_kind()
        if self._dataset_key != (shown.name, snap.run_id):
            self._dataset_key = (shown.name, snap.run_id)
            if images:
                self.digits_view.set_data(snap.data_x, snap.data_y)
            else:
                points = snap.config.data.points
                names = points.class_names if points is not None else None
                self.dataset_plot.set_data(snap.data_x, snap.data_y, names)
        if images:
            if snap.test is not None and snap.test is not self._decision_shown:
                self._decision_shown = snap.test
                self.digits_view.show_result(snap.test)
            return
        if snap.decision is not None and snap.decision is not self._decision_shown:
            self._decision_shown = snap.decision
            self.dataset_plot.show_decision(snap.decision)

    def _update_status(self) -> None:
        parts = []
        for run in self.runs():
            s = run.drawn
            if s is None:
                continue
            if self.run_b is not None:  # two runs share the bar: shorter figures, named runs
                parts.append(run_status(s, f"{self.run_labels()[run.name]}: ", compact=True))
            else:
                parts.append(run_status(s))
        self.status_label.setText("     |     ".join(parts))
        if self.view_layout.stage:
            self.view_layout.stage_strip.status.setText(
                "   ".join(
                    f"{self.run_labels()[r.name] + ': ' if self.run_b is not None else ''}"
                    f"step {r.drawn.step:,}"
                    for r in self.runs()
                    if r.drawn is not None
                )
            )

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.view_layout.schedule(3)

    # ---------------------------------------------------------------- shutdown
    def closeEvent(self, event) -> None:
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop drawing, stop the workers and wait for their threads (idempotent)."""
        if self._closing:
            return
        self._closing = True
        self.frame_timer.stop()
        try:
            self.settings.save_experiment(self.run_a.config)
            self.settings.sync()
        except Exception:  # never block closing on the settings store
            log.exception("could not save the settings")
        for run in self.runs():
            run.shutdown()
        for run in list(self._retiring):
            run.shutdown()  # waits for a run B turned off just before the close
        self._retiring.clear()
        # A save under way (its weights may have come just now, from a run's shutdown) is
        # finished, not cut off: its files are complete, or the previous ones are untouched.
        if not self.file_jobs.wait(FILE_JOB_PATIENCE_S):
            log.warning("a file was still being written or read when the window closed")

    def _forget_retired(self, run: RunSlot) -> None:
        if run in self._retiring:
            self._retiring.remove(run)


class FileOpenFilter(QObject):
    """Opens files the desktop hands over as events (macOS Finder double-clicks)."""

    def __init__(self, window: MainWindow, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.window = window

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.Type.FileOpen and event.file():
            self.window.open_in_background(event.file())
            return True
        return False


def build_arg_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vg-desktop",
        description=f"{APP_NAME}: watch the vanishing gradient problem happen. "
        "'vg-desktop run --help' describes the headless command line.",
    )
    parser.add_argument(
        "file", nargs="?", type=Path, help="an experiment (.vgx) or lesson (.vglesson) file to open"
    )
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="open the window offscreen, train several networks, close, and "
        "exit 0 if everything worked",
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="with --self-test: keep training and drawing this long",
    )
    parser.add_argument(
        "--screenshot",
        type=Path,
        metavar="PNG",
        help="with --self-test: save a screenshot of the window here",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_arg_parser().parse_args(sys.argv[1:] if argv is None else argv)
    if args.self_test:
        from .selftest import run_self_test

        return run_self_test(args.screenshot, args.duration)
    from .crash import install_exception_hooks, quit_on_signals, setup_logging

    setup_logging()
    install_exception_hooks()
    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(ORG_NAME)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("vg-desktop")  # Wayland/GNOME match the window to its .desktop icon
    window = MainWindow()
    file_opener = FileOpenFilter(window, app)  # macOS Finder sends files as QFileOpenEvent
    app.installEventFilter(file_opener)
    app.aboutToQuit.connect(window.shutdown)  # quit() by signal or menu: stop the workers first
    signal_timer = quit_on_signals(app)  # noqa: F841 (kept alive for the app's lifetime)
    window.show_on_screen()
    if args.file is not None:
        QTimer.singleShot(0, lambda: window.open_in_background(args.file))
    # Logged once the event loop runs (signals are handled from then on); tests wait for it.
    QTimer.singleShot(
        0, lambda: log.info("%s %s started (pid %d)", APP_NAME, __version__, os.getpid())
    )
    status = app.exec()
    log.info("quit (status %d)", status)
    return status
