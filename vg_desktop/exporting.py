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
import tempfile
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
        {name: (_clean(v) if isinstance(v, float) else v) for name, v in zip(HISTORY_COLUMNS, row)}
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


def export_history(history: RunHistory, path: str | os.PathLike,
                   config: ExperimentConfig | None = None, label: str = "") -> None:
    """CSV or JSON by the file's extension."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        text = history_json(history, config, label)
    else:
        text = history_csv(history)
    atomic_write_bytes(path, text.encode("utf-8"))


def export_plot(plot_widget, path: str | os.PathLike, scale: float = 2.0) -> None:
    """A pyqtgraph plot as PNG (at ``scale`` × its size, for crisp slides) or SVG."""
    import pyqtgraph.exporters as exporters

    path = Path(path)
    item = plot_widget.getPlotItem() if hasattr(plot_widget, "getPlotItem") else plot_widget.scene()
    tmp_dir = tempfile.mkdtemp(dir=path.parent)
    tmp = Path(tmp_dir) / f"export{path.suffix.lower()}"
    try:
        if path.suffix.lower() == ".svg":
            exporter = exporters.SVGExporter(item)
        else:
            exporter = exporters.ImageExporter(item)
            width = max(int(item.sceneBoundingRect().width() * scale), 200)
            exporter.parameters()["width"] = width
            exporter.parameters()["antialias"] = True
        exporter.export(str(tmp))
        if not tmp.exists():
            raise OSError(f"the exporter wrote nothing to {path.name}")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
        os.rmdir(tmp_dir)


def export_widget_png(widget, path: str | os.PathLike) -> None:
    """Any widget (the whole window) as a PNG screenshot."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(suffix=".png", dir=path.parent)
    os.close(fd)
    try:
        if not widget.grab().save(tmp, "PNG"):
            raise OSError(f"could not write {path.name}")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
