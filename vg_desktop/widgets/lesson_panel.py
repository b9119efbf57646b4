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
    QStyle,
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
# In the strip under the bars the heading shares the question's line: short forms keep the
# question to one line on a 1280-pixel projector.
STRIP_HEADINGS = {QUESTION_HEADING: "Question:", PREDICT_HEADING: "Predict, then press Play:"}
READ_MORE = "Whole text"  # the button that shows the step's whole text instead of its summary
# Sizes relative to the window's type: (lesson title, step title, text, question).
TITLE_SCALE, STEP_TITLE_SCALE, TEXT_SCALE, QUESTION_SCALE = 1.1, 1.25, 1.1, 1.1
WIDE_MIN_WIDTH = 760  # pixels: below this the panel is a column (buttons under the text)
WIDE_RATIO = 1.8  # ... and also when it is less than this much wider than tall


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
    contentChanged = Signal()  # another step or text shown: the room it needs may differ

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._lesson: Lesson | None = None
        self._index = -1
        self._whole_text = False  # the teacher asked for the whole text instead of the summary
        self._build()
        self._show()

    # ---------------------------------------------------------------- construction
    def _build(self) -> None:
        self.lesson_title = _wrapping_label("Lesson title")
        self.progress = QLabel()
        self.progress.setTextFormat(Qt.TextFormat.PlainText)  # it shows the lesson's title
        self.progress.setAccessibleName("Step number")
        self.progress.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
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
        self.text.setMinimumHeight(2 * self.fontMetrics().lineSpacing())

        self.question_box = QFrame()
        self.question_box.setObjectName("question_box")
        self.question_box.setStyleSheet(QUESTION_STYLE)
        self.question_heading = QLabel(QUESTION_HEADING)
        self.question_heading.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.question = _wrapping_label("Question for the class")
        # A wrapped label's minimum height is taken at a narrow width (several lines): in the
        # strip that height, not the one its width needs, would decide the box.
        self.question.setMinimumHeight(1)
        # The box sits in a holder without a layout whose height the panel sets from the
        # question's own lines: through a height-for-width row the box's layout answered with
        # the previous question's height, and the text lost a line to it.
        self.question_holder = _Holder(self.question_box)
        self._question_row = QBoxLayout(QBoxLayout.Direction.TopToBottom, self.question_box)
        self._question_row.setSpacing(2)
        self._question_row.addWidget(self.question_heading, 0)
        self._question_row.addWidget(self.question, 1)

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
        self.more_button = self._button(
            READ_MORE,
            "Show the step's whole text and its source instead of its summary (what the "
            "class needs on the projector). Click again for the summary.",
        )
        self.more_button.setCheckable(True)
        self.play_button.clicked.connect(self._play_clicked)
        self.run_step_button.clicked.connect(self.stepRequested)
        self.reset_button.clicked.connect(self.resetRequested)
        self.more_button.toggled.connect(self._more_toggled)
        self.next_button = self._button(
            "Next ▶",
            "Go on to the next step of the lesson (its text only; the experiment "
            "changes when you set it up).",
        )
        self.previous_button.clicked.connect(self.previous)
        self.next_button.clicked.connect(self.next)
        self.apply_button.clicked.connect(self._apply)
        self._wide = False
        self._arrange(wide=False)
        self._apply_fonts()

    def _arrange(self, wide: bool) -> None:
        """Lay the widgets out as a side column (narrow) or as a bottom strip (wide and short).

        The strip keeps every button on one row above the text, and the question across the
        whole width under it (a question beside the text took a third of the width and wrapped
        to six lines): the summary, the question and the buttons fit in the ~200 px a
        1280×720 projector leaves under the bars in presentation type."""
        layout = self.layout()
        if layout is None:
            layout = QVBoxLayout(self)
            layout.setSpacing(4)
        else:
            _empty(layout)  # the widgets stay children of the panel; the rows are rebuilt
        self._wide = wide
        layout.setContentsMargins(8, 3, 8, 3) if wide else layout.setContentsMargins(8, 6, 8, 6)
        if wide:
            top = QHBoxLayout()
            top.setSpacing(6)
            top.addWidget(self.previous_button)
            top.addWidget(self.progress, 1)
            top.addWidget(self.next_button)
            top.addSpacing(12)
            for button in (
                self.apply_button,
                self.play_button,
                self.run_step_button,
                self.reset_button,
                self.more_button,
            ):
                top.addWidget(button)
            layout.addLayout(top)
            layout.addWidget(self.text, 1)
            layout.addWidget(self.question_holder)
            self._question_row.setContentsMargins(10, 3, 10, 3)
            self.lesson_title.hide()  # in the progress label
            self.step_title.hide()  # a bold run-in heading of the text: a row less
            self._question_row.setDirection(QBoxLayout.Direction.LeftToRight)
        else:
            header = QHBoxLayout()
            header.setSpacing(6)
            header.addWidget(self.previous_button)
            header.addWidget(self.progress, 1)
            header.addWidget(self.next_button)
            run = QHBoxLayout()  # under "Set up": one row of four buttons overflowed at 14 pt
            run.setSpacing(6)
            for button in (self.play_button, self.run_step_button, self.reset_button):
                run.addWidget(button)
            layout.addLayout(header)
            layout.addWidget(self.lesson_title)
            layout.addWidget(self.step_title)
            layout.addWidget(self.text, 1)
            layout.addWidget(self.question_holder)
            layout.addWidget(self.apply_button)
            layout.addLayout(run)
            self._question_row.setContentsMargins(10, 6, 10, 8)
            self.lesson_title.setVisible(True)
            self.step_title.setVisible(True)
            self._question_row.setDirection(QBoxLayout.Direction.TopToBottom)
        self.progress.setAlignment(Qt.AlignmentFlag.AlignCenter)
        step = self.current_step()
        self.more_button.setVisible(wide and step is not None and bool(_summary(step)))
        self._show_progress()
        self._show_heading()
        self._apply_fonts()
        self._show_text()

    def is_wide(self) -> bool:
        """True in the bottom-strip arrangement (buttons in one row, question under the text)."""
        return self._wide

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        wide = self.width() >= WIDE_MIN_WIDTH and self.width() >= WIDE_RATIO * self.height()
        if wide != self._wide:
            self._arrange(wide)
        self._show_progress()
        self._fit_question()

    def _fit_question(self) -> None:
        """The question box takes exactly the lines its text needs, in either arrangement."""
        margins = self.layout().contentsMargins()
        inner = self.width() - margins.left() - margins.right()
        shown = self.question_box.isVisibleTo(self.question_holder)
        height = self._question_height(inner, self._wide) if shown else 0
        self.question_holder.setFixedHeight(height)
        self.question_holder.setVisible(shown)

    def needed_height(self, width: int | None = None) -> int:
        """The panel's height at ``width`` (default: its current width), in the arrangement it
        takes there when short, for the current step's text to show without scrolling: what a
        layout gives the lesson so the class never sees a scroll bar."""
        width = self.width() if width is None else width
        wide = width >= WIDE_MIN_WIDTH
        margins = self.layout().contentsMargins()
        inner = max(1, width - margins.left() - margins.right())
        spacing = self.layout().spacing()
        buttons = max(b.sizeHint().height() for b in (self.previous_button, self.apply_button))
        title = self.step_title.heightForWidth(inner)
        # As if the scroll bar showed: a text browser that once showed it keeps it unless the
        # text fits at the narrower width too.
        bar = self.text.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        text = self.needed_text_height(inner - 2 * self.text.frameWidth() - bar, wide)
        shown = self.question_box.isVisibleTo(self.question_holder)
        question = self._question_height(inner, wide) if shown else 0
        if wide:
            rows = [buttons, text, question]
        else:
            run = max(b.sizeHint().height() for b in (self.play_button, self.reset_button))
            rows = [buttons, self.lesson_title.heightForWidth(inner), title, text]
            rows += [question, buttons, run]
        shown = [r for r in rows if r > 0]
        return margins.top() + margins.bottom() + sum(shown) + spacing * (len(shown) - 1) + 2

    def _question_height(self, width: int, wide: bool) -> int:
        margins = self._question_row.contentsMargins()
        inner = width - margins.left() - margins.right()
        heading = self.question_heading.sizeHint()
        if wide:  # a few pixels narrower than the row gives it: never one line short
            question = self.question.heightForWidth(
                inner - heading.width() - self._question_row.spacing() - 8
            )
            body = max(heading.height(), question)
        else:
            question = self.question.heightForWidth(inner)
            body = heading.height() + self._question_row.spacing() + question
        return body + margins.top() + margins.bottom() + 2 * self.question_box.frameWidth()

    def _apply_fonts(self) -> None:
        """Headings and text relative to the window's type, so presentation type reaches them
        (fonts set once at start stayed at 10 pt)."""
        base = self.font()
        self.lesson_title.setFont(_scaled_font(base, TITLE_SCALE, bold=True))
        self.step_title.setFont(_scaled_font(base, STEP_TITLE_SCALE, bold=True))
        # The strip under the bars is short: its text keeps the window's type.
        self.text.setFont(_scaled_font(base, 1.0 if self._wide else TEXT_SCALE))
        self.question_heading.setFont(_scaled_font(base, 1.0, bold=True))
        self.question.setFont(_scaled_font(base, 1.0 if self._wide else QUESTION_SCALE))
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

    def needed_text_height(self, width: int | None = None, wide: bool | None = None) -> int:
        """Pixels the text needs to show whole at ``width`` (default: its current width), in
        the ``wide`` arrangement (default: the current one; wide, the title runs in)."""
        document = self.text.document().clone()
        if wide is not None and wide != self._wide:
            document.setHtml(self._text_html(wide))
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

    def _more_toggled(self, on: bool) -> None:
        self._whole_text = on
        self._show()
        self.contentChanged.emit()

    def showing_summary(self) -> bool:
        """True when the text area shows the step's summary (the projected form; in a side
        column, followed by the whole text)."""
        step = self.current_step()
        return (
            step is not None and bool(_summary(step)) and (not self._whole_text or not self._wide)
        )

    def heading(self) -> str:
        """The question's heading in full (the strip shows its short form)."""
        step = self.current_step()
        return PREDICT_HEADING if step is not None and step.predict else QUESTION_HEADING

    def _show_heading(self) -> None:
        full = self.heading()
        self.question_heading.setText(STRIP_HEADINGS[full] if self._wide else full)
        self.question_heading.setToolTip(full)

    def _text_html(self, wide: bool) -> str:
        step = self.current_step()
        if step is None:
            return text_to_html(NO_LESSON_TEXT)
        summary = _summary(step)
        if summary and not wide:
            # A side column has the height for both: the summary leads, in bold, and the
            # explanation follows (a key point, then its reasons).
            lead = text_to_html(summary)
            if lead.startswith("<p>") and not GuiQt.mightBeRichText(summary):
                lead = lead.replace("<p>", "<p><b>", 1).replace("</p>", "</b></p>", 1)
            return lead + "<hr>" + step_html(step.text, step.citation)
        if summary and not self._whole_text:
            body = text_to_html(summary)
        else:
            body = step_html(step.text, step.citation)
        if wide:  # the step's title runs in, bold, at the start of its first paragraph
            heading = f"<b>{html.escape(step.title)}</b>&nbsp;&nbsp;"
            body = (
                body.replace("<p>", "<p>" + heading, 1)
                if body.startswith("<p>")
                else (f"<p>{heading}</p>" + body)
            )
        return body

    def _show_text(self) -> None:
        self.text.setHtml(self._text_html(self._wide))
        step = self.current_step()
        # The summary names its source on hover; the whole text prints it under the text.
        cited = step is not None and step.citation and self._wide and self.showing_summary()
        self.text.setToolTip(_safe_tip(f"Source: {step.citation}") if cited else "")
        self.text.verticalScrollBar().setValue(0)

    def _show_progress(self) -> None:
        lesson = self._lesson
        if lesson is None:
            self.progress.setText("")
            return
        where = f"Step {self._index + 1} of {len(lesson.steps)}"
        self.progress.setToolTip(_safe_tip(f"{lesson.title} — {where}"))
        if not self._wide:
            self.progress.setText(where)
            return
        # The strip has no room for a title row: the lesson's title shares the progress label,
        # elided to what the row leaves it.
        room = max(0, self.progress.width() - 8)
        metrics = self.progress.fontMetrics()
        full = f"{lesson.title} · {where}"
        text = full if metrics.horizontalAdvance(full) <= room else where
        self.progress.setText(text)

    def _show(self) -> None:
        lesson, step = self._lesson, self.current_step()
        if lesson is None or step is None:
            self.lesson_title.setText("Lessons")
            self.progress.setText("")
            self.step_title.setText("")
            self.text.setHtml(text_to_html(NO_LESSON_TEXT))
            self.question_box.hide()
            self._fit_question()
            self.more_button.setVisible(False)
            for button in (self.previous_button, self.apply_button, self.next_button):
                button.setEnabled(False)
            for button in (self.play_button, self.run_step_button, self.reset_button):
                button.setVisible(False)
            self.contentChanged.emit()
            return
        count = len(lesson.steps)
        self.lesson_title.setText(lesson.title)
        self._show_progress()
        self.step_title.setText(step.title)
        summary = _summary(step)
        self._show_text()
        self.more_button.setVisible(bool(summary) and self._wide)
        self.more_button.blockSignals(True)
        self.more_button.setChecked(self._whole_text)
        self.more_button.blockSignals(False)
        self.question.setText(step.question)
        self._show_heading()
        self.question_box.show()
        self._fit_question()
        for button in (self.play_button, self.run_step_button, self.reset_button):
            button.setVisible(True)
        self.previous_button.setEnabled(self._index > 0)
        self.next_button.setEnabled(self._index + 1 < count)
        self.apply_button.setEnabled(True)
        self.contentChanged.emit()


def _safe_tip(text: str) -> str:
    """A tooltip showing a lesson file's ``text`` as typed: Qt renders a tooltip that looks like
    HTML as HTML (and would load the images it names)."""
    return f"<p>{html.escape(text)}</p>"


class _Holder(QWidget):
    """Holds one widget at its own full size; its height is set from outside."""

    def __init__(self, child: QWidget) -> None:
        super().__init__()
        self._child = child
        child.setParent(self)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._child.setGeometry(self.rect())


def _empty(layout) -> None:
    """Take every item out of ``layout`` (nested rows too), leaving the widgets alone."""
    while layout.count():
        item = layout.takeAt(0)
        child = item.layout()
        if child is not None:
            _empty(child)
            child.setParent(None)


def _summary(step: LessonStep) -> str | None:
    """The step's summary, if its lesson gives one (a teacher's own file may not)."""
    return step.summary or None
