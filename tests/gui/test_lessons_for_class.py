"""Lessons built for class (issue 11, item 9): Play/Step/Reset beside "Set up", type that
follows presentation mode, a text that fits when given its room, and predictions before answers."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from vg_desktop.lessons import LessonFileError, builtin_lessons, lesson_from_dict, load_lesson
from vg_desktop.widgets.lesson_panel import PREDICT_HEADING, QUESTION_HEADING, LessonPanel


def _minimal(**step) -> dict:
    base = {"id": "s", "title": "S", "text": "Text.", "question": "Why?", "settings": {}}
    base.update(step)
    return {
        "format": "vg-desktop-lesson",
        "version": 1,
        "title": "T",
        "author": "",
        "description": "",
        "steps": [base],
    }


def test_predict_field_is_validated_and_round_trips() -> None:
    from vg_desktop.lessons import lesson_to_dict

    assert lesson_from_dict(_minimal()).steps[0].predict is False
    lesson = lesson_from_dict(_minimal(predict=True))
    assert lesson.steps[0].predict is True
    assert lesson_to_dict(lesson)["steps"][0]["predict"] is True
    with pytest.raises(LessonFileError, match="'predict' must be true or false"):
        lesson_from_dict(_minimal(predict="yes"))
    with pytest.raises(LessonFileError, match="cannot start playing"):
        lesson_from_dict(_minimal(predict=True, view={"play": True}))


def test_built_in_prediction_steps_are_marked() -> None:
    marked = {
        step.id for path in builtin_lessons() for step in load_lesson(path).steps if step.predict
    }
    assert {"the-problem", "exploding"} <= marked
    for path in builtin_lessons():  # a step whose question starts "Before you press Play" predicts
        for step in load_lesson(path).steps:
            if step.question.startswith("Before you press Play"):
                assert step.predict, step.id


def _button(window_or_panel, name: str):
    from PySide6.QtWidgets import QPushButton

    found = [b for b in window_or_panel.findChildren(QPushButton) if b.accessibleName() == name]
    assert len(found) == 1, name
    return found[0]


def test_play_step_reset_beside_set_up_drive_the_run(qtbot, window) -> None:
    window.open_lesson(builtin_lessons()[0])
    panel = window.lesson_panel
    panel.go_to(1)  # a step without a prediction
    qtbot.mouseClick(_button(panel, "Set up this experiment"), Qt.MouseButton.LeftButton)
    step = _button(panel, "Step")
    play = _button(panel, "Play")
    reset = _button(panel, "Reset")
    for button in (step, play, reset):
        assert button.isVisible() and button.toolTip()
    qtbot.mouseClick(step, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: (
            window.run_a.latest is not None
            and window.run_a.latest.config == panel.current_step().settings
            and window.run_a.latest.step >= 1
        ),
        timeout=8000,
    )
    qtbot.mouseClick(play, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.controller.playing and play.text() == "Pause", timeout=5000)
    assert play.isChecked() and window.controls.play_button.text() == "Pause"
    qtbot.waitUntil(lambda: window.run_a.latest.step > 5, timeout=8000)
    qtbot.mouseClick(play, Qt.MouseButton.LeftButton)  # Pause
    qtbot.waitUntil(lambda: not window.controller.playing and play.text() == "Play", timeout=5000)
    qtbot.mouseClick(reset, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.run_a.latest.step == 0, timeout=8000)


def _blue_pixels(bars) -> int:
    """Pixels of the vanishing-bar blue (#0072B2) in the bars' plot area (not the legend)."""
    from PySide6.QtGui import QImage

    area = bars.mapFromScene(bars._vb.sceneBoundingRect()).boundingRect()
    image = bars.grab(area).toImage().convertToFormat(QImage.Format.Format_RGB888)
    w, h = image.width(), image.height()
    data = np.frombuffer(image.constBits(), np.uint8, image.bytesPerLine() * h)
    rgb = data.reshape(h, image.bytesPerLine())[:, : 3 * w].reshape(h, w, 3).astype(int)
    return int(np.count_nonzero(np.abs(rgb - (0x00, 0x72, 0xB2)).max(axis=2) < 12))


def test_a_prediction_step_hides_the_answer_until_play(qtbot, window) -> None:
    window.open_lesson(builtin_lessons()[0])
    panel = window.lesson_panel
    lesson = panel.lesson()
    index = next(i for i, s in enumerate(lesson.steps) if s.predict)
    panel.go_to(index)
    assert panel.question_heading.text() == PREDICT_HEADING
    qtbot.mouseClick(_button(panel, "Set up this experiment"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: (
            window.run_a.drawn is not None
            and window.run_a.drawn.config == lesson.steps[index].settings
        ),
        timeout=8000,
    )
    window.bars.set_animated(False)
    window._redraw()
    assert window.bars.answer_hidden()
    assert not window.headline.isVisible()  # the headline states the answer
    assert _blue_pixels(window.bars) < 20  # no vanishing bar shows
    qtbot.mouseClick(_button(panel, "Play"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.bars.answer_hidden(), timeout=3000)
    window.pause()
    qtbot.waitUntil(
        lambda: window.run_a.drawn is not None and not window.run_a.drawn.playing, timeout=8000
    )
    window._redraw()
    assert window.headline.isVisible() and window.headline.text()
    assert _blue_pixels(window.bars) > 400  # the vanishing bars are back
    panel.go_to(1)  # a step that asks no prediction leaves the bars visible
    assert panel.question_heading.text() == QUESTION_HEADING
    qtbot.mouseClick(_button(panel, "Set up this experiment"), Qt.MouseButton.LeftButton)
    assert not window.bars.answer_hidden()


def test_lesson_type_grows_with_presentation_mode(qtbot, window) -> None:
    window.open_lesson(builtin_lessons()[0])
    panel = window.lesson_panel
    sizes = lambda: [  # noqa: E731
        w.font().pointSizeF()
        for w in (
            panel.lesson_title,
            panel.step_title,
            panel.text,
            panel.question,
            panel.question_heading,
            panel.apply_button,
        )
    ]
    light = sizes()
    window.apply_theme("presentation")
    qtbot.waitUntil(
        lambda: all(p >= 1.3 * q for p, q in zip(sizes(), light, strict=True)), timeout=3000
    )
    window.apply_theme("light")
    qtbot.waitUntil(lambda: sizes() == light, timeout=3000)


@pytest.mark.parametrize(("width", "height"), [(480, 900), (1280, 340)])
def test_given_its_needed_height_every_step_text_shows_whole(qtbot, width, height) -> None:
    """needed_height() is what a layout gives the lesson so the text never scrolls: narrow (a
    side column, the question under the text) and wide (the question beside it), in
    presentation type."""
    from vg_desktop.appearance import apply_widget_theme

    app = QApplication.instance()
    apply_widget_theme(app, "presentation", 1.0)
    try:
        panel = LessonPanel()
        qtbot.addWidget(panel)
        panel.resize(width, height)
        panel.show()
        qtbot.waitUntil(lambda: panel.font().pointSizeF() == 14.0, timeout=2000)
        for path in builtin_lessons():
            lesson = load_lesson(path)
            panel.set_lesson(lesson)
            for index in range(len(lesson.steps)):
                panel.go_to(index)
                panel.resize(width, height)
                app.processEvents()
                needed = panel.needed_height()
                panel.resize(width, needed)
                app.processEvents()
                if panel.needed_height() != needed:  # the arrangement changed with the height
                    needed = panel.needed_height()
                    panel.resize(width, needed)
                    app.processEvents()
                assert panel.height() == max(needed, panel.minimumSizeHint().height())
                assert panel.text_fits(), (lesson.steps[index].id, width, needed)
    finally:
        apply_widget_theme(app, "light", 1.0)


def test_the_documented_room_a_step_needs(qtbot) -> None:
    """docs/writing-lessons.md: at 1280 px in presentation type, ~132 px for a 200-character
    summary with a one-line question (a 1280x720 projector leaves ~158 px under the bars), and
    for a whole text ~201 px at 550 characters and ~383 px at 1,100 with a 225-character
    citation (measured on made-up text, so rewriting a lesson does not change it)."""
    from vg_desktop.appearance import apply_widget_theme

    app = QApplication.instance()
    apply_widget_theme(app, "presentation", 1.0)
    words = "The first layer receives a gradient that is smaller by a factor of four. "
    question = "Before you press Play: which layer receives the smallest gradient, and why?"
    try:
        panel = LessonPanel()
        qtbot.addWidget(panel)
        panel.resize(1280, 340)
        panel.show()
        qtbot.waitUntil(lambda: panel.font().pointSizeF() == 14.0, timeout=2000)
        for chars, citation, summary, expected in (
            (550, None, None, 201),
            (1100, "C" * 50 + " " + "x" * 174, None, 383),
            (1100, None, 200, 132),
        ):
            text = (words * 30)[:chars]
            step = {"text": text, "question": question, "title": "Why the first layers starve"}
            if citation:
                step["citation"] = citation
            if summary:
                step["summary"] = (words * 5)[:summary].strip()
            lesson = lesson_from_dict(_minimal(**step))
            panel.set_lesson(lesson)
            panel.resize(1280, 340)
            app.processEvents()
            needed = panel.needed_height()
            assert abs(needed - expected) <= 0.12 * expected, (chars, summary, needed)
    finally:
        apply_widget_theme(app, "light", 1.0)


def test_lesson_file_documents_predict() -> None:
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "writing-lessons.md").read_text()
    assert "`predict`" in doc
    json.dumps(_minimal(predict=True))  # the documented example shape is valid JSON
