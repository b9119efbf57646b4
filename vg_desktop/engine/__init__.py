"""The pure-NumPy engine: no Qt anywhere below this package (a test enforces it).

Typical use::

    from vg_desktop.engine import NetworkConfig, Network, make_dataset
    net = Network(NetworkConfig(depth=20, activation="sigmoid"), n_inputs=2, n_classes=2)
    x, y = make_dataset("spiral", n=256, noise=0.1, seed=0)
    stats = net.gradients(x, y)
    stats.signal_grad_norms   # ||dL/dz_l|| per hidden layer, input -> output
"""

from .activations import ACTIVATION_FUNCTIONS, Activation, get_activation
from .config import (
    ACTIVATIONS,
    BATCH_RANGE,
    DATASETS,
    DEPTH_RANGE,
    DTYPES,
    GAIN_RANGE,
    INITS,
    LEARNING_RATE_RANGE,
    NORMALIZATIONS,
    OPTIMIZERS,
    RESIDUAL_FORMS,
    WIDTH_RANGE,
    CustomPoints,
    DataConfig,
    ExperimentConfig,
    NetworkConfig,
    TrainConfig,
)
from .datasets import dataset_from_config, make_dataset
from .experiment import ExperimentFileError, load_experiment, save_experiment
from .history import HistoryStride, RunHistory
from .network import (
    DatasetEvaluation,
    Network,
    TrainingInterrupted,
    dataset_evaluation,
    softmax_cross_entropy,
)
from .points_csv import load_points_csv, save_points_csv
from .run import TrainingRun
from .stats import StepStats, chain_rule_model_note, safe_norm

__all__ = [
    "ACTIVATIONS",
    "ACTIVATION_FUNCTIONS",
    "BATCH_RANGE",
    "DATASETS",
    "DEPTH_RANGE",
    "DTYPES",
    "GAIN_RANGE",
    "INITS",
    "LEARNING_RATE_RANGE",
    "NORMALIZATIONS",
    "OPTIMIZERS",
    "RESIDUAL_FORMS",
    "WIDTH_RANGE",
    "Activation",
    "CustomPoints",
    "DataConfig",
    "DatasetEvaluation",
    "ExperimentConfig",
    "ExperimentFileError",
    "HistoryStride",
    "Network",
    "NetworkConfig",
    "RunHistory",
    "StepStats",
    "TrainConfig",
    "TrainingInterrupted",
    "TrainingRun",
    "chain_rule_model_note",
    "dataset_evaluation",
    "dataset_from_config",
    "get_activation",
    "load_experiment",
    "load_points_csv",
    "make_dataset",
    "safe_norm",
    "save_experiment",
    "save_points_csv",
    "softmax_cross_entropy",
]
