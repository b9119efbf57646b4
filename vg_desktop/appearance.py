"""Window themes (light, dark, presentation) and zoom, for the widgets around the plots.

The plots take their colors and sizes from :mod:`vg_desktop.plots.theme`; this module gives the
rest of the window a matching Qt palette and font size. Presentation mode is a high-contrast light
theme with large type and thick lines, for the back row of a classroom.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPalette, QPen
from PySide6.QtWidgets import QApplication, QProxyStyle, QStyle

from .plots.theme import DARK, LIGHT, PRESENTATION, Theme

THEMES: dict[str, Theme] = {"light": LIGHT, "dark": DARK, "presentation": PRESENTATION}
THEME_LABELS = {"light": "Light", "dark": "Dark", "presentation": "Presentation (projector)"}
BASE_POINT_SIZE = {"light": 10.0, "dark": 10.0, "presentation": 14.0}
ZOOM_RANGE = (0.6, 2.5)
_INDICATOR_METRICS = (
    QStyle.PixelMetric.PM_IndicatorWidth,
    QStyle.PixelMetric.PM_IndicatorHeight,
    QStyle.PixelMetric.PM_ExclusiveIndicatorWidth,
    QStyle.PixelMetric.PM_ExclusiveIndicatorHeight,
)
INDICATOR_SHARE = 0.85  # check box side / line height: 14 px at 10 pt, about 20 px at 14 pt
PRESSED_TINT = 0.35
HIGHLIGHT = "#0072B2"  # Okabe–Ito blue: white text reads on it, and it shows on light and dark


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
    # Not run A's color: in the dark theme that is near-white, and selected text (white) vanished.
    palette.setColor(QPalette.ColorRole.Highlight, QColor(HIGHLIGHT))
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


class ClassroomStyle(QProxyStyle):
    """Fusion (the same look on every platform, palettes honoured), made legible on a projector:

    * check boxes and radio buttons grow with the type (Fusion keeps them 14 px at any size),
    * their outline is drawn in the text color (Fusion derives it from the window color, which
      on the dark theme made an empty check box nearly invisible),
    * a checked push button (Play while playing) is tinted and framed in the highlight color
      (Fusion only darkens it a little, invisible on dark).
    """

    def __init__(self) -> None:
        super().__init__("Fusion")

    def pixelMetric(self, metric, option=None, widget=None) -> int:
        base = super().pixelMetric(metric, option, widget)
        if metric in _INDICATOR_METRICS:
            font = widget.font() if widget is not None else QApplication.font()
            return max(base, round(QFontMetricsF(font).height() * INDICATOR_SHARE))
        return base

    def drawPrimitive(self, element, option, painter: QPainter, widget=None) -> None:
        super().drawPrimitive(element, option, painter, widget)
        if element in (
            QStyle.PrimitiveElement.PE_IndicatorCheckBox,
            QStyle.PrimitiveElement.PE_IndicatorRadioButton,
        ):
            self._outline(element, option, painter)
        elif element == QStyle.PrimitiveElement.PE_PanelButtonCommand and (
            option.state & QStyle.StateFlag.State_On
        ):
            self._pressed(option, painter)

    @staticmethod
    def _outline(element, option, painter: QPainter) -> None:
        color = QColor(option.palette.color(QPalette.ColorRole.WindowText))
        if not option.state & QStyle.StateFlag.State_Enabled:
            color.setAlpha(110)
        rect = QRectF(option.rect)
        width = max(1.2, rect.height() / 12)
        inner = rect.adjusted(width / 2, width / 2, -width / 2, -width / 2)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(color, width))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        if element == QStyle.PrimitiveElement.PE_IndicatorRadioButton:
            painter.drawEllipse(inner)
        else:
            painter.drawRoundedRect(inner, 2, 2)
        painter.restore()

    @staticmethod
    def _pressed(option, painter: QPainter) -> None:
        highlight = QColor(option.palette.color(QPalette.ColorRole.Highlight))
        tint = QColor(highlight)
        tint.setAlphaF(PRESSED_TINT)
        rect = QRectF(option.rect).adjusted(1.5, 1.5, -1.5, -1.5)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(highlight, 2.5))
        painter.setBrush(tint)
        painter.drawRoundedRect(rect, 3, 3)
        painter.restore()


_style: ClassroomStyle | None = None


def classroom_style() -> ClassroomStyle:
    """The application's one style object (created once; the application owns it)."""
    global _style
    if _style is None:
        _style = ClassroomStyle()
    return _style


def apply_widget_theme(app: QApplication, name: str, zoom: float) -> None:
    """Palette and font for every widget; the plots are themed separately."""
    theme = THEMES[name]
    style = classroom_style()
    if app.style() is not style:
        app.setStyle(style)
    app.setPalette(widget_palette(theme))
    font = QFont(app.font())
    font.setPointSizeF(BASE_POINT_SIZE[name] * zoom)
    app.setFont(font)
