"""How long single actions hold the GUI thread at depth 200 × width 256 (the largest network).

    python -m benchmarks.blocking               # each action 4 times, ~1 minute
    python -m benchmarks.blocking --repeats 8

Actions: Reset, Compare A/B on (a second training process starts), File › Save With Trained
Weights (106 MB of weights encoded and written), opening that file again (read, checked,
decoded). For each: how long the call itself took on the GUI thread, and the longest late tick
of a 20 ms timer from the call until the action's result is on screen (plus a second), wall
clock and without the time the thread waited for a CPU (as benchmarks.stalls). Writes
benchmarks/results/blocking.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results"

from benchmarks.stalls import StallMeter, largest_window, pump  # noqa: E402


def _measure(app, meter: StallMeter, action, done, settle: float = 1.0) -> tuple:
    """(call ms, max stall ms, max stall without CPU waits ms) of ``action()`` until ``done()``."""
    from vg_desktop.selftest import wait_until

    pump(app, 0.5)
    mark = len(meter.gaps)
    t0 = time.perf_counter()
    action()
    call = (time.perf_counter() - t0) * 1000
    if done is not None:
        wait_until(app, done, 60, "the action's result")
    pump(app, settle)
    return call, meter.max_stall(mark), meter.max_stall(mark, answered=True)


def run(app, repeats: int) -> dict:
    from vg_desktop import files

    window = largest_window(app)
    meter = StallMeter()
    results: dict[str, list[tuple]] = {"reset": [], "compare_on": [], "save_weights": []}
    results["open_weights"] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.vgx"
        for i in range(repeats):
            first = window.run_a.latest.run_id if window.run_a.latest else None
            results["reset"].append(
                _measure(
                    app,
                    meter,
                    window.reset,
                    lambda f=first: (
                        window.run_a.drawn is not None and window.run_a.drawn.run_id != f
                    ),
                )
            )
            results["compare_on"].append(
                _measure(
                    app,
                    meter,
                    lambda: window.set_compare(True),
                    lambda: window.run_b is not None and window.run_b.drawn is not None,
                )
            )
            window.set_compare(False)
            pump(app, 1.5)
            window.statusBar().clearMessage()
            results["save_weights"].append(
                _measure(
                    app,
                    meter,
                    lambda: files.save_to(window, path, with_weights=True),
                    lambda: (
                        window.statusBar().currentMessage().startswith("Saved")
                        or bool(getattr(window, "last_error", ""))
                    ),
                )
            )
            window.statusBar().clearMessage()
            results["open_weights"].append(
                _measure(
                    app,
                    meter,
                    lambda: window.open_in_background(path),
                    lambda: (
                        window.statusBar().currentMessage().startswith("Opened")
                        or bool(getattr(window, "last_error", ""))
                    ),
                )
            )
            print(f"  round {i + 1}/{repeats} done", flush=True)
    meter.stop()
    window.close()
    out = {}
    print("GUI thread at depth 200 x width 256 (call / longest late tick of a 20 ms timer)")
    for name, rows in results.items():
        calls, stalls, answered = zip(*rows, strict=True)
        out[name] = {
            "call_ms_median": statistics.median(calls),
            "call_ms_max": max(calls),
            "stall_ms_median": statistics.median(stalls),
            "stall_ms_max": max(stalls),
            "stall_answered_ms_median": statistics.median(answered),
            "stall_answered_ms_max": max(answered),
            "repeats": len(rows),
        }
        r = out[name]
        print(
            f"  {name:13s} call {r['call_ms_median']:6.0f} ms (max {r['call_ms_max']:.0f}); "
            f"stall {r['stall_ms_median']:6.0f} ms (max {r['stall_ms_max']:.0f}); without CPU "
            f"waits {r['stall_answered_ms_median']:.0f} ms (max {r['stall_answered_ms_max']:.0f})"
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=4)
    args = parser.parse_args()
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv)
    RESULTS.mkdir(parents=True, exist_ok=True)
    os.environ["VG_DESKTOP_SETTINGS_FILE"] = str(RESULTS / "bench-settings.ini")
    out = run(app, args.repeats)
    (RESULTS / "blocking.json").write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {RESULTS / 'blocking.json'}")


if __name__ == "__main__":
    main()
