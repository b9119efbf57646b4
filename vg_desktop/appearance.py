"""Window themes (light, dark, presentation) and zoom, for the widgets around the plots.

The plots take their colors and sizes from :mod:`vg_desktop.plots.theme`; this module gives the
rest of the window a matching Qt palette and font size. Presentation mode is a high-contrast light
theme with large type and thick lines, for the back row of a classroom.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

from .plots.theme import DARK, LIGHT, PRESENTATION, Theme

THEMES: dict[str, Theme] = {"light": LIGHT, "dark": DARK, "presentation": PRESENTATION}
THEME_LABELS = {"light": "Light", "dark": "Dark", "presentation": "Presentation (projector)"}
BASE_POINT_SIZE = {"light": 10.0, "dark": 10.0, "presentation": 14.0}
ZOOM_RANGE = (0.6, 2.5)


def scaled_theme(theme: Theme, zoom: float) -> Theme:
    """``theme`` with every font size multiplied by ``zoom`` (rounded to whole points)."""
    if abs(zoom - 1.0) < 1e-9:
        return theme
    return replace(
        theme,
        tick_font_pt=max(6, round(theme.tick_font_pt * zoom)),
        axis_font_pt=max(6, round(theme.axis_font_pt * zoom)),
        title_font_pt=max(6, round(theme.title_font_pt * zoom)),
        legend_font_pt=max(6, round(theme.legend_font_pt * zoom)),
    )


def widget_palette(theme: Theme) -> QPalette:
    bg, fg = QColor(theme.background), QColor(theme.foreground)
    dark = bg.lightness() < 128
    palette = QPalette()
    window = bg.lighter(115) if dark else bg.darker(104)
    base = bg if not dark else bg.lighter(130)
    palette.setColor(QPalette.ColorRole.Window, window)
    palette.setColor(QPalette.ColorRole.WindowText, fg)
    palette.setColor(QPalette.ColorRole.Base, base)
    palette.setColor(QPalette.ColorRole.AlternateBase, window)
    palette.setColor(QPalette.ColorRole.Text, fg)
    palette.setColor(QPalette.ColorRole.Button, window)
    palette.setColor(QPalette.ColorRole.ButtonText, fg)
    palette.setColor(QPalette.ColorRole.ToolTipBase, base)
    palette.setColor(QPalette.ColorRole.ToolTipText, fg)
    palette.setColor(QPalette.ColorRole.Highlight, QColor(theme.run_a))
    palette.setColor(QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
    palette.setColor(QPalette.ColorRole.PlaceholderText, fg.darker(150) if not dark else fg)
    disabled = QColor(fg)
    disabled.setAlpha(110)
    for role in (
        QPalette.ColorRole.WindowText,
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
    ):
        palette.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return palette


def apply_widget_theme(app: QApplication, name: str, zoom: float) -> None:
    """Palette and font for every widget; the plots are themed separately."""
    theme = THEMES[name]
    app.setStyle("Fusion")  # the same look on every platform, and palettes are honoured
    app.setPalette(widget_palette(theme))
    font = QFont(app.font())
    font.setPointSizeF(BASE_POINT_SIZE[name] * zoom)
    app.setFont(font)
