"""The window's layout on classroom screens (issue 11): the rules as plain numbers, and the real
window measured at every size and theme, fresh and after switching themes, zoom and A/B.

What "measured" means is in :mod:`vg_desktop.layout_probe`: each plot's ViewBox rectangle on
screen, the tick labels pyqtgraph would paint, axis titles, and whether every named control can
be seen or scrolled to.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QTabBar

from vg_desktop import layout as rules
from vg_desktop import layout_probe

SIZES = [(1024, 768), (1280, 720), (1280, 800), (1366, 768), (1920, 1080), (2560, 1440)]
THEMES = ("light", "dark", "presentation")
SIDE_FROM = {"light": 1366, "dark": 1366, "presentation": 1920}
ROOT = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------- the rules, as numbers
def needs(scale: float = 1.0) -> rules.Needs:
    """Needs close to the light theme's (measured on the real window), scaled."""
    return rules.Needs(
        bars_chrome=(100, 150),
        activation_chrome=(180, 190),
        curves_chrome=(140, 200),
        heatmap_chrome=(150, 60),
        dataset_chrome=(62, 110),
        features_chrome=(62, 110),
        side_width=370,
        controls_min_height=150,
        lesson_min_height=220,
        tab_bar=30,
        title=20,
    ).scaled(scale)


def test_a_wide_window_docks_the_controls_and_shows_every_view():
    plan = rules.decide((1900, 1000), needs())
    assert plan.side_column and not plan.core_stacked and not plan.history_in_tabs
    assert plan.fits and plan.bottom_pages == rules.HISTORY_KEYS


def test_a_projector_window_moves_the_controls_below_the_core_views():
    plan = rules.decide((1024, 700), needs())
    assert not plan.side_column and not plan.core_stacked
    assert plan.bottom_pages[0] == "controls" and plan.history_in_tabs
    assert plan.fits


def test_an_open_lesson_comes_first_in_the_bottom_tabs():
    plan = rules.decide((1024, 700), needs(), lesson_open=True)
    assert plan.bottom_pages[:2] == ("lesson", "controls")


@pytest.mark.parametrize("width", range(960, 2600, 40))
@pytest.mark.parametrize("height", (560, 640, 700, 800, 1000, 1400))
def test_the_core_views_always_get_their_minimum(width, height):
    n = needs()
    plan = rules.decide((width, height), n)
    bars, act = n.bars_min(), n.activation_min()
    core_width = width - (plan.side_width + n.handle if plan.side_column else 0)
    if plan.core_stacked:
        assert plan.activation_size >= act[1]
        assert plan.core_height - plan.activation_size - n.handle >= bars[1]
    else:
        assert plan.activation_size >= act[0]
        assert core_width - plan.activation_size - n.handle >= bars[0]
        assert plan.core_height >= max(bars[1], act[1])
    assert plan.core_height + plan.bottom_height + (n.handle if plan.bottom_pages else 0) <= height


def test_a_users_drag_is_kept_within_the_minimums():
    n = needs()
    default = rules.decide((1900, 1000), n)
    dragged = rules.decide((1900, 1000), n, activation_share=0.5, core_share=0.8)
    assert dragged.activation_size > default.activation_size
    assert dragged.core_height > default.core_height
    # a restored drag that would hide a core view is clamped to the minimums
    extreme = rules.decide((1900, 1000), n, activation_share=0.999, core_share=0.05)
    core_width = 1900 - extreme.side_width - n.handle
    assert core_width - extreme.activation_size - n.handle >= n.bars_min()[0]
    assert extreme.core_height >= rules.core_min_height(n, extreme.core_stacked)


def test_zoom_stops_growing_the_type_where_the_core_views_no_longer_fit():
    n = needs()
    assert rules.largest_fitting_zoom((2500, 1380), n, 1.3) == pytest.approx(1.3)
    capped = rules.largest_fitting_zoom((1000, 700), n, 2.0)
    assert 1.0 <= capped < 2.0
    assert rules.fits_at((1000, 700), n.scaled(capped))


def test_first_window_fits_the_screen_and_the_minimum_is_below_1000_px():
    assert rules.first_window((1024, 740)) == ((1024, 740), True)
    assert rules.first_window((1366, 728)) == ((1366, 728), True)
    size, maximized = rules.first_window((3840, 2100))
    assert not maximized and size[0] <= 3840 and size[1] <= 2100
    assert rules.MIN_WINDOW[0] < 1000
    assert rules.minimum_window((800, 600)) == (800, 600)


def test_stage_view_has_only_the_core_views():
    plan = rules.decide((1024, 740), needs(), stage=True, lesson_open=True)
    assert plan.stage and not plan.side_column and plan.bottom_pages == ()
    assert plan.fits


# ---------------------------------------------------------------- the real window
def settle(window, app=None) -> None:
    """Process events until the layout has no reflow pending (it reflows in a few passes)."""
    app = app or QApplication.instance()
    quiet = 0
    for _ in range(400):
        app.processEvents()
        if window.view_layout._timer.isActive():
            quiet = 0
        else:
            quiet += 1
            if quiet >= 3:
                return
    raise AssertionError("the layout kept reflowing")


def check(window, where: str) -> layout_probe.LayoutReport:
    settle(window)
    drawers = window.view_layout.drawers()
    report = layout_probe.measure(window, drawers=drawers)
    assert not report.problems(), f"{where}: {report.problems()} ({report.summary()})"
    if not window.view_layout.stage:  # the controls are on screen, or one tab away
        controls = window.docks["controls"]
        assert window.controls_scroll.isVisible() or controls in drawers, where
    return report


def open_window(qtbot, theme: str, size: tuple[int, int]):
    from vg_desktop.app import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(*size)
    win.show()
    qtbot.waitExposed(win)
    win.apply_theme(theme)
    qtbot.waitUntil(lambda: win.frames_drawn > 0, timeout=10000)
    # The first network's frame is on screen, with its finding above the bars.
    qtbot.waitUntil(lambda: win._drawn is win._latest and bool(win.headline.text()), timeout=10000)
    qtbot.wait(500)  # the legends and figures that follow the first snapshots have arrived
    return win


def close(win) -> None:
    controller = win.controller
    win.close()
    assert controller.is_finished()


@pytest.mark.parametrize("theme", THEMES)
def test_fresh_window_at_every_classroom_size(qtbot, theme):
    """From fresh settings: the core views at their minimums, every other plot at 120x60,
    no overlapping tick labels or titles, every control reachable; the window keeps the size
    it was given; then the same in Stage view."""
    win = open_window(qtbot, theme, SIZES[0])
    try:
        for size in SIZES:
            win.resize(*size)
            check(win, f"{theme} {size}")
            assert (win.width(), win.height()) == size
            # As the README says: the controls beside the plots from 1366 px (light and dark)
            # or 1920 px (presentation) up, in tabs under them below that.
            assert win.view_layout.plan.side_column == (size[0] >= SIDE_FROM[theme]), size
            win.set_stage_view(True, full_screen=False)
            report = check(win, f"{theme} {size} Stage view")
            assert set(report.plots) == {"bars", "activation"}
            win.set_stage_view(False)
    finally:
        close(win)


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_switching_themes_zoom_and_compare_in_one_window(qtbot, size):
    """Every theme after the others, zoom in twice and out again, Compare A/B on and off:
    the minimums hold at every point, the window never grows, and undoing comes back exactly."""
    win = open_window(qtbot, "light", size)
    try:
        settle(win)
        baseline = layout_state(win)
        for theme in ("dark", "presentation", "light"):
            win.apply_theme(theme)
            check(win, f"{size} → {theme}")
            assert (win.width(), win.height()) == size
            for step, action in enumerate((win.zoom_in, win.zoom_in, win.zoom_out, win.zoom_out)):
                action()
                check(win, f"{size} {theme} zoom step {step}")
                assert (win.width(), win.height()) == size, "zoom grew the window"
            win.set_compare(True)
            check(win, f"{size} {theme} A/B")
            win.set_compare(False)
            check(win, f"{size} {theme} A/B off")
        settle(win)
        assert layout_state(win) == baseline, "light after the other themes differs"
    finally:
        close(win)


def layout_state(win) -> dict:
    """What must come back exactly when a change is undone."""
    vl = win.view_layout
    return {
        "plan": vl.plan,
        "splitters": [
            s.sizes() if s.isVisible() else None
            for s in (vl.main, vl.right, vl.core, vl.bottom_row)
        ],
        "font": QApplication.instance().font().pointSizeF(),
        "controls_width": win.controls_scroll.minimumWidth(),
        "bars": win.bars.size().toTuple(),
        "activation": win.activation_plot.size().toTuple(),
    }


def test_presentation_then_light_restores_the_layout_exactly(qtbot):
    win = open_window(qtbot, "light", (1366, 768))
    try:
        settle(win)
        before = layout_state(win)
        win.apply_theme("presentation")
        settle(win)
        assert layout_state(win) != before
        win.apply_theme("light")
        settle(win)
        assert layout_state(win) == before
    finally:
        close(win)


def test_stage_view_key_and_escape_return_to_the_same_layout(qtbot):
    from PySide6.QtCore import Qt

    win = open_window(qtbot, "light", (1280, 800))
    try:
        settle(win)
        before = layout_state(win)
        qtbot.keyClick(win, Qt.Key.Key_F5)
        settle(win)
        assert win.view_layout.stage and win.stage_action.isChecked()
        assert not win.menuBar().isVisible() and win.view_layout.stage_strip.isVisible()
        qtbot.keyClick(win, Qt.Key.Key_Escape)
        settle(win)
        assert not win.view_layout.stage and win.menuBar().isVisible()
        assert (win.width(), win.height()) == (1280, 800)
        assert layout_state(win) == before
    finally:
        close(win)


def test_stage_view_shows_the_lessons_question_and_runs(qtbot):
    from vg_desktop.lessons import builtin_lessons

    win = open_window(qtbot, "presentation", (1024, 768))
    try:
        win.open_lesson(builtin_lessons()[0])
        check(win, "lesson open")
        win.set_stage_view(True, full_screen=False)
        check(win, "lesson in Stage view")
        strip = win.view_layout.stage_strip
        question = win.lesson_panel.current_step().question
        assert question and question in strip.question.text() and strip.question.isVisible()
        strip.step.click()
        qtbot.waitUntil(lambda: win._latest is not None and win._latest.step == 1, timeout=5000)
        win.set_stage_view(False)
    finally:
        close(win)


def test_no_tab_bar_is_drawn_over_the_status_bar(qtbot):
    """The history views' tab bar used to be drawn a second time over the status bar."""
    win = open_window(qtbot, "presentation", (1920, 1080))
    try:
        for theme in ("light", "presentation", "dark", "presentation"):
            win.apply_theme(theme)
            settle(win)
            status = win.statusBar().geometry()
            vl = win.view_layout
            allowed = {t.tabBar() for t in (vl.side_tabs, vl.bottom_tabs, vl.data_tabs)}
            for bar in win.findChildren(QTabBar):
                if bar.isVisible():
                    assert bar in allowed, "a tab bar outside the layout's tab widgets"
                    top_left = bar.mapTo(win, bar.rect().topLeft())
                    rect = bar.rect().translated(top_left)
                    assert not rect.intersects(status), f"tab bar over the status bar ({theme})"
    finally:
        close(win)


def test_a_dragged_splitter_is_kept_and_a_restored_one_never_hides_a_core_view(qtbot):
    win = open_window(qtbot, "light", (1920, 1080))
    try:
        settle(win)
        core = win.view_layout.core
        before = core.sizes()
        core.moveSplitter(before[0] - 200, 1)  # the user drags: the activation plot widens
        settle(win)
        kept = core.sizes()
        assert kept[1] > before[1] + 150
        win.resize(1366, 768)
        settle(win)
        win.resize(1920, 1080)
        settle(win)
        assert abs(core.sizes()[1] - kept[1]) <= 2, "the drag was not kept"
        core.moveSplitter(10, 1)  # far too far: the bars must keep their minimum
        check(win, "after dragging the bars away")
        stored = json.loads(win.settings.settings.value("view/layout"))
        assert "activation_share" in stored
    finally:
        close(win)
    # A restored layout with extreme shares still shows both core views at their minimums.
    from vg_desktop.app import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    win.settings.set("view/layout", json.dumps({"activation_share": 0.95, "core_share": 0.06}))
    win.view_layout.user = win.view_layout._load_user_choices()
    win.resize(1024, 768)
    win.show()
    try:
        qtbot.waitUntil(lambda: win.frames_drawn > 0, timeout=10000)
        check(win, "restored extreme layout")
    finally:
        close(win)


def test_a_message_over_the_bars_fits_and_leaves_room(qtbot):
    message = (
        "at step 2502 the loss, a gradient or a weight became NaN or infinite: the gradients "
        "exploded. Lower the gain or the learning rate, then press Reset."
    )
    win = open_window(qtbot, "presentation", (1366, 768))
    try:
        for size in ((1024, 768), (1366, 768), (1920, 1080)):
            win.resize(*size)
            win.bars.set_diverged(message)
            settle(win)
            item = win.bars._diverged
            vb = win.bars.getPlotItem().getViewBox()
            box = item.mapRectToScene(item.boundingRect())
            area = vb.sceneBoundingRect()
            assert area.contains(box), f"{size}: the message leaves the plot"
            assert box.height() <= 0.42 * area.height(), f"{size}: the message hides the bars"
            assert item.fill.color().alphaF() < 0.9
            assert item.textItem.toPlainText().endswith("press Reset.")
    finally:
        win.bars.set_diverged(None)
        close(win)


def test_first_launch_uses_the_screen(qtbot):
    from vg_desktop.app import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    win.show_on_screen()
    try:
        available = win.screen().availableGeometry()
        qtbot.waitUntil(lambda: win.frames_drawn > 0, timeout=10000)
        assert win.width() <= available.width() and win.height() <= available.height()
        assert win.minimumWidth() < 1000
    finally:
        close(win)


HIDPI_SCRIPT = """
import json, os, sys
from PySide6.QtWidgets import QApplication
app = QApplication([])
from vg_desktop.app import MainWindow
from vg_desktop import layout_probe

def settle(win):
    quiet = 0
    for _ in range(400):
        app.processEvents()
        quiet = 0 if win.view_layout._timer.isActive() else quiet + 1
        if quiet >= 3:
            return
win = MainWindow()
win.resize(1024, 768)
win.show()
while win.frames_drawn == 0:
    app.processEvents()
win.bars.set_animated(False)
settle(win)
report = layout_probe.measure(win, drawers=win.view_layout.drawers())
image = win.grab().toImage()
pens = {
    "f(x) curve": win.activation_plot._f.opts["pen"].widthF(),
    "bars axis": win.bars.getPlotItem().getAxis("left").pen().widthF(),
}
print(json.dumps({"dpr": image.devicePixelRatio(), "pixels": [image.width(), image.height()],
                  "plots": report.plots, "problems": report.problems(), "pens": pens}))
win.close()
"""


@pytest.mark.parametrize("scale", ["1", "2"])
def test_hidpi_lays_out_in_the_same_logical_pixels(scale, tmp_path):
    """QT_SCALE_FACTOR=2: twice the pixels, the same layout in logical pixels and lines as
    thick (nothing doubled or halved), and the same minimums."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QT_SCALE_FACTOR=scale)
    env["VG_DESKTOP_SETTINGS_FILE"] = str(tmp_path / "settings.ini")
    env["PYTHONPATH"] = str(ROOT)
    out = subprocess.run(
        [sys.executable, "-c", HIDPI_SCRIPT],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["dpr"] == float(scale)
    assert result["pixels"] == [1024 * int(scale), 768 * int(scale)]
    assert not result["problems"], result["problems"]
    HIDPI_RESULTS[scale] = result
    if len(HIDPI_RESULTS) == 2:
        for name, (w, h) in HIDPI_RESULTS["1"]["plots"].items():
            w2, h2 = HIDPI_RESULTS["2"]["plots"][name]
            assert abs(w2 - w) <= 6 and abs(h2 - h) <= 6, (name, (w, h), (w2, h2))
        # Lines as thick in logical pixels: pens are cosmetic (device pixels), so their
        # widths double with the ratio (at ratio 2 they were drawn half as thick as at 1).
        for name, width in HIDPI_RESULTS["1"]["pens"].items():
            assert HIDPI_RESULTS["2"]["pens"][name] == pytest.approx(2 * width), name


HIDPI_RESULTS: dict[str, dict] = {}


@pytest.mark.parametrize("size", [(1280, 720), (1024, 768)], ids=["1280x720", "1024x768"])
def test_every_bundled_step_shows_whole_under_the_bars_in_presentation_type(qtbot, size):
    """Issue 11, item 9: on a projector in presentation type, each step of every bundled
    lesson shows its title, summary and question without a scroll bar or a clipped line, while
    the core views keep their minimums; "Whole text" then shows the step's text (scrolling)."""
    from vg_desktop.lessons import builtin_lessons

    win = open_window(qtbot, "presentation", size)
    try:
        panel = win.lesson_panel
        for path in builtin_lessons():
            assert win.open_lesson(path)
            lesson = panel.lesson()
            for index, step in enumerate(lesson.steps):
                panel.go_to(index)
                check(win, f"{size} {path.name} step {index + 1}")
                where = (path.name, step.id, panel.height(), panel.needed_height())
                assert panel.is_wide() and panel.showing_summary(), where
                assert panel.text_fits(), where
                box = panel.question_box.geometry()
                assert panel.question_box.isVisible() and box.bottom() < panel.height(), where
                label = panel.question
                assert label.height() >= label.heightForWidth(label.width()), where
        panel.more_button.click()
        assert not panel.showing_summary()
        settle(win)
        assert step.text.split()[0] in panel.text.toPlainText()
        check(win, f"{size} whole text")
    finally:
        close(win)
