"""Peak memory of a training process at the largest settings, and where it goes.

    python -m benchmarks.memory              # ~1 minute
    python -m benchmarks.memory --seconds 20

1. Peak resident memory (VmHWM) of the app's own training process (TrainingController, the
   same process, loop and snapshots as the window) at depth 200 × width 256 × batch 512 after
   training for ``--seconds``: sigmoid, then batch norm + residual (the most buffers). With
   Compare A/B there are two such processes.
2. Where it goes: the same loop in this process under tracemalloc (NumPy reports its buffers
   to it): the peak of traced memory, and the network's own arrays by name.

Writes benchmarks/results/memory.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import tracemalloc
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results"

from vg_desktop import limit_blas_threads  # noqa: E402

limit_blas_threads()

import numpy as np  # noqa: E402

MB = 1024 * 1024


def largest(normalization: str = "none", residual: bool = False):
    from vg_desktop.engine import ExperimentConfig, NetworkConfig, TrainConfig
    from vg_desktop.engine.config import BATCH_RANGE, DEPTH_RANGE, WIDTH_RANGE

    base = ExperimentConfig()
    return replace(
        base,
        network=NetworkConfig(
            depth=DEPTH_RANGE[1],
            width=WIDTH_RANGE[1],
            normalization=normalization,
            residual=residual,
        ),
        train=TrainConfig(batch_size=min(BATCH_RANGE[1], base.data.n_samples)),
    )


def status_mb(pid: int, key: str) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def process_peak(app, config, seconds: float) -> dict:
    from PySide6.QtCore import QEventLoop, QTimer

    from vg_desktop.worker import TrainingController

    controller = TrainingController(config)
    latest = {"step": 0, "snapshots": 0}

    def on_snapshot(snap) -> None:
        latest["step"] = snap.step
        latest["snapshots"] += 1

    controller.snapshotReady.connect(on_snapshot)
    controller.play()
    loop = QEventLoop()
    QTimer.singleShot(round(seconds * 1000), loop.quit)
    loop.exec()
    pid = controller.pid
    result = {
        "peak_rss_mb": status_mb(pid, "VmHWM"),
        "rss_mb": status_mb(pid, "VmRSS"),
        "steps": latest["step"],
        "snapshots": latest["snapshots"],
    }
    controller.shutdown()
    return result


def breakdown(config, steps: int) -> dict:
    """Run the training loop here under tracemalloc for ``steps`` steps with statistics."""
    from vg_desktop.training_loop import TrainingLoop

    snapshots = []
    done = threading.Event()

    def send(kind, *payload) -> None:
        if kind == "snapshot":
            snapshots.append(payload[0].step)
            if payload[0].step >= steps:
                done.set()

    tracemalloc.start()
    loop = TrainingLoop(config, send)
    loop.set_steps_per_frame(1)  # every step with statistics (one per frame)
    loop.play()
    thread = threading.Thread(target=loop.run)
    thread.start()
    done.wait(300)
    network = loop._run.network
    ws = network._workspace
    arrays: dict[str, int] = {}
    for name, value in vars(ws).items():
        if isinstance(value, np.ndarray) and value.base is None:
            arrays[f"workspace.{name}"] = value.nbytes
    for name in ("_flat", "_grad_flat", "_velocity", "_finite", "running_mean", "running_var"):
        value = getattr(network, name, None)
        if isinstance(value, np.ndarray):
            arrays[f"network.{name}"] = value.nbytes
    current, peak = tracemalloc.get_traced_memory()
    loop.request_stop()
    thread.join()
    tracemalloc.stop()
    return {
        "traced_peak_mb": peak / MB,
        "traced_current_mb": current / MB,
        "arrays_mb": {k: v / MB for k, v in sorted(arrays.items(), key=lambda kv: -kv[1])},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out: dict = {"process": {}, "breakdown": {}}
    cases = {"sigmoid": largest(), "batch norm + residual": largest("batch", True)}
    print("Training process at depth 200 x width 256 x batch 512, peak resident memory (VmHWM)")
    for name, config in cases.items():
        r = process_peak(app, config, args.seconds)
        out["process"][name] = r
        print(
            f"  {name:>22}: peak {r['peak_rss_mb']:7.0f} MB (now {r['rss_mb']:.0f} MB) after "
            f"{args.seconds:g} s, {r['steps']} steps, {r['snapshots']} snapshots"
        )
    print("Where it goes (the same loop in this process, tracemalloc, 3 steps with statistics)")
    for name, config in cases.items():
        b = breakdown(config, 3)
        out["breakdown"][name] = b
        listed = sum(b["arrays_mb"].values())
        print(
            f"  {name}: traced peak {b['traced_peak_mb']:.0f} MB; the network's arrays "
            f"{listed:.0f} MB:"
        )
        for key, mb in b["arrays_mb"].items():
            if mb >= 1:
                print(f"      {mb:7.1f} MB  {key}")
    (RESULTS / "memory.json").write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {RESULTS / 'memory.json'}")


if __name__ == "__main__":
    main()
