"""File actions of the main window: open, save, save with weights, export.

Every failure is reported in a dialog that says what was wrong, and nothing in the running session
changes until a file has been read and validated completely.
"""

from __future__ import annotations

import contextlib
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


# Export targets that are history views -> their panel (drawn only while on screen)
EXPORTED_VIEWS = {
    "curves": "curves",
    "heatmap": "heatmap",
    "data_view": "dataset",
    "dataset_plot": "dataset",
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
        open_in_background(window, Path(path))


def _read_for_opening(path: Path) -> tuple:
    """Read and check everything ``path`` holds (any thread): ("lesson",) or ("experiment",
    config, weights or None). Raises ExperimentFileError."""
    if read_file_kind(path) == "lesson":
        return ("lesson",)
    config = load_experiment(path)
    weights = None
    if weights_path(path).exists():
        weights = load_weights(weights_path(path), config)
    return ("experiment", config, weights)


def _cannot_open(window, path: Path, exc: ExperimentFileError) -> bool:
    show_error(
        window,
        "Cannot open the file",
        f"{path.name} was not opened:\n\n{exc}\n\nNothing in the current session was changed.",
    )
    return False


def _apply_opened(window, path: Path, opened: tuple) -> bool:
    """On the GUI thread: show what :func:`_read_for_opening` read."""
    if opened[0] == "lesson":
        return window.open_lesson(path)
    _, config, weights = opened
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


def open_path(window, path: Path) -> bool:
    """Open an experiment (and its weights, if saved with them) or a lesson, read on the
    calling thread. True on success. The menus use :func:`open_in_background`."""
    try:
        opened = _read_for_opening(path)
    except ExperimentFileError as exc:
        return _cannot_open(window, path, exc)
    return _apply_opened(window, path, opened)


def open_in_background(window, path: Path) -> bool:
    """Open ``path`` as :func:`open_path` does, reading and checking it on a thread (weights of
    the largest network are 106 MB: 0.2-0.4 s to read and check); the window shows it when
    done. False if another file is still being opened."""
    jobs = window.file_jobs
    if jobs.busy("open"):
        window.statusBar().showMessage("Still opening a file; try again when it is done.", 8000)
        return False

    def opened(result, error) -> None:
        window.statusBar().clearMessage()  # "Opening …"
        if isinstance(error, ExperimentFileError):
            _cannot_open(window, path, error)
        elif error is not None:
            raise error  # a bug: the crash handler reports it
        else:
            _apply_opened(window, path, result)

    window.statusBar().showMessage(f"Opening {path.name}…")
    jobs.start("open", lambda: _read_for_opening(path), opened)
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


def saving(window) -> bool:
    """A save with weights is under way: waiting for the weights, or writing them."""
    return window.run_a.controller in _WEIGHT_WRITERS or window.file_jobs.busy("save")


def _set_saving(window, on: bool) -> None:
    """While weights are being saved, the save commands wait (a second save of the same file
    would race the first's renames)."""
    for action in (window.save_action, window.save_as_action, window.save_weights_action):
        action.setEnabled(not on)


def save_to(window, path: Path, with_weights: bool = False) -> bool:
    """Write run A's settings to ``path`` (atomically). With weights, both files are written
    together once the training process has sent the weights, on a thread (True: the save has
    started; False: not started, or it failed)."""
    if saving(window):
        window.statusBar().showMessage(
            "Still saving the experiment with its weights; try again when it is done.", 8000
        )
        return False
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


def _encode_and_write(path: Path, config, arrays: dict) -> None:
    """The save's heavy part (any thread): encode the 106 MB at most, write both files."""
    save_pair(path, experiment_bytes(config), encode_weights(arrays, config))


def _save_with_weights(window, path: Path) -> bool:
    """Ask the training process for run A's weights; when they come, encode and write the pair
    on a thread (up to 106 MB: 0.2-2 s); the window says "Saving…" until it is done."""
    controller = window.run_a.controller
    config = window.run_a.config  # what the weights asked for now belong to
    if controller.training_off:
        show_error(
            window,
            "Cannot save",
            f"{path.name} was not saved with weights: training is off (the training process "
            "could not be restarted), so no weights can be sent. Restart the app; Save without "
            "weights still works.",
        )
        return False

    def forget() -> None:
        _WEIGHT_WRITERS.pop(controller, None)
        with contextlib.suppress(RuntimeError, TypeError):  # already disconnected
            controller.weightsReady.disconnect(write_pair)
        with contextlib.suppress(RuntimeError, TypeError):
            controller.weightsLost.disconnect(lost)

    def write_pair(arrays: dict) -> None:
        forget()
        window.file_jobs.start("save", lambda: _encode_and_write(path, config, arrays), written)

    def lost(reason: str) -> None:  # the controller's error dialog tells the rest
        forget()
        _set_saving(window, False)
        window.last_error = f"{path.name} and its weights were not saved: {reason}."
        window.statusBar().showMessage(window.last_error, 15000)

    def written(_result, error) -> None:
        _set_saving(window, False)
        window.statusBar().clearMessage()  # "Saving …"
        if isinstance(error, (OSError, ValueError)):
            reason = error.strerror if isinstance(error, OSError) and error.strerror else error
            show_error(
                window,
                "Cannot save",
                f"{path.name} and its weights were not saved: {reason}. "
                "The previous files, if any, are unchanged.",
            )
            return
        if error is not None:
            raise error  # a bug: the crash handler reports it
        window.remember_file(path)
        window.statusBar().showMessage(f"Saved {path.name} and its weights", 8000)

    controller.weightsReady.connect(write_pair)
    controller.weightsLost.connect(lost)
    _WEIGHT_WRITERS[controller] = write_pair
    _set_saving(window, True)
    controller.request_weights()
    window.statusBar().showMessage(f"Saving {path.name} with its trained weights…")
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
            # A view behind another tab is drawn only when it comes forward: draw it now.
            window.draw_view_now(EXPORTED_VIEWS.get(target, ""))
            export_plot(getattr(window, target), path)
    except OSError as exc:
        show_error(window, "Export failed", f"{path.name} was not written: {exc}")
        return False
    window.statusBar().showMessage(f"Exported {path.name}", 8000)
    return True
