"""``python -m vg_desktop.soak --minutes N``: train for a long time and watch for slow leaks.

Opens the real window offscreen, keeps it training, and every few seconds reconfigures it at
random (network, data, training settings, sometimes Compare A/B or a reset). Once per interval it
prints the resident memory (``/proc/self/status`` VmRSS, or the peak from ``resource``), the
thread count (``threading.active_count()`` and the tasks in ``/proc/self/task``), the training
processes (one per run, and their memory) and the frames drawn. It exits 0 when memory and
threads stayed flat, there was never a training process more or less than runs, frames kept
coming and nothing went wrong (no worker error, Qt warning or uncaught exception); else 1, with
the reason.

It uses a private settings file, so the user's remembered experiment is left alone. The last line
of output is ``SOAK RESULT {json}`` for scripts (``tests/gui/test_soak.py`` reads it).
"""

from __future__ import annotations

from . import limit_blas_threads

limit_blas_threads()  # before NumPy is imported (python -m vg_desktop.soak)

import argparse  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
from dataclasses import asdict, dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402

from .engine import DataConfig, ExperimentConfig, NetworkConfig, TrainConfig  # noqa: E402
from .engine.config import ACTIVATIONS, INITS, POINT_DATASETS  # noqa: E402
from .selftest import wait_until  # noqa: E402

# Growth allowed between the first sample after warm-up and the last one. Python and Qt keep
# freed memory for reuse, so RSS rises a little before it levels off; a real leak (a history that
# is never dropped, a plot item added per frame) grows without bound and exceeds this quickly.
RSS_GROWTH_LIMIT_MB = 60.0
WARMUP_INTERVALS = 1  # samples ignored while caches fill (fonts, first networks, A/B)


def rss_mb() -> float:
    """Resident memory of this process in MB (the peak, where /proc is not available)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024.0 * 1024.0) if sys.platform == "darwin" else peak / 1024.0


def process_rss_mb(pid: int | None) -> float:
    """Resident memory of another process in MB (0 where unknown)."""
    if pid is None:
        return 0.0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return 0.0


def os_thread_count() -> int:
    """Threads of this process as the OS sees them (Qt's included); Python's where unknown."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return threading.active_count()


def random_config(rng: random.Random) -> ExperimentConfig:
    """A configuration a class might try, sized so that steps stay quick."""
    normalization = rng.choice(["none", "none", "batch", "layer"])
    depth = rng.choice([2, 5, 10, 20, 30, 50])
    width = rng.choice([8, 16, 32, 64])
    batch = rng.choice([2, 16, 32, 64, 128])
    return ExperimentConfig(
        network=NetworkConfig(
            depth=depth,
            width=width,
            activation=rng.choice(ACTIVATIONS),
            normalization=normalization,
            residual=rng.random() < 0.3,
            init=rng.choice(INITS),
            init_gain=round(rng.uniform(0.5, 2.0), 2),
            dtype=rng.choice(["float64", "float64", "float32"]),
            seed=rng.randrange(100),
        ),
        data=DataConfig(
            name=rng.choice(POINT_DATASETS),
            noise=round(rng.uniform(0.0, 0.3), 2),
            seed=rng.randrange(100),
        ),
        train=TrainConfig(
            learning_rate=round(10 ** rng.uniform(-3, -0.5), 5),
            momentum=rng.choice([0.0, 0.5, 0.9]),
            batch_size=batch,
        ),
    )


@dataclass
class Sample:
    minute: float
    rss_mb: float
    os_threads: int
    python_threads: int
    run_threads: int  # threads the runs own: a receiver each, and a sender per training process
    run_python_threads: int  # of those, Python threads (the senders)
    runs: int
    training_processes: int  # live child processes running training loops
    training_rss_mb: float  # their resident memory, summed
    frames: int  # drawn during the interval
    steps: int  # run A's step count at the sample


@dataclass
class SoakReport:
    minutes: float
    seed: int
    samples: list[Sample] = field(default_factory=list)
    reconfigurations: int = 0
    errors: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # why the soak failed

    @property
    def ok(self) -> bool:
        return not self.problems


def check(report: SoakReport) -> None:
    """Fill ``report.problems``: memory or threads that grew, intervals without frames."""
    samples = report.samples
    if not samples:
        report.problems.append("no interval completed")
        return
    steady = samples[WARMUP_INTERVALS:] or samples
    growth = steady[-1].rss_mb - steady[0].rss_mb
    if growth > RSS_GROWTH_LIMIT_MB:
        report.problems.append(
            f"memory grew {growth:.0f} MB after warm-up ({steady[0].rss_mb:.0f} -> "
            f"{steady[-1].rss_mb:.0f} MB; limit {RSS_GROWTH_LIMIT_MB:.0f} MB)"
        )
    # Besides the threads the runs own, nothing may come and go.
    base = {s.os_threads - s.run_threads for s in steady}
    if len(base) > 1:
        report.problems.append(f"the thread count drifted: {sorted(base)} besides the workers")
    orphans = [s.minute for s in samples if s.training_processes != s.runs]
    if orphans:
        report.problems.append(
            f"training processes did not match the runs at minute {orphans[0]:.2f}"
        )
    python = {s.python_threads - s.run_python_threads for s in steady}
    if len(python) > 1:
        report.problems.append(f"Python's thread count drifted: {sorted(python)}")
    stalled = [s.minute for s in samples if s.frames == 0]
    if stalled:
        report.problems.append(f"no frame drawn in the interval ending at minute {stalled[0]:.2f}")
    if report.errors:
        report.problems.append(f"{len(report.errors)} error(s), first: {report.errors[0]}")


def run_soak(
    minutes: float, interval: float = 60.0, reconfigure_every: float = 3.0, seed: int = 0, out=print
) -> SoakReport:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings, QtMsgType, qInstallMessageHandler
    from PySide6.QtWidgets import QApplication

    from .app import MainWindow
    from .settings_store import SettingsStore

    report = SoakReport(minutes=minutes, seed=seed)
    rng = random.Random(seed)

    def on_qt_message(mode, context, message):
        if mode in (QtMsgType.QtWarningMsg, QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg) and (
            "propagateSizeHints" not in message and "XDG_RUNTIME_DIR" not in message
        ):
            report.errors.append(f"Qt: {message}")

    def on_exception(exc_type, exc, tb):
        report.errors.append("".join(traceback.format_exception(exc_type, exc, tb))[-2000:])

    qInstallMessageHandler(on_qt_message)
    previous_hook, sys.excepthook = sys.excepthook, on_exception
    app = QApplication.instance() or QApplication([sys.argv[0]])
    with tempfile.TemporaryDirectory(prefix="vg-soak-") as tmp:
        settings = SettingsStore(
            QSettings(str(Path(tmp) / "settings.ini"), QSettings.Format.IniFormat)
        )
        window = MainWindow(settings=settings)
        try:
            _soak(app, window, report, rng, minutes, interval, reconfigure_every, out)
        finally:
            controllers = [r.controller for r in window.runs()]
            window.close()
            if any(not c.is_finished() for c in controllers):
                report.errors.append("a training run was still alive after the window closed")
            sys.excepthook = previous_hook
            qInstallMessageHandler(None)
    check(report)
    return report


def _soak(
    app,
    window,
    report: SoakReport,
    rng: random.Random,
    minutes: float,
    interval: float,
    reconfigure_every: float,
    out,
) -> None:
    window.resize(1440, 900)
    window.show()
    wait_until(app, lambda: window.frames_drawn > 0, 30, "the first frame")

    def on_error(summary: str, details: str) -> None:
        report.errors.append(f"worker: {summary}")

    connected = set()

    def connect_runs() -> None:
        for run in window.runs():
            if id(run) not in connected:
                connected.add(id(run))
                run.controller.errorOccurred.connect(on_error)

    connect_runs()
    window.play()
    started = time.monotonic()
    end = started + minutes * 60.0
    next_sample = started + interval
    next_change = started + reconfigure_every
    frames_at = window.frames_drawn
    sampled_at = started
    out(
        f"soak: {minutes:g} min, seed {report.seed}, a sample every {interval:g} s, "
        f"a new configuration every {reconfigure_every:g} s"
    )
    while True:
        now = time.monotonic()
        if now >= next_change:
            next_change = now + reconfigure_every
            roll = rng.random()
            if roll < 0.08:
                window.compare.setChecked(not window.compare.isChecked())
                connect_runs()
            elif roll < 0.12:
                window.reset()
            elif roll < 0.16 and window.run_b is not None:
                (window.edit_b if window.editing == "A" else window.edit_a).setChecked(True)
            else:
                window.apply_config(random_config(rng))
            if roll >= 0.16:
                window.set_quantity(rng.choice(["signal", "weight", "update"]))
            window.play()
            report.reconfigurations += 1
        if now >= next_sample or now >= end:
            sample = Sample(
                minute=round((now - started) / 60.0, 3),
                rss_mb=round(rss_mb(), 1),
                os_threads=os_thread_count(),
                python_threads=threading.active_count(),
                run_threads=sum(2 if r.controller.pid else 1 for r in window.runs()),
                run_python_threads=sum(1 for r in window.runs() if r.controller.pid),
                runs=len(window.runs()),
                training_processes=len(multiprocessing.active_children()),
                training_rss_mb=round(
                    sum(process_rss_mb(r.controller.pid) for r in window.runs()), 1
                ),
                frames=window.frames_drawn - frames_at,
                steps=window.run_a.latest.step if window.run_a.latest is not None else 0,
            )
            frames_at = window.frames_drawn
            report.samples.append(sample)
            span, sampled_at = max(now - sampled_at, 1e-9), now
            out(
                f"minute {sample.minute:6.2f}: RSS {sample.rss_mb:7.1f} MB, threads "
                f"{sample.os_threads} (Python {sample.python_threads}), runs {sample.runs} in "
                f"{sample.training_processes} training processes ({sample.training_rss_mb:.0f} "
                "MB), "
                f"{sample.frames} frames ({sample.frames / span:.0f}/s), "
                f"{report.reconfigurations} reconfigurations"
            )
            next_sample = now + interval
            if now >= end:
                break
        _pump(app, 0.05)


def _pump(app, seconds: float) -> None:
    """Run the event loop for ``seconds``, as app.exec() would.

    A real event loop, not processEvents(): only an event loop carries out deleteLater(), and
    without it every run B closed by "Compare A/B" would stay in memory and look like a leak.
    """
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(max(1, round(seconds * 1000)), loop.quit)
    loop.exec()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m vg_desktop.soak",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--minutes", type=float, default=15.0, help="how long (default 15)")
    parser.add_argument(
        "--interval",
        type=float,
        default=None,
        metavar="SECONDS",
        help="seconds between samples (default: 60, or a tenth of the run)",
    )
    parser.add_argument(
        "--reconfigure-every",
        type=float,
        default=3.0,
        metavar="SECONDS",
        help="seconds between random reconfigurations (default 3)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the random changes")
    args = parser.parse_args(argv)
    interval = args.interval or min(60.0, max(2.0, args.minutes * 6.0))
    report = run_soak(
        args.minutes,
        interval,
        args.reconfigure_every,
        args.seed,
        out=lambda line: print(line, flush=True),
    )
    if report.ok:
        first, last = report.samples[0], report.samples[-1]
        print(
            f"SOAK PASSED: {report.reconfigurations} reconfigurations; RSS {first.rss_mb:.0f} "
            f"-> {last.rss_mb:.0f} MB, threads {first.os_threads} -> {last.os_threads}",
            flush=True,
        )
    else:
        print("SOAK FAILED: " + "; ".join(report.problems), flush=True)
    print("SOAK RESULT " + json.dumps(asdict(report) | {"ok": report.ok}), flush=True)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
