"""File actions of the main window: open, save, save with weights, export.

Every failure is reported in a dialog that says what was wrong, and nothing in the running session
changes until a file has been read and validated completely.
"""

from __future__ import annotations

import json
import logging
import weakref
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from .engine import ExperimentFileError, load_experiment
from .engine.bounded_read import FileTooLarge, NotARegularFile, read_bounded
from .engine.experiment import MAX_FILE_BYTES, MAX_FILE_TEXT, experiment_bytes, save_experiment
from .engine.strict_json import loads_strict
from .exporting import export_history, export_plot, export_widget_png
from .weights_file import encode_weights, load_weights, save_pair, weights_path

log = logging.getLogger(__name__)

EXPERIMENT_SUFFIX = ".vgx"
LESSON_SUFFIX = ".vglesson"
OPEN_FILTER = (
    "Experiments and lessons (*.vgx *.vglesson *.json);;Experiments (*.vgx *.json);;"
    "Lessons (*.vglesson *.json);;All files (*)"
)
SAVE_FILTER = "Experiments (*.vgx)"

# Export targets: (file-dialog filter, what it exports)
EXPORT_TARGETS = {
    "Whole window (*.png)": ("window", ".png"),
    "Gradient bars, PNG (*.png)": ("bars", ".png"),
    "Gradient bars, SVG (*.svg)": ("bars", ".svg"),
    "Activation plot, PNG (*.png)": ("activation_plot", ".png"),
    "Activation plot, SVG (*.svg)": ("activation_plot", ".svg"),
    "Loss and accuracy, PNG (*.png)": ("curves", ".png"),
    "Loss and accuracy, SVG (*.svg)": ("curves", ".svg"),
    "Gradient flow heatmap, PNG (*.png)": ("heatmap", ".png"),
    "Gradient flow heatmap, SVG (*.svg)": ("heatmap", ".svg"),
    "Data view (decision regions or test digits), PNG (*.png)": ("data_view", ".png"),
    "Data view (decision regions or test digits), SVG (*.svg)": ("data_view", ".svg"),
    "Run history, CSV (*.csv)": ("history", ".csv"),
    "Run history, JSON (*.json)": ("history", ".json"),
}


# controller -> the slot that writes the weights it was asked for (at most one at a time)
_WEIGHT_WRITERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def show_error(window, title: str, message: str) -> None:
    log.warning("%s: %s", title, message)
    box = QMessageBox(QMessageBox.Icon.Warning, title, message, parent=window)
    # Plain text: the message holds a file name and values from the file, and as rich text a
    # name like "<img src=&#47;dev&#47;zero>.vgx" made Qt read that file.
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setObjectName("file_error")
    box.open()
    window.last_error = message


def read_file_kind(path: Path) -> str:
    """'experiment' or 'lesson', from the JSON's "format" field; raises ExperimentFileError."""
    try:
        raw = read_bounded(path, MAX_FILE_BYTES)
        # A BOM is fine; a repeated key is not (the same rule as the loaders that follow).
        data = loads_strict(raw.decode("utf-8-sig"), ExperimentFileError, "a file")
    except FileTooLarge:
        raise ExperimentFileError(
            f"{path.name} is larger than {MAX_FILE_TEXT}: not an experiment"
        ) from None
    except NotARegularFile as exc:
        raise ExperimentFileError(f"cannot read {path.name}: {exc}") from None
    except OSError as exc:
        raise ExperimentFileError(f"cannot read {path.name}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ExperimentFileError(f"{path.name} is not text (binary or corrupt)") from None
    except json.JSONDecodeError as exc:
        raise ExperimentFileError(
            f"{path.name} is not valid JSON (line {exc.lineno}: {exc.msg}); it may be truncated"
        ) from None
    except ExperimentFileError:  # a repeated key or NaN, named
        raise
    except (ValueError, RecursionError):  # a 5,000-digit number, absurdly deep nesting
        raise ExperimentFileError(
            f"{path.name} holds numbers or nesting no experiment or lesson has"
        ) from None
    fmt = data.get("format") if isinstance(data, dict) else None
    if fmt == "vg-desktop-lesson":
        return "lesson"
    if fmt == "vg-desktop-experiment":
        return "experiment"
    raise ExperimentFileError(
        f"{path.name} is neither a Vanishing Gradient Lab experiment nor a lesson"
    )


def open_file_dialog(window) -> None:
    path, _ = QFileDialog.getOpenFileName(window, "Open experiment or lesson", "", OPEN_FILTER)
    if path:
        open_path(window, Path(path))


def open_path(window, path: Path) -> bool:
    """Open an experiment (and its weights, if saved with them) or a lesson. True on success."""
    try:
        kind = read_file_kind(path)
        if kind == "lesson":
            return window.open_lesson(path)
        config = load_experiment(path)
        weights = None
        if weights_path(path).exists():
            weights = load_weights(weights_path(path), config)
    except ExperimentFileError as exc:
        show_error(
            window,
            "Cannot open the file",
            f"{path.name} was not opened:\n\n{exc}\n\nNothing in the current session was changed.",
        )
        return False
    if window.run_b is not None and window.editing == "B":
        window.edit_a.setChecked(True)
    window.controls.set_config(config)
    window.run_a.controller.load(config, weights)
    window.activation_plot.set_activation(config.network.activation)
    window.layer.setMaximum(config.network.depth)
    window.remember_file(path)
    note = " with its trained weights" if weights is not None else ""
    window.statusBar().showMessage(f"Opened {path.name}{note}", 8000)
    return True


def save(window) -> None:
    if window.current_file is None or window.current_file.suffix != EXPERIMENT_SUFFIX:
        save_as(window)
    else:
        save_to(window, window.current_file)


def save_as(window, with_weights: bool = False) -> None:
    title = "Save experiment with trained weights" if with_weights else "Save experiment"
    path, _ = QFileDialog.getSaveFileName(window, title, "experiment.vgx", SAVE_FILTER)
    if path:
        path = Path(path)
        if path.suffix != EXPERIMENT_SUFFIX:
            path = path.with_suffix(EXPERIMENT_SUFFIX)
        save_to(window, path, with_weights)


def save_to(window, path: Path, with_weights: bool = False) -> bool:
    """Write run A's settings to ``path`` (atomically). With weights, both files are written
    together once the training process has sent the weights (True: the save has started)."""
    if with_weights:
        return _save_with_weights(window, path)
    try:
        save_experiment(window.run_a.config, path)
    except OSError as exc:
        show_error(
            window,
            "Cannot save",
            f"{path.name} was not saved: {exc.strerror or exc}. "
            "The previous file, if any, is unchanged.",
        )
        return False
    if weights_path(path).exists():
        # Weights saved earlier beside this name belong to an older state: drop them, so that
        # opening the file later restores exactly what was saved now.
        try:
            weights_path(path).unlink()
        except OSError as exc:
            show_error(
                window,
                "Cannot remove old weights",
                f"{path.name} was saved, but the older {weights_path(path).name} beside it "
                f"could not be removed ({exc.strerror or exc}); remove it by hand.",
            )
    window.remember_file(path)
    window.statusBar().showMessage(f"Saved {path.name}", 8000)
    return True


def _save_with_weights(window, path: Path) -> bool:
    """Ask the training process for run A's weights; write the pair when they come."""
    controller = window.run_a.controller
    config = window.run_a.config  # what the weights asked for now belong to
    # A request whose weights never came (its training process died) must not write this
    # file's weights under the earlier file's name.
    stale = _WEIGHT_WRITERS.pop(controller, None)
    if stale is not None:
        controller.weightsReady.disconnect(stale)

    def write_pair(arrays: dict) -> None:
        _WEIGHT_WRITERS.pop(controller, None)
        controller.weightsReady.disconnect(write_pair)
        try:
            experiment = experiment_bytes(config)
            weights = encode_weights(arrays, config)
            save_pair(path, experiment, weights)
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            show_error(
                window,
                "Cannot save",
                f"{path.name} and its weights were not saved: {reason}. "
                "The previous files, if any, are unchanged.",
            )
            return
        window.remember_file(path)
        window.statusBar().showMessage(f"Saved {path.name} and its weights", 8000)

    controller.weightsReady.connect(write_pair)
    _WEIGHT_WRITERS[controller] = write_pair
    controller.request_weights()
    window.statusBar().showMessage(f"Saving {path.name} with its trained weights…", 8000)
    return True


def export_dialog(window) -> None:
    path, chosen = QFileDialog.getSaveFileName(window, "Export", "", ";;".join(EXPORT_TARGETS))
    if path:
        target, suffix = EXPORT_TARGETS.get(chosen, ("window", ".png"))
        path = Path(path)
        if path.suffix.lower() != suffix:
            path = path.with_suffix(suffix)
        export_to(window, target, path)


def export_to(window, target: str, path: Path) -> bool:
    """Export ``target`` ('window', a plot attribute name, or 'history') to ``path``."""
    try:
        if target == "window":
            export_widget_png(window, path)
        elif target == "history":
            run = window.edited_run
            label = run.name if window.run_b is not None else ""
            export_history(run.history, path, run.config, label)
        else:
            export_plot(getattr(window, target), path)
    except OSError as exc:
        show_error(window, "Export failed", f"{path.name} was not written: {exc}")
        return False
    window.statusBar().showMessage(f"Exported {path.name}", 8000)
    return True
