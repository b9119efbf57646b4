"""GUI-thread stalls at the largest settings: how long the window stops answering.

    python -m benchmarks.stalls                # both scenarios, ~45 s
    python -m benchmarks.stalls --profile      # also: where the GUI thread was during stalls

A 20 ms QTimer on the GUI thread records the gap between its ticks; a stall is a gap beyond
the 20 ms (what a click or key press would wait, at most). Scenarios, at depth 200 × width 256
× batch 512 (each control's maximum), training:

* *switching*: 15 s of random control changes every 0.4 s (activation, normalization,
  initialization, dataset, bar quantity, depth/width/batch near their maxima, layer, residual,
  play/pause, step, reset; issue 16 saw 1,959 ms);
* *compare*: Compare A/B on, 1.5 s, off, 1.5 s, five times (issue 16: off 937 ms, on 160 ms).

``--profile`` samples the GUI thread's Python stack every 2 ms while a tick is late (an
in-process py-spy) and prints the lines it was on most. Called by ``python -m benchmarks.gui``
too; writes benchmarks/results/stalls.json.
"""

from __future__ import annotations

import argparse
import faulthandler
import json
import os
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results"

from vg_desktop import limit_blas_threads  # noqa: E402

limit_blas_threads()

TICK_MS = 20
LATE_MS = 40  # a tick this late counts as a stall for the profiler


def _runqueue_wait_s() -> float:
    """Seconds this thread has waited for a CPU while runnable (Linux schedstat; else 0), as
    tests/gui/test_fuzz.py leaves out: other programs on a shared machine are not the app."""
    try:
        with open("/proc/thread-self/schedstat") as fh:
            return int(fh.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


class StallMeter:
    """A 20 ms timer on the GUI thread; ``gaps`` are the intervals between its ticks (ms)."""

    def __init__(self, profile: bool = False) -> None:
        from PySide6.QtCore import QTimer

        self.gaps: list[float] = []  # wall clock
        self.answered: list[float] = []  # without the time the thread waited for a CPU
        self._last, self._waited = time.perf_counter(), _runqueue_wait_s()
        self._timer = QTimer()
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        self._gui_thread = threading.get_ident()
        self.samples: Counter[str] = Counter()
        self._sampling = profile
        self._timer.start()
        if profile:
            threading.Thread(target=self._sample, name="stall-sampler", daemon=True).start()

    def _tick(self) -> None:
        now, waited = time.perf_counter(), _runqueue_wait_s()
        self.gaps.append((now - self._last) * 1000)
        self.answered.append((now - self._last - (waited - self._waited)) * 1000)
        self._last, self._waited = now, waited

    def reset(self) -> None:
        self.gaps.clear()
        self.answered.clear()
        self.samples.clear()
        self._last, self._waited = time.perf_counter(), _runqueue_wait_s()

    def max_stall(self, since: int = 0, answered: bool = False) -> float:
        gaps = (self.answered if answered else self.gaps)[since:]
        return max(0.0, max(gaps, default=TICK_MS) - TICK_MS)

    def stop(self) -> None:
        self._sampling = False
        self._timer.stop()

    def _sample(self) -> None:
        # faulthandler reads the other thread's frames in C without creating frame objects:
        # sys._current_frames() + traceback from this thread crashed Python 3.11 here.
        marker = f"Thread 0x{self._gui_thread:016x}"
        with tempfile.TemporaryFile("w+") as fh:
            while self._sampling:
                time.sleep(0.002)
                if (time.perf_counter() - self._last) * 1000 < LATE_MS:
                    continue
                fh.seek(0)
                fh.truncate()
                faulthandler.dump_traceback(fh, all_threads=True)
                fh.flush()
                fh.seek(0)
                self.samples[_gui_stack(fh.read(), marker)] += 1


def _gui_stack(dump: str, marker: str) -> str:
    """The GUI thread's innermost frames of ours (vg_desktop, pyqtgraph) in a faulthandler dump."""
    block = []
    inside = False
    for line in dump.splitlines():
        if line.startswith(("Thread 0x", "Current thread 0x")):
            inside = marker.split(" ", 1)[1] in line
            continue
        if inside and line.strip().startswith("File "):
            block.append(line.strip())
    ours = []
    for line in block:  # most recent call first
        if "vg_desktop" in line or "pyqtgraph" in line:
            path, _, rest = line[len("File ") :].partition(", line ")
            lineno, _, name = rest.partition(" in ")
            ours.append(f"{Path(path.strip(chr(34))).name}:{lineno} {name}")
        if len(ours) == 4:
            break
    return " <- ".join(ours) or "(Qt, no Python frame)"


def pump(app, seconds: float) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(max(0, round(seconds * 1000)), loop.quit)
    loop.exec()


def largest_window(app):
    from vg_desktop.app import MainWindow
    from vg_desktop.engine import ExperimentConfig, NetworkConfig, TrainConfig
    from vg_desktop.selftest import wait_until
    from vg_desktop.widgets.controls import BATCH_RANGE, DEPTH_RANGE, WIDTH_RANGE

    base = ExperimentConfig()
    config = replace(
        base,
        network=NetworkConfig(depth=DEPTH_RANGE[1], width=WIDTH_RANGE[1]),
        train=TrainConfig(batch_size=min(BATCH_RANGE[1], base.data.n_samples)),
    )
    window = MainWindow(config=config)
    window.resize(1920, 1080)
    window.show()
    wait_until(app, lambda: window.frames_drawn > 0, 60, "first frame")
    return window


def switching(app, meter: StallMeter, seconds: float, seed: int = 1) -> dict:
    rng = random.Random(seed)
    window = largest_window(app)
    c = window.controls
    combos = [c.activation, c.normalization, c.init, c.dataset, window.quantity]
    sizes = [(c.depth_box, 150), (c.width_box, 192), (c.batch_size, 384)]
    window.play()
    pump(app, 1.0)
    meter.reset()
    calls: list[float] = []  # how long each change itself took on the GUI thread
    t_end = time.perf_counter() + seconds
    while time.perf_counter() < t_end:
        r = rng.random()
        t0 = time.perf_counter()
        if r < 0.45:
            box = rng.choice(combos)
            box.setCurrentIndex(rng.randrange(box.count()))
        elif r < 0.6:  # the sizes, near their maxima
            box, low = rng.choice(sizes)
            box.setValue(rng.randint(low, box.maximum()))
        elif r < 0.65:
            window.layer.setValue(rng.randint(1, window.layer.maximum()))
        elif r < 0.7:
            c.residual.click()
        elif r < 0.8:
            c.play_button.click()
        elif r < 0.9:
            c.reset_button.click()
        else:
            c.step_button.click()
        calls.append((time.perf_counter() - t0) * 1000)
        pump(app, 0.4)
    gaps = list(meter.gaps)
    result = {
        "scenario": "switching",
        "seconds": seconds,
        "changes": len(calls),
        "max_stall_ms": meter.max_stall(),
        "max_stall_answered_ms": meter.max_stall(answered=True),
        "p99_gap_ms": sorted(gaps)[int(0.99 * (len(gaps) - 1))],
        "max_change_call_ms": max(calls),
    }
    window.pause()
    window.close()
    return result


def compare(app, meter: StallMeter, cycles: int = 5) -> dict:
    window = largest_window(app)
    window.play()
    pump(app, 1.0)
    on_stalls, off_stalls, on_calls, off_calls = [], [], [], []
    meter.reset()
    for _ in range(cycles):
        for on, stalls, calls in ((True, on_stalls, on_calls), (False, off_stalls, off_calls)):
            mark = len(meter.gaps)
            t0 = time.perf_counter()
            window.compare.click()
            calls.append((time.perf_counter() - t0) * 1000)
            assert window.compare.isChecked() == on
            pump(app, 1.5)
            stalls.append((meter.max_stall(mark), meter.max_stall(mark, answered=True)))
    window.pause()
    window.close()
    return {
        "scenario": "compare",
        "cycles": cycles,
        "on_max_stall_ms": max(w for w, _ in on_stalls),
        "off_max_stall_ms": max(w for w, _ in off_stalls),
        "on_max_stall_answered_ms": max(a for _, a in on_stalls),
        "off_max_stall_answered_ms": max(a for _, a in off_stalls),
        "on_max_call_ms": max(on_calls),
        "off_max_call_ms": max(off_calls),
    }


def run_all(app, profile: bool = False, seconds: float = 15.0) -> dict:
    meter = StallMeter(profile)
    out = {"switching": switching(app, meter, seconds), "compare": compare(app, meter)}
    meter.stop()
    s, c = out["switching"], out["compare"]
    print("GUI-thread stalls at depth 200 x width 256 x batch 512 (a 20 ms timer's late ticks)")
    print(
        f"  random switching, {s['seconds']:g} s, {s['changes']} changes: max stall "
        f"{s['max_stall_ms']:.0f} ms ({s['max_stall_answered_ms']:.0f} ms without waiting for a"
        f" CPU), p99 tick gap {s['p99_gap_ms']:.0f} ms; longest change call "
        f"{s['max_change_call_ms']:.0f} ms"
    )
    print(
        f"  Compare A/B x{c['cycles']}: on: max stall {c['on_max_stall_ms']:.0f} ms "
        f"({c['on_max_stall_answered_ms']:.0f} ms without waiting for a CPU), call "
        f"{c['on_max_call_ms']:.0f} ms; off: max stall {c['off_max_stall_ms']:.0f} ms "
        f"({c['off_max_stall_answered_ms']:.0f} ms), call {c['off_max_call_ms']:.0f} ms"
    )
    if profile:
        total = sum(meter.samples.values()) or 1
        print(f"  where the GUI thread was during late ticks ({total} samples of 2 ms):")
        for where, n in meter.samples.most_common(15):
            print(f"    {100 * n / total:5.1f} %  {where}")
        out["profile"] = dict(meter.samples.most_common(40))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv)
    os.environ["VG_DESKTOP_SETTINGS_FILE"] = str(RESULTS / "bench-settings.ini")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = run_all(app, args.profile, args.seconds)
    (RESULTS / "stalls.json").write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {RESULTS / 'stalls.json'}")


if __name__ == "__main__":
    main()
