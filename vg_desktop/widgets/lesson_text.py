"""The lesson text's browser: it shows the sanitized HTML and loads nothing at all.

Lesson HTML is rebuilt from a whitelist that cannot refer to a resource
(:mod:`vg_desktop.lesson_html`); this is the second wall. ``QTextBrowser.loadResource`` would
read any local file an ``<img>`` or style sheet names (``/dev/zero`` never returns), and Qt falls
back to reading the file itself when a loader's answer is empty: ``QTextDocument`` when it is
``None``, the image handler when it is no image (strace showed a pipe opened after an empty
answer). So every request is answered here, and recorded: an image request with a blank 1×1
image, anything else with empty bytes.
"""

from __future__ import annotations

from collections import deque

from PySide6.QtCore import QByteArray, Qt, QUrl
from PySide6.QtGui import QImage, QTextDocument
from PySide6.QtWidgets import QTextBrowser, QWidget


class LessonTextBrowser(QTextBrowser):
    """A read-only rich-text view that follows no link and loads no resource."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenExternalLinks(False)  # the app is offline: never follow a link
        self.setOpenLinks(False)
        self.setSearchPaths([])
        self.refused_resources: deque[tuple[int, str]] = deque(maxlen=50)  # (type, url)
        self._blank = QImage(1, 1, QImage.Format.Format_ARGB32)
        self._blank.fill(Qt.GlobalColor.transparent)

    def loadResource(self, kind: int, name: QUrl) -> QImage | QByteArray:
        self.refused_resources.append((int(kind), name.toString()[:200]))
        if int(kind) == QTextDocument.ResourceType.ImageResource.value:
            return self._blank
        return QByteArray()
