"""Reading a training process's messages in a receiver thread without importing anything.

``Connection.recv`` unpickles with the standard unpickler, which looks every class up through
``builtins.__import__``. PySide6 replaces that function with its own hook, and a receiver
thread inside the hook while the GUI thread was inside Qt deadlocked the whole window (a CI
run hung for minutes in ``test_fresh_window_at_every_classroom_size``: the receiver thread in
``shibokensupport/feature.py``'s import hook under ``Connection.recv``, the GUI thread in
``QGraphicsTextItem.setPlainText``). Here classes are taken from ``sys.modules``; the modules a
message can name are imported on the GUI thread when this module is (see ``PRELOADED``).
"""

from __future__ import annotations

import importlib
import io
import pickle
import sys
from multiprocessing.connection import Connection

import numpy as np

from . import snapshot, snapshot_transport  # noqa: F401 (their classes travel in messages)
from .engine import DatasetEvaluation, ExperimentConfig, RunHistory, StepStats  # noqa: F401

PRELOADED = ("numpy", "vg_desktop.snapshot", "vg_desktop.snapshot_transport", "vg_desktop.engine")
_ = np  # numpy's array reconstructors are in its (already imported) core modules


class _ModulesUnpickler(pickle.Unpickler):
    """An unpickler that finds classes in the modules already imported."""

    def find_class(self, module: str, name: str):
        found = sys.modules.get(module)
        if found is None:
            # Not expected (every message type is imported above); importlib does not go
            # through builtins.__import__ and its hook.
            found = importlib.import_module(module)
        obj = found
        for part in name.split("."):
            obj = getattr(obj, part)
        return obj


def receive(connection: Connection):
    """One message from ``connection``, as ``connection.recv()`` would return it."""
    data = connection.recv_bytes()
    return _ModulesUnpickler(io.BytesIO(data)).load()
