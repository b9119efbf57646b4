"""Logging to the user's data folder, a crash dialog for unexpected exceptions, and clean quits on
SIGINT/SIGTERM.

Nothing here may make things worse: if the log file cannot be opened the app logs to stderr only,
and if the dialog cannot be shown the traceback is still logged.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import signal
import sys
import threading
import traceback
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

log = logging.getLogger("vg_desktop")
LOG_NAME = "vg-desktop.log"


def data_dir() -> Path:
    """The per-user data folder (``VG_DESKTOP_DATA_DIR`` overrides it, e.g. for tests)."""
    override = os.environ.get("VG_DESKTOP_DATA_DIR")
    if override:
        return Path(override)
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))
    return base / "vg-desktop"


def log_file() -> Path:
    return data_dir() / LOG_NAME


def setup_logging() -> Path | None:
    """Log warnings and errors to a rotating file in the data folder; returns its path."""
    log.setLevel(logging.INFO)
    for handler in list(log.handlers):
        if getattr(handler, "_vg_desktop", False):
            log.removeHandler(handler)
            handler.close()
    try:
        path = log_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=1_000_000, backupCount=3,
                                                       encoding="utf-8")
    except OSError as exc:
        print(f"vg-desktop: cannot write the log file ({exc}); logging to stderr", file=sys.stderr)
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler._vg_desktop = True
    log.addHandler(handler)
    return path


class CrashDialog(QDialog):
    """Says that something went wrong, shows the traceback, and copies it for a bug report."""

    def __init__(self, summary: str, details: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Something went wrong")
        self.setObjectName("crash_dialog")
        self.details = details
        where = log_file()
        message = QLabel(
            f"<b>An unexpected error occurred:</b><br>{summary}<br><br>The app keeps running; "
            f"your settings are unchanged. The details are also in <tt>{where}</tt>."
        )
        message.setWordWrap(True)
        message.setTextFormat(message.textFormat().RichText)
        text = QPlainTextEdit(details)
        text.setReadOnly(True)
        text.setAccessibleName("Error details")
        text.setMinimumSize(560, 220)
        self.copy_button = QPushButton("Copy details")
        self.copy_button.setAccessibleName("Copy details")
        self.copy_button.clicked.connect(self.copy_details)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(message)
        layout.addWidget(text, 1)
        layout.addWidget(buttons)

    def copy_details(self) -> None:
        QGuiApplication.clipboard().setText(self.details)
        self.copy_button.setText("Copied")


_dialogs: list[CrashDialog] = []


def report_exception(exc_type, exc, tb) -> None:
    """Log an unexpected exception and show it in a dialog (GUI thread) — never raise."""
    details = "".join(traceback.format_exception(exc_type, exc, tb))
    summary = f"{exc_type.__name__}: {exc}"
    log.error("unexpected exception\n%s", details)
    app = QApplication.instance()
    if app is None or threading.current_thread() is not threading.main_thread():
        print(details, file=sys.stderr)
        return
    try:
        dialog = CrashDialog(summary, details, app.activeWindow())
        _dialogs.append(dialog)
        dialog.finished.connect(lambda _=0, d=dialog: _dialogs.remove(d) if d in _dialogs else None)
        dialog.open()
    except Exception:  # the dialog itself failed: the log still has the traceback
        print(details, file=sys.stderr)


def install_exception_hooks() -> None:
    sys.excepthook = report_exception

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        details = "".join(traceback.format_exception(args.exc_type, args.exc_value,
                                                     args.exc_traceback))
        log.error("unexpected exception in thread %s\n%s", args.thread, details)

    threading.excepthook = thread_hook


def quit_on_signals(app: QApplication) -> QTimer:
    """Quit the event loop (cleanly, through aboutToQuit) on SIGINT and SIGTERM.

    Python runs signal handlers only between bytecodes; a short timer keeps the interpreter
    ticking while Qt's C++ event loop waits.
    """

    def handler(signum, _frame) -> None:
        log.info("received signal %s: quitting", signum)
        app.quit()

    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            signal.signal(sig, handler)
        except (ValueError, OSError):  # not in the main thread, or unsupported here
            pass
    timer = QTimer(app)
    timer.timeout.connect(lambda: None)
    timer.start(200)
    return timer
