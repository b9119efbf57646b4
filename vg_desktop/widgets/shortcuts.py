"""Help > Keyboard Shortcuts: the sheet a teacher can keep open next to the projector."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

SHORTCUTS = [
    ("Space", "Play / pause training"),
    ("S  or  →", "Train one step"),
    ("R", "Reset: rebuild the network from its seed (step 0)"),
    ("1 … 9", "Show layer 1 … 9 on the activation plot"),
    ("↑ / ↓", "Next / previous layer"),
    ("Ctrl+B", "Compare A/B on or off"),
    ("Ctrl+Shift+B", "Side views: show the other run of A/B"),
    ("Ctrl+O", "Open an experiment or a lesson"),
    ("Ctrl+S", "Save the experiment"),
    ("Ctrl+Shift+S", "Save the experiment as…"),
    ("Ctrl+E", "Export a figure, the window, or the run's history"),
    ("F5", "Stage view: only the bars, the activation plot and the run buttons (Esc returns)"),
    ("F11", "Full screen"),
    ("Ctrl++ / Ctrl+- / Ctrl+0", "Zoom in / out / actual size"),
    ("F1  or  Ctrl+/", "This sheet"),
    ("Ctrl+Q", "Quit"),
    ("Tab / Shift+Tab", "Move between controls"),
]


class ShortcutsDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        rows = "".join(
            f"<tr><td style='padding:4px 18px 4px 0'><b>{keys}</b></td><td>{what}</td></tr>"
            for keys, what in SHORTCUTS
        )
        label = QLabel(f"<table>{rows}</table>")
        label.setAccessibleName("Keyboard shortcuts")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(label)
        layout.addWidget(buttons)
