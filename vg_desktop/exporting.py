"""Exports: plots to PNG and SVG, the window to PNG, the run's history to CSV and JSON.

History exports have one row per recorded step and layer — the long format that spreadsheets,
pandas and R all read directly. Every file is written atomically, so a failed export never leaves
half a file behind the name the user chose.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from pathlib import Path

from .engine import ExperimentConfig, RunHistory
from .engine.experiment import atomic_write_bytes, experiment_to_dict
from .engine.history import FIELDS_PER_LAYER

HISTORY_COLUMNS = ("step", "layer", "loss", "accuracy", *FIELDS_PER_LAYER)


def _clean(value: float) -> float | None:
    """JSON has no NaN: missing values (the output layer has no signal norm) become null."""
    return value if math.isfinite(value) else None


def history_csv(history: RunHistory) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HISTORY_COLUMNS)
    for row in history.rows():
        writer.writerow(["" if isinstance(v, float) and math.isnan(v) else v for v in row])
    return buffer.getvalue()


def history_json(history: RunHistory, config: ExperimentConfig | None, label: str = "") -> str:
    rows = [
        {
            name: (_clean(v) if isinstance(v, float) else v)
            for name, v in zip(HISTORY_COLUMNS, row, strict=True)
        }
        for row in history.rows()
    ]
    payload = {
        "format": "vg-desktop-history",
        "version": 1,
        "run": label,
        "experiment": experiment_to_dict(config) if config is not None else None,
        "recorded_every": history.stride,
        "columns": list(HISTORY_COLUMNS),
        "rows": rows,
    }
    return json.dumps(payload, indent=1) + "\n"


def export_history(
    history: RunHistory,
    path: str | os.PathLike,
    config: ExperimentConfig | None = None,
    label: str = "",
) -> None:
    """CSV or JSON by the file's extension."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        text = history_json(history, config, label)
    else:
        text = history_csv(history)
    atomic_write_bytes(path, text.encode("utf-8"))


def export_plot(plot_widget, path: str | os.PathLike, scale: float = 2.0) -> None:
    """A plot widget as PNG (rendered at ``scale`` x its size, crisp on slides) or as SVG.

    Both paint the widget itself (axes, legend and all) through QPainter: SVG through
    QSvgGenerator, so lines and text stay vectors. pyqtgraph's own SVG exporter cannot parse the
    path syntax current Qt versions write, so it is not used.
    """
    from PySide6.QtCore import QBuffer, QIODevice, QRect, QSize
    from PySide6.QtGui import QColor, QImage, QPainter

    path = Path(path)
    size = plot_widget.size()
    if path.suffix.lower() == ".svg":
        from PySide6.QtSvg import QSvgGenerator

        buffer = QBuffer()
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        generator = QSvgGenerator()
        generator.setOutputDevice(buffer)
        generator.setSize(size)
        generator.setViewBox(QRect(0, 0, size.width(), size.height()))
        generator.setTitle(plot_widget.accessibleName() or "Vanishing Gradient Lab figure")
        generator.setDescription("Exported from Vanishing Gradient Lab")
        painter = QPainter(generator)
        plot_widget.render(painter)
        painter.end()
        payload = bytes(buffer.data())
    else:
        image = QImage(
            QSize(int(size.width() * scale), int(size.height() * scale)),
            QImage.Format.Format_ARGB32,
        )
        image.setDevicePixelRatio(scale)
        image.fill(QColor("white"))
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        plot_widget.render(painter)
        painter.end()
        payload = _png_bytes(image, path)
    if not payload:
        raise OSError(f"nothing was written to {path.name}")
    atomic_write_bytes(path, payload)  # keeps the mode, writes through a symlink


def _png_bytes(image, path: Path) -> bytes:
    from PySide6.QtCore import QBuffer, QIODevice

    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise OSError(f"could not write {path.name}")
    return bytes(buffer.data())


def export_widget_png(widget, path: str | os.PathLike) -> None:
    """Any widget (the whole window) as a PNG screenshot."""
    path = Path(path)
    atomic_write_bytes(path, _png_bytes(widget.grab().toImage(), path))
