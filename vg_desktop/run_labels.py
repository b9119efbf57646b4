"""Names for the runs of an A/B comparison, derived from their settings: "A: sigmoid + Xavier",
"B: ReLU + He". Activation and initialization always; every other setting only when it differs
between A and B ("B: sigmoid + Xavier + batch norm", "depth 30"), so a label says what the
comparison is about and nothing else. NumPy-free and Qt-free.
"""

from __future__ import annotations

from .engine import ACTIVATION_FUNCTIONS, ExperimentConfig

INIT_WORDS = {"normal": "N(0, 1)", "small": "N(0, 0.01²)", "xavier": "Xavier", "he": "He"}
OPTIMIZER_WORDS = {"sgd": "SGD", "rmsprop": "RMSprop", "adam": "Adam"}
NORMALIZATION_WORDS = {"none": "no norm", "batch": "batch norm", "layer": "layer norm"}
MAX_PARTS = 5  # beyond this, "+ 3 more" (the tooltip and status bar carry the rest)


def _activation(config: ExperimentConfig) -> str:
    name = config.network.activation
    act = ACTIVATION_FUNCTIONS.get(name)
    label = act.label if act is not None else name
    return label.lower() if label in ("Sigmoid", "Tanh", "Linear") else label


def _differences(a: ExperimentConfig, b: ExperimentConfig, own: ExperimentConfig) -> list[str]:
    """Words for each setting in which ``a`` and ``b`` differ, as ``own`` has it."""
    na, nb, n = a.network, b.network, own.network
    ta, tb, t = a.train, b.train, own.train
    da, db, d = a.data, b.data, own.data
    parts = []
    if na.normalization != nb.normalization:
        parts.append(NORMALIZATION_WORDS[n.normalization])
    if na.residual != nb.residual:
        parts.append("residual" if n.residual else "plain")
    if n.residual and getattr(na, "residual_form", None) != getattr(nb, "residual_form", None):
        parts.append(n.residual_form)
    if na.depth != nb.depth:
        parts.append(f"depth {n.depth}")
    if na.width != nb.width:
        parts.append(f"width {n.width}")
    if na.init_gain != nb.init_gain:
        parts.append(f"gain {n.init_gain:g}")
    if na.dtype != nb.dtype:
        parts.append(n.dtype)
    if ta.learning_rate != tb.learning_rate:
        parts.append(f"lr {t.learning_rate:g}")
    if ta.optimizer != tb.optimizer:
        parts.append(OPTIMIZER_WORDS[t.optimizer])
    if ta.momentum != tb.momentum:
        parts.append(f"momentum {t.momentum:g}")
    if ta.weight_decay != tb.weight_decay:
        parts.append(f"decay {t.weight_decay:g}")
    if ta.clip_norm != tb.clip_norm:
        parts.append("no clipping" if t.clip_norm is None else f"clip {t.clip_norm:g}")
    if ta.batch_size != tb.batch_size:
        parts.append(f"batch {t.batch_size}")
    if da.name != db.name:
        parts.append(d.name)
    if da.noise != db.noise:
        parts.append(f"noise {d.noise:g}")
    if na.seed != nb.seed:
        parts.append(f"seed {n.seed}")
    return parts


def setup_label(config: ExperimentConfig, other: ExperimentConfig | None = None) -> str:
    """'sigmoid + Xavier', plus what differs from ``other`` ('ReLU + He + depth 30')."""
    parts = [_activation(config), INIT_WORDS.get(config.network.init, config.network.init)]
    if other is not None:
        parts += _differences(config, other, config)
    if len(parts) > MAX_PARTS:
        parts = [*parts[: MAX_PARTS - 1], f"{len(parts) - MAX_PARTS + 1} more"]
    return " + ".join(parts)


def run_labels(a: ExperimentConfig, b: ExperimentConfig | None) -> dict[str, str]:
    """{"A": "A: sigmoid + Xavier", "B": "B: ReLU + He"}; only "A" without a run B."""
    if b is None:
        return {"A": f"A: {setup_label(a)}"}
    return {"A": f"A: {setup_label(a, b)}", "B": f"B: {setup_label(b, a)}"}
