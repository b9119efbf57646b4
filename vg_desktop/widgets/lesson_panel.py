"""The lesson panel: one step of a guided lesson at a time — its text and source, a question for
the class — and the buttons that move through the lesson and set up the step's experiment.

It never touches the worker or the controls: "Set up this experiment" emits the step, and the
main window applies ``step.settings`` and ``step.view``; Play, Step and Reset (beside it, because
the text says "press Play") emit requests the window carries out.

Its type follows the window's (presentation type included): headings and text are sized relative
to the application font whenever it changes.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtGui import Qt as GuiQt
from PySide6.QtWidgets import (
    QBoxLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ..lesson_html import sanitize_lesson_html
from ..lessons import Lesson, LessonStep
from .lesson_text import LessonTextBrowser

# The question box must read well on a projector in any theme, so it sets both colors.
QUESTION_STYLE = (
    "QFrame#question_box { background: #FFF4CE; border: 2px solid #E69F00; border-radius: 6px; }"
    "QFrame#question_box QLabel { color: #1A1A1A; background: transparent; border: none; }"
)
NO_LESSON_TEXT = "No lesson is open. Choose one from the Lessons menu."
QUESTION_HEADING = "Question for the class"
PREDICT_HEADING = "Predict, then press Play"
# Sizes relative to the window's type: (lesson title, step title, text, question).
TITLE_SCALE, STEP_TITLE_SCALE, TEXT_SCALE, QUESTION_SCALE = 1.1, 1.25, 1.1, 1.1
WIDE_MIN_WIDTH = 760  # pixels: below this the question goes under the text
WIDE_RATIO = 1.8  # ... and only when the panel is this much wider than tall


def text_to_html(text: str) -> str:
    """HTML keeps only a safe subset of tags (see ``lesson_html``); plain text becomes paragraphs
    (a blank line starts a new one)."""
    if GuiQt.mightBeRichText(text):
        return sanitize_lesson_html(text)
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
    playRequested = Signal()  # Play / Pause
    stepRequested = Signal()  # one training step
    resetRequested = Signal()  # back to step 0

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._lesson: Lesson | None = None
        self._index = -1
        self._build()
        self._show()

    # ---------------------------------------------------------------- construction
    def _build(self) -> None:
        self.lesson_title = _wrapping_label("Lesson title")
        self.progress = QLabel()
        self.progress.setAccessibleName("Step number")
        self.step_title = _wrapping_label("Step title")

        self.text = LessonTextBrowser()  # loads no resource a lesson names
        self.text.setAccessibleName("Lesson text")
        self.text.setOpenExternalLinks(False)  # the app is offline: never follow a link
        self.text.setOpenLinks(False)
        self.text.setReadOnly(True)
        self.text.setFrameShape(QFrame.Shape.NoFrame)
        self.text.setLineWrapMode(QTextBrowser.LineWrapMode.WidgetWidth)
        self.text.document().setDocumentMargin(2)
        self.text.document().setDefaultStyleSheet("p { margin-top: 0; margin-bottom: 0.6em; }")
        self.text.setMinimumHeight(120)

        self.question_box = QFrame()
        self.question_box.setObjectName("question_box")
        self.question_box.setStyleSheet(QUESTION_STYLE)
        self.question_heading = QLabel(QUESTION_HEADING)
        self.question = _wrapping_label("Question for the class")
        box = QVBoxLayout(self.question_box)
        box.setContentsMargins(10, 6, 10, 8)
        box.setSpacing(2)
        box.addWidget(self.question_heading)
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
        self.play_button = self._button("Play", "Start or pause training (Space)")
        self.play_button.setCheckable(True)
        self.run_step_button = self._button("Step", "Train exactly one step and show it (S)")
        self.reset_button = self._button(
            "Reset", "Rebuild the network from its seed: back to step 0 (R)"
        )
        self.play_button.clicked.connect(self._play_clicked)
        self.run_step_button.clicked.connect(self.stepRequested)
        self.reset_button.clicked.connect(self.resetRequested)
        self.next_button = self._button(
            "Next ▶",
            "Go on to the next step of the lesson (its text only; the experiment "
            "changes when you set it up).",
        )
        self.previous_button.clicked.connect(self.previous)
        self.next_button.clicked.connect(self.next)
        self.apply_button.clicked.connect(self._apply)

        # Set up, then Play / Step / Reset beside it: the text says "press Play", and the class
        # watches the bars, not the control panel. Previous / Next share the title row.
        header = QHBoxLayout()
        header.setSpacing(6)
        header.addWidget(self.previous_button)
        header.addWidget(self.progress, 1, Qt.AlignmentFlag.AlignCenter)
        header.addWidget(self.next_button)
        run = QHBoxLayout()  # under "Set up": one row of four buttons overflowed at 14 pt
        run.setSpacing(6)
        for button in (self.play_button, self.run_step_button, self.reset_button):
            run.addWidget(button)

        # Narrow (a side column): one column. Wide and short (a bottom row, Stage view): the
        # text at the left, the question and the buttons at the right, so the text keeps its
        # lines long and fits without scrolling.
        self._reading = QVBoxLayout()
        self._reading.setSpacing(4)
        self._reading.addWidget(self.lesson_title)
        self._reading.addWidget(self.step_title)
        self._reading.addWidget(self.text, 1)
        self._asking = QVBoxLayout()
        self._asking.setSpacing(4)
        self._asking.addWidget(self.question_box)
        self._asking.addWidget(self.apply_button)
        self._asking.addLayout(run)
        self._asking.addStretch(0)
        self._body = QBoxLayout(QBoxLayout.Direction.TopToBottom)
        self._body.setSpacing(8)
        self._body.addLayout(self._reading, 5)
        self._body.addLayout(self._asking, 0)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(4)
        layout.addLayout(header)
        layout.addLayout(self._body, 1)
        self._apply_fonts()

    def is_wide(self) -> bool:
        """True when the question sits beside the text rather than below it."""
        return self._body.direction() == QBoxLayout.Direction.LeftToRight

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        wide = self.width() >= WIDE_MIN_WIDTH and self.width() >= WIDE_RATIO * self.height()
        if wide != self.is_wide():
            direction = (
                QBoxLayout.Direction.LeftToRight if wide else QBoxLayout.Direction.TopToBottom
            )
            self._body.setDirection(direction)
            self._body.setStretch(1, 2 if wide else 0)

    def needed_height(self) -> int:
        """The panel's height, at its current width, for the current step's whole text to show
        without scrolling (for a layout that can give the lesson more room)."""
        margins = self.layout().contentsMargins()
        header = max(b.sizeHint().height() for b in (self.previous_button, self.next_button))
        column = self.lesson_title.width()
        spacing = self._reading.spacing()
        reading = (
            self.lesson_title.heightForWidth(column)
            + self.step_title.heightForWidth(column)
            + 2 * spacing
            + self.needed_text_height()
        )
        asking = self._asking.sizeHint().height()
        body = max(reading, asking) if self.is_wide() else reading + self._body.spacing() + asking
        return margins.top() + margins.bottom() + header + self.layout().spacing() + body + 2

    def _apply_fonts(self) -> None:
        """Headings and text relative to the window's type, so presentation type reaches them
        (fonts set once at start stayed at 10 pt)."""
        base = self.font()
        self.lesson_title.setFont(_scaled_font(base, TITLE_SCALE, bold=True))
        self.step_title.setFont(_scaled_font(base, STEP_TITLE_SCALE, bold=True))
        self.text.setFont(_scaled_font(base, TEXT_SCALE))
        self.question_heading.setFont(_scaled_font(base, 1.0, bold=True))
        self.question.setFont(_scaled_font(base, QUESTION_SCALE))
        self.apply_button.setFont(_scaled_font(base, 1.0, bold=True))

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._apply_fonts()

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

    def set_playing(self, playing: bool) -> None:
        """Show the run state on the Play button (the window calls this)."""
        self.play_button.setChecked(playing)
        self.play_button.setText("Pause" if playing else "Play")

    def text_fits(self) -> bool:
        """True when the step's whole text shows without scrolling."""
        bar = self.text.verticalScrollBar()
        return bar.maximum() == 0

    def needed_text_height(self, width: int | None = None) -> int:
        """Pixels the text needs to show whole at ``width`` (default: its current width)."""
        document = self.text.document().clone()
        document.setDefaultFont(self.text.font())
        document.setTextWidth(width if width is not None else self.text.viewport().width())
        return int(document.size().height()) + 2 * self.text.frameWidth() + 2

    # ---------------------------------------------------------------- internals
    def _play_clicked(self) -> None:
        self.play_button.setChecked(not self.play_button.isChecked())  # the window decides
        self.playRequested.emit()

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
            for button in (self.play_button, self.run_step_button, self.reset_button):
                button.setVisible(False)
            return
        count = len(lesson.steps)
        self.lesson_title.setText(lesson.title)
        self.progress.setText(f"Step {self._index + 1} of {count}")
        self.step_title.setText(step.title)
        self.text.setHtml(step_html(step.text, step.citation))
        self.text.verticalScrollBar().setValue(0)
        self.question.setText(step.question)
        self.question_heading.setText(PREDICT_HEADING if step.predict else QUESTION_HEADING)
        self.question_box.show()
        for button in (self.play_button, self.run_step_button, self.reset_button):
            button.setVisible(True)
        self.previous_button.setEnabled(self._index > 0)
        self.next_button.setEnabled(self._index + 1 < count)
        self.apply_button.setEnabled(True)
