"""The main window: controls, the five views, menus, status bar and the frame timer.

Data flow: :class:`ControlPanel` emits a config -> :class:`TrainingController` (worker thread)
trains and emits snapshots -> :meth:`MainWindow._on_snapshot` keeps the newest and appends its
history -> the 60 Hz frame timer draws the newest snapshot once. The GUI never queues a backlog of
frames, however fast the worker trains.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSize, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from . import APP_NAME, ORG_NAME, __version__
from .engine import ExperimentConfig, RunHistory
from .paths import resource_path
from .plots import (
    ActivationPlot,
    DatasetPlot,
    GradientBarsPlot,
    GradientHeatmap,
    TrainingCurvesPlot,
    configure_pyqtgraph,
)
from .snapshot import Snapshot
from .widgets.controls import ControlPanel
from .worker import TrainingController

FRAME_MS = 16
QUANTITIES = [
    ("signal", "Signal ‖∂L/∂z‖", "The back-propagated signal at each layer's linear output. "
     "With sigmoid it shrinks by up to 4× per layer toward the input."),
    ("weight", "Weight gradient ‖∂L/∂W‖", "What each layer's weights actually receive. For equal "
     "widths at initialization it can stay flat even while the signal vanishes "
     "(Glorot & Bengio 2010)."),
    ("update", "Update ratio ‖ΔW‖/‖W‖", "How much one step changes each layer's weights, relative "
     "to their size; around 1e-3 is a common rule of thumb for healthy learning."),
]
HISTORY_FIELD = {"signal": "signal_grad_norm", "weight": "weight_grad_norm",
                 "update": "update_ratio"}


def default_config() -> ExperimentConfig:
    """Opens on the problem: a deep sigmoid network whose first layers get almost no gradient."""
    return ExperimentConfig()


class MainWindow(QMainWindow):
    """The complete application window, with its defaults; ``MainWindow()`` is all it takes."""

    def __init__(self, config: ExperimentConfig | None = None) -> None:
        super().__init__()
        configure_pyqtgraph()
        self.setWindowTitle(APP_NAME)
        icon = resource_path("icons", "vg-desktop.svg")
        if icon.exists():
            self.setWindowIcon(QIcon(str(icon)))
        config = config or default_config()
        self._latest: Snapshot | None = None
        self._drawn: Snapshot | None = None
        self._run_id = -1
        self.history = RunHistory(config.network.depth)
        self.frames_drawn = 0
        self._frame_times: list[float] = []
        self._closing = False

        self.controls = ControlPanel(config)
        self.controller = TrainingController(config, self)
        self._build_views()
        self._build_menus()
        self._build_status()
        self._connect()
        self.resize(QSize(1440, 900))

        self.frame_timer = QTimer(self)
        self.frame_timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.frame_timer.timeout.connect(self._draw_frame)
        self.frame_timer.start(FRAME_MS)

    # ---------------------------------------------------------------- construction
    def _build_views(self) -> None:
        self.bars = GradientBarsPlot()
        self.activation_plot = ActivationPlot()
        self.curves = TrainingCurvesPlot()
        self.heatmap = GradientHeatmap()
        self.dataset_plot = DatasetPlot()

        # Central view: the gradient bars with their own small toolbar.
        self.quantity = QComboBox()
        for key, label, tip in QUANTITIES:
            self.quantity.addItem(label, key)
            self.quantity.setItemData(self.quantity.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        self.quantity.setAccessibleName("Gradient quantity")
        self.quantity.setToolTip("Which gradient the bars show; the axis label says which.")
        self.overlay = QCheckBox("Chain-rule estimate")
        self.overlay.setAccessibleName("Chain-rule estimate")
        self.overlay.setToolTip(
            "Overlay the chain rule's prediction: start from the last layer and multiply, layer "
            "by layer, by the mean f′ under the histogram and the weights' gain. It matches a "
            "plain stack; the gap shows what normalization or residual paths add."
        )
        self.lock_axis = QCheckBox("Lock axis")
        self.lock_axis.setAccessibleName("Lock axis")
        self.lock_axis.setToolTip("Keep the y-axis bounds fixed, even when the network or the "
                                  "quantity changes, so runs can be compared by eye.")
        self.fit_axis = QPushButton("Fit axis")
        self.fit_axis.setAccessibleName("Fit axis")
        self.fit_axis.setToolTip("Set the y axis once to the decades the bars span now. The axis "
                                 "never rescales by itself frame to frame.")
        bar_tools = QHBoxLayout()
        bar_tools.addWidget(QLabel("Show"))
        bar_tools.addWidget(self.quantity)
        bar_tools.addWidget(self.overlay)
        bar_tools.addStretch(1)
        bar_tools.addWidget(self.lock_axis)
        bar_tools.addWidget(self.fit_axis)
        central = QWidget()
        v = QVBoxLayout(central)
        v.setContentsMargins(6, 6, 6, 0)
        v.addLayout(bar_tools)
        v.addWidget(self.bars, 1)
        self.setCentralWidget(central)

        # Activation plot with its layer selector.
        self.layer = QSpinBox()
        self.layer.setRange(1, self.controls.config().network.depth)
        self.layer.setAccessibleName("Layer")
        self.layer.setToolTip("Which layer's pre-activations to show on the derivative curve "
                              "(or click a bar).")
        act_panel = QWidget()
        av = QVBoxLayout(act_panel)
        av.setContentsMargins(6, 6, 6, 0)
        row = QHBoxLayout()
        row.addWidget(QLabel("Layer"))
        row.addWidget(self.layer)
        row.addStretch(1)
        av.addLayout(row)
        av.addWidget(self.activation_plot, 1)

        scroll = QScrollArea()
        scroll.setWidget(self.controls)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(self.controls.sizeHint().width() + 24)

        self.docks: dict[str, QDockWidget] = {}
        self._add_dock("controls", "Controls", scroll, Qt.DockWidgetArea.LeftDockWidgetArea)
        self._add_dock("activation", "Activation and its derivative", act_panel,
                       Qt.DockWidgetArea.RightDockWidgetArea)
        self._add_dock("curves", "Loss and accuracy", self.curves,
                       Qt.DockWidgetArea.BottomDockWidgetArea)
        self._add_dock("heatmap", "Gradient flow over time", self.heatmap,
                       Qt.DockWidgetArea.BottomDockWidgetArea)
        self._add_dock("dataset", "Data and decision regions", self.dataset_plot,
                       Qt.DockWidgetArea.BottomDockWidgetArea)
        self.splitDockWidget(self.docks["curves"], self.docks["heatmap"],
                             Qt.Orientation.Horizontal)
        self.splitDockWidget(self.docks["heatmap"], self.docks["dataset"],
                             Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["activation"]], [520], Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["curves"]], [300], Qt.Orientation.Vertical)

    def _add_dock(self, key: str, title: str, widget: QWidget, area) -> None:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{key}")
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(area, dock)
        self.docks[key] = dock

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self.quit_action = QAction("&Quit", self)
        self.quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        self.quit_action.triggered.connect(self.close)
        file_menu.addAction(self.quit_action)

        run_menu = bar.addMenu("&Run")
        self.play_action = QAction("&Play / Pause", self)
        self.play_action.setShortcut(QKeySequence(Qt.Key.Key_Space))
        self.step_action = QAction("&Step", self)
        self.step_action.setShortcuts([QKeySequence(Qt.Key.Key_S), QKeySequence(Qt.Key.Key_Right)])
        self.reset_action = QAction("&Reset", self)
        self.reset_action.setShortcut(QKeySequence(Qt.Key.Key_R))
        for action in (self.play_action, self.step_action, self.reset_action):
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            run_menu.addAction(action)
            self.addAction(action)

        view_menu = bar.addMenu("&View")
        for dock in self.docks.values():
            view_menu.addAction(dock.toggleViewAction())

        help_menu = bar.addMenu("&Help")
        about = QAction("&About", self)
        about.triggered.connect(self.show_about)
        help_menu.addAction(about)

    def _build_status(self) -> None:
        self.status_label = QLabel("Step 0")
        self.status_label.setAccessibleName("Run status")
        self.statusBar().addPermanentWidget(self.status_label, 1)

    def _connect(self) -> None:
        c = self.controls
        c.configChanged.connect(self._on_config_changed)
        c.speedChanged.connect(self.controller.set_steps_per_frame)
        c.playToggled.connect(self.toggle_play)
        c.stepRequested.connect(self.controller.step)
        c.resetRequested.connect(self.reset)
        self.play_action.triggered.connect(self.toggle_play)
        self.step_action.triggered.connect(self.controller.step)
        self.reset_action.triggered.connect(self.reset)
        self.controller.snapshotReady.connect(self._on_snapshot)
        self.controller.stateChanged.connect(self._on_state)
        self.controller.errorOccurred.connect(self._on_error)
        self.quantity.currentIndexChanged.connect(self._on_quantity)
        self.overlay.toggled.connect(self._on_overlay)
        self.lock_axis.toggled.connect(self.bars.set_locked)
        self.fit_axis.clicked.connect(self.fit_bars_to_data)
        self.layer.valueChanged.connect(self._on_layer)
        self.bars.layerClicked.connect(lambda i: self.layer.setValue(i + 1))
        self.activation_plot.set_activation(self.controls.config().network.activation)
        self.bars.set_quantity("signal")

    # ---------------------------------------------------------------- actions
    @Slot()
    def toggle_play(self) -> None:
        if self.controller.playing:
            self.controller.pause()
        else:
            self.controller.play()

    @Slot()
    def reset(self) -> None:
        self.controller.reset()

    def apply_config(self, config: ExperimentConfig) -> None:
        """Show ``config`` in the controls and apply it to the run (rebuilding if needed)."""
        self.controls.set_config(config)
        self._on_config_changed(config)

    @Slot(object)
    def _on_config_changed(self, config: ExperimentConfig) -> None:
        old = self.controller.config
        self.controller.set_config(config)
        if config.network.activation != old.network.activation:
            self.activation_plot.set_activation(config.network.activation)
        self.layer.setMaximum(config.network.depth)

    @Slot(str)
    def _on_state(self, state: str) -> None:
        self.controls.set_playing(state == "playing")

    @Slot(str, str)
    def _on_error(self, summary: str, details: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, "Training stopped",
                          f"Training stopped because of an error:\n\n{summary}", parent=self)
        box.setDetailedText(details)
        box.open()
        self.statusBar().showMessage(f"Error: {summary}", 10000)

    def show_about(self) -> None:
        QMessageBox.about(
            self, f"About {APP_NAME}",
            f"<h3>{APP_NAME} {__version__}</h3>"
            "<p>Watch the vanishing gradient problem happen — and watch ReLU, residual "
            "connections, batch normalization and better initialization fix it. A real NumPy "
            "network trains while the window shows the gradient reaching each layer.</p>"
            "<p>Works fully offline.</p>",
        )

    def fit_bars_to_data(self) -> None:
        if self._drawn is not None:
            self.bars.fit_to(self._quantity_values(self._drawn))

    def _on_quantity(self) -> None:
        key = self.quantity.currentData()
        self.bars.set_quantity(key)
        self._redraw()

    def _on_overlay(self, on: bool) -> None:
        self.bars.set_overlay(on)
        self._redraw()

    def _on_layer(self) -> None:
        self.bars.set_selected_layer(self.layer.value() - 1)
        self._redraw()

    # ---------------------------------------------------------------- snapshots and frames
    @Slot(object)
    def _on_snapshot(self, snap: Snapshot) -> None:
        """Keep the newest snapshot and its history; drawing waits for the frame timer."""
        if snap.run_id != self._run_id:
            self._run_id = snap.run_id
            self.history = RunHistory(snap.depth)
            self.layer.setMaximum(snap.depth)
        chunk = snap.history
        for i in range(len(chunk)):
            self.history.append(
                int(chunk.steps[i]), float(chunk.loss[i]), float(chunk.accuracy[i]),
                signal_grad_norm=chunk.signal_grad_norms[i],
                weight_grad_norm=chunk.weight_grad_norms[i],
                update_ratio=chunk.update_ratios[i],
                saturated_fraction=chunk.saturated_fractions[i],
                mean_derivative=chunk.mean_derivatives[i],
            )
        self._latest = snap

    def _quantity_values(self, snap: Snapshot) -> np.ndarray:
        key = self.quantity.currentData()
        return {"signal": snap.signal_grad_norms, "weight": snap.weight_grad_norms,
                "update": snap.update_ratios}[key]

    @Slot()
    def _draw_frame(self) -> None:
        if self._latest is not None and self._latest is not self._drawn:
            self._draw(self._latest)
        self.bars.advance_animation()

    def _redraw(self) -> None:
        if self._drawn is not None:
            self._draw(self._drawn)

    def _draw(self, snap: Snapshot) -> None:
        new_run = self._drawn is None or self._drawn.run_id != snap.run_id
        self._drawn = snap
        key = self.quantity.currentData()
        predicted = snap.predicted_signal_norms if key == "signal" else None
        self.bars.show_values(self._quantity_values(snap), predicted=predicted)
        self.bars.set_diverged(snap.message if snap.diverged else None)
        layer = min(self.layer.value(), snap.depth) - 1
        self.activation_plot.show_layer(layer, snap.preactivations[layer],
                                        float(snap.mean_derivatives[layer]),
                                        float(snap.saturated_fractions[layer]))
        h = self.history
        self.curves.set_history(h.steps, h.loss, h.accuracy)
        field = HISTORY_FIELD[key]
        with np.errstate(divide="ignore", invalid="ignore"):
            rows = h.layer_field(field)
            if key == "signal":
                rows = rows[:, : snap.depth]
            self.heatmap.set_data(h.steps, np.log10(rows))
        if new_run:
            self.dataset_plot.set_data(snap.data_x, snap.data_y)
        if snap.decision is not None:
            self.dataset_plot.show_decision(snap.decision)
        self.frames_drawn += 1
        self._update_status(snap)

    def _update_status(self, snap: Snapshot) -> None:
        text = (f"Step {snap.step:,}   ·   loss {snap.loss:.4f}   ·   accuracy "
                f"{snap.accuracy:.1%}   ·   {snap.steps_per_second:,.0f} steps/s")
        if snap.diverged:
            text += "   ·   DIVERGED"
        self.status_label.setText(text)

    # ---------------------------------------------------------------- shutdown
    def closeEvent(self, event) -> None:
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop drawing, stop the worker and wait for its thread (idempotent)."""
        if self._closing:
            return
        self._closing = True
        self.frame_timer.stop()
        self.controller.shutdown()


def build_arg_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vg-desktop",
        description=f"{APP_NAME}: watch the vanishing gradient problem happen. "
        "'vg-desktop run --help' describes the headless command line.",
    )
    parser.add_argument("--self-test", action="store_true",
                        help="open the window offscreen, train several networks, close, and "
                        "exit 0 if everything worked")
    parser.add_argument("--duration", type=float, default=0.0, metavar="SECONDS",
                        help="with --self-test: keep training and drawing this long")
    parser.add_argument("--screenshot", type=Path, metavar="PNG",
                        help="with --self-test: save a screenshot of the window here")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_arg_parser().parse_args(sys.argv[1:] if argv is None else argv)
    if args.self_test:
        from .selftest import run_self_test

        return run_self_test(args.screenshot, args.duration)
    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(ORG_NAME)
    app.setApplicationVersion(__version__)
    window = MainWindow()
    window.show()
    return app.exec()
