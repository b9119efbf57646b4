"""Issue 14: drawing points on the data view with the real mouse path (QTest on the plot's
viewport): click adds, drag paints, right-click removes the nearest, Clear, undo/redo."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from vg_desktop.plots.dataset_plot import STROKE_SPACING_PX


def start_drawing(window, qtbot):
    window.draw_bar.toggle.click()
    assert window.dataset_plot.is_drawing()
    qtbot.waitUntil(lambda: window.dataset_plot.viewRange()[0][1] > 0, timeout=5000)
    return window.dataset_plot


def inside(plot, fx, fy) -> QPoint:
    """The viewport point at fractions (fx, fy) of the plot's data area."""
    area = plot.plot_area()
    return QPoint(round(area.left() + fx * area.width()), round(area.top() + fy * area.height()))


def points(window):
    return window.run_a.config.data.points


def test_click_drag_remove_clear_undo_redo(window, qtbot):
    plot = start_drawing(window, qtbot)
    assert window.run_a.config.data.name == "spiral"  # drawing starts from the data shown
    port = plot.viewport()
    seed = window.run_a.config.network.seed

    # a click adds one point of the chosen class, where the click was
    window.draw_bar.picker.setCurrentIndex(1)  # class 2
    where = inside(plot, 0.5, 0.3)
    QTest.mouseClick(port, Qt.MouseButton.LeftButton, pos=where)
    after_click = points(window)
    assert window.run_a.config.data.name == "custom" and len(after_click) == 513
    np.testing.assert_allclose(after_click.x[-1], plot.data_point(where.toPointF()))
    assert after_click.y[-1] == 1 and after_click.class_names == ("class 1", "class 2")
    assert window.run_a.config.network.seed == seed  # retrained from the same seed
    qtbot.waitUntil(lambda: window.run_a.latest.config.data == after_click_data(window))

    # a drag paints a point every STROKE_SPACING_PX pixels, as one edit
    window.draw_bar.picker.setCurrentIndex(0)
    start = inside(plot, 0.1, 0.5)
    QTest.mousePress(port, Qt.MouseButton.LeftButton, pos=start)
    for dx in range(0, 6 * STROKE_SPACING_PX + 1, 4):
        QTest.mouseMove(port, start + QPoint(dx, 0))
    QTest.mouseRelease(
        port, Qt.MouseButton.LeftButton, pos=start + QPoint(6 * STROKE_SPACING_PX, 0)
    )
    after_drag = points(window)
    painted = len(after_drag) - len(after_click)
    assert 5 <= painted <= 7, painted
    assert (after_drag.y[-painted:] == 0).all()

    # a right click removes the nearest point: the one just clicked
    QTest.mouseClick(port, Qt.MouseButton.RightButton, pos=where)
    after_remove = points(window)
    assert len(after_remove) == len(after_drag) - 1
    assert not any(np.array_equal(p, after_click.x[-1]) for p in after_remove.x)

    # undo and redo through the keyboard
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert points(window) == after_drag
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert points(window) == after_click
    shift_ctrl = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    QTest.keyClick(window, Qt.Key.Key_Z, shift_ctrl)
    assert points(window) == after_drag

    # Clear empties: nothing to train on, the run pauses and the view shows no points
    window.draw_bar.clear.click()
    assert window.dataset_plot._x.shape == (0, 2)
    assert "draw at least 4" in window.statusBar().currentMessage()
    assert not window.run_a.controller.playing
    # four clicks later it trains again, on just those points
    for k in range(4):
        window.draw_bar.picker.setCurrentIndex(k % 2)
        QTest.mouseClick(port, Qt.MouseButton.LeftButton, pos=inside(plot, 0.2 * k, 0.2 * k))
    assert len(points(window)) == 4 and list(points(window).y) == [0, 1, 0, 1]
    assert window.run_a.config.train.batch_size == 4
    for k in range(80):  # more points give the batch size chosen before drawing back
        QTest.mouseClick(port, Qt.MouseButton.LeftButton, pos=inside(plot, k / 80, (k % 9) / 9))
    assert window.run_a.config.train.batch_size == 64
    window.draw_bar.undo.click()
    for _ in range(80):
        window.draw_bar.undo.click()
    assert window.dataset_plot._x.shape == (3, 2) and len(points(window)) == 4


def after_click_data(window):
    return window.run_a.config.data


def test_a_new_class_can_be_drawn(window, qtbot):
    window.docks["dataset"].raise_()  # views behind another tab are drawn when they come forward
    plot = start_drawing(window, qtbot)
    picker = window.draw_bar.picker
    picker.setCurrentIndex(picker.count() - 1)
    assert picker.currentText() == "class 3 (new)"
    QTest.mouseClick(plot.viewport(), Qt.MouseButton.LeftButton, pos=inside(plot, 0.5, 0.5))
    assert points(window).class_names == ("class 1", "class 2", "class 3")
    assert window.run_a.config.data.n_classes == 3
    qtbot.waitUntil(lambda: window.dataset_plot.class_labels()[-1] == "class 3", timeout=10_000)


def test_the_view_stays_still_while_drawing(window, qtbot):
    plot = start_drawing(window, qtbot)
    before = plot.viewRange()
    QTest.mouseClick(plot.viewport(), Qt.MouseButton.LeftButton, pos=inside(plot, 0, 0))
    snap_of = window.run_a.config.data
    qtbot.waitUntil(
        lambda: (
            window.run_a.drawn is not None
            and window.run_a.drawn.config.data == snap_of
            and window.run_a.drawn.decision is not None
        ),
        timeout=10_000,
    )
    qtbot.wait(200)
    np.testing.assert_allclose(plot.viewRange(), before)


def test_clicks_on_the_legend_or_axes_add_nothing(window, qtbot):
    plot = start_drawing(window, qtbot)
    area = plot.plot_area()
    before = window.run_a.config
    port = plot.viewport()
    for pos in (QPoint(round(area.center().x()), round(area.top()) - 5), QPoint(3, 3)):
        QTest.mouseClick(port, Qt.MouseButton.LeftButton, pos=pos)
    assert window.run_a.config == before


def test_without_drawing_mode_clicks_change_nothing(window, qtbot):
    before = window.run_a.config
    QTest.mouseClick(window.dataset_plot.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(80, 80))
    assert window.run_a.config == before
