"""Save screenshots of the main window for the README and for review.

    python tools/screenshots.py docs/screenshots
    python tools/screenshots.py docs/screenshots --own-points   # only the drawn dataset

For each scenario (the network the app opens with -- 20 sigmoid layers -- and the README's two
cures of it: ReLU + He, sigmoid + batch norm) it trains a fixed number of steps and saves the
window at 1920x1080 and at 1280x720 (projector size). Then the layout matrix (issue 11;
``--matrix-only`` for just that): every classroom size in every theme (``matrix/THEME-WxH.png``),
Stage view and a lesson step at 1024x768 and 1280x720, with each view's measured plot area
printed as a table (and written to ``matrix/plot-areas.md``); then two windows at device pixel
ratio 2 (``matrix/*-scale2.png``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtWidgets import QApplication

from vg_desktop import layout_probe
from vg_desktop.app import MainWindow
from vg_desktop.engine import ExperimentConfig
from vg_desktop.selftest import wait_until

_APP_DEFAULT = ExperimentConfig().network  # what the app opens with (the README describes it)
_DEPTH = _APP_DEFAULT.depth
SCENARIOS = {
    f"sigmoid-depth{_DEPTH}": _APP_DEFAULT,
    f"relu-he-depth{_DEPTH}": replace(_APP_DEFAULT, activation="relu", init="he"),
    f"sigmoid-batchnorm-depth{_DEPTH}": replace(_APP_DEFAULT, normalization="batch"),
}
SIZES = {"1920x1080": (1920, 1080), "1280x720": (1280, 720)}
STEPS = 150


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv)
    for name, net in SCENARIOS.items():
        for size_name, (w, h) in SIZES.items():
            # Fresh settings of its own: one window's saved state must not set up the next.
            os.environ["VG_DESKTOP_SETTINGS_FILE"] = str(out / f".{name}-{size_name}.ini")
            window = MainWindow()
            try:
                shoot(app, window, net, w, h, out, name, size_name)
            finally:
                window.close()  # stops the worker thread even when a wait timed out
                Path(os.environ.pop("VG_DESKTOP_SETTINGS_FILE")).unlink(missing_ok=True)


def shoot(app, window, net, w, h, out, name, size_name) -> None:
    window.resize(w, h)
    window.show()
    window.bars.set_animated(False)
    wait_until(app, lambda win=window: win.frames_drawn > 0, 20, "first frame")
    window.apply_config(replace(ExperimentConfig(), network=net))
    window.controls.speed.setCurrentIndex(window.controls.speed.count() - 1)
    window.controller.set_stop_conditions(STEPS, None)  # the shot shows exactly step STEPS
    window.controller.play()
    wait_until(
        app,
        lambda win=window, n=net: (
            win._latest is not None
            and win._latest.config.network == n
            and win._latest.step >= STEPS
        ),
        120,
        f"{STEPS} steps",
    )
    window.controller.pause()
    window.layer.setValue(1)
    wait_until(
        app,
        lambda win=window: win._latest.decision is not None and win._drawn is win._latest,
        30,
        "decision regions",
    )
    app.processEvents()
    path = out / (f"{name}.png" if size_name == "1920x1080" else f"{name}-{size_name}.png")
    window.grab().save(str(path))
    print(path)


def classroom(out: Path) -> None:
    """A lesson step, the A/B comparison, and presentation mode (at 1280x720, projector size)."""
    from vg_desktop.lessons import builtin_lessons, load_lesson

    app = QApplication.instance() or QApplication(sys.argv)

    def run(name: str, setup, w: int = 1920, h: int = 1080, steps: int = STEPS) -> None:
        os.environ["VG_DESKTOP_SETTINGS_FILE"] = str(out / f".{name}-settings.ini")
        window = MainWindow(config=ExperimentConfig())
        try:
            window.resize(w, h)
            window.show()
            window.bars.set_animated(False)
            wait_until(app, lambda: window.frames_drawn > 0, 20, "first frame")
            setup(window)
            trained(app, window, steps)
            app.processEvents()
            path = out / f"{name}.png"
            window.grab().save(str(path))
            print(path)
        finally:
            window.close()
            Path(os.environ.pop("VG_DESKTOP_SETTINGS_FILE")).unlink(missing_ok=True)

    def lesson(window) -> None:
        path = builtin_lessons()[0]
        window.open_lesson(path)
        step = load_lesson(path).steps[2]  # the chain rule, with the estimate overlaid
        window.lesson_panel.go_to(2)
        window.apply_lesson_step(step)

    def compare(window) -> None:
        window.set_compare(True)
        window.edit_b.setChecked(True)
        c = window.controls
        c.activation.setCurrentIndex(c.activation.findData("relu"))
        c.init.setCurrentIndex(c.init.findData("he"))

    def presentation(window) -> None:
        window.apply_theme("presentation")

    run("lesson-step", lesson)
    run("compare-a-b", compare)
    run("presentation", presentation)
    run("presentation-1280x720", presentation, 1280, 720)


def inside_layers(out: Path, only: bool = False) -> None:
    """Issue 13's two views at 1280x720 (projector size), each as the whole window and as the
    Layer features panel alone: spiral, layer 1 of 20 sigmoid vs ReLU + He layers after 500
    steps (lesson 1, 'inside-the-layers'); digits, layer 1's W − W₀ after 1,000 steps, 10 sigmoid
    vs ReLU + He layers (lesson 3)."""
    from vg_desktop.lessons import builtin_lessons, load_lesson

    app = QApplication.instance() or QApplication(sys.argv)
    story = {s.id: s for s in load_lesson(builtin_lessons()[0]).steps}
    digits = {s.id: s for s in load_lesson(builtin_lessons()[2]).steps}
    sigmoid = story["inside-the-layers"]
    relu = replace(
        sigmoid,
        settings=replace(
            sigmoid.settings,
            network=replace(sigmoid.settings.network, activation="relu", init="he"),
        ),
    )
    shots = {
        "features-spiral-sigmoid": (sigmoid, 500),
        "features-spiral-relu-he": (relu, 500),
        "features-digits-sigmoid": (digits["digits-sigmoid"], 1000),
        "features-digits-relu-he": (digits["digits-relu-he"], 1000),
    }
    for name, (step, steps) in shots.items():
        os.environ["VG_DESKTOP_SETTINGS_FILE"] = str(out / f".{name}-settings.ini")
        window = MainWindow(config=ExperimentConfig())
        try:
            window.resize(1280, 720)
            window.show()
            window.bars.set_animated(False)
            wait_until(app, lambda w=window: w.frames_drawn > 0, 20, "first frame")
            # The first layout passes put the controls in the bottom tabs and bring them to the
            # front: the step's "features" view must come to the front after them.
            settle(app, window)
            window.apply_lesson_step(step)
            settle(app, window)
            window.controls.speed.setCurrentIndex(window.controls.speed.count() - 1)
            window.controller.set_stop_conditions(steps, None)
            window.controller.play()
            wait_until(
                app,
                lambda w=window, s=step, n=steps: (
                    w._latest is not None
                    and w._latest.config == s.settings
                    and w._latest.step >= n
                    and not w._latest.playing
                    and w._latest.features is not None
                    and w._latest.features.step == w._latest.step
                    and w._drawn is w._latest
                    and w.features_view.features is w._latest.features
                ),
                180,
                f"{steps} steps and their layer features",
            )
            settle(app, window)
            pump(app, 0.5)  # the views' own layouts follow their new sizes
            window.grab().save(str(out / f"{name}-1280x720.png"))
            window.docks["features"].grab().save(str(out / f"{name}.png"))
            print(out / f"{name}.png")
        finally:
            window.close()
            Path(os.environ.pop("VG_DESKTOP_SETTINGS_FILE")).unlink(missing_ok=True)


OWN_POINTS_STEPS = 400


def draw_stroke(window, points, class_index: int) -> None:
    """One drag on the data view through the real mouse path (as a teacher draws)."""
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest

    port = window.dataset_plot.viewport()
    area = window.dataset_plot.plot_area()  # (x, y) are fractions of the data area
    window.draw_bar.picker.setCurrentIndex(class_index)
    pts = [
        QPoint(round(area.left() + x * area.width()), round(area.top() + y * area.height()))
        for x, y in points
    ]
    QTest.mousePress(port, Qt.MouseButton.LeftButton, pos=pts[0])
    for p in pts[1:]:
        QTest.mouseMove(port, p)
    QTest.mouseRelease(port, Qt.MouseButton.LeftButton, pos=pts[-1])


def own_points(out: Path) -> None:
    """Issue 14: points drawn with the mouse (a ring around a blob, and two sine-shaped
    strokes of a new third class) and the decision regions after OWN_POINTS_STEPS steps of a
    4-layer ReLU + He network; the data dock and the whole window at 1280x720."""
    import numpy as np

    app = QApplication.instance() or QApplication(sys.argv)
    os.environ["VG_DESKTOP_SETTINGS_FILE"] = str(out / ".own-points-settings.ini")
    net = replace(_APP_DEFAULT, depth=4, activation="relu", init="he")
    window = MainWindow(config=replace(ExperimentConfig(), network=net))
    try:
        window.resize(1280, 720)
        window.show()
        window.bars.set_animated(False)
        wait_until(app, lambda: window.frames_drawn > 0, 20, "first frame")
        window.draw_bar.toggle.click()
        window.draw_bar.clear.click()
        t = np.linspace(0, 2 * np.pi, 60)
        draw_stroke(window, np.c_[0.3 + 0.11 * np.cos(t), 0.55 + 0.3 * np.sin(t)], 0)
        t = np.linspace(0, 2 * np.pi, 20)
        draw_stroke(window, np.c_[0.3 + 0.035 * np.cos(t), 0.55 + 0.08 * np.sin(t)], 1)
        x = np.linspace(0.55, 0.9, 40)
        draw_stroke(window, np.c_[x, 0.25 + 0.15 * np.sin(x * 18)], 2)  # the "new" class
        draw_stroke(window, np.c_[x, 0.75 + 0.15 * np.sin(x * 18)], 1)
        window.controller.set_stop_conditions(OWN_POINTS_STEPS, None)
        window.controls.speed.setCurrentIndex(window.controls.speed.count() - 1)
        window.play()
        wait_until(
            app,
            lambda: (
                window._latest is not None
                and window._latest.config.data.name == "custom"
                and window._latest.step >= OWN_POINTS_STEPS
                and not window._latest.playing
                and window._latest.decision is not None
                and window._drawn is window._latest
            ),
            180,
            f"{OWN_POINTS_STEPS} steps on the drawn points",
        )
        app.processEvents()
        snap = window._latest
        print(
            f"own points: {snap.config.data.n_samples} points, step {snap.step}, "
            f"batch accuracy {snap.accuracy:.3f}"
        )
        window.grab().save(str(out / "own-points-1280x720.png"))
        window.docks["dataset"].grab().save(str(out / "own-points.png"))
        print(out / "own-points.png")
    finally:
        window.close()
        Path(os.environ.pop("VG_DESKTOP_SETTINGS_FILE")).unlink(missing_ok=True)


MATRIX_SIZES = [(1024, 768), (1280, 720), (1280, 800), (1366, 768), (1920, 1080), (2560, 1440)]
MATRIX_THEMES = ("light", "dark", "presentation")


def pump(app, seconds: float) -> None:
    """Process events for ``seconds``."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.01)


def settle(app, window) -> None:
    """Process events until the layout has stopped reflowing (a few passes)."""
    quiet = 0
    for _ in range(400):
        app.processEvents()
        quiet = 0 if window.view_layout._timer.isActive() else quiet + 1
        if quiet >= 3:
            return


def trained(app, window, steps: int = STEPS) -> None:
    """Train ``steps`` steps and wait until the paused frame is drawn."""
    window.play()
    wait_until(
        app,
        lambda: all(r.latest is not None and r.latest.step >= steps for r in window.runs()),
        120,
        f"{steps} steps",
    )
    window.pause()
    wait_until(
        app,
        lambda: all(
            r.latest is not None and not r.latest.playing and r.drawn is r.latest
            for r in window.runs()
        ),
        30,
        "paused frame",
    )


def matrix(out: Path) -> list[str]:
    """Every classroom size in every theme, from fresh settings; Stage view and a lesson step at
    1024x768. Returns the table of measured plot areas."""
    from vg_desktop.lessons import builtin_lessons, load_lesson

    app = QApplication.instance() or QApplication(sys.argv)
    folder = out / "matrix"
    folder.mkdir(parents=True, exist_ok=True)
    table = [
        "| window | theme | bars | activation | others | problems |",
        "|---|---|---|---|---|---|",
    ]

    def shoot(window, name: str, label: str, theme: str) -> None:
        settle(app, window)
        app.processEvents()
        report = layout_probe.measure(window, drawers=window.view_layout.drawers())
        window.grab().save(str(folder / f"{name}.png"))
        others = ", ".join(
            f"{k} {w}×{h}" for k, (w, h) in report.plots.items() if k not in ("bars", "activation")
        )
        bars = "×".join(map(str, report.plots.get("bars", (0, 0))))
        act = "×".join(map(str, report.plots.get("activation", (0, 0))))
        problems = "; ".join(report.problems()) or "none"
        table.append(f"| {label} | {theme} | {bars} | {act} | {others or '—'} | {problems} |")
        print(folder / f"{name}.png", "|", report.summary(), "|", problems)

    for theme in MATRIX_THEMES:
        os.environ["VG_DESKTOP_SETTINGS_FILE"] = str(out / f".matrix-{theme}-settings.ini")
        window = MainWindow(config=ExperimentConfig())
        try:
            window.resize(*MATRIX_SIZES[0])
            window.show()
            window.bars.set_animated(False)
            window.apply_theme(theme)
            wait_until(app, lambda w=window: w.frames_drawn > 0, 20, "first frame")
            trained(app, window)
            for w, h in MATRIX_SIZES:
                window.resize(w, h)
                shoot(window, f"{theme}-{w}x{h}", f"{w}×{h}", theme)
            window.resize(*MATRIX_SIZES[0])
            if theme == "presentation":
                path = builtin_lessons()[0]
                window.open_lesson(path)
                window.lesson_panel.go_to(2)
                window.apply_lesson_step(load_lesson(path).steps[2])
                trained(app, window)
                shoot(window, "lesson-step-1024x768", "1024×768 lesson", theme)
                window.resize(1280, 720)
                shoot(window, "lesson-step-1280x720", "1280×720 lesson", theme)
                window.resize(*MATRIX_SIZES[0])
                window.set_stage_view(True, full_screen=False)
                shoot(window, "stage-1024x768", "1024×768 Stage view", theme)
                window.set_stage_view(False)
        finally:
            window.close()
            Path(os.environ.pop("VG_DESKTOP_SETTINGS_FILE")).unlink(missing_ok=True)
    (folder / "plot-areas.md").write_text(
        "Plot areas measured by vg_desktop/layout_probe.py (logical pixels), written by "
        "tools/screenshots.py.\n\n" + "\n".join(table) + "\n",
        encoding="utf-8",
    )
    return table


def hidpi(out: Path) -> None:
    """The light theme at 1024x768 and the presentation theme at 1280x720, at device pixel
    ratio 2 (``QT_SCALE_FACTOR=2``, in a process of their own): crisp lines and hatching,
    nothing doubled or halved. The images are 2048x1536 and 2560x1440."""
    env = dict(os.environ, QT_SCALE_FACTOR="2")
    subprocess.run([sys.executable, __file__, str(out), "--hidpi-shots"], env=env, check=True)


def hidpi_shots(out: Path) -> None:
    app = QApplication.instance() or QApplication(sys.argv)
    folder = out / "matrix"
    folder.mkdir(parents=True, exist_ok=True)
    for theme, (w, h) in (("light", (1024, 768)), ("presentation", (1280, 720))):
        os.environ["VG_DESKTOP_SETTINGS_FILE"] = str(out / f".hidpi-{theme}-settings.ini")
        window = MainWindow(config=ExperimentConfig())
        try:
            window.resize(w, h)
            window.show()
            window.bars.set_animated(False)
            window.apply_theme(theme)
            wait_until(app, lambda win=window: win.frames_drawn > 0, 20, "first frame")
            trained(app, window)
            settle(app, window)
            image = window.grab()
            image.save(str(folder / f"{theme}-{w}x{h}-scale2.png"))
            print(folder / f"{theme}-{w}x{h}-scale2.png", image.width(), "x", image.height())
        finally:
            window.close()
            Path(os.environ.pop("VG_DESKTOP_SETTINGS_FILE")).unlink(missing_ok=True)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    target = Path(args[0] if args else "docs/screenshots")
    if "--inside-layers" in sys.argv:  # only issue 13's views
        inside_layers(target)
    elif "--own-points" in sys.argv:  # only issue 14's drawn dataset
        own_points(target)
    elif "--hidpi-shots" in sys.argv:  # run by hidpi() with QT_SCALE_FACTOR=2
        hidpi_shots(target)
    elif "--matrix-only" in sys.argv:  # only issue 11's layout matrix
        print("\n".join(matrix(target)))
        hidpi(target)
    else:
        main(target)
        classroom(target)
        inside_layers(target)
        own_points(target)
        print("\n".join(matrix(target)))
        hidpi(target)
