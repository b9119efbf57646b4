"""Snapshots over the training process's pipe: the fields that rarely change are sent only when
they do, and the window receives exactly the snapshots the loop made."""

from __future__ import annotations

import pickle
import threading
from dataclasses import fields, replace

import numpy as np

from vg_desktop.engine import ExperimentConfig, NetworkConfig
from vg_desktop.snapshot_transport import (
    RESENT_FIELDS,
    UNCHANGED,
    SnapshotReceiver,
    SnapshotSender,
)
from vg_desktop.training_loop import TrainingLoop


def _same_value(a, b) -> bool:
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and np.array_equal(a, b, equal_nan=True)
    if a is not None and hasattr(a, "__dataclass_fields__"):
        return type(a) is type(b) and all(
            _same_value(getattr(a, f.name), getattr(b, f.name)) for f in fields(a)
        )
    if isinstance(a, tuple):
        return len(a) == len(b) and all(_same_value(x, y) for x, y in zip(a, b, strict=True))
    return a == b or (a != a and b != b)  # NaN == NaN here


def _loop_snapshots(n: int) -> list:
    """Snapshots of a real training loop with the layer features on screen."""
    snapshots = []
    got = threading.Condition()

    def send(kind, *payload):
        if kind == "snapshot":
            with got:
                snapshots.append(payload[0])
                got.notify_all()

    config = replace(ExperimentConfig(), network=NetworkConfig(depth=4, width=8))
    loop = TrainingLoop(config, send)
    loop.set_feature_layer(2)
    thread = threading.Thread(target=loop.run)
    thread.start()
    try:
        loop.play()
        with got:
            assert got.wait_for(
                lambda: (
                    len(snapshots) >= n
                    and len({id(s.features) for s in snapshots if s.features is not None}) >= 3
                ),
                30,
            )
        loop.pause()
    finally:
        loop.request_stop()
        thread.join(10)
    return snapshots


def test_the_receiver_gets_every_snapshot_as_sent_and_unchanged_fields_are_not_pickled():
    snapshots = _loop_snapshots(40)
    sender, receiver = SnapshotSender(), SnapshotReceiver()
    sizes, full_sizes, received = [], [], []
    for snap in snapshots:
        wire = pickle.dumps(sender.strip(snap), protocol=pickle.HIGHEST_PROTOCOL)
        sizes.append(len(wire))
        full_sizes.append(len(pickle.dumps(snap, protocol=pickle.HIGHEST_PROTOCOL)))
        received.append(receiver.restore(pickle.loads(wire)))
    for sent, got in zip(snapshots, received, strict=True):
        assert _same_value(sent, got)  # every field, the rarely changing ones included
    assert sender.fields_skipped > 0
    assert sum(sizes) < 0.9 * sum(full_sizes)
    # A field that did not change arrives as the object that came before (no redraw needed).
    for before, after, sent_before, sent_after in zip(
        received, received[1:], snapshots, snapshots[1:], strict=False
    ):
        for name in RESENT_FIELDS:
            if getattr(sent_after, name) is getattr(sent_before, name):
                assert getattr(after, name) is getattr(before, name)


def test_a_new_object_is_sent_and_none_stays_none():
    snap = _loop_snapshots(3)[-1]
    sender = SnapshotSender()
    first = sender.strip(snap)
    assert all(getattr(first, name) is getattr(snap, name) for name in RESENT_FIELDS)
    second = sender.strip(replace(snap, step=snap.step + 1))
    for name in RESENT_FIELDS:
        expected = UNCHANGED if getattr(snap, name) is not None else None
        assert getattr(second, name) is expected
    new_x = np.array(snap.data_x)  # equal values, a new object: sent again
    third = sender.strip(replace(snap, data_x=new_x))
    assert third.data_x is new_x
    assert pickle.loads(pickle.dumps(UNCHANGED)) is UNCHANGED


def test_messages_are_read_without_the_import_hook():
    """A receiver thread reads a training process's messages without calling
    builtins.__import__: PySide6 hooks it, and a receiver thread inside that hook while the GUI
    thread was in Qt deadlocked the window (a CI run hung). The message reads the same."""
    import builtins
    import multiprocessing

    from vg_desktop.pipe_receive import receive
    from vg_desktop.snapshot_transport import UNCHANGED

    message = ("snapshot", ({"grid": UNCHANGED, "values": np.arange(3.0)},))
    reader, writer = multiprocessing.Pipe(duplex=False)
    calls: list[str] = []
    original = builtins.__import__

    def counting(*args, **kwargs):
        calls.append(args[0])
        return original(*args, **kwargs)

    def read(how):
        writer.send(message)
        builtins.__import__ = counting
        try:
            return how(reader)
        finally:
            builtins.__import__ = original

    kind, payload = read(receive)
    assert kind == "snapshot" and payload[0]["grid"] is UNCHANGED
    np.testing.assert_array_equal(payload[0]["values"], np.arange(3.0))
    assert calls == []
    read(lambda r: r.recv())  # the standard way goes through the hook: what is guarded against
    assert calls
