"""The lesson panel: one step of a guided lesson at a time — its text and source, a question for
the class — and the buttons that move through the lesson and set up the step's experiment.

It never touches the worker or the controls: "Set up this experiment" emits the step, and the
main window applies ``step.settings`` and ``step.view``.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtGui import Qt as GuiQt
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ..lessons import Lesson, LessonStep

# The question box must read well on a projector in any theme, so it sets both colors.
QUESTION_STYLE = (
    "QFrame#question_box { background: #FFF4CE; border: 2px solid #E69F00; border-radius: 6px; }"
    "QFrame#question_box QLabel { color: #1A1A1A; background: transparent; border: none; }"
)
NO_LESSON_TEXT = "No lesson is open. Choose one from the Lessons menu."


def text_to_html(text: str) -> str:
    """Minimal HTML passes through; plain text becomes paragraphs (blank line = new paragraph)."""
    if GuiQt.mightBeRichText(text):
        return text
    paragraphs = [p.strip() for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    return "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)


def step_html(text: str, citation: str | None) -> str:
    """The step's text, then its source (if any) in small italics: it scrolls with the text
    instead of taking room from the question on a small screen or a large projector font."""
    body = text_to_html(text)
    if citation:
        body += f"<hr><p><small><i>Source: {html.escape(citation)}</i></small></p>"
    return body


def _scaled_font(base: QFont, factor: float, bold: bool = False) -> QFont:
    font = QFont(base)
    if base.pointSizeF() > 0:
        font.setPointSizeF(base.pointSizeF() * factor)
    font.setBold(bold)
    return font


def _wrapping_label(name: str) -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setAccessibleName(name)
    label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
    return label


class LessonPanel(QWidget):
    """Shows the current step of a :class:`Lesson`; emits the step when asked to set it up."""

    applyRequested = Signal(object)  # the LessonStep to set up
    stepChanged = Signal(int)  # the new step index (0-based)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._lesson: Lesson | None = None
        self._index = -1
        self._build()
        self._show()

    # ---------------------------------------------------------------- construction
    def _build(self) -> None:
        base = self.font()
        self.lesson_title = _wrapping_label("Lesson title")
        self.lesson_title.setFont(_scaled_font(base, 1.1, bold=True))
        self.progress = QLabel()
        self.progress.setAccessibleName("Step number")
        self.step_title = _wrapping_label("Step title")
        self.step_title.setFont(_scaled_font(base, 1.3, bold=True))

        self.text = QTextBrowser()
        self.text.setAccessibleName("Lesson text")
        self.text.setOpenExternalLinks(False)  # the app is offline: never follow a link
        self.text.setOpenLinks(False)
        self.text.setReadOnly(True)
        self.text.setFrameShape(QFrame.Shape.NoFrame)
        self.text.setLineWrapMode(QTextBrowser.LineWrapMode.WidgetWidth)
        self.text.document().setDocumentMargin(2)
        self.text.document().setDefaultStyleSheet("p { margin-top: 0; margin-bottom: 0.6em; }")
        self.text.setFont(_scaled_font(base, 1.15))
        self.text.setMinimumHeight(120)

        self.question_box = QFrame()
        self.question_box.setObjectName("question_box")
        self.question_box.setStyleSheet(QUESTION_STYLE)
        heading = QLabel("Question for the class")
        heading.setFont(_scaled_font(base, 1.0, bold=True))
        self.question = _wrapping_label("Question for the class")
        self.question.setFont(_scaled_font(base, 1.15))
        box = QVBoxLayout(self.question_box)
        box.setContentsMargins(10, 8, 10, 10)
        box.setSpacing(4)
        box.addWidget(heading)
        box.addWidget(self.question)

        self.previous_button = self._button(
            "◀ Previous",
            "Go back to the previous step of the lesson (its text only; the "
            "experiment changes when you set it up).",
        )
        self.apply_button = self._button(
            "Set up this experiment",
            "Apply this step's settings (network, data, training) "
            "and view, so the class can watch what the text describes.",
        )
        self.apply_button.setDefault(True)
        self.apply_button.setFont(_scaled_font(base, 1.0, bold=True))
        self.next_button = self._button(
            "Next ▶",
            "Go on to the next step of the lesson (its text only; the experiment "
            "changes when you set it up).",
        )
        self.previous_button.clicked.connect(self.previous)
        self.next_button.clicked.connect(self.next)
        self.apply_button.clicked.connect(self._apply)

        # "Set up" gets a row of its own so the three buttons never crowd at projector sizes.
        navigation = QHBoxLayout()
        navigation.setSpacing(6)
        navigation.addWidget(self.previous_button)
        navigation.addStretch(1)
        navigation.addWidget(self.next_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(6)
        layout.addWidget(self.lesson_title)
        layout.addWidget(self.progress)
        layout.addWidget(self.step_title)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.question_box)
        layout.addWidget(self.apply_button)
        layout.addLayout(navigation)

    def _button(self, text: str, tip: str) -> QPushButton:
        button = QPushButton(text)
        button.setAccessibleName(text)
        button.setToolTip(tip)
        return button

    # ---------------------------------------------------------------- public API
    def set_lesson(self, lesson: Lesson, step_index: int = 0) -> None:
        """Show ``lesson`` at ``step_index``; raises IndexError for a step it does not have."""
        if not 0 <= step_index < len(lesson.steps):
            raise IndexError(f"the lesson has steps 0 to {len(lesson.steps) - 1}; got {step_index}")
        self._lesson = lesson
        self._index = step_index
        self._show()
        self.stepChanged.emit(self._index)

    def clear(self) -> None:
        """Show no lesson."""
        self._lesson = None
        self._index = -1
        self._show()

    def lesson(self) -> Lesson | None:
        return self._lesson

    def step_index(self) -> int:
        """The current step (0-based), or -1 when no lesson is open."""
        return self._index

    def current_step(self) -> LessonStep | None:
        return self._lesson.steps[self._index] if self._lesson is not None else None

    def go_to(self, index: int) -> None:
        if self._lesson is None:
            raise IndexError("no lesson is open")
        if not 0 <= index < len(self._lesson.steps):
            raise IndexError(
                f"the lesson has steps 0 to {len(self._lesson.steps) - 1}; got {index}"
            )
        if index != self._index:
            self._index = index
            self._show()
            self.stepChanged.emit(index)

    def next(self) -> None:
        if self._lesson is not None and self._index + 1 < len(self._lesson.steps):
            self.go_to(self._index + 1)

    def previous(self) -> None:
        if self._lesson is not None and self._index > 0:
            self.go_to(self._index - 1)

    # ---------------------------------------------------------------- internals
    def _apply(self) -> None:
        step = self.current_step()
        if step is not None:
            self.applyRequested.emit(step)

    def _show(self) -> None:
        lesson, step = self._lesson, self.current_step()
        if lesson is None or step is None:
            self.lesson_title.setText("Lessons")
            self.progress.setText("")
            self.step_title.setText("")
            self.text.setHtml(text_to_html(NO_LESSON_TEXT))
            self.question_box.hide()
            for button in (self.previous_button, self.apply_button, self.next_button):
                button.setEnabled(False)
            return
        count = len(lesson.steps)
        self.lesson_title.setText(lesson.title)
        self.progress.setText(f"Step {self._index + 1} of {count}")
        self.step_title.setText(step.title)
        self.text.setHtml(step_html(step.text, step.citation))
        self.text.verticalScrollBar().setValue(0)
        self.question.setText(step.question)
        self.question_box.show()
        self.previous_button.setEnabled(self._index > 0)
        self.next_button.setEnabled(self._index + 1 < count)
        self.apply_button.setEnabled(True)
