"""Logging to the user's data folder, a crash dialog for unexpected exceptions, and clean quits on
SIGINT/SIGTERM.

Nothing here may make things worse: if the log file cannot be opened the app logs to stderr only,
and if the dialog cannot be shown the traceback is still logged.
"""

from __future__ import annotations

import contextlib
import html
import logging
import logging.handlers
import math
import os
import signal
import sys
import threading
import traceback
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMainWindow,
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
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=1_000_000, backupCount=3, encoding="utf-8"
        )
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
        self.repeats = 1
        where = log_file()
        short = summary if len(summary) <= 500 else summary[:499] + "…"  # details hold it all
        message = QLabel(
            f"<b>An unexpected error occurred:</b><br>{html.escape(short)}<br><br>The app keeps "
            "running; your settings are unchanged. The details are also in "
            f"<tt>{html.escape(str(where))}</tt>."
        )
        message.setWordWrap(True)
        message.setTextFormat(message.textFormat().RichText)
        text = QPlainTextEdit(details)
        text.setReadOnly(True)
        text.setAccessibleName("Error details")
        text.setMinimumSize(560, 220)
        self.repeat_label = QLabel()
        self.repeat_label.setVisible(False)
        self.copy_button = QPushButton("Copy details")
        self.copy_button.setAccessibleName("Copy details")
        self.copy_button.clicked.connect(self.copy_details)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(message)
        layout.addWidget(self.repeat_label)
        layout.addWidget(text, 1)
        layout.addWidget(buttons)

    def note_repeat(self) -> None:
        """The same error happened again: count it here instead of opening another dialog."""
        self.repeats += 1
        self.repeat_label.setText(f"This error has happened {self.repeats:,} times.")
        self.repeat_label.setVisible(True)

    def copy_details(self) -> None:
        QGuiApplication.clipboard().setText(self.details)
        self.copy_button.setText("Copied")


_dialogs: list[CrashDialog] = []
_seen: dict[str, int] = {}  # traceback -> how often it happened (a frame-timer bug repeats 60/s)


class _Relay(QObject):
    """Lives in the GUI thread: carries an exception from any thread to the dialog."""

    reported = Signal(str, str)

    def __init__(self) -> None:
        super().__init__()
        self.reported.connect(self._show)  # a bound method: queued into the GUI thread

    @Slot(str, str)
    def _show(self, summary: str, details: str) -> None:
        show_crash_dialog(summary, details)


_relay: _Relay | None = None


def _log_exception(details: str, where: str = "") -> None:
    """Log a traceback in full the first time, then only a count (at 2, 10, 100, ... times)."""
    if len(_seen) > 1000:  # many different errors: forget old ones rather than grow forever
        _seen.clear()
    count = _seen[details] = _seen.get(details, 0) + 1
    if count == 1:
        log.error("unexpected exception%s\n%s", where, details)
    elif count == 2 or math.log10(count).is_integer():
        last = details.strip().splitlines()[-1]
        log.error("the same unexpected exception%s again (%d times): %s", where, count, last)


def show_crash_dialog(summary: str, details: str) -> CrashDialog | None:
    """Show (GUI thread only) a CrashDialog, or count a repeat in the one already open."""
    app = QApplication.instance()
    if app is None or threading.current_thread() is not threading.main_thread():
        return None
    try:
        for dialog in _dialogs:
            if dialog.details == details:
                dialog.note_repeat()
                return dialog
        main = [w for w in app.topLevelWidgets() if isinstance(w, QMainWindow) and w.isVisible()]
        dialog = CrashDialog(summary, details, main[0] if main else None)
        _dialogs.append(dialog)
        dialog.finished.connect(lambda _=0, d=dialog: _dialogs.remove(d) if d in _dialogs else None)
        dialog.open()
        return dialog
    except Exception:  # the dialog itself failed: the log still has the traceback
        return None


def report_exception(exc_type, exc, tb) -> None:
    """Log an unexpected exception and show it in a dialog — from any thread; never raise."""
    try:
        details = "".join(traceback.format_exception(exc_type, exc, tb))
        summary = f"{exc_type.__name__}: {exc}"
        if issubclass(exc_type, KeyboardInterrupt):  # Ctrl+C is not a crash
            log.info("interrupted")
            return
        on_main = threading.current_thread() is threading.main_thread()
        _log_exception(details, "" if on_main else f" in thread {threading.current_thread().name}")
        if on_main:
            if show_crash_dialog(summary, details) is None:
                print(details, file=sys.stderr)
        elif _relay is not None:
            _relay.reported.emit(summary, details)  # queued: shown by the GUI thread
        else:
            print(details, file=sys.stderr)
    except Exception:  # never let the hook itself fail
        sys.__excepthook__(exc_type, exc, tb)


def install_exception_hooks() -> None:
    """Route uncaught exceptions, of the GUI thread and of any other, to the log and a dialog."""
    global _relay
    if _relay is None:
        _relay = _Relay()  # created here, in the main thread: its slot runs there
    sys.excepthook = report_exception

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        report_exception(args.exc_type, args.exc_value, args.exc_traceback)

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
        with contextlib.suppress(ValueError, OSError):  # not the main thread, or unsupported
            signal.signal(sig, handler)
    timer = QTimer(app)
    timer.timeout.connect(lambda: None)
    timer.start(200)
    return timer
