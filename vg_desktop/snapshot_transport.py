"""Snapshots across a training process's pipe, without re-sending what the window already has.

Every snapshot carries the newest decision grid (or test answers), the dataset and the Layer
features of the layer on screen, and each of them changes a few times a second at most. Pickled
into every snapshot (up to ~60 a second) they were about half of each one's bytes (depth 10,
spiral, features on screen: 88 of 184 KB), pickled in the training process and unpickled in the
window's receiver thread, which shares the GIL with the GUI thread. So the sending side replaces
a field that holds the very object it sent before with :data:`UNCHANGED`, and the receiving side
puts the object it received before back: the window gets the same snapshots as before, and an
unchanged grid or features arrive as the same object (so identity checks skip their redraw).

Qt-free: the training process imports it.
"""

from __future__ import annotations

from dataclasses import replace

from .snapshot import Snapshot

# Fields that change at most a few times a second (at the history views' cadence, or per run).
RESENT_FIELDS = ("decision", "test", "features", "data_x", "data_y")


class _Unchanged:
    """A field's placeholder: "the object this field held in the previous snapshot"."""

    def __reduce__(self) -> str:
        return "UNCHANGED"  # unpickled as this module's singleton

    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED = _Unchanged()


class SnapshotSender:
    """The training process's side: drops the fields it already sent (by identity)."""

    def __init__(self) -> None:
        self._sent: dict[str, object] = {}
        self.fields_skipped = 0  # fields sent as UNCHANGED (for tests)

    def strip(self, snap: Snapshot) -> Snapshot:
        unchanged = {}
        for name in RESENT_FIELDS:
            value = getattr(snap, name)
            if value is not None and value is self._sent.get(name):
                unchanged[name] = UNCHANGED
            else:
                self._sent[name] = value
        self.fields_skipped += len(unchanged)
        return replace(snap, **unchanged) if unchanged else snap


class SnapshotReceiver:
    """The window's side: puts back the objects the sender left out."""

    def __init__(self) -> None:
        self._received: dict[str, object] = {}

    def restore(self, snap: Snapshot) -> Snapshot:
        restored = {}
        for name in RESENT_FIELDS:
            value = getattr(snap, name)
            if value is UNCHANGED:
                restored[name] = self._received[name]
            else:
                self._received[name] = value
        return replace(snap, **restored) if restored else snap
