"""Plot widgets (pyqtgraph): gradient bars, activation plot, training curves, heatmap, dataset.

Call :func:`configure_pyqtgraph` once, before the first widget is created. Every widget takes an
optional ``theme`` and has ``apply_theme(theme)``.
"""

from .activation_plot import ActivationPlot
from .dataset_plot import DatasetPlot
from .digits_view import DigitsView
from .gradient_bars import GradientBarsPlot
from .heatmap import GradientHeatmap
from .layer_features_view import LayerFeaturesView
from .network_picture import NetworkPicture
from .theme import DARK, LIGHT, PRESENTATION, THEMES, Theme, configure_pyqtgraph, settle
from .training_curves import TrainingCurvesPlot

__all__ = [
    "DARK",
    "LIGHT",
    "PRESENTATION",
    "THEMES",
    "ActivationPlot",
    "DatasetPlot",
    "DigitsView",
    "GradientBarsPlot",
    "GradientHeatmap",
    "LayerFeaturesView",
    "NetworkPicture",
    "Theme",
    "TrainingCurvesPlot",
    "configure_pyqtgraph",
    "settle",
]
