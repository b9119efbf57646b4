"""GUI benchmarks: frame draw time, throughput with the window open, control-change latency,
launch time, memory growth and GUI-thread stalls at the largest settings.

    python -m benchmarks.gui            # about 3 minutes; memory over 2 minutes
    python -m benchmarks.gui --full     # memory after 1 and after 10 minutes (about 14 minutes)

Prints a table and writes benchmarks/results/gui.json. Timings on a shared machine are noisy:
compare the ratios printed (measured interleaved in one run), not single figures across runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "benchmarks" / "results"

from vg_desktop import limit_blas_threads  # noqa: E402

limit_blas_threads()  # as the app does, before NumPy is imported


def rss_mb(pid: int | str = "self") -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def make_window(app, depth: int, width: int = 32):
    from vg_desktop.app import MainWindow
    from vg_desktop.engine import ExperimentConfig, NetworkConfig
    from vg_desktop.selftest import wait_until

    window = MainWindow(
        config=replace(ExperimentConfig(), network=NetworkConfig(depth=depth, width=width))
    )
    window.resize(1920, 1080)
    window.controls.speed.setCurrentIndex(window.controls.speed.findData(None))  # Maximum
    window.show()
    if VIEW_IN_FRONT != "default":  # at the middle layer
        window.layer.setValue(max(1, depth // 2))
    wait_until(app, lambda: window.frames_drawn > 0, 30, "first frame")
    if VIEW_IN_FRONT != "default":
        # Raised once the first layout pass has put the panels in their tabs (before it, a
        # raise finds no tab and the default view stays in front, measuring nothing new).
        window.docks[VIEW_IN_FRONT].raise_()
        wait_until(app, lambda: window.docks[VIEW_IN_FRONT].isVisible(), 30, "view in front")
        on_screen = {"features": window._features_on_screen, "network": window._network_on_screen}
        if not on_screen[VIEW_IN_FRONT]:
            raise RuntimeError(f"the {VIEW_IN_FRONT} view is not on screen")
    return window


# --view: the history view in front ("features": the Layer features, whose units the training
# process computes; "network": the network picture); "default" leaves the data view there.
VIEWS = ("default", "features", "network")
VIEW_IN_FRONT = "default"


def pump(app, seconds: float) -> None:
    """Run the event loop for ``seconds``, as ``app.exec()`` does: it sleeps until an event
    comes (a processEvents() polling loop would keep a core busy that the app leaves free)."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(max(0, round(seconds * 1000)), loop.quit)
    loop.exec()


_PAINT_SINK: list = []  # the function paint times go to (empty: nowhere)


def _time_plot_paints() -> None:
    """Wrap pyqtgraph's GraphicsView.paintEvent once, before any window exists (PySide
    resolves a Python override once per class), handing each paint's time in ms to the
    function in ``_PAINT_SINK``."""
    import pyqtgraph as pg

    if getattr(pg.GraphicsView.paintEvent, "_timed", False):
        return
    original = pg.GraphicsView.paintEvent

    def timed_paint(view, event):
        t0 = time.perf_counter()
        original(view, event)
        if _PAINT_SINK:
            _PAINT_SINK[0]((time.perf_counter() - t0) * 1000)

    timed_paint._timed = True
    pg.GraphicsView.paintEvent = timed_paint


def frame_times(app, depth: int, seconds: float) -> dict:
    """Time every frame while training at full speed with every view visible.

    A frame is one tick of the window's frame timer and the painting it causes: ``_draw()`` when
    a new snapshot came (plot items updated from it), the bars' animation step, then the paint
    events of the plot views, up to the next tick. Ticks without a new snapshot only animate
    the bars toward their targets; they are counted apart.
    """
    draws: list[float] = []  # _draw() alone
    ticks: list[list] = []  # [drew a snapshot, ms], one per tick
    window = make_window(app, depth)
    draw_if_allowed, animate = window._draw_if_allowed, window.bars.advance_animation

    def timed_tick():
        ticks.append([False, 0.0])
        t0 = time.perf_counter()
        draw_if_allowed()
        ticks[-1][1] += (time.perf_counter() - t0) * 1000

    def timed_draw():
        t0 = time.perf_counter()
        type(window)._draw(window)
        draws.append((time.perf_counter() - t0) * 1000)
        if ticks:
            ticks[-1][0] = True

    def timed_animation():
        t0 = time.perf_counter()
        animate()
        if ticks:
            ticks[-1][1] += (time.perf_counter() - t0) * 1000

    window._draw_if_allowed = timed_tick
    window._draw = timed_draw
    window.bars.advance_animation = timed_animation

    def add_paint(ms: float) -> None:
        if ticks:
            ticks[-1][1] += ms

    _PAINT_SINK[:] = [add_paint]
    try:
        window.play()
        pump(app, 1.0)  # warm-up
        draws.clear()
        ticks.clear()
        pump(app, seconds)
        window.pause()
    finally:
        _PAINT_SINK.clear()
    window.close()
    ticks = ticks[:-1]  # the last tick's paint may be cut off
    frames = [ms for drew, ms in ticks if drew]
    animation = [ms for drew, ms in ticks if not drew]
    return {
        "depth": depth,
        "frames": len(frames),
        "median_ms": statistics.median(draws),
        "p95_ms": percentile(draws, 0.95),
        "with_paint_median_ms": statistics.median(frames),
        "with_paint_p95_ms": percentile(frames, 0.95),
        "frames_per_s": len(frames) / seconds,
        "animation_only_ticks": len(animation),
        "animation_only_median_ms": statistics.median(animation) if animation else 0.0,
    }


def headless_rate(app, depth: int, seconds: float) -> float:
    """Steps/s of the app's own training (its training process, pipe and receiver thread, the
    same loop and snapshots) with no window drawing them: measured as :func:`window_rate` is,
    from 1 s after Play on."""
    from vg_desktop.engine import ExperimentConfig, NetworkConfig
    from vg_desktop.worker import TrainingController

    controller = TrainingController(replace(ExperimentConfig(), network=NetworkConfig(depth=depth)))
    latest = {"step": 0}
    controller.snapshotReady.connect(lambda snap: latest.update(step=snap.step))
    controller.play()
    pump(app, 1.0)
    start_step, t0 = latest["step"], time.perf_counter()
    pump(app, seconds)
    steps = latest["step"] - start_step
    elapsed = time.perf_counter() - t0
    controller.shutdown()
    return steps / elapsed


def engine_rate(depth: int, seconds: float) -> float:
    """``TrainingRun.step`` alone, every step with its statistics (as ``vg-desktop run`` trains)."""
    from vg_desktop.engine import ExperimentConfig, NetworkConfig, TrainingRun

    run = TrainingRun(replace(ExperimentConfig(), network=NetworkConfig(depth=depth)))
    for _ in range(5):
        run.step()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        run.step()
        n += 1
    return n / (time.perf_counter() - t0)


def window_rate(app, depth: int, seconds: float) -> float:
    window = make_window(app, depth)
    window.play()
    pump(app, 1.0)
    start_step, t0 = window.run_a.latest.step, time.perf_counter()
    pump(app, seconds)
    steps = window.run_a.latest.step - start_step
    elapsed = time.perf_counter() - t0
    window.pause()
    window.close()
    return steps / elapsed


def change_latency(app, depth: int, repeats: int = 8) -> dict:
    """Time from a structural control change to the first frame drawn with the new network."""
    from vg_desktop.selftest import wait_until

    window = make_window(app, depth)
    window.play()
    pump(app, 1.0)
    latencies = []
    for i in range(repeats):
        width = 24 + 8 * (i % 2)
        drawn_before = window.frames_drawn
        t0 = time.perf_counter()
        window.controls.width_box.setValue(width)
        wait_until(
            app,
            lambda w=width, n=drawn_before: (
                window.run_a.drawn is not None
                and window.run_a.drawn.config.network.width == w
                and window.frames_drawn > n
            ),
            30,
            "new network frame",
        )
        latencies.append((time.perf_counter() - t0) * 1000)
        pump(app, 0.2)
    window.pause()
    window.close()
    return {"depth": depth, "median_ms": statistics.median(latencies), "max_ms": max(latencies)}


BARE = """
import time, sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow, QLabel
app = QApplication(sys.argv)
w = QMainWindow(); w.setCentralWidget(QLabel("bare")); w.resize(800, 600); w.show()
def done():
    w.repaint()  # painted, as the app's first frame is below
    print("FIRST_FRAME", flush=True); app.quit()
QTimer.singleShot(0, done)
app.exec()
"""

APP = """
import sys
from vg_desktop.training_process import prestart
prestart()  # as vg_desktop.__main__ does, before Qt loads
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv)
from vg_desktop.app import MainWindow
w = MainWindow(); w.resize(1920, 1080); w.show()
def poll():
    if w.frames_drawn > 0:  # the first snapshot is in the plots: paint it, then it is on screen
        w.repaint()
        print("FIRST_FRAME", flush=True); w.close(); app.quit()
    else:
        QTimer.singleShot(1, poll)
QTimer.singleShot(0, poll)
app.exec()
"""


def launch_time(script: str) -> float:
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        VG_DESKTOP_SETTINGS_FILE=str(RESULTS / "bench-settings.ini"),
    )
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT
    )
    for line in proc.stdout:
        if line.startswith("FIRST_FRAME"):
            elapsed = time.perf_counter() - t0
            break
    else:
        raise RuntimeError("no first frame")
    proc.wait(timeout=30)
    return elapsed


def memory_growth(app, minutes_total: float) -> dict:
    window = make_window(app, 30)
    window.play()
    marks = {}
    t0 = time.perf_counter()
    training = {}
    for mark in (1.0, minutes_total):
        pump(app, max(0.0, mark * 60 - (time.perf_counter() - t0)))
        marks[mark] = rss_mb()
        training[mark] = rss_mb(window.controller.pid)
    steps = window.run_a.latest.step
    window.pause()
    window.close()
    first, last = marks[1.0], marks[minutes_total]
    return {
        "rss_mb_at_1_min": first,
        f"rss_mb_at_{minutes_total:g}_min": last,
        "growth_percent": 100 * (last - first) / first,
        "training_process_rss_mb_at_1_min": training[1.0],
        f"training_process_rss_mb_at_{minutes_total:g}_min": training[minutes_total],
        "steps": steps,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--full", action="store_true", help="memory over 10 minutes")
    parser.add_argument("--seconds", type=float, default=6.0, help="per measurement")
    parser.add_argument(
        "--view",
        choices=VIEWS,
        default="default",
        help="the view in front of the data view: 'features' (the Layer features, whose units"
        " the training process computes for the middle layer) or 'network' (the network picture)",
    )
    parser.add_argument("--features", action="store_true", help="the same as --view features")
    args = parser.parse_args()
    global VIEW_IN_FRONT
    VIEW_IN_FRONT = "features" if args.features else args.view
    RESULTS.mkdir(parents=True, exist_ok=True)

    from PySide6.QtWidgets import QApplication

    from vg_desktop.app import MainWindow  # noqa: F401 (import cost outside the timings)

    _time_plot_paints()

    app = QApplication.instance() or QApplication(sys.argv)
    os.environ["VG_DESKTOP_SETTINGS_FILE"] = str(RESULTS / "bench-settings.ini")
    out: dict = {}

    print(
        "Frame time (every view visible, training at full speed, 1920x1080; a frame is one"
        " frame-timer tick with a new snapshot: draw, bar animation, paint)"
    )
    out["frames"] = [frame_times(app, d, args.seconds) for d in (10, 100, 200)]
    for r in out["frames"]:
        print(
            f"  depth {r['depth']:>3}: draw median {r['median_ms']:5.1f} ms, p95 "
            f"{r['p95_ms']:5.1f} ms; draw + paint median {r['with_paint_median_ms']:5.1f} ms, "
            f"p95 {r['with_paint_p95_ms']:5.1f} ms; {r['frames_per_s']:.0f} frames/s"
            f" (+{r['animation_only_ticks']} animation-only ticks,"
            f" median {r['animation_only_median_ms']:.1f} ms)"
        )

    print(
        "Training throughput, window open vs headless (the same training process, no window;"
        " interleaved)"
    )
    out["throughput"] = []
    for depth in (10, 100):
        # Each as long as the other: the share of steps trained with statistics falls as the
        # history thins out, so runs of different lengths would not compare.
        h1 = headless_rate(app, depth, args.seconds)
        w = window_rate(app, depth, args.seconds)
        h2 = headless_rate(app, depth, args.seconds)
        headless = (h1 + h2) / 2
        engine = engine_rate(depth, args.seconds / 2)
        out["throughput"].append(
            {
                "depth": depth,
                "headless_steps_per_s": headless,
                "window_steps_per_s": w,
                "ratio": w / headless,
                "engine_every_step_statistics_steps_per_s": engine,
            }
        )
        print(
            f"  depth {depth:>3}: headless {headless:7.0f} steps/s, window {w:7.0f} steps/s,"
            f" ratio {w / headless:.2f}  (TrainingRun.step alone, statistics every step:"
            f" {engine:.0f})"
        )

    print("Control change -> first frame with the new network")
    out["latency"] = [change_latency(app, d) for d in (10, 100)]
    for r in out["latency"]:
        print(f"  depth {r['depth']:>3}: median {r['median_ms']:.0f} ms, max {r['max_ms']:.0f} ms")

    print("Launch to first frame (separate processes, interleaved, median of 3)")
    bare, ours = [], []
    for _ in range(3):
        bare.append(launch_time(BARE))
        ours.append(launch_time(APP))
    out["launch"] = {
        "bare_pyside6_s": statistics.median(bare),
        "vg_desktop_s": statistics.median(ours),
    }
    out["launch"]["difference_s"] = out["launch"]["vg_desktop_s"] - out["launch"]["bare_pyside6_s"]
    print(
        f"  bare PySide6 window {out['launch']['bare_pyside6_s']:.2f} s, Vanishing Gradient Lab"
        f" {out['launch']['vg_desktop_s']:.2f} s (+{out['launch']['difference_s']:.2f} s)"
    )

    minutes = 10.0 if args.full else 2.0
    print(f"Memory while training (depth 30): after 1 minute vs after {minutes:g} minutes")
    out["memory"] = memory_growth(app, minutes)
    m = out["memory"]
    print(
        f"  window process {m['rss_mb_at_1_min']:.1f} MB -> "
        f"{m[f'rss_mb_at_{minutes:g}_min']:.1f} MB ({m['growth_percent']:+.1f} %); training "
        f"process {m['training_process_rss_mb_at_1_min']:.1f} MB -> "
        f"{m[f'training_process_rss_mb_at_{minutes:g}_min']:.1f} MB; {m['steps']:,} steps"
    )

    from benchmarks.stalls import run_all as stalls

    out["stalls"] = stalls(app)  # prints its own figures

    name = "gui.json" if VIEW_IN_FRONT == "default" else f"gui-{VIEW_IN_FRONT}.json"
    (RESULTS / name).write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {RESULTS / name}")


if __name__ == "__main__":
    main()
