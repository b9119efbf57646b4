"""File › Import Points… and File › Export Points…: a teacher's own 2-D points as CSV.

An import is read and validated completely before anything changes; a bad file is reported
(the line and the problem) and the data, the run and its history stay as they were.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog

from .engine import CustomPoints, DataConfig, ExperimentConfig, dataset_from_config
from .engine.config import IMAGE_DATASETS
from .engine.points_csv import load_points_csv, save_points_csv
from .files import show_error

CSV_FILTER = "Points, CSV (*.csv *.tsv *.txt);;All files (*)"


def with_points(
    config: ExperimentConfig, points: CustomPoints, batch_size: int | None = None
) -> ExperimentConfig:
    """``config`` training on ``points`` (its seed kept), with ``batch_size`` (default: the
    config's) shrunk to fit few points."""
    data = DataConfig.custom(points, seed=config.data.seed)
    batch = min(batch_size or config.train.batch_size, data.n_train)
    return replace(config, data=data, train=replace(config.train, batch_size=batch))


def points_of(config: ExperimentConfig) -> CustomPoints:
    """The 2-D points ``config`` trains on: the custom ones, or a generated dataset's (its
    classes named 1..C as the legend names them). ValueError for image datasets."""
    if config.data.points is not None:
        return config.data.points
    if config.data.name in IMAGE_DATASETS:
        raise ValueError("the handwritten digits are images, not 2-D points")
    x, y = dataset_from_config(config.data)
    names = tuple(f"class {k + 1}" for k in range(config.data.n_classes))
    return CustomPoints(x, y, names)


class _Reader(QObject):
    """Reads a points file on a thread (100,000 points take ~0.4 s to check, which the GUI
    thread must not spend) and hands the result back to the GUI thread."""

    done = Signal(object, object)  # path, (x, y, names) or the ValueError

    def __init__(self, window) -> None:
        super().__init__(window)
        self.done.connect(lambda path, result: _finish(window, path, result))

    def read(self, path: Path) -> None:
        def work() -> None:
            try:
                result = load_points_csv(path)
            except ValueError as exc:
                result = exc
            # Queued to the GUI thread; RuntimeError: the window closed while the file was read.
            with contextlib.suppress(RuntimeError):
                self.done.emit(path, result)

        threading.Thread(target=work, name="read-points", daemon=True).start()


def import_points_dialog(window) -> None:
    path, _ = QFileDialog.getOpenFileName(window, "Import points", "", CSV_FILTER)
    if path:
        reader = getattr(window, "_points_reader", None)
        if reader is None:
            reader = window._points_reader = _Reader(window)
        window.statusBar().showMessage(f"Reading {Path(path).name}…", 8000)
        reader.read(Path(path))


def import_points(window, path: Path) -> bool:
    """Train the edited run on the points in ``path`` (read here, on the calling thread);
    True when they were imported."""
    try:
        result = load_points_csv(path)
    except ValueError as exc:
        result = exc
    return _finish(window, path, result)


def _finish(window, path: Path, result) -> bool:
    try:
        if isinstance(result, ValueError):
            raise result
        x, y, names = result
        config = with_points(window.edited_run.config, CustomPoints(x, y, names))
    except ValueError as exc:
        show_error(
            window,
            "Cannot import the points",
            f"{path.name} was not imported:\n\n{exc}\n\nThe data, the run and its history "
            "are unchanged.",
        )
        return False
    window.apply_config(config)
    window.statusBar().showMessage(
        f"Imported {len(y):,} points in {len(names)} classes from {path.name}", 8000
    )
    return True


def export_points_dialog(window) -> None:
    path, _ = QFileDialog.getSaveFileName(window, "Export points", "points.csv", CSV_FILTER)
    if path:
        path = Path(path)
        if not path.suffix:
            path = path.with_suffix(".csv")
        export_points(window, path)


def export_points(window, path: Path) -> bool:
    """Write the edited run's 2-D points to ``path`` as CSV (load_points_csv reads them back
    identically)."""
    try:
        save_points_csv(points_of(window.edited_run.config), path)
    except ValueError as exc:
        show_error(window, "Cannot export the points", f"{path.name} was not written: {exc}")
        return False
    except OSError as exc:
        show_error(
            window,
            "Cannot export the points",
            f"{path.name} was not written: {exc.strerror or exc}. The previous file, if any, "
            "is unchanged.",
        )
        return False
    window.statusBar().showMessage(f"Exported the points to {path.name}", 8000)
    return True
