"""Tens of thousands of signal emissions must not crash the interpreter.

PySide6 6.12.0 on Python 3.11 aborts after a few thousand ``Signal.emit()`` calls ("Fatal Python
error: bool_dealloc"). pyproject.toml pins it away; this test catches a regression. It runs in a
subprocess, so an abort fails this test instead of killing the whole test session.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import sys
    from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

    N = 40_000

    class Source(QObject):
        flag = Signal(bool)
        number = Signal(int)
        payload = Signal(object)
        done = Signal()

        @Slot()
        def run(self):
            for i in range(N):
                self.flag.emit(i % 2 == 0)
                self.number.emit(i)
                self.payload.emit((i, True, None))
            self.done.emit()

    class Sink(QObject):
        def __init__(self):
            super().__init__()
            self.count = 0

        @Slot(bool)
        def on_flag(self, value):
            self.count += 1

        @Slot(int)
        def on_number(self, value):
            self.count += 1

        @Slot(object)
        def on_payload(self, value):
            self.count += 1

    app = QCoreApplication(sys.argv)
    sink = Sink()
    # Same thread, direct connections.
    src = Source()
    src.flag.connect(sink.on_flag)
    src.number.connect(sink.on_number)
    src.payload.connect(sink.on_payload)
    src.run()
    assert sink.count == 3 * N, sink.count
    # Across threads, queued connections (how the worker talks to the window).
    thread = QThread()
    worker = Source()
    worker.moveToThread(thread)
    worker.flag.connect(sink.on_flag)
    worker.number.connect(sink.on_number)
    worker.payload.connect(sink.on_payload)
    worker.done.connect(thread.quit)
    thread.started.connect(worker.run)
    thread.finished.connect(app.quit)
    thread.start()
    app.exec()
    thread.wait()
    app.processEvents()
    assert sink.count == 6 * N, sink.count
    print("emitted", 6 * N)
    """
)


def test_tens_of_thousands_of_emits_do_not_crash():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=240, env=env
    )
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    assert "emitted 240000" in result.stdout
