"""The GUI-thread controller of one training run: the only module that knows Qt and the loop.

The run trains in a process of its own (:mod:`vg_desktop.training_process`); a receiver thread
here turns what it sends into Qt signals, queued into the GUI thread. Threading rules (STYLE.md):

* Nothing in the GUI process touches the network; commands go to the training loop as messages
  and act at its next layer or step boundary (playing continues across a rebuild).
* The loop sends at most ~30 immutable :class:`~vg_desktop.snapshot.Snapshot` objects a second;
  the window's frame timer draws only the newest.
* :class:`TrainingController` lives in the GUI thread and owns the process and the receiver
  thread; widgets and tests connect to the controller only.
* The GUI thread never starts, joins, terminates or kills a process (a start takes 10-20 ms):
  the receiver thread starts it (commands wait in an outbox meanwhile) and reaps one that died;
  a reaper thread waits for a retired run. Only closing the window waits, in :meth:`shutdown`.

``ISOLATION = "thread"`` runs the same loop in a thread of this process instead: tests that
monkeypatch the engine to inject faults need it there.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import queue
import sys
import threading
import time
from dataclasses import fields, is_dataclass, replace

import numpy as np
from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from . import training_process  # imported here, on the GUI thread (see pipe_receive)
from .engine import ExperimentConfig
from .pipe_receive import receive
from .snapshot import DecisionGrid, Snapshot
from .snapshot_transport import SnapshotReceiver
from .training_loop import TrainingLoop

# Starting a process imports these on first use; imported here, on the GUI thread, so a
# receiver thread starting its run's process does not (see pipe_receive).
for _module in (
    "multiprocessing.forkserver",
    "multiprocessing.popen_forkserver",
    "multiprocessing.popen_spawn_posix",
    "multiprocessing.popen_spawn_win32",
    "multiprocessing.resource_tracker",
    "multiprocessing.spawn",
):
    with contextlib.suppress(ImportError):
        importlib.import_module(_module)


ISOLATION = "process"  # or "thread": the loop in this process (fault-injection tests)
SHUTDOWN_PATIENCE_MS = 60_000  # thread isolation: after the first timeout, wait for a slow step
RUN_IDS_PER_PROCESS = 1_000_000_000
TERMINATE_GRACE_S = 1.0  # a training process that ignores "stop" is terminated, then killed
STOP_PATIENCE_MS = 400  # ... after this long when no weights are owed (3 s when they are)
MAX_RESTARTS = 3  # a training process that dies this often within RESTART_WINDOW_S stays dead
RESTART_WINDOW_S = 60.0
# Thread isolation shares the GIL between the GUI thread and the loop. Each time the GUI thread
# gives the GIL up (many Qt calls do) it may wait a whole switch interval to get it back: 5 ms
# by default, which adds up to hundreds of milliseconds per frame. 1 ms bounds it.
GIL_SWITCH_INTERVAL = 0.001

log = logging.getLogger(__name__)


def refreeze(value):
    """``value`` with every NumPy array in it read-only again (unpickling makes them writable)."""
    if isinstance(value, np.ndarray):
        value.flags.writeable = False
    elif is_dataclass(value) and not isinstance(value, type):
        for f in fields(value):
            refreeze(getattr(value, f.name))
    elif isinstance(value, (tuple, list)):
        for item in value:
            refreeze(item)
    return value


class _Pump(QObject):
    """Runs in the receiver thread: forwards every message from the run as a queued signal."""

    received = Signal(str, object)
    started = Signal(object)  # the run has started: its process id, or None (a thread)
    finished = Signal()

    def __init__(self, source) -> None:
        super().__init__()
        self._source = source  # source(deliver) blocks, delivering messages, until the run ends
        self.final_weights: dict | None = None  # the last weights sent (read after the end)

    @Slot()
    def run(self) -> None:
        try:
            self._source(self._deliver)
        finally:
            self.finished.emit()

    def _deliver(self, kind: str, *payload) -> None:
        if kind == "weights":
            self.final_weights = payload[0]
        self.received.emit(kind, payload)


def same_grid(a: DecisionGrid, b: DecisionGrid) -> bool:
    return all(np.array_equal(getattr(a, f.name), getattr(b, f.name)) for f in fields(a))


def _read_events(events):
    """Source for a training process: read until it says "finished" or the pipe closes.

    The process sends the decision grid, dataset and layer features only when they change
    (:mod:`vg_desktop.snapshot_transport`); they are put back here, as the objects that came
    before. The window redraws the decision regions only when the grid object changes, so a new
    grid equal to the last one is handed on as the object that came before too.
    """

    def source(deliver) -> None:
        grid: DecisionGrid | None = None
        snapshots = SnapshotReceiver()  # puts back the fields the process did not send again
        while True:
            try:
                kind, payload = receive(events)  # never through the import hook
            except (EOFError, OSError):
                return
            except Exception:  # a message that cannot be read: treat the run as ended
                log.exception("unreadable message from the training process")
                return
            if kind == "finished":
                return
            payload = refreeze(payload)
            if kind == "snapshot":
                payload = (snapshots.restore(payload[0]),)
            if kind == "snapshot" and payload[0].decision is not None:
                new = payload[0].decision
                if grid is not None and new is not grid and same_grid(new, grid):
                    payload = (replace(payload[0], decision=grid),)
                else:
                    grid = payload[0].decision
            deliver(kind, *payload)

    return source


def _send_commands(outbox: queue.SimpleQueue, commands, done: threading.Event) -> None:
    """The sender thread: writes commands to the pipe in order, so the GUI thread never waits
    on it (loading weights sends up to ~100 MB; a stuck child could fill the pipe)."""
    try:
        while (item := outbox.get()) is not None:
            try:
                commands.send(item)
            except (BrokenPipeError, OSError):
                return  # the process has ended; _on_run_ended reports it
            except Exception:
                log.exception("could not send %s to the training process", item[0])
    finally:
        done.set()  # waited for by the receiver thread (Thread.join() there would register
        # the QThread with threading as a "dummy" thread that never goes away)


_CONTROLLERS: list[TrainingController] = []


def running_workers() -> list[TrainingController]:
    """Controllers whose run is still alive (tests assert this is empty after every test).

    A controller leaves the list when it shuts down; one whose process could not be restarted
    has no run alive and is not listed either; one being retired is listed by
    :func:`retiring_workers` instead."""
    return [c for c in _CONTROLLERS if not c.retiring and not c.is_finished()]


def retiring_workers() -> list[TrainingController]:
    """Controllers told to stop by :meth:`TrainingController.retire` whose run has not ended yet
    (it ends within about a step's layer plus :data:`TERMINATE_GRACE_S` seconds)."""
    return [c for c in _CONTROLLERS if c.retiring and not c.is_finished()]


class TrainingController(QObject):
    """GUI-thread owner of one run's training process and receiver thread."""

    snapshotReady = Signal(object)
    stateChanged = Signal(str)
    errorOccurred = Signal(str, str)
    weightsReady = Signal(object)
    weightsLost = Signal(str)  # weights asked for will not come: why (errorOccurred says more)
    retired = Signal()  # after retire(): the run has ended and its process is gone

    def __init__(self, config: ExperimentConfig, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.config = config
        self._state = "paused"
        self._weights_pending = False  # weights asked for and not yet delivered
        self._stopping = False
        self._process = None
        self._commands = None
        self._stopped_sending = False
        self._first_message_at: float | None = None  # when this process first said something
        self._failed = False  # the training process could not be (re)started: training is off
        self._restarts: list[float] = []  # when processes were restarted (a cap stops a loop)
        self._loop: TrainingLoop | None = None
        self._starts = 0
        self._reaper: threading.Thread | None = None  # set by retire()
        self._reaped = False
        self.retired.connect(self._on_retired)  # queued: emitted by the reaper thread
        # Settings a replacement process must be given again (see _on_run_ended).
        self._pace: tuple = ("set_steps_per_frame", None)
        self._stop_conditions: tuple = ("set_stop_conditions", None, None)
        self._feature_layer: tuple = ("set_feature_layer", None)
        self._restart_note: tuple[str, str] | None = None  # said once a replacement started
        self._fallback_reason: str | None = None  # why no process could start (logged once)
        self._route_lock = threading.Lock()  # commands: to the outbox, or to a loop here
        self._start(config)
        _CONTROLLERS.append(self)

    def _start(self, config: ExperimentConfig) -> None:
        """Start a run: the receiver thread starts the training process (10-20 ms, more with a
        busy machine: never on the GUI thread) and then forwards what it sends. Commands given
        meanwhile wait in the outbox, in order."""
        # A replacement process numbers its runs after its predecessor's: the window tells runs
        # apart by id (a new id starts a new history).
        first_run_id = self._starts * RUN_IDS_PER_PROCESS + 1
        self._starts += 1
        self._process = None
        self._loop = None
        self._crashed = False
        self._started = threading.Event()  # the process started, or the thread fallback
        self._outbox = queue.SimpleQueue()
        self._stopped_sending = False
        self._first_message_at = None
        if ISOLATION == "process":
            pump = _Pump(lambda deliver: self._serve(config, first_run_id, pump, deliver))
        else:
            pump = _Pump(lambda deliver: self._train_here(config, first_run_id, pump))
        self._thread = QThread()
        self._thread.setObjectName("training-receiver")
        self._pump = pump
        pump.moveToThread(self._thread)
        self._thread.started.connect(pump.run)
        # Direct: the GUI thread may be blocked in shutdown()'s wait, unable to run a queued quit.
        pump.finished.connect(self._thread.quit, Qt.ConnectionType.DirectConnection)
        pump.received.connect(self._on_event)  # queued: this object lives in the GUI thread
        pump.started.connect(self._on_started)  # queued, likewise
        self._thread.finished.connect(self._on_run_ended)
        self._thread.start()

    def _serve(self, config: ExperimentConfig, first_run_id: int, pump: _Pump, deliver) -> None:
        """The receiver thread: start the training process, forward its messages until it
        ends, and reap it if it ended by itself (a crash) so the GUI thread never joins it."""
        try:
            self._start_process(config, first_run_id)
        except (OSError, RuntimeError, ValueError) as exc:
            # A locked-down machine may forbid child processes or local sockets: train in a
            # thread instead (slower while painting, but the class goes on). Logged by
            # _on_started, on the GUI thread (logging here would register this QThread with
            # threading for good).
            self._fallback_reason = str(exc)
            self._train_here(config, first_run_id, pump)
            return
        pump.started.emit(self._process.pid)
        _read_events(self._events)(deliver)
        with self._route_lock:
            self._crashed = not self._stopping
        if self._crashed:
            self._reap_crashed()

    def _train_here(self, config: ExperimentConfig, first_run_id: int, pump: _Pump) -> None:
        """Thread isolation (or the fallback): the loop runs in the receiver thread itself."""
        loop = TrainingLoop(config, pump._deliver, first_run_id)
        if sys.getswitchinterval() > GIL_SWITCH_INTERVAL:
            sys.setswitchinterval(GIL_SWITCH_INTERVAL)
        with self._route_lock:  # from now on commands go straight to the loop, after these
            while True:
                try:
                    item = self._outbox.get_nowait()
                except queue.Empty:
                    break
                if item is not None:
                    getattr(loop, item[0])(*item[1])
            self._loop = loop
        self._started.set()
        pump.started.emit(None)
        loop.run()

    def _start_process(self, config: ExperimentConfig, first_run_id: int) -> None:
        try:
            ctx = training_process.context()
            commands_in, commands = ctx.Pipe(duplex=False)
            events, events_out = ctx.Pipe(duplex=False)
            process = ctx.Process(
                target=training_process.serve,
                args=(commands_in, events_out, config, first_run_id),
                name="vg-desktop-training",
                daemon=True,
            )
            try:
                with training_process.hidden_main_module():
                    process.start()
            finally:
                commands_in.close()  # the child's ends: closed here, so either side sees an exit
                events_out.close()
        except BaseException:
            self._started.set()  # nothing to wait for: no process
            raise
        self._commands, self._events = commands, events
        self._sender_done = threading.Event()
        self._sender = threading.Thread(
            target=_send_commands,
            args=(self._outbox, commands, self._sender_done),
            name="training-commands",
            daemon=False,  # given: otherwise Thread() asks threading about this QThread
        )
        self._sender.start()
        self._process = process
        self._started.set()

    def _reap_crashed(self) -> None:
        """The receiver thread, after a training process ended unasked: make sure it is gone
        and close its pipes (the GUI thread then only reads its exit code)."""
        self._stop_sender()
        self._process.join(TERMINATE_GRACE_S)
        if self._process.is_alive():  # its messages stopped making sense: end it
            self._process.kill()
            self._process.join(TERMINATE_GRACE_S)
        self._sender_done.wait(TERMINATE_GRACE_S)
        self._commands.close()
        self._events.close()

    def _command(self, name: str, *args) -> None:
        """Hand a command to the run: straight to a loop in this process, else to the sender
        thread's outbox (which keeps it until the process has started)."""
        with self._route_lock:
            loop = self._loop
            if loop is None and not self._stopped_sending:
                self._outbox.put((name, args))
        if loop is not None:
            getattr(loop, name)(*args)

    # ---------------------------------------------------------------- commands
    @property
    def playing(self) -> bool:
        return self._state == "playing"

    @property
    def state(self) -> str:
        return self._state

    def play(self) -> None:
        if self._failed:
            return  # nothing can train; the user was told why
        self._command("play")
        self._on_state("playing")

    def pause(self) -> None:
        self._command("pause")
        self._on_state("paused")

    def step(self) -> None:
        """One SGD step (pauses first, so the step is visible on its own)."""
        if self.playing:
            self.pause()
        self._command("request_step")

    def reset(self) -> None:
        """Rebuild the current configuration from its seed: step 0 again, same numbers."""
        self._command("request_reset")
        if self._state == "diverged":
            self._on_state("paused")

    def set_config(self, config: ExperimentConfig) -> None:
        """Apply a new experiment: rebuild if the network or data changed, else retune."""
        old, self.config = self.config, config
        if config.network != old.network or config.data != old.data:
            self._command("set_config", config)
        elif config.train != old.train:
            self._command("set_train", config.train)

    def set_steps_per_frame(self, steps: int | None) -> None:
        self._pace = ("set_steps_per_frame", steps)
        self._command(*self._pace)

    def set_stop_conditions(self, max_steps: int | None, target_loss: float | None) -> None:
        self._stop_conditions = ("set_stop_conditions", max_steps, target_loss)
        self._command(*self._stop_conditions)

    @property
    def feature_layer(self) -> int | None:
        """The hidden layer whose units the training process computes (None: none)."""
        return self._feature_layer[1]

    def set_feature_layer(self, layer: int | None) -> None:
        """Which hidden layer's units the training process computes (None: none)."""
        self._feature_layer = ("set_feature_layer", layer)
        self._command(*self._feature_layer)

    @property
    def training_off(self) -> bool:
        """The training process could not be (re)started: nothing trains or sends weights."""
        return self._failed

    def request_weights(self) -> None:
        self._weights_pending = True
        self._pump.final_weights = None  # only weights sent after this request will do
        self._command("request_weights")

    def load(self, config: ExperimentConfig, weights: dict | None = None) -> None:
        """Rebuild from ``config`` (always), with ``weights`` loaded into the new network."""
        self.config = config
        if weights is None:
            self._command("set_config", config)
        else:
            self._command("set_config_with_weights", config, weights)

    def shutdown(self, timeout_ms: int = 3000) -> bool:
        """Stop the run and wait for it; True if it ended in time.

        A training process stops at its next layer boundary; one that does not within the
        timeout is terminated. Weights asked for (a save in progress) and not yet delivered are
        delivered here, so closing during "Save with weights" still writes them. Closing the
        window waits here; anything else that ends a run uses :meth:`retire`.
        """
        if self._reaper is not None:
            return self.wait_retired(timeout_ms / 1000 + 3 * TERMINATE_GRACE_S)
        self._ask_to_stop()
        finished = self._wait_for_end(timeout_ms)
        self._ended(finished)
        return finished

    def retire(self, timeout_ms: int = 3000) -> None:
        """Stop the run without waiting for it (Compare A/B off): the GUI thread goes on at once.

        A reaper thread waits for the receiver and the process (terminating it as
        :meth:`shutdown` would) and then emits :attr:`retired`, queued into the GUI thread.
        Until then :func:`retiring_workers` lists this controller.
        """
        if self._reaper is not None:
            return
        self._ask_to_stop()

        def reap() -> None:
            finished = self._wait_for_end(timeout_ms)
            self._reaped = finished
            self.retired.emit()

        self._reaped = False
        self._reaper = threading.Thread(target=reap, name="training-reaper", daemon=True)
        self._reaper.start()

    @property
    def retiring(self) -> bool:
        return self._reaper is not None

    def wait_retired(self, timeout_s: float) -> bool:
        """Block until a retired run has ended (closing the window waits for them)."""
        self._reaper.join(timeout_s)
        finished = not self._reaper.is_alive() and self._reaped
        self._ended(finished)
        return finished

    @Slot()
    def _on_retired(self) -> None:
        self._ended(self._reaped)

    def _ask_to_stop(self) -> None:
        with self._route_lock:  # read by the receiver thread to tell a stop from a crash
            self._stopping = True
        self._command("request_stop")
        self._stop_sender()

    def _wait_for_end(self, timeout_ms: int) -> bool:
        """Wait for the receiver thread and the process, escalating to terminate and kill.

        Blocks: the GUI thread calls it only when the window closes; otherwise the reaper
        thread of :meth:`retire` does. Touches no widget and emits nothing."""
        if ISOLATION == "process" and self._loop is None and not self._weights_pending:
            # Nothing is owed from the process (it writes nothing either): it stops at its next
            # layer boundary, but building a network of the largest size cannot be interrupted
            # (1-4 s here). Waiting longer than this only keeps a window from closing.
            timeout_ms = min(timeout_ms, STOP_PATIENCE_MS)
        finished = self._thread.wait(timeout_ms)
        self._started.wait(TERMINATE_GRACE_S)  # a process being started is one to stop
        if self._crashed:  # it ended by itself: the receiver thread reaps it
            return finished or self._thread.wait(SHUTDOWN_PATIENCE_MS)
        if self._process is not None:
            self._process.join(0 if not finished else TERMINATE_GRACE_S)
            if self._process.is_alive():
                if self._weights_pending:
                    log.warning("the training process did not stop; terminating it")
                else:
                    log.info("the training process was busy; terminated (nothing was owed)")
                self._process.terminate()
                self._process.join(TERMINATE_GRACE_S)
                if self._process.is_alive():
                    self._process.kill()
                    self._process.join(TERMINATE_GRACE_S)
            finished = self._thread.wait(timeout_ms) and not self._process.is_alive()
            self._sender.join(TERMINATE_GRACE_S)  # the pipe's reader is gone: send fails fast
            self._commands.close()
            if finished:
                self._events.close()
        elif not finished:
            log.warning("the training worker is still finishing a step; waiting for it")
            finished = self._thread.wait(SHUTDOWN_PATIENCE_MS)
        return finished

    def _ended(self, finished: bool) -> None:
        """On the GUI thread, once the run has ended: owed weights out, the list updated."""
        if finished and self._weights_pending and self._pump.final_weights is not None:
            self._on_weights(self._pump.final_weights)
        if finished:
            self._loop = None  # a thread-isolated network can be large: let it go now
            if self in _CONTROLLERS:
                _CONTROLLERS.remove(self)

    def _stop_sender(self) -> None:
        with self._route_lock:
            if self._loop is None and not self._stopped_sending:
                self._stopped_sending = True
                self._outbox.put(None)

    def is_finished(self) -> bool:
        """The run has ended: receiver thread finished and, with a process, the process gone."""
        process_gone = self._process is None or not self._process.is_alive()
        return self._thread.isFinished() and process_gone

    @property
    def starting(self) -> bool:
        """The receiver thread has not started the training process yet (it takes 10-20 ms)."""
        return not self._started.is_set()

    def is_running(self) -> bool:
        return self._thread.isRunning() and (self._process is None or self._process.is_alive())

    @property
    def pid(self) -> int | None:
        """The training process's id (None with thread isolation)."""
        return None if self._process is None else self._process.pid

    # ---------------------------------------------------------------- messages from the run
    @Slot(str, object)
    def _on_event(self, kind: str, payload: tuple) -> None:
        if self._first_message_at is None:
            self._first_message_at = time.monotonic()
        if kind == "snapshot":
            self._on_snapshot(payload[0])
        elif kind == "state":
            self._on_state(payload[0])
        elif kind == "error":
            self._on_error(*payload)
        elif kind == "weights":
            self._on_weights(payload[0])

    @Slot()
    def _on_run_ended(self) -> None:
        """The receiver ended. Unless we stopped it, the training process died: say so, and
        start a new one with the current configuration, so the app keeps working."""
        if self._stopping or not self._crashed:
            return
        code, pid = self._process.exitcode, self._process.pid  # reaped by the receiver thread
        self._on_state("paused")
        lost = ""
        if self._weights_pending:
            self._weights_pending = False
            lost = " The experiment being saved with its weights was not saved (try again)."
            self.weightsLost.emit("the training process stopped before it sent the weights")
        now = time.monotonic()
        self._restarts = [t for t in self._restarts if now - t < RESTART_WINDOW_S]
        if self._first_message_at is None or len(self._restarts) >= MAX_RESTARTS:
            # Died before it trained, or keeps dying: a new one would too. Stop here.
            self._failed = True
            self._stopping = True
            why = "could not start" if self._first_message_at is None else "kept stopping"
            self._on_error(
                f"The training process {why} (exit code {code}). Training is off until the "
                f"app is restarted.{lost}",
                f"Training process {pid} ended with exit code {code}; "
                f"{len(self._restarts)} restart(s) in the last {RESTART_WINDOW_S:.0f} s. "
                "See the terminal or the log for its output.",
            )
            return
        self._restarts.append(now)
        self._start(self.config)
        self._command(*self._pace)
        self._command(*self._stop_conditions)
        self._command(*self._feature_layer)
        # Said once the replacement has started (_on_started), when it can name where it runs.
        self._restart_note = (
            f"The training process stopped unexpectedly (exit code {code}); training was "
            f"restarted with the current settings.{lost}",
            f"process {pid} ended with exit code {code}.",
        )

    @Slot(object)
    def _on_started(self, pid: int | None) -> None:
        """The receiver thread has started the run (``pid``: its process; None: a thread)."""
        if pid is None and self._fallback_reason is not None:
            log.warning(
                "could not start a training process (%s); training in a thread",
                self._fallback_reason,
            )
            self._fallback_reason = None
        if self._restart_note is None:
            return
        summary, details = self._restart_note
        self._restart_note = None
        where = f"process {pid}" if pid is not None else "a thread of the app"
        self._on_error(summary, f"Training runs in {where} now; {details}")

    # ---------------------------------------------------------------- re-emitted signals
    @Slot(object)
    def _on_snapshot(self, snap: Snapshot) -> None:
        self.snapshotReady.emit(snap)

    @Slot(str)
    def _on_state(self, state: str) -> None:
        if state != self._state:
            self._state = state
            self.stateChanged.emit(state)

    @Slot(str, str)
    def _on_error(self, summary: str, details: str) -> None:
        self.errorOccurred.emit(summary, details)

    @Slot(object)
    def _on_weights(self, weights: dict) -> None:
        if not self._weights_pending:
            return  # already delivered (at shutdown), or nobody asked
        self._weights_pending = False
        self.weightsReady.emit(weights)


def with_train(config: ExperimentConfig, **changes) -> ExperimentConfig:
    """``config`` with training settings changed (validated)."""
    return replace(config, train=replace(config.train, **changes))
