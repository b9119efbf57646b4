"""File work the GUI thread must not do: encoding, writing, reading and decoding weights.

At depth 200 x width 256 the weights are 106 MB: encoding and writing them atomically holds a
thread for 0.2-2 s, reading and checking them about as long. :class:`FileJobs` runs such work on
a thread of its own and calls the result's handler on the GUI thread (a queued signal), so the
window keeps answering; closing the window waits for the jobs in flight (:meth:`wait`), so a
save that has started is finished, never cut off halfway.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal, Slot

Handler = Callable[[object, BaseException | None], None]


class FileJobs(QObject):
    """Runs ``work()`` on a thread, then ``handler(result, error)`` on the GUI thread."""

    busyChanged = Signal(bool)  # a job started while none ran (True), the last one ended (False)
    finished = Signal(str)  # a job's name, after its handler ran
    _done = Signal(object, object, object)  # (name, handler), result, error: queued to the GUI

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._threads: dict[str, threading.Thread] = {}  # whose handler has not run yet
        self._started: list[threading.Thread] = []  # every thread not yet seen to end
        self._done.connect(self._on_done)

    def busy(self, name: str | None = None) -> bool:
        """A job (named ``name``, or any) has started and its handler has not run yet."""
        return name in self._threads if name is not None else bool(self._threads)

    def start(self, name: str, work: Callable[[], object], handler: Handler) -> None:
        """Run ``work`` on a new thread; ``handler(result, None)`` or ``handler(None, error)``
        follows on the GUI thread. One job per name at a time."""
        if name in self._threads:
            raise RuntimeError(f"a {name} job is already running")

        def run() -> None:
            try:
                result, error = work(), None
            except Exception as exc:  # handed to the GUI thread, which reports it
                result, error = None, exc
            # RuntimeError: the window (and this object) went away while the work ran.
            with contextlib.suppress(RuntimeError):
                self._done.emit((name, handler), result, error)

        # Not a daemon: an interpreter exiting mid-save waits for the files to be complete.
        thread = threading.Thread(target=run, name=f"file-{name}", daemon=False)
        was_busy = self.busy()
        self._threads[name] = thread
        self._started = [t for t in self._started if t.is_alive()] + [thread]
        thread.start()
        if not was_busy:
            self.busyChanged.emit(True)

    def wait(self, timeout_s: float) -> bool:
        """Block until every job's work is done (closing the window); True if all finished."""
        for thread in self._started:
            thread.join(timeout_s)
        return not any(t.is_alive() for t in self._started)

    @Slot(object, object, object)
    def _on_done(self, job: tuple[str, Handler], result: object, error) -> None:
        name, handler = job
        self._threads.pop(name, None)
        try:
            handler(result, error)
        finally:
            self.finished.emit(name)
            if not self._threads:
                self.busyChanged.emit(False)
