"""What a hidden layer has learned, computed in the training process for the layer on screen.

The consequence of a vanishing gradient (issue 13): a first layer that receives almost no
gradient keeps its initial weights, so its units compute the same random features at step 5,000
as at step 0. On 2-D data each unit's output over the input plane shows it; on the digits,
layer 1's weights drawn as 8×8 images show strokes, or noise. Qt-free (the training process
imports it).
"""

from __future__ import annotations

import numpy as np

from .engine import TrainingRun
from .snapshot import LayerFeatures, frozen

FEATURE_UNITS = 16  # units shown: the layer's first 16 (all of a narrower layer)
FEATURE_RESOLUTION = 24  # grid points per axis over the input plane
SAMPLE_DIGITS = 10  # digits shown for deeper layers: the first test image of each class
IMAGE_SIDE = 8


def plane_extent(run: TrainingRun) -> tuple[float, float, float, float]:
    """The decision view's extent: the data's bounding box plus 0.5 on every side."""
    lo = run.x.min(axis=0) - 0.5
    hi = run.x.max(axis=0) + 0.5
    return float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])


def sample_digits(run: TrainingRun) -> tuple[np.ndarray, np.ndarray]:
    """The first held-out test image of each class, in class order: fixed for a run."""
    first = [int(np.flatnonzero(run.y_test == c)[0]) for c in np.unique(run.y_test)]
    return run.x_test[first[:SAMPLE_DIGITS]], run.y_test[first[:SAMPLE_DIGITS]]


def layer_features(run: TrainingRun, layer: int) -> LayerFeatures:
    """The shown units of hidden layer ``layer`` (1-indexed; clamped to the network's depth)."""
    net = run.network
    cfg = net.config
    layer = int(np.clip(layer, 1, cfg.depth))
    shown = min(cfg.width, FEATURE_UNITS)
    common = {
        "layer": layer,
        "units": frozen(np.arange(1, shown + 1), np.int64),
        "width": cfg.width,
        "step": run.step_count,
        "activation": cfg.activation,
    }
    if net.n_inputs == 2 and not len(run.y_test):
        x0, x1, y0, y1 = plane_extent(run)
        xs = np.linspace(x0, x1, FEATURE_RESOLUTION)
        ys = np.linspace(y0, y1, FEATURE_RESOLUTION)
        gx, gy = np.meshgrid(xs, ys)
        points = np.column_stack([gx.ravel(), gy.ravel()])
        a = net.unit_outputs(points, layer)[:, :shown]
        values = a.T.reshape(shown, FEATURE_RESOLUTION, FEATURE_RESOLUTION)
        return LayerFeatures(
            kind="plane", values=frozen(values, np.float32), extent=(x0, x1, y0, y1), **common
        )
    if layer == 1 and net.n_inputs == IMAGE_SIDE * IMAGE_SIDE:

        def images(w: np.ndarray) -> np.ndarray:
            return frozen(w[:, :shown].T.reshape(shown, IMAGE_SIDE, IMAGE_SIDE), np.float32)

        return LayerFeatures(
            kind="weights",
            values=images(net.params[0]["W"]),
            initial=images(net.initial_weights(1)),
            **common,
        )
    samples, labels = sample_digits(run)
    outputs = net.unit_outputs(samples, layer)[:, :shown]
    return LayerFeatures(
        kind="samples",
        values=frozen(outputs, np.float32),
        samples=frozen(samples, np.float32),
        sample_labels=frozen(labels, np.int64),
        **common,
    )
