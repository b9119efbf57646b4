"""Drawing points on the data view (issue 14): the edits, their undo/redo, and the wiring.

A click adds a point of the chosen class, a drag paints several (one edit), a right click
removes the nearest point, Clear empties. Every edit trains the edited run on the new points
from the same seeds (the network is rebuilt as a file or the controls would rebuild it); with
fewer than 4 points there is nothing to train on, so the run pauses and the view shows the
points alone until there are enough.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QPushButton, QToolButton, QWidget

from .engine import CustomPoints
from .engine.config import CLASSES_RANGE, CUSTOM_SAMPLES_RANGE, IMAGE_DATASETS
from .points_io import points_of, with_points

MIN_POINTS = CUSTOM_SAMPLES_RANGE[0]
MAX_CLASSES = CLASSES_RANGE[1]
NEW_CLASS = -1  # the class picker's "new class" entry


@dataclass(frozen=True, eq=False)
class Drawn:
    """One state of the drawing: (n, 2) points, (n,) labels, the class names."""

    x: np.ndarray
    y: np.ndarray
    class_names: tuple[str, ...]

    @classmethod
    def of(cls, points: CustomPoints) -> Drawn:
        return cls(points.x.copy(), points.y.copy(), points.class_names)

    def added(self, xy: np.ndarray, label: int) -> Drawn:
        names = self.class_names
        if label == len(names):
            names = (*names, _new_name(names))
        x = np.concatenate([self.x, np.asarray(xy, np.float64).reshape(-1, 2)])
        y = np.concatenate([self.y, np.full(len(xy), label, dtype=np.int64)])
        return Drawn(x, y, names)

    def without_nearest(self, at: tuple[float, float], scale: tuple[float, float]) -> Drawn:
        """Without the point nearest ``at``, distances measured in units of ``scale`` (the
        view's width and height, so "nearest" is nearest on screen)."""
        if not len(self.y):
            return self
        d = ((self.x - np.asarray(at)) / np.asarray(scale)) ** 2
        keep = np.ones(len(self.y), dtype=bool)
        keep[int(np.argmin(d.sum(axis=1)))] = False
        return Drawn(self.x[keep], self.y[keep], self.class_names)

    def cleared(self) -> Drawn:
        return Drawn(np.zeros((0, 2)), np.zeros(0, dtype=np.int64), self.class_names)


def _new_name(names: tuple[str, ...]) -> str:
    k = len(names) + 1
    while f"class {k}" in names:
        k += 1
    return f"class {k}"


class DrawBar(QWidget):
    """Draw toggle, class picker, Clear, Undo and Redo, above the data view."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 2, 6, 0)
        self.toggle = QToolButton()
        self.toggle.setText("Draw points")
        self.toggle.setCheckable(True)
        self.toggle.setAccessibleName("Draw points")
        self.toggle.setToolTip(
            "Draw your own data: click adds a point of the chosen class, drag paints several, "
            "right-click removes the nearest. The network retrains on them from the same seed."
        )
        self.picker = QComboBox()
        self.picker.setAccessibleName("Class to draw")
        self.picker.setToolTip("The class the next points get")
        self.clear = QPushButton("Clear")
        self.clear.setToolTip("Remove every point (undo brings them back)")
        self.undo = QPushButton("Undo")
        self.undo.setToolTip("Undo the last drawing edit (Ctrl+Z)")
        self.redo = QPushButton("Redo")
        self.redo.setToolTip("Redo the edit undone (Ctrl+Shift+Z)")
        for w in (self.toggle, self.picker, self.clear, self.undo, self.redo):
            row.addWidget(w)
        row.addStretch(1)

    def set_classes(self, names: tuple[str, ...]) -> None:
        chosen = self.picker.currentData()
        self.picker.blockSignals(True)
        self.picker.clear()
        for k, name in enumerate(names):
            self.picker.addItem(name, k)
        if len(names) < MAX_CLASSES:
            self.picker.addItem(f"{_new_name(names)} (new)", NEW_CLASS)
        index = self.picker.findData(chosen)
        self.picker.setCurrentIndex(index if index >= 0 else 0)
        self.picker.blockSignals(False)


class PointsDrawing(QObject):
    """Connects the draw bar and the data view's mouse to the edited run's data."""

    def __init__(self, window, bar: DrawBar, plot) -> None:
        super().__init__(window)
        self.window, self.bar, self.plot = window, bar, plot
        self.state: Drawn | None = None
        self.undo_stack: list[Drawn] = []
        self.redo_stack: list[Drawn] = []
        self._applied = None  # the DataConfig the last edit gave the run
        self._wanted_batch: int | None = None
        bar.toggle.toggled.connect(self.set_drawing)
        bar.clear.clicked.connect(self.clear)
        bar.undo.clicked.connect(self.undo)
        bar.redo.clicked.connect(self.redo)
        plot.pointsDrawn.connect(self.add)
        plot.removeRequested.connect(self.remove_nearest)
        self.undo_action = window._action("Undo Drawing", self.undo, [QKeySequence("Ctrl+Z")])
        self.redo_action = window._action(
            "Redo Drawing", self.redo, [QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")]
        )
        for action in (self.undo_action, self.redo_action):
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self._update_buttons()

    # ---------------------------------------------------------------- state
    def _current(self) -> Drawn:
        """The points being edited: ours, unless the run's data changed elsewhere since."""
        config = self.window.edited_run.config
        pending = self.state is not None and len(self.state.y) < MIN_POINTS
        if self.state is None or (not pending and config.data != self._applied):
            self.undo_stack.clear()
            self.redo_stack.clear()
            self.state = Drawn.of(points_of(config))
            # The batch size chosen before drawing: few points shrink it, more give it back.
            self._wanted_batch = config.train.batch_size
        return self.state

    def set_drawing(self, on: bool) -> None:
        config = self.window.edited_run.config
        if on and config.data.name in IMAGE_DATASETS:
            self.bar.toggle.setChecked(False)
            self.window.statusBar().showMessage(
                "The handwritten digits are images: choose a 2-D dataset to draw on", 8000
            )
            return
        self.plot.set_drawing(on)
        if on:
            self.bar.set_classes(self._current().class_names)
        self._update_buttons()

    def _edit(self, new: Drawn) -> None:
        self.undo_stack.append(self._current())
        self.redo_stack.clear()
        self._show(new)

    def _show(self, state: Drawn) -> None:
        self.state = state
        self.bar.set_classes(state.class_names)
        n = len(state.y)
        if n >= MIN_POINTS and len(state.class_names) >= CLASSES_RANGE[0]:
            config = with_points(
                self.window.edited_run.config,
                CustomPoints(state.x, state.y, state.class_names),
                self._wanted_batch,
            )
            self._applied = config.data
            self.window.apply_config(config)
            self.window.statusBar().showMessage(
                f"Training on your {n:,} points from the same seed", 5000
            )
        else:
            self.window.pause()
            self.plot.show_decision(None)
            self.plot.set_data(state.x, state.y, state.class_names)
            self.window.statusBar().showMessage(
                f"{n} point{'s' if n != 1 else ''}: draw at least {MIN_POINTS} to train on them",
                8000,
            )
        self._update_buttons()

    def _update_buttons(self) -> None:
        drawing = self.bar.toggle.isChecked()
        self.bar.picker.setEnabled(drawing)
        self.bar.clear.setEnabled(drawing)
        self.bar.undo.setEnabled(bool(self.undo_stack))
        self.bar.redo.setEnabled(bool(self.redo_stack))
        # Until the class draws, the bar is one button: four disabled ones squeezed the data
        # view's place ("Dr…ts") in the row of history views.
        self.bar.picker.setVisible(drawing)
        self.bar.clear.setVisible(drawing)
        self.bar.undo.setVisible(drawing or bool(self.undo_stack))
        self.bar.redo.setVisible(drawing or bool(self.redo_stack))

    # ---------------------------------------------------------------- edits
    def chosen_class(self) -> int:
        label = self.bar.picker.currentData()
        return len(self._current().class_names) if label == NEW_CLASS else int(label or 0)

    def add(self, xy: np.ndarray) -> None:
        current = self._current()
        if len(current.y) + len(xy) > CUSTOM_SAMPLES_RANGE[1]:
            self.window.statusBar().showMessage("100,000 points is the most a dataset holds")
            return
        self._edit(current.added(xy, self.chosen_class()))

    def remove_nearest(self, x: float, y: float) -> None:
        current = self._current()
        if len(current.y):
            (x0, x1), (y0, y1) = self.plot.viewRange()
            self._edit(current.without_nearest((x, y), (x1 - x0 or 1.0, y1 - y0 or 1.0)))

    def clear(self) -> None:
        self._edit(self._current().cleared())

    def undo(self) -> None:
        current = self._current()
        if self.undo_stack:
            self.redo_stack.append(current)
            self._show(self.undo_stack.pop())

    def redo(self) -> None:
        current = self._current()
        if self.redo_stack:
            self.undo_stack.append(current)
            self._show(self.redo_stack.pop())
