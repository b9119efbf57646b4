"""The lesson panel, driven with the mouse: navigation, labels, and the set-up request."""

from __future__ import annotations

import html

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from vg_desktop.lessons import builtin_lessons, lesson_from_dict, load_lesson
from vg_desktop.widgets.lesson_panel import READ_MORE, LessonPanel, text_to_html

BUTTONS = ["◀ Previous", "Set up this experiment", "Next ▶"]


@pytest.fixture
def lesson():
    return load_lesson(builtin_lessons()[0])


@pytest.fixture
def panel(qtbot):
    widget = LessonPanel()
    qtbot.addWidget(widget)
    widget.resize(480, 700)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def button(panel: LessonPanel, name: str) -> QPushButton:
    found = [b for b in panel.findChildren(QPushButton) if b.accessibleName() == name]
    assert len(found) == 1, f"expected one button named {name!r}"
    return found[0]


def click(qtbot, widget) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def test_buttons_are_named_and_explained(panel):
    for name in BUTTONS:
        b = button(panel, name)
        assert b.text() == name
        assert b.toolTip()


def test_empty_panel_offers_nothing_to_click(panel):
    assert panel.lesson() is None and panel.current_step() is None
    assert panel.step_index() == -1
    assert not any(button(panel, name).isEnabled() for name in BUTTONS)
    assert "Lessons menu" in panel.text.toPlainText()


def test_set_lesson_shows_the_first_step(panel, qtbot, lesson):
    with qtbot.waitSignal(panel.stepChanged) as changed:
        panel.set_lesson(lesson)
    assert changed.args == [0]
    step = lesson.steps[0]
    assert panel.lesson_title.text() == lesson.title
    assert panel.progress.text() == f"Step 1 of {len(lesson.steps)}"
    assert panel.step_title.text() == step.title
    assert panel.question.text() == step.question
    # A side column has the height for both: the summary leads, the whole text follows.
    shown = panel.text.toPlainText()
    assert step.summary in shown and step.text.split("\n\n")[0] in shown
    assert shown.index(step.summary) < shown.index(step.text.split("\n\n")[0])
    assert not panel.more_button.isVisible()
    # The strip under the plots shows the summary; "Whole text" swaps in the text, and back.
    panel.resize(1200, 300)
    assert panel.is_wide()
    assert panel.showing_summary() and step.summary in panel.text.toPlainText()
    assert step.text.split("\n\n")[0] not in panel.text.toPlainText()
    more = button(panel, READ_MORE)
    more.click()
    assert not panel.showing_summary()
    assert step.text.split("\n\n")[0] in panel.text.toPlainText()
    more.click()
    assert panel.showing_summary() and step.summary in panel.text.toPlainText()
    assert not button(panel, "◀ Previous").isEnabled()
    assert button(panel, "Next ▶").isEnabled()


def test_next_and_previous_by_mouse(panel, qtbot, lesson):
    panel.set_lesson(lesson)
    with qtbot.waitSignal(panel.stepChanged) as changed:
        click(qtbot, button(panel, "Next ▶"))
    assert changed.args == [1]
    assert panel.step_index() == 1
    assert panel.progress.text() == f"Step 2 of {len(lesson.steps)}"
    assert panel.step_title.text() == lesson.steps[1].title
    assert button(panel, "◀ Previous").isEnabled()
    with qtbot.waitSignal(panel.stepChanged) as changed:
        click(qtbot, button(panel, "◀ Previous"))
    assert changed.args == [0]
    assert panel.current_step() == lesson.steps[0]


def test_set_up_emits_the_current_step(panel, qtbot, lesson):
    panel.set_lesson(lesson, 3)
    with qtbot.waitSignal(panel.applyRequested) as applied:
        click(qtbot, button(panel, "Set up this experiment"))
    (step,) = applied.args
    assert step is lesson.steps[3]
    assert step.settings.network.depth == 20


def test_last_step_cannot_go_further(panel, qtbot, lesson):
    last = len(lesson.steps) - 1
    panel.set_lesson(lesson, last)
    assert not button(panel, "Next ▶").isEnabled()
    with qtbot.assertNotEmitted(panel.stepChanged):
        panel.next()
    assert panel.step_index() == last
    with pytest.raises(IndexError):
        panel.go_to(last + 1)
    with pytest.raises(IndexError):
        panel.set_lesson(lesson, last + 1)


def test_citation_is_shown_and_links_are_never_followed(panel, lesson):
    cited = next(i for i, s in enumerate(lesson.steps) if s.citation)
    panel.resize(1200, 300)  # the strip under the plots
    panel.set_lesson(lesson, cited)
    citation = lesson.steps[cited].citation
    assert html.escape(citation) in panel.text.toolTip()  # the summary names it on hover
    button(panel, READ_MORE).click()  # the whole text prints it under the text
    assert "Source: " + citation[:40] in panel.text.toPlainText()
    assert not panel.text.openExternalLinks()
    assert not panel.text.openLinks()


def test_text_formats():
    assert text_to_html("a < b\n\nnext") == "<p>a &lt; b</p><p>next</p>"
    assert text_to_html("<p>Already <b>HTML</b></p>") == "<p>Already <b>HTML</b></p>"


def test_clear_returns_to_the_empty_state(panel, lesson):
    panel.set_lesson(lesson, 2)
    panel.clear()
    assert panel.lesson() is None
    assert not button(panel, "Set up this experiment").isEnabled()
    assert not panel.question_box.isVisible()


def test_a_teachers_minimal_lesson(panel, qtbot):
    lesson = lesson_from_dict(
        {
            "format": "vg-desktop-lesson",
            "version": 1,
            "title": "One step",
            "author": "",
            "description": "",
            "steps": [
                {
                    "id": "only",
                    "title": "Only",
                    "text": "Hello.",
                    "question": "Why?",
                    "settings": {},
                }
            ],
        }
    )
    panel.set_lesson(lesson)
    assert panel.progress.text() == "Step 1 of 1"
    assert not button(panel, "◀ Previous").isEnabled()
    assert not button(panel, "Next ▶").isEnabled()
    assert "Source:" not in panel.text.toPlainText()


def test_a_hostile_title_or_citation_is_shown_as_typed(panel):
    """The strip puts the lesson's title in the progress label and the step's source in a
    tooltip: both show markup as typed (a tooltip or label that looks like HTML is rendered as
    HTML, and would load the image it names)."""
    from PySide6.QtCore import Qt

    bad = '<img src="/dev/zero"><b>x</b>'
    lesson = lesson_from_dict(
        {
            "format": "vg-desktop-lesson",
            "version": 1,
            "title": bad,
            "author": "",
            "description": "",
            "steps": [
                {
                    "id": "s",
                    "title": bad,
                    "summary": "A summary.",
                    "text": "Text.",
                    "citation": bad,
                    "question": "Why?",
                    "settings": {},
                }
            ],
        }
    )
    panel.resize(1200, 300)
    panel.set_lesson(lesson)
    assert panel.progress.textFormat() == Qt.TextFormat.PlainText
    for tip in (panel.progress.toolTip(), panel.text.toolTip()):
        assert "<img" not in tip and "&lt;img" in tip
    assert "<img" not in panel.text.toHtml()
    assert not panel.text.refused_resources
