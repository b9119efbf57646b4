"""GUI-side state of one run (A, or B when comparing): its controller, newest snapshot, history.

Snapshots arrive by signal at most ~30 times a second. Each one's history chunk is appended at
once (so the curves miss no step), while only the newest snapshot is kept for the frame timer to
draw: however fast the worker trains, the GUI never queues a backlog of frames.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal, Slot

from .engine import ExperimentConfig, RunHistory
from .snapshot import Snapshot
from .worker import TrainingController


class RunSlot(QObject):
    """One training run as the window sees it."""

    changed = Signal()  # a new snapshot arrived (drawing still waits for the frame timer)

    def __init__(self, name: str, config: ExperimentConfig, parent: QObject | None = None):
        super().__init__(parent)
        self.name = name
        self.controller = TrainingController(config, self)
        self.history = RunHistory(config.network.depth)
        self.latest: Snapshot | None = None
        self.drawn: Snapshot | None = None
        self.controller.snapshotReady.connect(self._on_snapshot)

    @property
    def config(self) -> ExperimentConfig:
        return self.controller.config

    @property
    def needs_drawing(self) -> bool:
        return self.latest is not None and self.latest is not self.drawn

    @Slot(object)
    def _on_snapshot(self, snap: Snapshot) -> None:
        if self.latest is None or snap.run_id != self.latest.run_id:
            self.history = RunHistory(snap.depth)
        snap.history.append_to(self.history)
        self.latest = snap
        self.changed.emit()

    def shutdown(self) -> bool:
        return self.controller.shutdown()

    def retire(self) -> None:
        """Stop this run without waiting (the GUI thread must not); the slot deletes itself
        once its process has ended."""
        self.controller.snapshotReady.disconnect(self._on_snapshot)
        self.controller.retired.connect(self.deleteLater)
        self.controller.retire()
