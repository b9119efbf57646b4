"""The training process: one per run, so training and drawing never share a GIL.

In one process, the GUI thread and a training thread take turns holding Python's GIL. Painting a
frame is mostly Python (pyqtgraph), and each Qt call it makes gives the GIL away and then waits to
get it back from the training thread: frames slow down several-fold and the window stops
answering for a fifth of a second at a time, while training loses most of its speed to painting.
A process of its own gives training a core and the GUI another.

Qt-free: the child imports NumPy, the engine and :mod:`vg_desktop.training_loop` only. Commands
arrive as ``(method name, args)`` tuples on one pipe and are applied by a listener thread through
the loop's thread-safe methods; the loop sends ``(kind, payload)`` tuples back on another. The
child stops when told to, or when the app's end of the command pipe closes (the app crashed or
was killed), so it never outlives the window.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import signal
import sys
import threading
import traceback
import types
from multiprocessing.connection import Connection

from . import limit_blas_threads

limit_blas_threads()  # one BLAS thread per training process, before NumPy is imported

from .engine import ExperimentConfig  # noqa: E402
from .snapshot_transport import SnapshotSender  # noqa: E402
from .training_loop import TrainingLoop  # noqa: E402

COMMANDS = frozenset(
    {
        "play",
        "pause",
        "request_step",
        "request_reset",
        "set_config",
        "set_train",
        "set_steps_per_frame",
        "set_stop_conditions",
        "set_feature_layer",
        "request_weights",
        "set_config_with_weights",
        "request_stop",
    }
)


def context() -> multiprocessing.context.BaseContext:
    """Start method for training processes: never ``fork``, the GUI process has Qt threads.

    ``forkserver`` (Linux, macOS) forks each child from a small server that has already
    imported NumPy and the engine: a new run starts in milliseconds. Windows has ``spawn``.
    """
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload([__name__])
        return ctx
    return multiprocessing.get_context("spawn")


def prestart() -> None:
    """Start the fork server now, in the background: the app calls this before importing Qt.

    The server imports NumPy and the engine once (about 0.15 s); started this early, that
    overlaps the app's own start-up instead of delaying the first frame.
    """
    ctx = context()
    if ctx.get_start_method() == "forkserver":
        from multiprocessing import forkserver

        with hidden_main_module():
            forkserver.ensure_running()


_MAIN_SWAP = threading.Lock()


@contextlib.contextmanager
def hidden_main_module():
    """Start training processes with this around ``Process.start()``.

    multiprocessing re-runs the caller's main script in every child it starts (to find the
    target function there). The training process needs nothing from it, and a script or notebook
    without an ``if __name__ == "__main__"`` guard that opens a window would open it again in
    the child, which would start a child... A stand-in main module with no file or spec makes
    the children skip it. Runs start on their receiver threads, maybe two at once (A and B): a
    lock keeps one from "restoring" the other's stand-in.
    """
    with _MAIN_SWAP:
        main = sys.modules.get("__main__")
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            if main is not None:
                sys.modules["__main__"] = main


def serve(
    commands: Connection, events: Connection, config: ExperimentConfig, first_run_id: int = 1
) -> None:
    """The child's main function: train ``config`` until stopped."""
    # Ctrl+C in a terminal reaches the whole process group; the app decides when runs stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The listener thread shares the GIL with the training loop: let it in within 1 ms.
    sys.setswitchinterval(0.001)
    send_lock = threading.Lock()
    sender = SnapshotSender()  # what the window already has is not pickled again

    def send(kind: str, *payload) -> None:
        with send_lock:
            if kind == "snapshot":
                payload = (sender.strip(payload[0]),)
            try:
                events.send((kind, payload))
            except (BrokenPipeError, EOFError, OSError):
                loop.request_stop()  # the app is gone

    loop = TrainingLoop(config, send, first_run_id)

    def listen() -> None:
        while True:
            try:
                name, args = commands.recv()
            except (EOFError, OSError):
                loop.request_stop()
                return
            except Exception:  # an unreadable command: stop, and the app restarts the run
                traceback.print_exc()
                loop.request_stop()
                return
            if name in COMMANDS:
                getattr(loop, name)(*args)
            if name == "request_stop":
                return

    threading.Thread(target=listen, name="training-commands", daemon=True).start()
    try:
        loop.run()
    finally:
        with contextlib.suppress(BrokenPipeError, EOFError, OSError):
            events.send(("finished", ()))
        events.close()
    if sys.stdout is not None:  # None in a windowed Windows build
        sys.stdout.flush()
