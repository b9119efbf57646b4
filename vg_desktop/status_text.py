"""The status bar's sentence for one run (Qt-free, so tests read exactly what the window shows).

Loss and accuracy are the whole dataset's, in evaluation mode (one minibatch's accuracy of the
same stalled network reads anywhere from 39 % to 61 %); the minibatch's own figures follow,
labelled as such. A layer whose every unit is dead on every sample is named: its bars are 0
because no unit passes a gradient, not because a product of factors vanished.
"""

from __future__ import annotations

import numpy as np

from .engine import get_activation
from .snapshot import DatasetFigures, Snapshot


def layer_list(indices: np.ndarray) -> str:
    """1-based layer names of 0-based ``indices``: "layer 4", "layers 4–30", "layers 2, 5, 9"."""
    layers = [int(i) + 1 for i in indices]
    if len(layers) == 1:
        return f"layer {layers[0]}"
    if layers == list(range(layers[0], layers[-1] + 1)):
        return f"layers {layers[0]}–{layers[-1]}"
    shown = ", ".join(str(n) for n in layers[:5])
    return f"layers {shown}" + (f" and {len(layers) - 5} more" if len(layers) > 5 else "")


def dataset_text(d: DatasetFigures, step: int) -> str:
    """'all 512 samples: loss 0.6931, accuracy 50.0 %', with the steps when not this one."""
    if d.first_step == d.step == step:
        when = ""
    elif d.first_step == d.step:
        when = f" (step {d.step:,})"
    else:
        when = f" (steps {d.first_step:,}–{d.step:,})"
    return f"all {d.samples:,} samples{when}: loss {d.loss:.4f}, accuracy {d.accuracy:.1%}"


def dead_layers_text(s: Snapshot) -> str:
    """'layers 4–30 all dead on every sample', or '' (ReLU says dead; sigmoid, saturated)."""
    if s.dataset is None or s.dataset.all_dead_layers.size == 0:
        return ""
    word = get_activation(s.config.network.activation).dead_word
    return f"{layer_list(s.dataset.all_dead_layers)} all {word} on every sample"


def dead_headline(s: Snapshot) -> str:
    """The bars' headline when whole layers are dead on every sample ('' otherwise): their 0
    bars come from units that pass nothing back, which the vanishing product does not explain.
    """
    if s.dataset is None or s.dataset.all_dead_layers.size == 0:
        return ""
    dead = s.dataset.all_dead_layers
    word = get_activation(s.config.network.activation).dead_word
    if word != "dead":  # a saturated sigmoid (or leaky) unit still passes a small gradient
        return ""
    verb = "is" if dead.size == 1 else "are"
    return (
        f"{layer_list(dead).capitalize()} {verb} {word} on every sample — dead units, "
        "not a vanishing product"
    )


def run_status(s: Snapshot, prefix: str = "", compact: bool = False) -> str:
    """The status text of one run; ``compact`` (two runs share the bar) keeps the whole
    dataset's figures, or while they are not there yet the batch's, labelled."""
    rate = f"{s.steps_per_second:,.0f} steps/s" if s.playing else "paused"
    if compact:
        d = s.dataset
        if d is not None:
            figures = f"loss {d.loss:.3f} · accuracy {d.accuracy:.0%} (all {d.samples:,})"
        else:
            figures = f"batch loss {s.loss:.3f} · batch accuracy {s.accuracy:.0%}"
        text = f"{prefix}step {s.step:,} · {figures} · {rate}"
        if s.diverged:
            return text + "  ·  DIVERGED"
        return text + (f"  ·  {s.message}" if s.message else "")
    parts = [f"{prefix}Step {s.step:,}"]
    if s.dataset is not None:
        parts.append(dataset_text(s.dataset, s.step))
    parts.append(f"this batch: loss {s.loss:.4f}, accuracy {s.accuracy:.1%}")
    dead = dead_layers_text(s)
    if dead:
        parts.append(dead)
    parts.append(rate)
    text = "  ·  ".join(parts)
    if s.diverged:
        text += "  ·  DIVERGED"
    elif s.message:
        text += f"  ·  {s.message}"
    return text
